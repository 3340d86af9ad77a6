//! The `plugin_runs` table: recorded live plugin calls, written in batches (one `unnest`
//! statement however many) and pruned to the newest [`KEPT_PER_PLUGIN`] per plugin.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::domain::{Run, RunOutcome};

/// Runs kept per plugin; older ones are deleted as new ones are written.
pub const KEPT_PER_PLUGIN: i64 = 10_000;

/// A run to record.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// The plugin.
    pub plugin: String,
    /// The version that ran.
    pub version: String,
    /// Its hook.
    pub hook: &'static str,
    /// How it ended.
    pub outcome: RunOutcome,
    /// The input as JSON.
    pub input: serde_json::Value,
    /// The config it ran with.
    pub config: serde_json::Value,
    /// Its decision as JSON.
    pub decision: serde_json::Value,
    /// Fuel burnt.
    pub fuel: i64,
    /// Duration in microseconds.
    pub duration_micros: i64,
    /// Its log lines as JSON.
    pub logs: serde_json::Value,
}

impl From<&Row> for Run {
    fn from(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            plugin: row.get("plugin"),
            version: row.get("version"),
            hook: row.get("hook"),
            outcome: RunOutcome::parse(row.get("outcome")).unwrap_or(RunOutcome::Failed),
            input: row.get("input"),
            config: row.get("config"),
            decision: row.get("decision"),
            fuel: row.get("fuel"),
            duration_micros: row.get("duration_micros"),
            logs: row.get("logs"),
            recorded_at: row.get("recorded_at"),
        }
    }
}

const COLUMNS: &str = columns!(""; "id", "plugin", "version", "hook", "outcome", "input", "config",
    "decision", "fuel", "duration_micros", "logs", "recorded_at");

/// Writes `runs` in one statement, then deletes what falls past the newest
/// [`KEPT_PER_PLUGIN`] of each plugin among them. Call it in a transaction so that no
/// reader sees the batch before its pruning.
#[tracing::instrument(name = "store.runs.insert", level = "debug", skip_all, fields(runs = runs.len()))]
pub async fn insert(db: &impl GenericClient, runs: &[NewRun]) -> Result<(), tokio_postgres::Error> {
    let column = |f: fn(&NewRun) -> String| runs.iter().map(f).collect::<Vec<_>>();
    let json = |f: fn(&NewRun) -> &serde_json::Value| runs.iter().map(f).collect::<Vec<_>>();
    let plugins = column(|r| r.plugin.clone());
    let versions = column(|r| r.version.clone());
    let hooks = column(|r| r.hook.to_owned());
    let outcomes = column(|r| r.outcome.as_str().to_owned());
    let fuel: Vec<i64> = runs.iter().map(|r| r.fuel).collect();
    let micros: Vec<i64> = runs.iter().map(|r| r.duration_micros).collect();
    let stmt = db
        .prepare_cached(
            "INSERT INTO plugin_runs \
             (plugin, version, hook, outcome, input, config, decision, fuel, duration_micros, logs) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], \
             $6::jsonb[], $7::jsonb[], $8::bigint[], $9::bigint[], $10::jsonb[])",
        )
        .await?;
    db.execute(
        &stmt,
        &[
            &plugins,
            &versions,
            &hooks,
            &outcomes,
            &json(|r| &r.input),
            &json(|r| &r.config),
            &json(|r| &r.decision),
            &fuel,
            &micros,
            &json(|r| &r.logs),
        ],
    )
    .await?;
    let mut written = plugins;
    written.sort_unstable();
    written.dedup();
    prune(db, &written).await
}

/// Deletes each of `plugins`' runs older than its newest [`KEPT_PER_PLUGIN`].
async fn prune(db: &impl GenericClient, plugins: &[String]) -> Result<(), tokio_postgres::Error> {
    let stmt = db
        .prepare_cached(
            "DELETE FROM plugin_runs WHERE plugin = $1 AND id <= \
             (SELECT id FROM plugin_runs WHERE plugin = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)",
        )
        .await?;
    for plugin in plugins {
        db.execute(&stmt, &[plugin, &KEPT_PER_PLUGIN]).await?;
    }
    Ok(())
}

/// Up to `limit` of `plugin`'s runs older than `before` (all when `None`), newest first,
/// only those with `outcome` when given.
#[tracing::instrument(name = "store.runs.page", level = "debug", skip_all)]
pub async fn page(
    db: &impl GenericClient,
    plugin: &str,
    outcome: Option<RunOutcome>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Run>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM plugin_runs WHERE plugin = $1 \
         AND ($2::text IS NULL OR outcome = $2) AND ($3::bigint IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    );
    let stmt = db.prepare_cached(&sql).await?;
    let outcome = outcome.map(RunOutcome::as_str);
    Ok(db
        .query(&stmt, &[&plugin, &outcome, &before, &limit])
        .await?
        .iter()
        .map(Run::from)
        .collect())
}
