//! Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::{openapi::ApiDoc, problem::PROBLEM_JSON};
use crate::app::App;

/// Routes of this module.
pub fn router() -> Router<App> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
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
    /// The dependencies that do not answer (`postgres`, `redis`).
    pub down: Vec<&'static str>,
}

/// 200 only when PostgreSQL and Redis answer; otherwise 503 naming what is down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "A dependency is down", body = NotReady, content_type = "application/problem+json"),
    ))]
async fn readyz(State(app): State<App>) -> Response {
    let down = app.unready_dependencies().await;
    if down.is_empty() {
        return Json(Status { status: "ok" }).into_response();
    }
    let body = NotReady {
        type_: "about:blank",
        title: "Service Unavailable",
        status: 503,
        code: "NOT_READY",
        detail: format!("응답하지 않는 의존 서비스: {}", down.join(", ")),
        down,
    };
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(PROBLEM_JSON),
    );
    response
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
async fn metrics(State(app): State<App>) -> Response {
    app.refresh_gauges();
    let down = app.unready_dependencies().await;
    app.metrics().set_dependencies(&down);
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
