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
    /// No bearer token (401).
    #[error("missing credentials")]
    Unauthorized,
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

impl ApiError {
    /// Status, code and detail of this error.
    fn parts(&self) -> (StatusCode, &str, String) {
        let fixed = |status, code, detail: &str| (status, code, detail.to_owned());
        match self {
            ApiError::Service(error) => service_parts(error),
            ApiError::InvalidUserId => fixed(
                StatusCode::BAD_REQUEST,
                "INVALID_USER_ID",
                "잘못된 유저 번호입니다.",
            ),
            ApiError::InvalidProductId => fixed(
                StatusCode::BAD_REQUEST,
                "INVALID_PRODUCT_ID",
                "잘못된 상품 번호입니다.",
            ),
            ApiError::InvalidOrderId => fixed(
                StatusCode::BAD_REQUEST,
                "INVALID_ORDER_ID",
                "잘못된 주문 번호입니다.",
            ),
            ApiError::InvalidLimit => fixed(
                StatusCode::BAD_REQUEST,
                "INVALID_LIMIT",
                "limit은 1 이상 100 이하의 정수여야 합니다.",
            ),
            ApiError::InvalidQuery => fixed(
                StatusCode::BAD_REQUEST,
                "INVALID_QUERY",
                "잘못된 쿼리 파라미터입니다.",
            ),
            ApiError::InvalidCursor => fixed(
                StatusCode::BAD_REQUEST,
                "INVALID_CURSOR",
                "잘못된 커서입니다.",
            ),
            ApiError::IdempotencyKeyMissing => fixed(
                StatusCode::BAD_REQUEST,
                "IDEMPOTENCY_KEY_MISSING",
                "멱등성 키가 누락되었습니다.",
            ),
            ApiError::IdempotencyKeyInvalid => fixed(
                StatusCode::BAD_REQUEST,
                "IDEMPOTENCY_KEY_INVALID",
                "멱등성 키는 1~255자의 출력 가능한 ASCII 문자여야 합니다.",
            ),
            ApiError::Body(rejection) => body_problem(rejection.status()),
            ApiError::InvalidBody(_) => body_problem(StatusCode::BAD_REQUEST),
            ApiError::RawBody(rejection) => body_problem(rejection.status()),
            ApiError::TooLarge => body_problem(StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::MediaType => body_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ApiError::Unauthorized => fixed(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "인증이 필요합니다.",
            ),
            ApiError::Forbidden => fixed(StatusCode::FORBIDDEN, "FORBIDDEN", "권한이 없습니다."),
            ApiError::NotFound => not_found(),
            ApiError::NotReady(down) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "NOT_READY",
                format!("응답하지 않는 의존 서비스: {}", names(down).join(", ")),
            ),
        }
    }
}

