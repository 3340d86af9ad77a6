//! `GET /admin/v1/plugins/{name}/stats`: a plugin's live figures on the node that answers,
//! per version, from its own metrics (the console polls it while a plugin's page is open).

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, State},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::{docs, problem::ApiError};
use crate::{app::App, metrics::VersionStats};

/// A plugin's figures on the node that answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginStatsView {
    /// The plugin.
    #[schema(example = "charge-limits")]
    pub name: String,
    /// One entry per version that has run or been shadowed on this node since it started.
    pub versions: Vec<VersionStatsView>,
}

/// One version's figures on this node since it started.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionStatsView {
    /// The version.
    #[schema(example = "1.2.0")]
    pub version: String,
    /// Calls: accepted + rejected + failed.
    pub calls: u64,
    /// Calls that accepted (or priced).
    pub accepted: u64,
    /// Calls that rejected.
    pub rejected: u64,
    /// Calls that produced no decision.
    pub failed: u64,
    /// Failed calls by kind: `trap`, `fuel`, `time`, `memory`, `contract`.
    pub failures: BTreeMap<String, u64>,
    /// Failed calls that the failure policy `skip` let through.
    pub skipped: u64,
    /// 99th percentile of the call duration in microseconds, estimated from the duration
    /// histogram's buckets; null before the first call.
    pub p99_micros: Option<u64>,
    /// Shadow runs of this version by result: `agree`, `disagree`, `failed`, `dropped`.
    pub shadow: BTreeMap<String, u64>,
}

impl From<VersionStats> for VersionStatsView {
    fn from(stats: VersionStats) -> Self {
        Self {
            calls: stats.accepted + stats.rejected + stats.failed,
            version: stats.version,
            accepted: stats.accepted,
            rejected: stats.rejected,
            failed: stats.failed,
            failures: stats.failures,
            skipped: stats.skipped,
            p99_micros: stats.p99_seconds.map(|s| (s * 1e6).round() as u64),
            shadow: stats.shadow,
        }
    }
}

/// A plugin's live figures on the node that answers, per version, since that node started
/// (each node counts its own calls; a load balancer may ask another node next time).
#[utoipa::path(get, path = "/admin/v1/plugins/{name}/stats", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "Figures per version", body = PluginStatsView),
        (status = 400, description = "INVALID_PLUGIN_REQUEST (the name)"),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::Unavailable,
    ))]
pub(super) async fn plugin_stats(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<PluginStatsView>, ApiError> {
    let versions = app.plugins().stats(&name).await?;
    Ok(Json(PluginStatsView {
        name,
        versions: versions.into_iter().map(Into::into).collect(),
    }))
}
