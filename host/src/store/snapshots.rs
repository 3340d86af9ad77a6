//! The `plugin_activations` table: a snapshot of each activation (version, config, priority,
//! failure policy, who), kept when rolled back so the history lists every one.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::domain::{OnFailure, Plugin, Snapshot};

impl From<&Row> for Snapshot {
    fn from(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            version: row.get("version"),
            config: row.get("config"),
            priority: row.get("priority"),
            on_failure: row
                .get::<_, Option<&str>>("on_failure")
                .map(OnFailure::from_db),
            actor: row.get("actor"),
            activated_at: row.get("at"),
            rolled_back: row.get("rolled_back"),
        }
    }
}

const COLUMNS: &str = "id, version, config, priority, on_failure, actor, at, rolled_back";

/// Records the activation of `plugin`'s `version` with its config, priority and policy.
#[tracing::instrument(name = "store.snapshots.record", level = "debug", skip_all)]
pub async fn record(
    db: &impl GenericClient,
    plugin: &Plugin,
    version: &str,
    actor: &str,
) -> Result<(), tokio_postgres::Error> {
    let stmt = db
        .prepare_cached(
            "INSERT INTO plugin_activations (name, version, config, priority, on_failure, actor) \
             VALUES ($1, $2, $3::text::jsonb, $4, $5, $6)",
        )
        .await?;
    let config = plugin.config.to_string();
    let policy = plugin.on_failure.as_str();
    db.execute(
        &stmt,
        &[
            &plugin.name,
            &version,
            &config,
            &plugin.priority,
            &policy,
            &actor,
        ],
    )
    .await?;
    Ok(())
}

/// Marks the newest live snapshot rolled back and returns the one before it, which a rollback
/// restores; `None` (and nothing marked) when there is no earlier one.
#[tracing::instrument(name = "store.snapshots.roll_back", level = "debug", skip_all)]
pub async fn roll_back(
    db: &impl GenericClient,
    name: &str,
) -> Result<Option<Snapshot>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM plugin_activations WHERE name = $1 AND NOT rolled_back \
         ORDER BY id DESC LIMIT 2"
    );
    let stmt = db.prepare_cached(&sql).await?;
    let rows = db.query(&stmt, &[&name]).await?;
    let [newest, previous] = rows.as_slice() else {
        return Ok(None);
    };
    let mark = db
        .prepare_cached("UPDATE plugin_activations SET rolled_back = true WHERE id = $1")
        .await?;
    db.execute(&mark, &[&newest.get::<_, i64>("id")]).await?;
    Ok(Some(Snapshot::from(previous)))
}

/// Every snapshot of `name`, newest first.
#[tracing::instrument(name = "store.snapshots.history", level = "debug", skip_all)]
pub async fn history(
    db: &impl GenericClient,
    name: &str,
) -> Result<Vec<Snapshot>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM plugin_activations WHERE name = $1 ORDER BY id DESC");
    let stmt = db.prepare_cached(&sql).await?;
    Ok(db
        .query(&stmt, &[&name])
        .await?
        .iter()
        .map(Snapshot::from)
        .collect())
}
