//! The `plugins` and `plugin_versions` tables (their revision is in [`super::revisions`];
//! activations are in [`super::snapshots`]).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::domain::{OnFailure, Plugin, Version};

impl From<&Row> for Plugin {
    fn from(row: &Row) -> Self {
        Self {
            name: row.get("name"),
            hook: row.get("hook"),
            priority: row.get("priority"),
            config: row.get("config"),
            active_version: row.get("active_version"),
            shadow_version: row.get("shadow_version"),
            on_failure: OnFailure::from_db(row.get("on_failure")),
        }
    }
}

impl From<&Row> for Version {
    fn from(row: &Row) -> Self {
        Self {
            name: row.get("name"),
            version: row.get("version"),
            sha256: row.get("sha256"),
            size: row.get("size"),
            note: row.get("note"),
            created_at: row.get("created_at"),
            config_schema: row.get("config_schema"),
        }
    }
}

/// A version that runs (actively or in shadow), as a node loads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    /// The plugin's state.
    pub plugin: Plugin,
    /// SHA-256 of the active version, when there is one.
    pub active_sha256: Option<String>,
    /// SHA-256 of the shadow version, when there is one.
    pub shadow_sha256: Option<String>,
}

const PLUGIN_COLUMNS: &str =
    "p.name, p.hook, p.priority, p.config, p.active_version, p.shadow_version, p.on_failure";
const VERSION_COLUMNS: &str = "v.name, v.version, v.sha256, octet_length(v.bytes)::bigint AS size, v.note, v.created_at, \
     v.config_schema";

/// Every plugin, by name.
#[tracing::instrument(name = "store.plugins.all", level = "debug", skip_all)]
pub async fn all(db: &impl GenericClient) -> Result<Vec<Plugin>, tokio_postgres::Error> {
    let sql = format!("SELECT {PLUGIN_COLUMNS} FROM plugins p ORDER BY p.name");
    let stmt = db.prepare_cached(&sql).await?;
    Ok(db
        .query(&stmt, &[])
        .await?
        .iter()
        .map(Plugin::from)
        .collect())
}

/// One plugin; with `lock`, its row stays locked until the transaction ends.
#[tracing::instrument(name = "store.plugins.find", level = "debug", skip_all)]
pub async fn find(
    db: &impl GenericClient,
    name: &str,
    lock: bool,
) -> Result<Option<Plugin>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {PLUGIN_COLUMNS} FROM plugins p WHERE p.name = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let stmt = db.prepare_cached(&sql).await?;
    Ok(db
        .query_opt(&stmt, &[&name])
        .await?
        .as_ref()
        .map(Plugin::from))
}

/// The versions of one plugin (or of all when `name` is `None`), oldest first.
#[tracing::instrument(name = "store.plugins.versions", level = "debug", skip_all)]
pub async fn versions(
    db: &impl GenericClient,
    name: Option<&str>,
) -> Result<Vec<Version>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM plugin_versions v \
         WHERE $1::text IS NULL OR v.name = $1 ORDER BY v.name, v.created_at, v.version"
    );
    let stmt = db.prepare_cached(&sql).await?;
    Ok(db
        .query(&stmt, &[&name])
        .await?
        .iter()
        .map(Version::from)
        .collect())
}

/// A version's bytes and hash.
#[tracing::instrument(name = "store.plugins.version_bytes", level = "debug", skip_all)]
pub async fn version_bytes(
    db: &impl GenericClient,
    name: &str,
    version: &str,
) -> Result<Option<(String, Vec<u8>)>, tokio_postgres::Error> {
    let stmt = db
        .prepare_cached(
            "SELECT sha256, bytes FROM plugin_versions WHERE name = $1 AND version = $2",
        )
        .await?;
    Ok(db
        .query_opt(&stmt, &[&name, &version])
        .await?
        .map(|row| (row.get(0), row.get(1))))
}

/// Bytes with this hash (any version that has them).
#[tracing::instrument(name = "store.plugins.bytes_by_sha256", level = "debug", skip_all)]
pub async fn bytes_by_sha256(
    db: &impl GenericClient,
    sha256: &str,
) -> Result<Option<Vec<u8>>, tokio_postgres::Error> {
    let stmt = db
        .prepare_cached("SELECT bytes FROM plugin_versions WHERE sha256 = $1 LIMIT 1")
        .await?;
    Ok(db.query_opt(&stmt, &[&sha256]).await?.map(|row| row.get(0)))
}

