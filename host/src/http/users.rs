//! Users and points: balance, idempotent charge, history.

use axum::{
    Json, Router,
    extract::State,
    http::{Method, StatusCode},
    response::Response,
    routing::{get, post},
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    docs,
    extract::{self, Authenticated, Id, JsonBody, ListQuery, PageQuery, RequestBody, RequiredKey},
    problem::ApiError,
    render,
};
use crate::{
    app::App,
    domain::{Attributes, Entry, User, UserId},
    idempotency::IdempotentRequest,
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
    /// The user's attributes; absent when they have none.
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    #[schema(schema_with = docs::attributes_schema)]
    pub attributes: Attributes,
}

impl RequestBody for ChargeRequest {}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            user_id: user.id,
            name: user.name,
            hp_no: user.hp_no,
            amount: user.balance,
            attributes: user.attributes,
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
#[utoipa::path(get, path = "/api/v1/users/{userId}", tag = "points", security((), ("user" = [])),
    params(("userId" = i64, Path, minimum = 1, description = "User id")),
    responses(
        (status = 200, description = "The user and balance", body = UserView),
        (status = 400, description = "INVALID_USER_ID"),
        (status = 404, description = "USER_NOT_FOUND"),
        docs::UserAuth, docs::Unavailable,
    ))]
async fn balance(
    State(app): State<App>,
    Authenticated(caller): Authenticated,
    Id(user): Id<UserId>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(app.points().balance(caller, user).await?.into()))
}

/// Charges points, once per `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/users/{userId}/charge", tag = "points", security((), ("user" = [])),
    params(
        ("userId" = i64, Path, minimum = 1, description = "User id"),
        ("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", min_length = 1, max_length = 255,
            description = "1 to 255 visible ASCII characters; a repeat replays the first answer"),
    ),
    request_body = ChargeRequest,
    responses(
        (status = 200, description = "Charged (or replayed, with `Idempotent-Replayed: true`)", body = UserView),
        (status = 400, description = "INVALID_USER_ID, IDEMPOTENCY_KEY_MISSING, IDEMPOTENCY_KEY_INVALID, INVALID_REQUEST_BODY, CHARGE_AMOUNT_TOO_SMALL, CHARGE_AMOUNT_TOO_LARGE or another rule's code"),
        (status = 404, description = "USER_NOT_FOUND"),
        (status = 409, description = "IDEMPOTENCY_KEY_IN_USE or BALANCE_OVERFLOW"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED"),
        docs::BodyErrors, docs::UserAuth, docs::RuleOrUnavailable,
    ))]
async fn charge(
    State(app): State<App>,
    Authenticated(caller): Authenticated,
    Id(user): Id<UserId>,
    RequiredKey(key): RequiredKey,
    JsonBody(body): JsonBody<ChargeRequest>,
) -> Result<Response, ApiError> {
    let path = format!("/api/v1/users/{user}/charge");
    let req = IdempotentRequest::new(user, key, Method::POST.as_str(), &path, &body);
    let render = render::shared(StatusCode::OK, |user: &User| UserView::from(user.clone()));
    let done = app
        .points()
        .charge(caller, user, body.charge_amount, &req, render)
        .await?;
    Ok(render::answer(done))
}

/// A user's point history, newest first.
#[utoipa::path(get, path = "/api/v1/users/{userId}/points/history", tag = "points", security((), ("user" = [])),
    params(("userId" = i64, Path, minimum = 1, description = "User id"), PageQuery),
    responses(
        (status = 200, description = "A page of history", body = HistoryPage),
        (status = 400, description = "INVALID_USER_ID, INVALID_LIMIT or INVALID_CURSOR"),
        (status = 404, description = "USER_NOT_FOUND"),
        docs::UserAuth, docs::Unavailable,
    ))]
async fn history(
    State(app): State<App>,
    Authenticated(caller): Authenticated,
    Id(user): Id<UserId>,
    ListQuery(page): ListQuery,
) -> Result<Json<HistoryPage>, ApiError> {
    let page = app.points().history(caller, user, page).await?;
    Ok(Json(HistoryPage {
        items: page.items.into_iter().map(HistoryEntryView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}
