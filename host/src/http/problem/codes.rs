//! Every error's status, stable `code` and Korean `detail`: the table the contract
//! (`../shared/API.md`) fixes, in one place.

use axum::http::StatusCode;

use super::ApiError;
use crate::{metrics::Dependency, service};

impl ApiError {
    /// Status, code and detail of this error.
    pub(super) fn parts(&self) -> (StatusCode, &str, String) {
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
            ApiError::Unauthenticated(_) => fixed(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "인증이 필요합니다.",
            ),
            ApiError::Forbidden => forbidden(),
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
pub(super) fn service_parts(error: &service::Error) -> (StatusCode, &str, String) {
    use service::Error as S;
    let fixed = |status, code, detail: &str| (status, code, detail.to_owned());
    match error {
        S::Forbidden => forbidden(),
        S::InvalidTokenName => fixed(
            StatusCode::BAD_REQUEST,
            "INVALID_ADMIN_TOKEN_NAME",
            "관리자 토큰 이름이 올바르지 않습니다.",
        ),
        S::TokenNameTaken => fixed(
            StatusCode::CONFLICT,
            "ADMIN_TOKEN_EXISTS",
            "이미 존재하는 관리자 토큰 이름입니다.",
        ),
        S::TokenNotFound => fixed(
            StatusCode::NOT_FOUND,
            "ADMIN_TOKEN_NOT_FOUND",
            "관리자 토큰을 찾을 수 없습니다.",
        ),
        S::Randomness(_) => internal(),
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
        S::InvalidCoupon => fixed(
            StatusCode::BAD_REQUEST,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다: 쿠폰 코드(couponCode)는 제어 문자 없이 1~64자여야 하며 공백만으로 이루어질 수 없습니다.",
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
        S::InvalidUserAttributes(error) => (
            StatusCode::BAD_REQUEST,
            "INVALID_USER",
            format!("유저 정보가 올바르지 않습니다: {error}"),
        ),
        S::InvalidProductAttributes(error) => (
            StatusCode::BAD_REQUEST,
            "INVALID_PRODUCT",
            format!("상품 정보가 올바르지 않습니다: {error}"),
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
        S::StockOverflow => fixed(
            StatusCode::CONFLICT,
            "STOCK_OVERFLOW",
            "재고 한도를 초과합니다.",
        ),
        S::UnstorableText(_) => fixed(
            StatusCode::BAD_REQUEST,
            "INVALID_TEXT",
            "저장할 수 없는 문자가 포함되어 있습니다.",
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
        S::PluginConfigInvalid(_) => fixed(
            StatusCode::BAD_REQUEST,
            "PLUGIN_CONFIG_INVALID",
            "플러그인 설정이 스키마에 맞지 않습니다.",
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

fn forbidden() -> (StatusCode, &'static str, String) {
    (
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "권한이 없습니다.".into(),
    )
}

pub(super) fn internal() -> (StatusCode, &'static str, String) {
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
pub(super) fn status_problem(status: StatusCode) -> (StatusCode, &'static str, String) {
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

/// The names of dependencies, for a readiness answer.
pub(super) fn names(down: &[Dependency]) -> Vec<&'static str> {
    down.iter().map(|d| d.as_str()).collect()
}