/// Every plugin with an active or shadow version, and those versions' hashes.
#[tracing::instrument(name = "store.plugins.running", level = "debug", skip_all)]
pub async fn running(db: &impl GenericClient) -> Result<Vec<Running>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {PLUGIN_COLUMNS}, a.sha256 AS active_sha256, s.sha256 AS shadow_sha256 \
         FROM plugins p \
         LEFT JOIN plugin_versions a ON a.name = p.name AND a.version = p.active_version \
         LEFT JOIN plugin_versions s ON s.name = p.name AND s.version = p.shadow_version \
         WHERE p.active_version IS NOT NULL OR p.shadow_version IS NOT NULL"
    );
    let stmt = db.prepare_cached(&sql).await?;
    Ok(db
        .query(&stmt, &[])
        .await?
        .iter()
        .map(|row| Running {
            plugin: Plugin::from(row),
            active_sha256: row.get("active_sha256"),
            shadow_sha256: row.get("shadow_sha256"),
        })
        .collect())
}

/// Creates the plugin on `hook` unless it exists; returns its hook either way.
#[tracing::instrument(name = "store.plugins.ensure", level = "debug", skip_all)]
pub async fn ensure(
    db: &impl GenericClient,
    name: &str,
    hook: &str,
) -> Result<String, tokio_postgres::Error> {
    let stmt = db
        .prepare_cached(
            "WITH created AS (INSERT INTO plugins (name, hook) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING RETURNING hook) \
             SELECT hook FROM created UNION ALL SELECT hook FROM plugins WHERE name = $1",
        )
        .await?;
    Ok(db.query(&stmt, &[&name, &hook]).await?[0].get(0))
}

/// Stores a version; `None` when this plugin already has that version.
#[tracing::instrument(name = "store.plugins.insert_version", level = "debug", skip_all)]
pub async fn insert_version(
    db: &impl GenericClient,
    name: &str,
    version: &str,
    sha256: &str,
    bytes: &[u8],
    note: Option<&str>,
    config_schema: Option<&serde_json::Value>,
) -> Result<Option<Version>, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO plugin_versions AS v (name, version, sha256, bytes, note, config_schema) \
         VALUES ($1, $2, $3, $4, $5, $6::text::jsonb) ON CONFLICT (name, version) DO NOTHING \
         RETURNING {VERSION_COLUMNS}"
    );
    let stmt = db.prepare_cached(&sql).await?;
    let schema = config_schema.map(serde_json::Value::to_string);
    Ok(db
        .query_opt(&stmt, &[&name, &version, &sha256, &bytes, &note, &schema])
        .await?
        .as_ref()
        .map(Version::from))
}

/// Sets the active version (none to deactivate).
#[tracing::instrument(name = "store.plugins.set_active", level = "debug", skip_all)]
pub async fn set_active(
    db: &impl GenericClient,
    name: &str,
    version: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "UPDATE plugins SET active_version = $2, updated_at = now() WHERE name = $1";
    set_version(db, SQL, name, version).await
}

/// Sets the shadow version (none to stop shadowing).
#[tracing::instrument(name = "store.plugins.set_shadow", level = "debug", skip_all)]
pub async fn set_shadow(
    db: &impl GenericClient,
    name: &str,
    version: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "UPDATE plugins SET shadow_version = $2, updated_at = now() WHERE name = $1";
    set_version(db, SQL, name, version).await
}

/// Runs one of the version-setting updates above.
async fn set_version(
    db: &impl GenericClient,
    sql: &str,
    name: &str,
    version: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    let stmt = db.prepare_cached(sql).await?;
    db.execute(&stmt, &[&name, &version]).await?;
    Ok(())
}

/// Sets the config, the priority and the failure policy.
#[tracing::instrument(name = "store.plugins.set_config", level = "debug", skip_all)]
pub async fn set_config(
    db: &impl GenericClient,
    name: &str,
    config: &serde_json::Value,
    priority: i32,
    on_failure: OnFailure,
) -> Result<(), tokio_postgres::Error> {
    let stmt = db
        .prepare_cached(
            "UPDATE plugins SET config = $2::text::jsonb, priority = $3, on_failure = $4, \
             updated_at = now() WHERE name = $1",
        )
        .await?;
    db.execute(
        &stmt,
        &[&name, &config.to_string(), &priority, &on_failure.as_str()],
    )
    .await?;
    Ok(())
}

/// The config schema of a stored version: `Some(None)` for a version without one (0.1),
/// `None` when there is no such version.
#[tracing::instrument(name = "store.plugins.config_schema", level = "debug", skip_all)]
pub async fn config_schema(
    db: &impl GenericClient,
    name: &str,
    version: &str,
) -> Result<Option<Option<serde_json::Value>>, tokio_postgres::Error> {
    let stmt = db
        .prepare_cached(
            "SELECT config_schema FROM plugin_versions WHERE name = $1 AND version = $2",
        )
        .await?;
    Ok(db
        .query_opt(&stmt, &[&name, &version])
        .await?
        .map(|row| row.get(0)))
}

/// Whether any plugin exists (the defaults are registered into an empty table only).
#[tracing::instrument(name = "store.plugins.any", level = "debug", skip_all)]
pub async fn any(db: &impl GenericClient) -> Result<bool, tokio_postgres::Error> {
    let stmt = db
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM plugins)")
        .await?;
    Ok(db.query_one(&stmt, &[]).await?.get(0))
}
