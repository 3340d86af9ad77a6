//! `GET /admin/v1/audit`: every admin change, newest first, with who made it and the state
//! before and after; `?target=` narrows it to one thing (`product:25`, `plugin:charge-limits`).

use axum::{
    Json,
    extract::{Query, State},
};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    docs,
    extract::{ListQuery, PageQuery},
    problem::ApiError,
};
use crate::{app::App, domain::AuditEntry};

/// `?target=` of the audit log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    /// Only the changes of this target, e.g. `product:25`.
    pub target: Option<String>,
}

/// One admin change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Entry id.
    pub id: i64,
    /// When it committed (RFC 3339, UTC).
    #[schema(example = "2026-12-01T10:00:00.123Z")]
    pub at: String,
    /// The token's name.
    #[schema(example = "alice")]
    pub actor: String,
    /// What was done.
    #[schema(example = "product.update")]
    pub action: String,
    /// What it was done to.
    #[schema(example = "product:25")]
    pub target: String,
    /// The state before (null for a creation).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The state after (null for a removal).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            before: entry.before,
            after: entry.after,
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntryView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/admin/v1/audit", tag = "admin", security(("bearer" = [])),
    params(PageQuery, TargetQuery),
    responses(
        (status = 200, description = "A page of admin changes", body = AuditPage),
        (status = 400, description = "INVALID_LIMIT, INVALID_CURSOR, INVALID_QUERY or INVALID_TEXT"),
        (status = 404, description = "Admin API closed"),
        docs::AdminAuth, docs::Unavailable,
    ))]
pub async fn list_audit(
    State(app): State<App>,
    ListQuery(page): ListQuery,
    target: Result<Query<TargetQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(target) = target.map_err(|_| ApiError::InvalidQuery)?;
    let page = app
        .operators()
        .audit(target.target.as_deref(), page)
        .await?;
    Ok(Json(AuditPage {
        items: page.items.into_iter().map(AuditEntryView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}
