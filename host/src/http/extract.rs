//! Request parts every handler family needs, as typed extractors whose rejections are the
//! problem+json errors: the end user, path ids, the `Idempotency-Key` header, JSON bodies and
//! page parameters. Admin identities are [`super::admin_auth`]'s.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{HeaderMap, header, request::Parts},
};
use serde::{Deserialize, de::DeserializeOwned};
use utoipa::IntoParams;

use super::problem::ApiError;
use crate::{
    app::App,
    domain::{Caller, IdempotencyKey, OrderId, PageError, PageRequest, ProductId, UserId},
};

/// A path id of type `T`, the route's one path parameter; a segment that is not a valid id
/// is `T`'s own 400 (`INVALID_USER_ID`, …).
#[derive(Debug, Clone, Copy)]
pub struct Id<T>(pub T);

/// An id that can be a path segment, and the error a bad one answers.
pub trait PathId: Sized {
    /// Parses the segment.
    fn parse_segment(raw: &str) -> Result<Self, ApiError>;
}

impl PathId for UserId {
    fn parse_segment(raw: &str) -> Result<Self, ApiError> {
        UserId::parse(raw).map_err(|_| ApiError::InvalidUserId)
    }
}

impl PathId for ProductId {
    fn parse_segment(raw: &str) -> Result<Self, ApiError> {
        ProductId::parse(raw).map_err(|_| ApiError::InvalidProductId)
    }
}

impl PathId for OrderId {
    fn parse_segment(raw: &str) -> Result<Self, ApiError> {
        OrderId::parse(raw).map_err(|_| ApiError::InvalidOrderId)
    }
}

impl<S: Send + Sync, T: PathId> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // A segment that is not even text (bad percent-encoding) is a bad id as well.
        let raw = Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(raw)| raw)
            .unwrap_or_default();
        T::parse_segment(&raw).map(Id)
    }
}

/// Who calls, verified once per request (`EDGECART_AUTH`): a missing or bad token is 401
/// `UNAUTHENTICATED`. Services decide what the caller may do.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<App> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let caller = app.auth().caller(authorization).await?;
        Ok(Authenticated(caller))
    }
}

/// The `Idempotency-Key` header, required.
#[derive(Debug, Clone)]
pub struct RequiredKey(pub IdempotencyKey);

impl<S: Send + Sync> FromRequestParts<S> for RequiredKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        optional_key(&parts.headers)?
            .map(RequiredKey)
            .ok_or(ApiError::IdempotencyKeyMissing)
    }
}

/// The `Idempotency-Key` header when present; an empty value counts as missing, two values
/// or one that is not 1 to 255 visible ASCII characters are invalid.
pub fn optional_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
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

/// A request body type, and how its route words a body it cannot take.
pub trait RequestBody: DeserializeOwned {
    /// The error for a body that is not acceptable (default: as is).
    fn rejection(error: ApiError) -> ApiError {
        error
    }
}

/// A JSON request body that must be an object. axum's `Json` would also accept an array for
/// a struct (serde's sequence form), which no client of this API means.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: RequestBody> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let parse = async {
            let Json(value) = Json::<serde_json::Value>::from_request(request, state).await?;
            if !value.is_object() {
                return Err(ApiError::InvalidBody("the body must be a JSON object"));
            }
            serde_json::from_value(value)
                .map(JsonBody)
                .map_err(|_| ApiError::InvalidBody("the body does not match the schema"))
        };
        parse.await.map_err(T::rejection)
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

/// A validated page request from [`PageQuery`]: `INVALID_QUERY`, `INVALID_LIMIT` or
/// `INVALID_CURSOR` otherwise.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<PageQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::InvalidQuery)?;
        PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())
            .map(ListQuery)
            .map_err(|e| match e {
                PageError::Limit => ApiError::InvalidLimit,
                PageError::Cursor => ApiError::InvalidCursor,
            })
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
