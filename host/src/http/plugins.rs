//! The rule-plugin admin API under `/admin/v1/plugins`: upload, list, show, activate,
//! rollback, deactivate, config and priority, shadow, and dry-run evaluation. Behind
//! [`extract::require_admin`](super::extract::require_admin) like the rest of the admin API.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    docs,
    extract::{self, JsonBody, RequestBody},
    problem::ApiError,
};
use crate::{
    app::App,
    domain::Version,
    plugins::{Called, Hook, LogLine},
    rules::Decision,
    service::{
        self,
        plugins::{MAX_COMPONENT_BYTES, PluginEntry},
    },
};

/// Routes of this module, behind the admin token check.
pub fn router(app: App) -> Router<App> {
    Router::new()
        .route(
            "/admin/v1/plugins/{name}/versions",
            // A component may be larger than an API body; one byte more tells "too large".
            post(upload_version).layer(DefaultBodyLimit::max(MAX_COMPONENT_BYTES + 1)),
        )
        .route("/admin/v1/plugins", get(list_plugins))
        .route("/admin/v1/plugins/{name}", get(show_plugin))
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
        .route_layer(middleware::from_fn_with_state(app, extract::require_admin))
}

/// An uploaded version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    /// The plugin.
    #[schema(example = "charge-limits")]
    pub name: String,
    /// Its hook.
    #[schema(example = "charge.validate")]
    pub hook: String,
    /// The version.
    #[schema(example = "1.2.0")]
    pub version: String,
    /// Hex SHA-256 of the component.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// The note given at upload.
    pub note: Option<String>,
    /// When it was uploaded (RFC 3339).
    pub created_at: String,
}

impl VersionView {
    fn new(version: Version, hook: &str) -> Self {
        Self {
            name: version.name,
            hook: hook.to_owned(),
            version: version.version,
            sha256: version.sha256,
            size: version.size,
            note: version.note,
            created_at: rfc3339(version.created_at),
        }
    }
}

/// A plugin, what runs of it, and its versions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginView {
    /// `[a-z0-9-]{1,64}`.
    #[schema(example = "charge-limits")]
    pub name: String,
    /// `charge.validate`, `order.validate` or `order.price`.
    #[schema(example = "charge.validate")]
    pub hook: String,
    /// The version that runs, if any.
    pub active_version: Option<String>,
    /// The version that runs beside it in shadow, if any.
    pub shadow_version: Option<String>,
    /// Plugins on one hook run in ascending priority.
    pub priority: i32,
    /// String-to-string config the active version sees.
    pub config: BTreeMap<String, String>,
    /// Versions, oldest first.
    pub versions: Vec<VersionView>,
}

impl From<PluginEntry> for PluginView {
    fn from(entry: PluginEntry) -> Self {
        let plugin = entry.plugin;
        let config = plugin
            .config
            .as_object()
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            versions: entry
                .versions
                .into_iter()
                .map(|v| VersionView::new(v, &plugin.hook))
                .collect(),
            name: plugin.name,
            hook: plugin.hook,
            active_version: plugin.active_version,
            shadow_version: plugin.shadow_version,
            priority: plugin.priority,
            config,
        }
    }
}

/// An upload's body: the component's bytes (documentation only; the handler reads raw bytes).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ComponentBytes(#[allow(dead_code)] Vec<u8>);

/// `?hook=&version=` of an upload, plus an optional note.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `charge.validate`, `order.validate` or `order.price`.
    pub hook: Option<String>,
    /// A semantic version, e.g. `1.2.0`; immutable once uploaded.
    pub version: Option<String>,
    /// Free text kept with the version.
    pub note: Option<String>,
}

/// Which version to activate.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivateRequest {
    /// An uploaded version.
    #[schema(example = "1.2.0")]
    pub version: String,
}

/// A new config, and optionally a new priority.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfigRequest {
    /// String-to-string map, 16 KiB at most.
    #[schema(value_type = Object, example = json!({"max": "500000"}))]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Lower runs first (default 100).
    pub priority: Option<i32>,
}

