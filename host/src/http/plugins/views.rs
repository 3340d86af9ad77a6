//! What the plugin admin API reads and writes: request bodies and the views of versions,
//! plugins and dry runs.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::extract::RequestBody;
use crate::{
    domain::{OnFailure, Snapshot, Version},
    plugins::{Called, LogLine, json},
    service::plugins::PluginEntry,
};

/// An uploaded version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    /// The plugin.
    #[schema(example = "charge-limits")]
    pub name: String,
    /// Its hook.
    #[schema(example = "charge.validate")]
    pub hook: String,
    /// The version.
    #[schema(example = "1.2.0")]
    pub version: String,
    /// Hex SHA-256 of the component.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// The note given at upload.
    pub note: Option<String>,
    /// When it was uploaded (RFC 3339).
    pub created_at: String,
    /// The JSON Schema of its config (contract 0.2); absent for a 0.1 version, which takes
    /// any string map.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub config_schema: Option<serde_json::Value>,
}

impl VersionView {
    /// The view of `version`, a version of a plugin on `hook`.
    pub(super) fn new(version: Version, hook: &str) -> Self {
        Self {
            name: version.name,
            hook: hook.to_owned(),
            version: version.version,
            sha256: version.sha256,
            size: version.size,
            note: version.note,
            created_at: rfc3339(version.created_at),
            config_schema: version.config_schema,
        }
    }
}

/// A plugin, what runs of it, and its versions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginView {
    /// `[a-z0-9-]{1,64}`.
    #[schema(example = "charge-limits")]
    pub name: String,
    /// `charge.validate`, `order.validate` or `order.price`.
    #[schema(example = "charge.validate")]
    pub hook: String,
    /// The version that runs, if any.
    pub active_version: Option<String>,
    /// The version that runs beside it in shadow, if any.
    pub shadow_version: Option<String>,
    /// Plugins on one hook run in ascending priority.
    pub priority: i32,
    /// The config the active version sees: strings for a 0.1 version, what its schema
    /// allows for a 0.2 one.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// What a failed call does: `reject` fails the request (503 `PLUGIN_FAILED`), `skip`
    /// lets it through as if accepted.
    pub on_failure: OnFailureView,
    /// Versions, oldest first.
    pub versions: Vec<VersionView>,
}

impl From<PluginEntry> for PluginView {
    fn from(entry: PluginEntry) -> Self {
        let plugin = entry.plugin;
        Self {
            versions: entry
                .versions
                .into_iter()
                .map(|v| VersionView::new(v, &plugin.hook))
                .collect(),
            name: plugin.name,
            hook: plugin.hook,
            active_version: plugin.active_version,
            shadow_version: plugin.shadow_version,
            priority: plugin.priority,
            config: plugin.config,
            on_failure: plugin.on_failure.into(),
        }
    }
}

/// One activation as the history lists it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotView {
    /// The version activated.
    #[schema(example = "1.2.0")]
    pub version: String,
    /// The config in force then (null for activations recorded before snapshots existed).
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    /// The priority then.
    pub priority: Option<i32>,
    /// The failure policy then.
    pub on_failure: Option<OnFailureView>,
    /// Who activated it.
    pub actor: Option<String>,
    /// When (RFC 3339).
    pub activated_at: String,
    /// Whether a rollback has since gone back past it.
    pub rolled_back: bool,
}

impl From<Snapshot> for SnapshotView {
    fn from(snapshot: Snapshot) -> Self {
        Self {
            version: snapshot.version,
            config: snapshot.config,
            priority: snapshot.priority,
            on_failure: snapshot.on_failure.map(Into::into),
            actor: snapshot.actor,
            activated_at: rfc3339(snapshot.activated_at),
            rolled_back: snapshot.rolled_back,
        }
    }
}

/// An upload's body: the component's bytes (documentation only; the handler reads raw bytes).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ComponentBytes(#[allow(dead_code)] Vec<u8>);

/// `?hook=&version=` of an upload, plus an optional note.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `charge.validate`, `order.validate` or `order.price`.
    pub hook: Option<String>,
    /// A semantic version, e.g. `1.2.0`; immutable once uploaded.
    pub version: Option<String>,
    /// Free text kept with the version.
    pub note: Option<String>,
}

/// Which version to activate.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivateRequest {
    /// An uploaded version.
    #[schema(example = "1.2.0")]
    pub version: String,
}

/// A plugin's failure policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailureView {
    /// A failed call fails the request with 503 `PLUGIN_FAILED` (the default).
    Reject,
    /// A failed call counts as an acceptance; pricing leaves the prices as they were.
    Skip,
}

impl From<OnFailure> for OnFailureView {
    fn from(policy: OnFailure) -> Self {
        match policy {
            OnFailure::Reject => OnFailureView::Reject,
            OnFailure::Skip => OnFailureView::Skip,
        }
    }
}

impl From<OnFailureView> for OnFailure {
    fn from(policy: OnFailureView) -> Self {
        match policy {
            OnFailureView::Reject => OnFailure::Reject,
            OnFailureView::Skip => OnFailure::Skip,
        }
    }
}

/// A new config, and optionally a new priority and failure policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigRequest {
    /// A JSON object, 16 KiB at most: strings only for a 0.1 version; for a 0.2 version it
    /// must fit the version's `configSchema`.
    #[schema(value_type = Object, example = json!({"max": "500000"}))]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Lower runs first (default 100; unchanged when left out).
    pub priority: Option<i32>,
    /// `reject` or `skip` (unchanged when left out; `reject` at first).
    pub on_failure: Option<OnFailureView>,
}

/// The version to shadow, or null to stop.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShadowRequest {
    /// An uploaded version, or null.
    pub version: Option<String>,
}

/// A dry run's input.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluateRequest {
    /// The hook's input: `{"userId","amount","balance"}` for `charge.validate`;
    /// `{"userId","balance","lines":[{"productId","quantity","unitPrice"}]}` for the order
    /// hooks.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// The config to run with (default: empty).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: serde_json::Map<String, serde_json::Value>,
}

/// A dry run's answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateView {
    /// `{"accept":true}`, `{"reject":{code,message}}`, `{"prices":[…]}` or
    /// `{"failure":{kind,message}}`.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// Fuel burnt.
    pub fuel: u64,
    /// Time of instantiate + call, in microseconds.
    pub duration_micros: u64,
    /// What the plugin logged.
    #[schema(value_type = Vec<Object>)]
    pub logs: Vec<LogLine>,
}

impl From<Called> for EvaluateView {
    fn from(called: Called) -> Self {
        let decision = json::outcome_json(&called.outcome);
        Self {
            decision,
            fuel: called.fuel,
            duration_micros: u64::try_from(called.duration.as_micros()).unwrap_or(u64::MAX),
            logs: called.logs,
        }
    }
}

impl RequestBody for ActivateRequest {}
impl RequestBody for ConfigRequest {}
impl RequestBody for ShadowRequest {}
impl RequestBody for EvaluateRequest {}

/// Formats a timestamp as RFC 3339 with milliseconds.
pub(super) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
