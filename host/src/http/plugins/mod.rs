//! The rule-plugin admin API under `/admin/v1/plugins`: upload, list, show, activate,
//! rollback, deactivate, config and priority, shadow, dry-run evaluation, recorded runs
//! with their replay (`runs`), and live figures (`stats`). Behind
//! [`require_admin`](super::super::admin_auth::require_admin) like the rest of the admin API
//! (applied in [`super::router`]).

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};

use super::{
    admin_auth::Admin,
    docs,
    extract::JsonBody,
    problem::{ApiError, ConfigProblem},
};
use crate::{app::App, plugins::Hook, service};

mod runs;
mod stats;
mod views;

pub use runs::*;
pub use stats::*;
pub use views::*;

/// Routes of this module; [`super::router`] puts them behind the admin token check.
pub fn router() -> Router<App> {
    Router::new()
        .route(
            super::deadline::UPLOAD_ROUTE,
            // A component may be larger than an API body: the admin routes' body layer has
            // read it whole, up to one byte over EDGECART_PLUGIN_MAX_BYTES.
            post(upload_version).layer(DefaultBodyLimit::disable()),
        )
        .route("/admin/v1/plugins", get(list_plugins))
        .route("/admin/v1/plugins/{name}", get(show_plugin))
        .route("/admin/v1/plugins/{name}/history", get(plugin_history))
        .route("/admin/v1/plugins/{name}/activate", post(activate_version))
        .route("/admin/v1/plugins/{name}/rollback", post(rollback_plugin))
        .route(
            "/admin/v1/plugins/{name}/deactivate",
            post(deactivate_plugin),
        )
        .route("/admin/v1/plugins/{name}/config", put(configure_plugin))
        .route("/admin/v1/plugins/{name}/shadow", post(shadow_version))
        .route(
            "/admin/v1/plugins/{name}/versions/{version}/evaluate",
            post(evaluate_version),
        )
        .route("/admin/v1/plugins/{name}/runs", get(list_runs))
        .route("/admin/v1/plugins/{name}/stats", get(plugin_stats))
        .route(
            "/admin/v1/plugins/{name}/versions/{version}/replay",
            post(replay_version),
        )
}

/// Uploads a version (the component's bytes).
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/versions", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name, [a-z0-9-]{1,64}"), UploadQuery),
    request_body(content = ComponentBytes, content_type = "application/wasm", description = "A WebAssembly component, EDGECART_PLUGIN_MAX_BYTES (16 MiB) at most"),
    responses(
        (status = 201, description = "Stored", body = VersionView),
        (status = 400, description = "PLUGIN_INVALID, INVALID_PLUGIN_REQUEST or INVALID_TEXT (the note)"),
        (status = 404, description = "Admin API closed"),
        (status = 409, description = "PLUGIN_VERSION_EXISTS"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn upload_version(
    State(app): State<App>,
    Admin(operator): Admin,
    Path(name): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if !matches!(
        media,
        Some("application/wasm") | Some("application/octet-stream")
    ) {
        return Err(ApiError::MediaType);
    }
    let body = body?;
    if body.len() > app.settings().plugins.max_bytes {
        return Err(ApiError::TooLarge);
    }
    let hook: Hook = query.hook.as_deref().unwrap_or_default().parse().map_err(
        |e: crate::plugins::hook::UnknownHook| service::Error::InvalidPluginRequest(e.to_string()),
    )?;
    let version = query.version.as_deref().unwrap_or_default();
    let stored = app
        .plugins()
        .upload(
            &operator,
            &name,
            hook,
            version,
            body.to_vec(),
            query.note.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(VersionView::new(stored, hook.as_str())),
    )
        .into_response())
}

/// Every plugin.
#[utoipa::path(get, path = "/admin/v1/plugins", tag = "plugins", security(("bearer" = [])),
    responses(
        (status = 200, description = "Plugins by name", body = Vec<PluginView>),
        (status = 404, description = "Admin API closed"),
        docs::AdminAuth, docs::Unavailable,
    ))]
async fn list_plugins(State(app): State<App>) -> Result<Json<Vec<PluginView>>, ApiError> {
    let entries = app.plugins().list().await?;
    Ok(Json(entries.into_iter().map(PluginView::from).collect()))
}