/// The version to shadow, or null to stop.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShadowRequest {
    /// An uploaded version, or null.
    pub version: Option<String>,
}

/// A dry run's input.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluateRequest {
    /// The hook's input: `{"userId","amount","balance"}` for `charge.validate`;
    /// `{"userId","balance","lines":[{"productId","quantity","unitPrice"}]}` for the order
    /// hooks.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// The config to run with (default: empty).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: serde_json::Map<String, serde_json::Value>,
}

/// A dry run's answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateView {
    /// `{"accept":true}`, `{"reject":{code,message}}`, `{"prices":[…]}` or
    /// `{"failure":{kind,message}}`.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// Fuel burnt.
    pub fuel: u64,
    /// Time of instantiate + call, in microseconds.
    pub duration_micros: u64,
    /// What the plugin logged.
    #[schema(value_type = Vec<Object>)]
    pub logs: Vec<LogLine>,
}

impl From<Called> for EvaluateView {
    fn from(called: Called) -> Self {
        let decision = match &called.outcome {
            Ok(Decision::Accept) => serde_json::json!({"accept": true}),
            Ok(Decision::Reject(r)) => {
                serde_json::json!({"reject": {"code": r.code, "message": r.message}})
            }
            Ok(Decision::Prices(prices)) => serde_json::json!({"prices": prices
                .iter()
                .map(|p| serde_json::json!({"unitPrice": p.unit_price, "reason": p.reason}))
                .collect::<Vec<_>>()}),
            Err(f) => {
                serde_json::json!({"failure": {"kind": f.kind.as_str(), "message": f.message}})
            }
        };
        Self {
            decision,
            fuel: called.fuel,
            duration_micros: u64::try_from(called.duration.as_micros()).unwrap_or(u64::MAX),
            logs: called.logs,
        }
    }
}

impl RequestBody for ActivateRequest {}
impl RequestBody for ConfigRequest {}
impl RequestBody for ShadowRequest {}
impl RequestBody for EvaluateRequest {}

/// Uploads a version (the component's bytes).
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/versions", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name, [a-z0-9-]{1,64}"), UploadQuery),
    request_body(content = ComponentBytes, content_type = "application/wasm", description = "A WebAssembly component, 4 MiB at most"),
    responses(
        (status = 201, description = "Stored", body = VersionView),
        (status = 400, description = "PLUGIN_INVALID or INVALID_PLUGIN_REQUEST"),
        (status = 404, description = "Admin API closed"),
        (status = 409, description = "PLUGIN_VERSION_EXISTS"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn upload_version(
    State(app): State<App>,
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
    if body.len() > MAX_COMPONENT_BYTES {
        return Err(ApiError::TooLarge);
    }
    let hook: Hook = query.hook.as_deref().unwrap_or_default().parse().map_err(
        |e: crate::plugins::hook::UnknownHook| service::Error::InvalidPluginRequest(e.to_string()),
    )?;
    let version = query.version.as_deref().unwrap_or_default();
    let stored = app
        .plugins()
        .upload(&name, hook, version, body.to_vec(), query.note.as_deref())
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
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ActivateRequest>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(
        app.plugins().activate(&name, &body.version).await?.into(),
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
    Path(name): Path<String>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(app.plugins().rollback(&name).await?.into()))
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
    Path(name): Path<String>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(app.plugins().deactivate(&name).await?.into()))
}

/// Sets the config (and the priority); the next call sees it.
#[utoipa::path(put, path = "/admin/v1/plugins/{name}/config", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name")),
    request_body = ConfigRequest,
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 400, description = "INVALID_PLUGIN_REQUEST or INVALID_REQUEST_BODY"),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn configure_plugin(
    State(app): State<App>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ConfigRequest>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(
        app.plugins()
            .configure(&name, &body.config, body.priority)
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
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ShadowRequest>,
) -> Result<Json<PluginView>, ApiError> {
    Ok(Json(
        app.plugins()
            .shadow(&name, body.version.as_deref())
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

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
