//! Request parts every handler family needs, parsed into domain values with their own errors:
//! path ids, the `Idempotency-Key` header, page parameters, and admin authentication.

use axum::{
    Json,
    extract::{FromRequest, Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, de::DeserializeOwned};
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

/// A JSON request body that must be an object. axum's `Json` would also accept an array for
/// a struct (serde's sequence form), which no client of this API means.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::InvalidBody("the body must be a JSON object"));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|_| ApiError::InvalidBody("the body does not match the schema"))
    }
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

/// Serde helpers for integer fields of JSON bodies. JSON Schema counts `27000.0` as an
/// integer, so a body field typed `integer` accepts a number with a zero fraction too; any
/// other fraction, or a value outside 64 bits, is rejected.
pub mod integer {
    use serde::{Deserialize, Deserializer, de::Error};

    /// 2^53: every integer below it in magnitude is exact as an `f64`.
    const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

    fn from_number<E: Error>(number: &serde_json::Number) -> Result<i64, E> {
        if let Some(n) = number.as_i64() {
            return Ok(n);
        }
        match number.as_f64() {
            // Only integers a double holds exactly (|f| < 2^53): a larger literal that did not
            // fit an i64 was rounded on the way in and must not become some nearby number.
            Some(f) if f.fract() == 0.0 && f.abs() < MAX_EXACT => Ok(f as i64),
            _ => Err(E::custom(format!("{number} is not a 64-bit integer"))),
        }
    }

    /// A required integer.
    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        from_number(&serde_json::Number::deserialize(d)?)
    }

    /// An optional integer (absent or `null` is `None`).
    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .as_ref()
            .map(from_number)
            .transpose()
    }

    #[cfg(test)]
    mod tests {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "super::required")]
            n: i64,
        }

        fn parse(json: &str) -> Option<i64> {
            serde_json::from_str::<Body>(json).ok().map(|b| b.n)
        }

        #[test]
        fn integral_numbers_are_accepted_in_any_notation() {
            assert_eq!(parse(r#"{"n": 27000}"#), Some(27_000));
            assert_eq!(parse(r#"{"n": 27000.0}"#), Some(27_000));
            assert_eq!(parse(r#"{"n": 2.7e4}"#), Some(27_000));
            assert_eq!(parse(r#"{"n": -5}"#), Some(-5));
            assert_eq!(parse(r#"{"n": 9223372036854775807}"#), Some(i64::MAX));
        }

        #[test]
        fn fractions_overflow_and_other_types_are_rejected() {
            for bad in [
                r#"{"n": 1.5}"#,
                r#"{"n": 9223372036854775808}"#,
                r#"{"n": 1e400}"#,
                r#"{"n": "1"}"#,
                r#"{"n": null}"#,
            ] {
                assert_eq!(parse(bad), None, "{bad}");
            }
        }
    }
}
