//! Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.

use axum::{
    Json, Router,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::{
    openapi::ApiDoc,
    problem::{ApiError, NotReady},
};
use crate::app::App;

/// Routes of this module but `/metrics`.
pub fn router() -> Router<App> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
}

/// `/metrics`, on the main listener or a listener of its own (`EDGECART_METRICS_LISTEN`).
pub fn metrics_router() -> Router<App> {
    Router::new().route("/metrics", get(metrics))
}

/// The body of `/healthz` and a passing `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// 200 while the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// 200 only when PostgreSQL and Redis answer and the plugins are loaded; otherwise 503
/// naming what is down. The answer may be up to a second old: however many requests come,
/// the node checks at most once a second (see [`crate::health`]).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "NOT_READY: a dependency is down", body = NotReady, content_type = "application/problem+json",
            example = json!({"type": "about:blank", "title": "Service Unavailable", "status": 503, "code": "NOT_READY", "detail": "응답하지 않는 의존 서비스: postgres", "down": ["postgres"]})),
    ))]
async fn readyz(State(app): State<App>) -> Result<Json<Status>, ApiError> {
    let down = app.health().down().await;
    if down.is_empty() {
        Ok(Json(Status { status: "ok" }))
    } else {
        Err(ApiError::NotReady(down))
    }
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
async fn metrics(State(app): State<App>) -> Response {
    app.health().refresh_gauges().await;
    app.catalog().observe_caches().await;
    let text = app.metrics().render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
