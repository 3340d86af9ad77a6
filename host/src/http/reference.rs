//! `GET /docs`: the interactive reference of `/openapi.json` (Swagger UI, try-it-out and the
//! document's bearer schemes included), served from the Swagger UI assets compiled into the
//! binary (utoipa-swagger-ui's vendored copy: nothing is fetched at build time, and the page
//! loads nothing from another origin).
//!
//! It serves files only: what the API is comes from the document, never from here. It sits
//! with the operations endpoints, outside the admin token check and the concurrency limit.

use std::sync::{Arc, LazyLock};

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use utoipa_swagger_ui::Config;

use super::problem::ApiError;
use crate::app::App;

/// The page: Swagger UI's own `index.html` with the assets named by absolute paths, so that
/// `/docs` (no trailing slash) loads them from `/docs/…`.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>edgecart API reference</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="stylesheet" href="/docs/index.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/swagger-initializer.js"></script>
</body>
</html>
"#;

/// What the page may load: only this node's own scripts, styles and document. Swagger UI
/// styles elements inline and draws icons as `data:` images.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// How long a browser may keep an asset (they change only with the binary).
const ASSET_CACHE_CONTROL: &str = "public, max-age=3600";

/// Swagger UI's settings, written into its `swagger-initializer.js`: this node's document,
/// try-it-out open, no online validator (it would load a badge from elsewhere), and the
/// plain layout (no bar for loading another document).
static SETTINGS: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new(["/openapi.json"])
            .try_it_out_enabled(true)
            .validator_url("none")
            .use_base_layout(),
    )
});

/// Routes of this module: the page and its assets.
pub fn router() -> Router<App> {
    Router::new()
        .route("/docs", get(api_reference))
        .route("/docs/{*file}", get(asset))
}

/// The interactive API reference of this document (HTML).
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "The API reference page", body = String, content_type = "text/html")))]
async fn api_reference() -> Response {
    let mut response = Html(PAGE).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// One embedded Swagger UI file; 404 (problem+json) for any other name.
async fn asset(Path(file): Path<String>) -> Response {
    let found = match utoipa_swagger_ui::serve(&file, SETTINGS.clone()) {
        Ok(Some(found)) => found,
        Ok(None) => return ApiError::NotFound.into_response(),
        Err(error) => {
            // Only the initializer is prepared (the settings written in); the shared layers
            // turn the bare status into problem+json.
            tracing::error!(%error, file, "Swagger UI asset could not be prepared");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let content_type = HeaderValue::from_str(&found.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(ASSET_CACHE_CONTROL),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    (headers, found.bytes.into_owned()).into_response()
}
