//! Request parts every handler family needs, parsed into domain values with their own errors:
//! path ids, the `Idempotency-Key` header, page parameters, and admin authentication.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa::IntoParams;

use super::problem::ApiError;
use crate::{
    app::App,
    domain::{IdempotencyKey, PageError, PageRequest, ProductId, UserId},
};

/// Parses a `{userId}` path segment.
pub fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|_| ApiError::InvalidUserId)
}

/// Parses a `{productId}` path segment.
pub fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    ProductId::parse(raw).map_err(|_| ApiError::InvalidProductId)
}

/// The `Idempotency-Key` header, required.
pub fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    optional_idempotency_key(headers)?.ok_or(ApiError::IdempotencyKeyMissing)
}

/// The `Idempotency-Key` header when present; an empty value counts as missing.
pub fn optional_idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::IdempotencyKeyInvalid);
    }
    if value.is_empty() {
        return Err(ApiError::IdempotencyKeyMissing);
    }
    IdempotencyKey::parse(value.as_bytes())
        .map(Some)
        .map_err(|_| ApiError::IdempotencyKeyInvalid)
}

/// `?limit=&cursor=` of list endpoints, kept as text so bad values get our own errors.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Validates the parameters.
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref()).map_err(|e| match e {
            PageError::Limit => ApiError::InvalidLimit,
            PageError::Cursor => ApiError::InvalidCursor,
        })
    }
}

/// Middleware on the admin routes: 404 when no token is configured, 401 without a bearer
/// token, 403 with a wrong one (compared in constant time).
pub async fn require_admin(
    State(app): State<App>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(expected) = app.admin_token() else {
        return Err(ApiError::NotFound);
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    if bool::from(presented.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(next.run(request).await)
    } else {
        Err(ApiError::Forbidden)
    }
}
