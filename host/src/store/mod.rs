//! PostgreSQL access: the connection pool, database creation and migrations, how a session is
//! opened (`connect`: the URL, `sslmode`, TLS), and one file per table group with its SQL
//! beside the function that runs it. Statements are prepared once per connection
//! (`prepare_cached`). Nothing here knows about HTTP or Redis.

/// The column list `$t.a, $t.b, …` (`$t` a table alias with its dot, or `""`), as a literal.
macro_rules! columns {
    ($t:literal; $first:literal $(, $rest:literal)*) => {
        concat!($t, $first $(, ", ", $t, $rest)*)
    };
}

pub mod admin;
pub mod connect;
pub mod history;
pub mod orders;
pub mod outbox;
pub mod plugins;
pub mod products;
pub mod replica;
pub mod revisions;
pub mod runs;
pub mod sales;
pub mod snapshots;
pub mod users;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{Row, error::SqlState, types::ToSql};

pub use connect::{PgConnection, PgTarget, UrlError};
pub use replica::Replica;

use crate::{config::Settings, domain::Attributes};

/// The pool every request borrows its connection from.
pub type PgPool = Pool;

/// A statement and the parameters it binds, borrowed from the rows it writes.
pub type Bound<'a> = (&'static str, Vec<&'a (dyn ToSql + Sync)>);

/// Rows a batch writes with set-based statements (`unnest` arrays, one statement per table
/// however many rows).
pub trait BatchRows {
    /// The statements that write the rows: none when there are no rows.
    fn statements(&self) -> Vec<Bound<'_>>;
}

/// The one statement of `rows`, or none when `empty`.
pub fn one_statement<'a, const N: usize>(
    empty: bool,
    sql: &'static str,
    params: [&'a (dyn ToSql + Sync); N],
) -> Vec<Bound<'a>> {
    if empty {
        Vec::new()
    } else {
        vec![(sql, params.to_vec())]
    }
}

/// The `attributes` column (`jsonb`) at `index` of `row`. Only the host writes it, after
/// [`Attributes::parse`]; a value written some other way that does not fit is logged and read
/// as empty rather than failing every read of its row.
pub(crate) fn attributes_at(row: &Row, index: usize) -> Attributes {
    match row.try_get::<_, serde_json::Value>(index) {
        Ok(value) => Attributes::parse(&value).unwrap_or_else(|error| {
            tracing::warn!(%error, "stored attributes do not fit the contract; read as empty");
            Attributes::default()
        }),
        Err(error) => {
            tracing::warn!(%error, "stored attributes unreadable; read as empty");
            Attributes::default()
        }
    }
}

