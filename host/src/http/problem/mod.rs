//! The one place that turns errors into RFC 9457 problem+json responses: service errors,
//! request-shape errors (ids, headers, bodies, extractor rejections), auth, and the bare error
//! responses that routing and tower layers produce (404, 405, 408, 413, panics).

use axum::{
    extract::{Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{idempotency::StoredResponse, metrics::Dependency, service, telemetry::chain};

mod codes;

use codes::{internal, names, service_parts, status_problem};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details, with a stable `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `title` is the status's reason phrase.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub type_: &'static str,
    /// The HTTP reason phrase.
    #[schema(example = "Not Found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// Stable machine-readable name of the error.
    #[schema(example = "USER_NOT_FOUND")]
    pub code: String,
    /// Message for people.
    #[schema(example = "존재하지 않는 유저입니다.")]
    pub detail: String,
}

/// A plugin config call's 400: a problem, and when the config does not fit its schema
/// (`PLUGIN_CONFIG_INVALID`) each field's error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigProblem {
    /// The problem.
    #[serde(flatten)]
    pub problem: Problem,
    /// What does not fit, field by field (`PLUGIN_CONFIG_INVALID` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// One field of a refused config.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON Pointer into the config (`""` for the whole object), e.g. `/max`.
    #[schema(example = "/max")]
    pub path: String,
    /// What is wrong.
    #[schema(example = "\"lots\" is not of type \"integer\"")]
    pub message: String,
}

/// Every error an HTTP handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use case failed.
    #[error(transparent)]
    Service(#[from] service::Error),
    /// `{userId}` is not a positive 64-bit integer (400).
    #[error("invalid user id")]
    InvalidUserId,
    /// `{productId}` is not a positive 64-bit integer (400).
    #[error("invalid product id")]
    InvalidProductId,
    /// `{orderId}` is not a positive 64-bit integer (400).
    #[error("invalid order id")]
    InvalidOrderId,
    /// `?limit=` is not 1 to 100 (400).
    #[error("invalid limit")]
    InvalidLimit,
    /// The query string does not parse (400).
    #[error("invalid query")]
    InvalidQuery,
    /// `?cursor=` was not made by this server (400).
    #[error("invalid cursor")]
    InvalidCursor,
    /// No `Idempotency-Key` header (400).
    #[error("idempotency key missing")]
    IdempotencyKeyMissing,
    /// An `Idempotency-Key` that is not 1 to 255 visible ASCII characters (400).
    #[error("idempotency key invalid")]
    IdempotencyKeyInvalid,
    /// The body was not acceptable JSON for this call (400, 413 or 415).
    #[error("request body: {0}")]
    Body(#[from] JsonRejection),
    /// A raw body (an uploaded component) that could not be read: too large, usually (413).
    #[error("request body: {0}")]
    RawBody(#[from] axum::extract::rejection::BytesRejection),
    /// A body over its route's size limit (413).
    #[error("body too large")]
    TooLarge,
    /// A body of a media type the route does not take (415).
    #[error("unsupported media type")]
    MediaType,
    /// A PATCH body that changes nothing or has an invalid field (400).
    #[error("invalid body: {0}")]
    InvalidBody(&'static str),
    /// No bearer token for the admin API (401).
    #[error("missing credentials")]
    Unauthorized,
    /// An end user's token is missing, malformed, expired or badly signed (401
    /// `UNAUTHENTICATED`, with `WWW-Authenticate: Bearer`).
    #[error(transparent)]
    Unauthenticated(#[from] crate::auth::Unauthenticated),
    /// A wrong bearer token (403).
    #[error("wrong credentials")]
    Forbidden,
    /// The admin API is closed (no token configured), or no such route (404).
    #[error("not found")]
    NotFound,
    /// Readiness failed: these dependencies do not answer (503 `NOT_READY`).
    #[error("not ready")]
    NotReady(Vec<Dependency>),
}

/// A failing readiness check: the problem plus what is down.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotReady {
    /// `about:blank`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// `Service Unavailable`.
    pub title: &'static str,
    /// 503.
    pub status: u16,
    /// `NOT_READY`.
    pub code: &'static str,
    /// Which dependencies are down.
    pub detail: String,
    /// The dependencies that do not answer (`postgres`, `redis`, `plugins`).
    pub down: Vec<&'static str>,
}

impl Problem {
    /// The problem of `status` with this code and detail.
    fn new(status: StatusCode, code: &str, detail: String) -> Self {
        Problem {
            type_: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: code.to_owned(),
            detail,
        }
    }
}

/// Serializes a problem body.
fn problem_body(status: StatusCode, code: &str, detail: String) -> Bytes {
    Bytes::from(serde_json::to_vec(&Problem::new(status, code, detail)).unwrap_or_default())
}

fn problem_response(status: StatusCode, code: &str, detail: String) -> Response {
    with_problem_headers(status, problem_body(status, code, detail))
}

/// A problem+json response with `body`, and the headers its status calls for.
fn with_problem_headers(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, detail) = self.parts();
        if let ApiError::NotReady(down) = &self {
            let body = NotReady {
                type_: "about:blank",
                title: "Service Unavailable",
                status: status.as_u16(),
                code: "NOT_READY",
                detail,
                down: names(down),
            };
            let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            return with_problem_headers(status, body);
        }
        if let ApiError::Service(service::Error::PluginConfigInvalid(errors)) = &self {
            let body = ConfigProblem {
                problem: Problem::new(status, code, detail),
                errors: Some(
                    errors
                        .iter()
                        .map(|e| FieldError {
                            path: e.path.clone(),
                            message: e.message.clone(),
                        })
                        .collect(),
                ),
            };
            let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            return with_problem_headers(status, body);
        }
        if status.is_server_error() {
            // The cause is logged once here, with its sources, and never shown to the client.
            tracing::error!(error = %chain(&self), code, "request failed");
        }
        problem_response(status, code, detail)
    }
}

/// Renders an error as the bytes an idempotency record keeps.
pub fn stored_problem(error: &service::Error) -> StoredResponse {
    let (status, code, detail) = service_parts(error);
    StoredResponse {
        status: status.as_u16(),
        content_type: PROBLEM_JSON.into(),
        body: problem_body(status, code, detail),
    }
}

/// Middleware: any error response that is not already problem+json (routing's 404 and 405,
/// the timeout layer's 408, a body limit's 413) becomes one, keeping its status and headers.
pub async fn ensure_problem_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, _body) = response.into_parts();
    let (status, code, detail) = status_problem(status);
    let replacement = problem_response(status, code, detail);
    let (new_parts, body) = replacement.into_parts();
    for (name, value) in &new_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}

/// The response for a panic caught by `CatchPanicLayer`.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    let (status, code, detail) = internal();
    problem_response(status, code, detail)
}

/// The answer to a request shed because the node is at its concurrency limit (503 with
/// `Retry-After`).
pub fn overloaded() -> Response {
    problem_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "OVERLOADED",
        "요청이 많아 잠시 후 다시 시도해 주세요.".into(),
    )
}

/// Routes that match nothing.
pub async fn fallback() -> ApiError {
    ApiError::NotFound
}
