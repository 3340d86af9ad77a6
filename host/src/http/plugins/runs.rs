//! `GET /admin/v1/plugins/{name}/runs` (recorded live calls, newest first) and
//! `POST …/versions/{version}/replay` (a version run again on them), with their views.

use axum::{
    Json,
    extract::{Path, Query, State},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    super::{
        docs,
        extract::{JsonBody, ListQuery, PageQuery, RequestBody},
        problem::{ApiError, ConfigProblem},
    },
    views::rfc3339,
};
use crate::{
    app::App,
    domain::{Run, RunOutcome},
    plugins::replay::{Replayed, Sample},
};

/// `?outcome=` of the runs list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// Only runs that were `accepted`, `rejected` or `failed`.
    pub outcome: Option<String>,
}

/// One recorded live call.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    /// The run's id (the replay's `runId`).
    pub id: i64,
    /// The version that ran.
    #[schema(example = "1.2.0")]
    pub version: String,
    /// Its hook.
    #[schema(example = "order.price")]
    pub hook: String,
    /// `accepted`, `rejected` or `failed`.
    #[schema(example = "rejected")]
    pub outcome: String,
    /// The input, as `evaluate` takes it, with the `now` the host stamped.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// The config it ran with.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// What it decided, as `evaluate` shows it.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// Fuel burnt.
    pub fuel: i64,
    /// Time of instantiate + call, in microseconds.
    pub duration_micros: i64,
    /// What the plugin logged.
    #[schema(value_type = Vec<Object>)]
    pub logs: serde_json::Value,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
}

impl From<Run> for RunView {
    fn from(run: Run) -> Self {
        Self {
            id: run.id,
            version: run.version,
            hook: run.hook,
            outcome: run.outcome.as_str().to_owned(),
            input: run.input,
            config: run.config,
            decision: run.decision,
            fuel: run.fuel,
            duration_micros: run.duration_micros,
            logs: run.logs,
            recorded_at: rfc3339(run.recorded_at),
        }
    }
}

/// A page of recorded runs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunsPage {
    /// Newest first.
    pub items: Vec<RunView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What a replay runs.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayRequest {
    /// The newest this many recorded runs, 1 to 10,000 (default 1,000).
    #[schema(example = 1000)]
    pub limit: Option<i64>,
    /// A config for every run, checked against the version's schema; left out, each run
    /// replays with its own.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
}

impl RequestBody for ReplayRequest {}

/// A run whose replay disagreed or failed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaySampleView {
    /// The recorded run.
    pub run_id: i64,
    /// Its recorded decision.
    #[schema(value_type = Object)]
    pub recorded: serde_json::Value,
    /// The replay's decision (or failure).
    #[schema(value_type = Object)]
    pub replayed: serde_json::Value,
}

/// What a replay found; nothing was stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayView {
    /// Runs replayed.
    pub runs: usize,
    /// Runs that came to the recorded outcome (prices compared without their reasons).
    pub agreed: usize,
    /// Runs that came to another decision.
    pub disagreed: usize,
    /// Runs whose replay failed.
    pub failed: usize,
    /// The first 20 disagreements and failures.
    pub samples: Vec<ReplaySampleView>,
}

impl From<Replayed> for ReplayView {
    fn from(tally: Replayed) -> Self {
        Self {
            runs: tally.runs,
            agreed: tally.agreed,
            disagreed: tally.disagreed,
            failed: tally.failed,
            samples: tally
                .samples
                .into_iter()
                .map(
                    |Sample {
                         run_id,
                         recorded,
                         replayed,
                     }| ReplaySampleView {
                        run_id,
                        recorded,
                        replayed,
                    },
                )
                .collect(),
        }
    }
}

/// A plugin's recorded live calls, newest first: a sample of the accepted ones
/// (`EDGECART_PLUGIN_RUN_SAMPLE`) and every rejection and failure, the newest 10,000 kept.
#[utoipa::path(get, path = "/admin/v1/plugins/{name}/runs", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name"), PageQuery, RunsQuery),
    responses(
        (status = 200, description = "A page of runs", body = RunsPage),
        (status = 400, description = "INVALID_PLUGIN_REQUEST, INVALID_QUERY, INVALID_LIMIT or INVALID_CURSOR"),
        (status = 404, description = "PLUGIN_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::Unavailable,
    ))]
pub(super) async fn list_runs(
    State(app): State<App>,
    Path(name): Path<String>,
    ListQuery(page): ListQuery,
    query: Result<Query<RunsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RunsPage>, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::InvalidQuery);
    };
    let outcome = match query.outcome.as_deref() {
        None => None,
        Some(text) => Some(RunOutcome::parse(text).ok_or(ApiError::InvalidQuery)?),
    };
    let page = app.plugins().runs(&name, outcome, page).await?;
    Ok(Json(RunsPage {
        items: page.items.into_iter().map(RunView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}

/// Runs a version on the newest recorded runs, in the sandbox, and compares its decisions
/// with the recorded ones; nothing is stored.
#[utoipa::path(post, path = "/admin/v1/plugins/{name}/versions/{version}/replay", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name"), ("version" = String, Path, description = "Version")),
    request_body = ReplayRequest,
    responses(
        (status = 200, description = "How the version agreed with the recorded runs", body = ReplayView),
        (status = 400, description = "PLUGIN_CONFIG_INVALID (with `errors`), INVALID_PLUGIN_REQUEST or INVALID_REQUEST_BODY", body = ConfigProblem, content_type = "application/problem+json"),
        (status = 404, description = "PLUGIN_NOT_FOUND, PLUGIN_VERSION_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
pub(super) async fn replay_version(
    State(app): State<App>,
    Path((name, version)): Path<(String, String)>,
    JsonBody(body): JsonBody<ReplayRequest>,
) -> Result<Json<ReplayView>, ApiError> {
    let replayed = app
        .plugins()
        .replay(&name, &version, body.limit, body.config.as_ref())
        .await?;
    Ok(Json(replayed.into()))
}
