//! `GET /console`: the rule console for business teams, a small static front end (HTML, CSS
//! and ES modules in `host/console/`, compiled into the binary: no build step, no Node.js, no
//! CDN) over the public admin API. The page itself needs no token: the operator signs in in the
//! browser, and every call it makes goes through the admin API's own checks.
//!
//! Every answer carries a strict Content-Security-Policy (this node's scripts and styles only,
//! no inline script, no framing), so nothing a plugin wrote could run even if it were ever
//! inserted as markup (the scripts insert text only).

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::problem::ApiError;
use crate::app::App;

/// What the console's pages may load and do: only this node's own files and API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The files, by name: served as `/console/{name}` (the page also as `/console`).
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../console/index.html"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../console/console.css"),
    ),
    ("api.js", JS, include_str!("../../console/api.js")),
    ("app.js", JS, include_str!("../../console/app.js")),
    ("audit.js", JS, include_str!("../../console/audit.js")),
    (
        "config-form.js",
        JS,
        include_str!("../../console/config-form.js"),
    ),
    ("confirm.js", JS, include_str!("../../console/confirm.js")),
    ("dom.js", JS, include_str!("../../console/dom.js")),
    ("plugin.js", JS, include_str!("../../console/plugin.js")),
    (
        "plugin-config.js",
        JS,
        include_str!("../../console/plugin-config.js"),
    ),
    (
        "plugin-overview.js",
        JS,
        include_str!("../../console/plugin-overview.js"),
    ),
    (
        "plugin-runs.js",
        JS,
        include_str!("../../console/plugin-runs.js"),
    ),
    (
        "plugin-try.js",
        JS,
        include_str!("../../console/plugin-try.js"),
    ),
    ("plugins.js", JS, include_str!("../../console/plugins.js")),
    ("schema.js", JS, include_str!("../../console/schema.js")),
    ("upload.js", JS, include_str!("../../console/upload.js")),
];

const JS: &str = "text/javascript; charset=utf-8";

/// Routes of this module: the page and its files, outside the admin token check.
pub fn router() -> Router<App> {
    Router::new()
        .route("/console", get(console_page))
        .route("/console/{file}", get(console_file))
}

/// The rule console (HTML): sign in with an admin token, then plugins, versions, config,
/// live figures, runs, dry run, replay, shadow, activation, rollback and the audit log.
#[utoipa::path(get, path = "/console", tag = "operations",
    responses((status = 200, description = "The rule console", body = String, content_type = "text/html")))]
pub(super) async fn console_page() -> Response {
    serve("index.html")
}

/// One of the console's files; 404 (problem+json) for any other name.
async fn console_file(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(name: &str) -> Response {
    let Some((_, content_type, text)) = FILES.iter().find(|(file, _, _)| *file == name) else {
        return ApiError::NotFound.into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        // A new binary may bring new files: the browser asks again (cheap, they are small).
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (headers, *text).into_response()
}
