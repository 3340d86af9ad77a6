//! Users and points: balance, idempotent charge, history.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode},
    response::Response,
    routing::{get, post},
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    extract::{self, JsonBody, PageQuery},
    problem::{self, ApiError, Problem},
    render,
};
use crate::{
    app::App,
    domain::{Entry, User},
    idempotency::{Fingerprint, IdempotentRequest, StoredResponse},
    service,
};

/// Routes of this module.
pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/users/{userId}", get(balance))
        .route("/api/v1/users/{userId}/charge", post(charge))
        .route("/api/v1/users/{userId}/points/history", get(history))
}

/// A user and their points balance.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// The user's id.
    #[schema(example = 25)]
    pub user_id: i64,
    /// Display name.
    #[schema(example = "김테스트")]
    pub name: String,
    /// Phone number.
    #[schema(example = "010-1234-4112")]
    pub hp_no: String,
    /// Points balance in won.
    #[schema(example = 100000)]
    pub amount: i64,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            user_id: user.id,
            name: user.name,
            hp_no: user.hp_no,
            amount: user.balance,
        }
    }
}

/// Body of a charge.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargeRequest {
    /// Won to add; the active charge rule decides the limits (default 1,000 to 1,000,000).
    #[schema(example = 50000)]
    #[serde(deserialize_with = "extract::integer::required")]
    pub charge_amount: i64,
}

/// One balance change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntryView {
    /// Entry id.
    pub id: i64,
    /// `CHARGE`, `USE` or `REFUND`.
    #[schema(example = "CHARGE")]
    pub kind: String,
    /// Won moved (always positive).
    pub amount: i64,
    /// Balance right after.
    pub balance_after: i64,
    /// The order involved, if any.
    pub order_id: Option<i64>,
    /// When it happened (RFC 3339, UTC).
    #[schema(example = "2026-11-24T10:00:00Z")]
    pub created_at: String,
}

impl From<Entry> for HistoryEntryView {
    fn from(entry: Entry) -> Self {
        Self {
            id: entry.id,
            kind: entry.kind.as_str().to_owned(),
            amount: entry.amount,
            balance_after: entry.balance_after,
            order_id: entry.order_id,
            created_at: rfc3339(entry.created_at),
        }
    }
}

/// A page of history entries.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// Newest first.
    pub items: Vec<HistoryEntryView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Formats a timestamp as `2026-11-24T10:00:00Z`.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The balance of a user.
#[utoipa::path(get, path = "/api/v1/users/{userId}", tag = "points",
    params(("userId" = i64, Path, minimum = 1, description = "User id")),
    responses(
        (status = 200, description = "The user and balance", body = UserView),
        (status = 400, description = "INVALID_USER_ID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "USER_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is down", body = Problem, content_type = "application/problem+json"),
    ))]
async fn balance(
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = extract::user_id(&raw)?;
    Ok(Json(app.points().balance(user).await?.into()))
}

/// Charges points, once per `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/users/{userId}/charge", tag = "points",
    params(
        ("userId" = i64, Path, minimum = 1, description = "User id"),
        ("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", min_length = 1, max_length = 255,
            description = "1 to 255 visible ASCII characters; a repeat replays the first answer"),
    ),
    request_body = ChargeRequest,
    responses(
        (status = 200, description = "Charged (or replayed, with `Idempotent-Replayed: true`)", body = UserView),
        (status = 400, description = "INVALID_USER_ID, IDEMPOTENCY_KEY_MISSING, IDEMPOTENCY_KEY_INVALID, INVALID_REQUEST_BODY, CHARGE_AMOUNT_TOO_SMALL, CHARGE_AMOUNT_TOO_LARGE or another rule's code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "USER_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "IDEMPOTENCY_KEY_IN_USE or BALANCE_OVERFLOW", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "PLUGIN_FAILED or a dependency is down", body = Problem, content_type = "application/problem+json"),
    ))]
async fn charge(
    State(app): State<App>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Result<JsonBody<ChargeRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let user = extract::user_id(&raw)?;
    let key = extract::idempotency_key(&headers)?;
    let JsonBody(body) = body?;
    let canonical = serde_json::to_vec(&body).unwrap_or_default();
    let path = format!("/api/v1/users/{user}/charge");
    let req = IdempotentRequest {
        user,
        key,
        fingerprint: Fingerprint::of(Method::POST.as_str(), &path, &canonical),
    };
    let render = |outcome: Result<&User, &service::Error>| -> StoredResponse {
        match outcome {
            Ok(user) => render::stored_json(StatusCode::OK, &UserView::from(user.clone())),
            Err(error) => problem::stored_problem(error),
        }
    };
    let done = app
        .points()
        .charge(user, body.charge_amount, &req, &render)
        .await?;
    Ok(render::answer(done))
}

/// A user's point history, newest first.
#[utoipa::path(get, path = "/api/v1/users/{userId}/points/history", tag = "points",
    params(("userId" = i64, Path, minimum = 1, description = "User id"), PageQuery),
    responses(
        (status = 200, description = "A page of history", body = HistoryPage),
        (status = 400, description = "INVALID_USER_ID, INVALID_LIMIT or INVALID_CURSOR", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "USER_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is down", body = Problem, content_type = "application/problem+json"),
    ))]
async fn history(
    State(app): State<App>,
    Path(raw): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryPage>, ApiError> {
    let user = extract::user_id(&raw)?;
    let Query(query) = query.map_err(|_| ApiError::InvalidQuery)?;
    let page = query.parse()?;
    let page = app.points().history(user, page).await?;
    Ok(Json(HistoryPage {
        items: page.items.into_iter().map(HistoryEntryView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}
