//! The HTTP layer: axum routes and handlers (parse → call a service → render), the tower
//! layers around them, the serving loop, and the OpenAPI document. Handlers never touch SQL
//! or Redis.

pub mod admin;
pub mod admin_auth;
pub mod admission;
pub mod audit;
pub mod cached;
pub mod console;
pub mod deadline;
pub mod docs;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod plugins;
pub mod problem;
pub mod products;
pub mod reference;
pub mod render;
pub mod serve;
pub mod users;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    middleware::{self, Next},
    response::Response,
};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::{
    CompressionLevel,
    catch_panic::CatchPanicLayer,
    compression::{
        CompressionLayer,
        predicate::{NotForContentType, Predicate, SizeAbove},
    },
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use self::admission::{Admission, BodyLimits};
use crate::app::App;

/// The main listener's router with its layers: the API, the admin API, the operations
/// endpoints (`/metrics` too, unless it has a listener of its own) and the API reference
/// (`/docs`).
///
/// In front of a handler, in order: the shared layers ([`with_shared_layers`]); on admin routes
/// the token check; then admission ([`admission::admit`]): the whole body read within its
/// deadline and size, and only then a concurrency permit, shared by the API and the admin
/// API. The operations endpoints and the API reference stay outside the limit.
pub fn router(app: App) -> Router {
    let settings = app.settings();
    let permits = settings.max_concurrent_requests.min(Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(permits));
    let admit = |max_bytes| {
        let admission = Admission {
            bodies: BodyLimits {
                max_bytes,
                deadline: Duration::from_secs(settings.body_timeout_secs),
            },
            permits: permits.clone(),
        };
        middleware::from_fn_with_state(admission, admission::admit)
    };
    let api = Router::new()
        .merge(users::router())
        .merge(products::router())
        .merge(orders::router())
        .layer(admit(settings.body_limit_bytes));
    // Operators may upload a component larger than an API body; each route's extractor still
    // applies its own limit. The token is checked before a byte of the body is read.
    let admin_bytes = settings
        .body_limit_bytes
        .max(settings.plugins.max_bytes + 1);
    let admin = Router::new()
        .merge(admin::router())
        .merge(plugins::router())
        .layer(admit(admin_bytes))
        // A layer, not a route layer: a wrong method is authenticated too (401 without a
        // token, like a right one), before routing answers 405.
        .layer(middleware::from_fn_with_state(
            app.clone(),
            admin_auth::require_admin,
        ));
    let mut router = Router::new()
        .merge(api)
        .merge(admin)
        .merge(ops::router())
        .merge(reference::router())
        .merge(console::router());
    if settings.metrics_listen.is_none() {
        router = router.merge(ops::metrics_router());
    }
    with_shared_layers(router.fallback(problem::fallback), &app).with_state(app)
}

/// The router of the separate metrics listener (`EDGECART_METRICS_LISTEN`): `/metrics` alone,
/// behind the same shared layers.
pub fn metrics_router(app: App) -> Router {
    let router = ops::metrics_router().fallback(problem::fallback);
    with_shared_layers(router, &app).with_state(app)
}

/// Bodies smaller than this are sent as they are: compressing them saves a few bytes at best.
const COMPRESS_ABOVE_BYTES: u16 = 256;

/// gzip or brotli (whichever the client prefers, by `Accept-Encoding`) for bodies over
/// [`COMPRESS_ABOVE_BYTES`], at level 4 of each: cheap enough to do per response. Images and
/// event streams are left alone. A compressed response carries `Vary: Accept-Encoding`.
fn compression() -> CompressionLayer<impl Predicate> {
    let worth_it = SizeAbove::new(COMPRESS_ABOVE_BYTES)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(worth_it)
}

/// `router` behind the layers every route and the fallback share: request id, trace span,
/// response compression, metrics, problem+json for bare error statuses, panic catching, the
/// request deadline and the extractors' default body limit. Compression sits outside the
/// problem+json mapping, so it sees (and may compress) the final body.
fn with_shared_layers(router: Router<App>, app: &App) -> Router<App> {
    let settings = app.settings();
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            let span = tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id);
            crate::telemetry::context::continue_from_headers(&span, request.headers());
            span
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(compression())
        .layer(middleware::from_fn_with_state(app.clone(), record_metrics))
        .layer(middleware::from_fn(problem::ensure_problem_json))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(middleware::from_fn_with_state(settings.deadlines(), deadline::limit))
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes));
    router.layer(layers)
}

/// Counts every request by method, route template (never the raw path) and status.
async fn record_metrics(State(app): State<App>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let in_flight = app.metrics().http_in_flight().clone();
    in_flight.inc();
    let response = next.run(request).await;
    in_flight.dec();
    app.metrics().observe_http(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// A bounded label for a method: the standard ones by name, anything else as `OTHER`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