/// Status, code and detail of a use case's error.
fn service_parts(error: &service::Error) -> (StatusCode, &str, String) {
    use service::Error as S;
    let fixed = |status, code, detail: &str| (status, code, detail.to_owned());
    match error {
        S::UserNotFound => fixed(
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
            "존재하지 않는 유저입니다.",
        ),
        S::ProductNotFound => fixed(
            StatusCode::NOT_FOUND,
            "PRODUCT_NOT_FOUND",
            "해당 상품이 존재하지 않습니다.",
        ),
        S::OrderUserNotFound => fixed(
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
            "해당 유저가 존재하지 않습니다.",
        ),
        S::OrderNotFound => fixed(
            StatusCode::NOT_FOUND,
            "ORDER_NOT_FOUND",
            "해당 주문이 존재하지 않습니다.",
        ),
        S::InvalidOrder(_) => fixed(
            StatusCode::BAD_REQUEST,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다.",
        ),
        S::InsufficientBalance => fixed(
            StatusCode::CONFLICT,
            "INSUFFICIENT_BALANCE",
            "결제 금액이 부족합니다.",
        ),
        S::OutOfStock => fixed(
            StatusCode::CONFLICT,
            "OUT_OF_STOCK",
            "품절된 상품이 존재합니다.",
        ),
        S::PaymentAmountMismatch | S::PriceChanged => fixed(
            StatusCode::CONFLICT,
            "PAYMENT_AMOUNT_MISMATCH",
            "결제 금액이 일치하지 않습니다.",
        ),
        S::InvalidUser(_) => fixed(
            StatusCode::BAD_REQUEST,
            "INVALID_USER",
            "유저 정보가 올바르지 않습니다.",
        ),
        S::InvalidProduct(_) => fixed(
            StatusCode::BAD_REQUEST,
            "INVALID_PRODUCT",
            "상품 정보가 올바르지 않습니다.",
        ),
        S::Rejected(rejection) => (
            StatusCode::BAD_REQUEST,
            &rejection.code,
            rejection.message.clone(),
        ),
        S::InvalidChargeAmount => fixed(
            StatusCode::BAD_REQUEST,
            "INVALID_CHARGE_AMOUNT",
            "충전 금액이 올바르지 않습니다.",
        ),
        S::BalanceOverflow => fixed(
            StatusCode::CONFLICT,
            "BALANCE_OVERFLOW",
            "잔액 한도를 초과합니다.",
        ),
        S::IdempotencyKeyInUse => fixed(
            StatusCode::CONFLICT,
            "IDEMPOTENCY_KEY_IN_USE",
            "이미 처리중인 요청입니다.",
        ),
        S::IdempotencyKeyReused => fixed(
            StatusCode::UNPROCESSABLE_ENTITY,
            "IDEMPOTENCY_KEY_REUSED",
            "같은 멱등성 키가 다른 요청에 사용되었습니다.",
        ),
        S::PluginNotFound => fixed(
            StatusCode::NOT_FOUND,
            "PLUGIN_NOT_FOUND",
            "플러그인을 찾을 수 없습니다.",
        ),
        S::PluginVersionNotFound => fixed(
            StatusCode::NOT_FOUND,
            "PLUGIN_VERSION_NOT_FOUND",
            "플러그인 버전을 찾을 수 없습니다.",
        ),
        S::PluginInvalid(reason) => (
            StatusCode::BAD_REQUEST,
            "PLUGIN_INVALID",
            format!("플러그인이 올바르지 않습니다: {reason}"),
        ),
        S::PluginVersionExists => fixed(
            StatusCode::CONFLICT,
            "PLUGIN_VERSION_EXISTS",
            "이미 존재하는 플러그인 버전입니다.",
        ),
        S::NoPreviousVersion => fixed(
            StatusCode::CONFLICT,
            "NO_PREVIOUS_VERSION",
            "되돌릴 이전 버전이 없습니다.",
        ),
        S::InvalidPluginRequest(reason) => (
            StatusCode::BAD_REQUEST,
            "INVALID_PLUGIN_REQUEST",
            format!("플러그인 요청이 올바르지 않습니다: {reason}"),
        ),
        S::RuleFailed(failure) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "PLUGIN_FAILED",
            format!("규칙 플러그인 실행에 실패했습니다: {}", failure.rule),
        ),
        S::DatabaseUnavailable(_) => unavailable(),
        S::Database(_) => internal(),
        S::Shared(inner) => service_parts(inner),
    }
}

fn unavailable() -> (StatusCode, &'static str, String) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "일시적으로 서비스를 이용할 수 없습니다.".into(),
    )
}

fn internal() -> (StatusCode, &'static str, String) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        "서버 오류가 발생했습니다.".into(),
    )
}

fn not_found() -> (StatusCode, &'static str, String) {
    (
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "요청한 경로를 찾을 수 없습니다.".into(),
    )
}

/// The problem for a body the server could not take, by the status the rejection chose.
fn body_problem(status: StatusCode) -> (StatusCode, &'static str, String) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            status,
            "PAYLOAD_TOO_LARGE",
            "요청 본문이 너무 큽니다.".into(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            status,
            "UNSUPPORTED_MEDIA_TYPE",
            "요청 본문은 Content-Type: application/json 이어야 합니다.".into(),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST_BODY",
            "요청 본문이 올바르지 않습니다.".into(),
        ),
    }
}

/// The problem for a bare error status produced outside the handlers.
fn status_problem(status: StatusCode) -> (StatusCode, &'static str, String) {
    match status {
        StatusCode::NOT_FOUND => not_found(),
        StatusCode::METHOD_NOT_ALLOWED => (
            status,
            "METHOD_NOT_ALLOWED",
            "허용되지 않는 메서드입니다.".into(),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            status,
            "REQUEST_TIMEOUT",
            "요청 처리 시간이 초과되었습니다.".into(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => body_problem(status),
        StatusCode::SERVICE_UNAVAILABLE => unavailable(),
        s if s.is_server_error() => internal(),
        s => (s, "BAD_REQUEST", "잘못된 요청입니다.".into()),
    }
}

/// Serializes a problem body.
fn problem_body(status: StatusCode, code: &str, detail: String) -> Bytes {
    let problem = Problem {
        type_: "about:blank",
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        code: code.to_owned(),
        detail,
    };
    Bytes::from(serde_json::to_vec(&problem).unwrap_or_default())
}

/// The names of dependencies, for a readiness answer.
fn names(down: &[Dependency]) -> Vec<&'static str> {
    down.iter().map(|d| d.as_str()).collect()
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
pub async fn overloaded(_error: tower::BoxError) -> Response {
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