/// Every activation of a plugin with the config, priority and failure policy it ran with,
/// newest first; a rollback restores the snapshot before the newest live one.
#[utoipa::path(get, path = "/admin/v1/plugins/{name}/history", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "Snapshots, newest first", body = Vec<SnapshotView>),
        (status = 400, description = "INVALID_PLUGIN_REQUEST (the name)"),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::Unavailable,
    ))]
async fn plugin_history(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<Vec<SnapshotView>>, ApiError> {
    let snapshots = app.plugins().history(&name).await?;
    Ok(Json(
        snapshots.into_iter().map(SnapshotView::from).collect(),
    ))
}

/// One plugin.
#[utoipa::path(get, path = "/admin/v1/plugins/{name}", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::Unavailable,
    ))]
async fn show_plugin(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(app.plugins().show(&name).await?.into()))
}

/// Makes a version the one that runs, on every node within a second.
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/activate", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    request_body = ActivateRequest,
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 400, description = "INVALID_REQUEST_BODY"),
        (status = 404, description = "PLUGIN_NOT_FOUND, PLUGIN_VERSION_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn activate_version(
    State(app): State<App>,
    Admin(operator): Admin,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ActivateRequest>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(
        app.plugins()
            .activate(&operator, &name, &body.version)
            .await?
            .into(),
    ))
}

/// Activates the version that was active before the current one.
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/rollback", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        (status = 409, description = "NO_PREVIOUS_VERSION"),
        docs::AdminAuth, docs::Unavailable,
    ))]
async fn rollback_plugin(
    State(app): State<App>,
    Admin(operator): Admin,
    Path(name): Path<String>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(app.plugins().rollback(&operator, &name).await?.into()))
}

/// Stops running the plugin; its versions stay.
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/deactivate", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::Unavailable,
    ))]
async fn deactivate_plugin(
    State(app): State<App>,
    Admin(operator): Admin,
    Path(name): Path<String>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(
        app.plugins().deactivate(&operator, &name).await?.into(),
    ))
}

/// Sets the config (and the priority and failure policy); the next call sees it. The config
/// must fit the active and shadow versions' schemas (400 `PLUGIN_CONFIG_INVALID`).
#[utoipa::path(put, path = "/admin/v1/plugins/{name}/config", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    request_body = ConfigRequest,
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 400, description = "PLUGIN_CONFIG_INVALID (with `errors`), INVALID_PLUGIN_REQUEST, INVALID_REQUEST_BODY or INVALID_TEXT", body = ConfigProblem, content_type = "application/problem+json"),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn configure_plugin(
    State(app): State<App>,
    Admin(operator): Admin,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ConfigRequest>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(
        app.plugins()
            .configure(
                &operator,
                &name,
                &body.config,
                body.priority,
                body.on_failure.map(Into::into),
            )
            .await?
            .into(),
    ))
}

/// Runs a version beside the active one on live traffic (or stops, with null).
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/shadow", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    request_body = ShadowRequest,
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 400, description = "INVALID_REQUEST_BODY"),
        (status = 404, description = "PLUGIN_NOT_FOUND, PLUGIN_VERSION_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn shadow_version(
    State(app): State<App>,
    Admin(operator): Admin,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ShadowRequest>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(
        app.plugins()
            .shadow(&operator, &name, body.version.as_deref())
            .await?
            .into(),
    ))
}

/// A dry run of one version with a given input and config; nothing is stored.
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/versions/{version}/evaluate", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name"), ("version" = String, Path, description = "Version")),
    request_body = EvaluateRequest,
    responses(
        (status = 200, description = "The decision and its cost", body = EvaluateView),
        (status = 400, description = "INVALID_PLUGIN_REQUEST or INVALID_REQUEST_BODY"),
        (status = 404, description = "PLUGIN_NOT_FOUND, PLUGIN_VERSION_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn evaluate_version(
    State(app): State<App>,
    Path((name, version)): Path<(String, String)>,
    JsonBody(body): JsonBody<EvaluateRequest>,
) -> Result<Json<EvaluateView>, ApiError> {
    let evaluation = app
        .plugins()
        .evaluate(&name, &version, &body.input, &body.config)
        .await?;
    Ok(Json(evaluation.into()))
}