/// Why the database could not be prepared at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `EDGECART_DATABASE_URL` does not parse, or its TLS settings cannot be used.
    #[error("the database URL cannot be used")]
    Url(#[from] UrlError),
    /// The URL names no database.
    #[error("the database URL names no database")]
    NoDatabaseName,
    /// No session could be opened (PostgreSQL down, credentials or certificate refused).
    #[error("cannot connect to PostgreSQL")]
    Connect(#[source] tokio_postgres::Error),
    /// PostgreSQL refused or failed a statement.
    #[error("PostgreSQL failed")]
    Postgres(#[from] tokio_postgres::Error),
    /// The pool could not be built.
    #[error("the database pool could not be built")]
    Build(#[from] deadpool_postgres::BuildError),
    /// The pool could not lend a connection.
    #[error("no database connection")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A migration failed.
    #[error("a migration failed")]
    Migration(#[from] refinery::Error),
}

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Builds the pool without connecting: connections open on first use, so a node starts (and
/// answers `/readyz` with 503) while PostgreSQL is still down.
pub fn pool(settings: &Settings) -> Result<PgPool, SetupError> {
    let target = PgTarget::from_url(settings.database_url.expose())?;
    pool_of(target, settings, settings.db_pool_size)
}

/// The replica `EDGECART_DATABASE_REPLICA_URL` names, if any: its pool, built without
/// connecting (nothing is created or migrated there; it follows the primary).
pub fn replica(settings: &Settings) -> Result<Option<Replica>, SetupError> {
    let Some(url) = &settings.database_replica_url else {
        return Ok(None);
    };
    let target = PgTarget::from_url(url.expose())?;
    let pool = pool_of(target, settings, settings.db_pool_size)?;
    Ok(Some(Replica::new(pool, settings.replica_max_lag())))
}

/// A pool of one connection to `target`, apart from [`pool`], for readiness checks: they
/// never wait for (or take) a connection that requests need.
pub fn probe_pool(target: &PgTarget, settings: &Settings) -> Result<PgPool, SetupError> {
    pool_of(target.clone(), settings, 1)
}

/// A pool of `size` connections to `target`.
fn pool_of(target: PgTarget, settings: &Settings, size: usize) -> Result<PgPool, SetupError> {
    let manager = Manager::from_config(
        target.config,
        target.tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(settings.db_timeout()))
        .create_timeout(Some(settings.db_timeout()))
        .recycle_timeout(Some(settings.db_timeout()))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(SetupError::from)
}

/// Creates the configured database when missing, runs the migrations, and returns the pool.
#[tracing::instrument(name = "store.prepare_database", level = "debug", skip_all)]
pub async fn prepare_database(settings: &Settings) -> Result<PgPool, SetupError> {
    let target = PgTarget::from_url(settings.database_url.expose())?;
    prepare(&target, settings).await
}

/// [`prepare_database`] for a target already read.
#[tracing::instrument(name = "store.prepare", level = "debug", skip_all)]
pub async fn prepare(target: &PgTarget, settings: &Settings) -> Result<PgPool, SetupError> {
    create_database_if_missing(target).await?;
    let pool = pool_of(target.clone(), settings, settings.db_pool_size)?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Connects to the server's `postgres` database and creates the target database if it does
/// not exist. Two nodes doing this at once is fine: the loser sees "already exists".
#[tracing::instrument(name = "store.create_database_if_missing", level = "debug", skip_all)]
pub async fn create_database_if_missing(target: &PgTarget) -> Result<(), SetupError> {
    let name = target
        .config
        .get_dbname()
        .ok_or(SetupError::NoDatabaseName)?
        .to_owned();
    let (client, connection) = target
        .with_database("postgres")
        .connect()
        .await
        .map_err(SetupError::Connect)?;
    let driver = tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match client.batch_execute(&sql).await {
            Ok(()) => tracing::info!(database = %name, "created database"),
            Err(e) if is_duplicate_database(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    drop(client);
    let _ = driver.await;
    Ok(())
}

fn is_duplicate_database(error: &tokio_postgres::Error) -> bool {
    matches!(error.code(), Some(c) if *c == SqlState::DUPLICATE_DATABASE || *c == SqlState::UNIQUE_VIOLATION)
}

/// Key of the advisory lock that keeps nodes starting together from migrating at once.
const MIGRATION_LOCK: i64 = 0x6564_6765_6361_7274; // "edgecart"

/// Runs the embedded migrations under an advisory lock.
#[tracing::instrument(name = "store.migrate", level = "debug", skip_all)]
pub async fn migrate(pool: &PgPool) -> Result<(), SetupError> {
    let mut client = pool.get().await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let client_ref: &mut tokio_postgres::Client = &mut client;
    let report = embedded::migrations::runner().run_async(client_ref).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    for migration in report?.applied_migrations() {
        tracing::info!(migration = %migration, "applied migration");
    }
    Ok(())
}

/// Prepares `statements` on `db`'s connection, all in one round trip (each is a cache hit
/// once that connection has prepared it). Statements pipelined with `try_join!` reach
/// PostgreSQL in the order they are polled only when none of them has to be prepared first:
/// preparing makes the first one wait for its `Parse` while the next is already executing.
pub async fn prepare_all(
    db: &impl GenericClient,
    statements: &[&str],
) -> Result<(), tokio_postgres::Error> {
    futures_util::future::try_join_all(statements.iter().map(|sql| db.prepare_cached(sql))).await?;
    Ok(())
}

/// Whether an error means "try the whole transaction again" (serialization failure or
/// deadlock), which callers retry instead of showing to a client.
pub fn is_retryable(error: &tokio_postgres::Error) -> bool {
    matches!(error.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}
