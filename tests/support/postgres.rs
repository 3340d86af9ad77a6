//! PostgreSQL as a test sees it: sessions of the test's own on its database (reads that check
//! invariants, a row lock), the drop of that database when the test ends, and private
//! clusters for tests that stop or restart PostgreSQL.

use std::{path::Path, process::Stdio, time::Duration};

use edgecart::store::PgTarget;
use tokio_postgres::types::ToSql;

use crate::{TestApp, TestCa, free_port};

/// A session of the test's own on the database at `url` (its connection driven by a task),
/// with the TLS the URL asks for, as the server connects.
pub(crate) async fn connect(url: &str) -> tokio_postgres::Client {
    let target = PgTarget::from_url(url).expect("test database URL");
    let (client, connection) = target.connect().await.expect("test database connection");
    tokio::spawn(connection);
    client
}

/// Drops the database `url` names, cutting the sessions still on it (`WITH (FORCE)`), from a
/// session on the same server's `postgres` database with the same credentials.
pub(crate) async fn drop_database(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let target = PgTarget::from_url(url)?;
    let Some(name) = target.config.get_dbname().map(str::to_owned) else {
        return Ok(());
    };
    let (client, connection) = target.with_database("postgres").connect().await?;
    let driver = tokio::spawn(connection);
    let dropped = client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            name.replace('"', "\"\"")
        ))
        .await;
    drop(client);
    let _ = driver.await;
    Ok(dropped?)
}

/// `postgres://…/name` with another database name.
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    match without_query.rfind('/') {
        Some(slash) if slash > "postgres://".len() => format!("{}/{name}", &without_query[..slash]),
        _ => format!("{without_query}/{name}"),
    }
}

impl TestApp {
    /// One `SELECT` returning a single `bigint`.
    pub async fn scalar(&self, sql: &str) -> i64 {
        self.bigint(sql, &[], "scalar query").await
    }

    /// A product's stock, read from the database.
    pub async fn stock(&self, product: i64) -> i64 {
        let sql = "SELECT stock FROM products WHERE id = $1";
        self.bigint(sql, &[&product], "product row").await
    }

    /// A user's balance, read from the database.
    pub async fn balance(&self, user: i64) -> i64 {
        let sql = "SELECT balance FROM users WHERE id = $1";
        self.bigint(sql, &[&user], "user row").await
    }

    /// How many history rows a user has.
    pub async fn history_rows(&self, user: i64) -> i64 {
        let sql = "SELECT count(*) FROM point_history WHERE user_id = $1";
        self.bigint(sql, &[&user], "count").await
    }

    /// The `bigint` a one-row, one-column query returns; `what` names the row if it fails.
    async fn bigint(&self, sql: &str, params: &[&(dyn ToSql + Sync)], what: &str) -> i64 {
        self.db.query_one(sql, params).await.expect(what).get(0)
    }
}

/// A user's row held `FOR UPDATE` by a transaction of the test's own, so a request that
/// updates the user waits inside its transaction until [`RowLock::release`].
pub struct RowLock {
    client: tokio_postgres::Client,
}

impl RowLock {
    /// Ends the holding transaction; the waiting request goes on.
    pub async fn release(self) {
        self.client
            .batch_execute("ROLLBACK")
            .await
            .expect("rollback");
    }

    /// Runs `statement` in the holding transaction and commits it: the waiting request goes
    /// on and finds the row changed.
    pub async fn commit_with(self, statement: &str) {
        self.client
            .batch_execute(&format!("{statement}; COMMIT"))
            .await
            .expect("change and commit");
    }
}

impl TestApp {
    /// Holds a user's row until the returned lock is released.
    pub async fn lock_user_row(&self, user: i64) -> RowLock {
        self.lock_row("users", user).await
    }

    /// A connection of its own to the app's database (for a transaction beside the app's).
    pub async fn db_client(&self) -> tokio_postgres::Client {
        connect(self.settings.database_url.expose()).await
    }

    /// Holds a product's row until the returned lock is released.
    pub async fn lock_product_row(&self, product: i64) -> RowLock {
        self.lock_row("products", product).await
    }

    async fn lock_row(&self, table: &str, id: i64) -> RowLock {
        let client = self.db_client().await;
        client
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM {table} WHERE id = {id} FOR UPDATE"
            ))
            .await
            .expect("lock");
        RowLock { client }
    }

    /// Waits until some session of this database waits for a lock.
    pub async fn wait_for_lock_waiter(&self) {
        for _ in 0..500 {
            let waiting: i64 = self
                .db
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .await
                .expect("pg_stat_activity")
                .get(0);
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no request ever waited for the lock");
    }
}

/// A PostgreSQL server of the test's own (a fresh cluster in a temporary folder, on a free
/// port, trust authentication on loopback), for tests that stop or restart it.
pub struct PrivatePostgres {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    const BIN: &'static str = "/usr/lib/postgresql/15/bin";

    /// Creates the cluster and starts it.
    pub async fn start() -> Self {
        Self::create().started()
    }

    /// Creates the cluster with `ssl = on` and the server certificate and key of `ca`, and
    /// starts it (plain sessions are still accepted: tests look at `pg_stat_ssl`).
    pub async fn start_with_tls(ca: &TestCa) -> Self {
        let postgres = Self::create();
        let (cert, key) = ca.install_server_files(postgres.dir.path());
        // The key must belong to the user the server runs as, mode 0600.
        postgres.chown(&[&cert, &key]);
        let conf = postgres.dir.path().join("data/postgresql.conf");
        let mut settings = std::fs::read_to_string(&conf).expect("postgresql.conf");
        settings.push_str(&format!(
            "\nssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
            cert.display(),
            key.display()
        ));
        std::fs::write(&conf, settings).expect("postgresql.conf written");
        postgres.started()
    }

    /// A streaming replica of `primary` (`pg_basebackup -R`: a standby following it over
    /// replication, hot standby on, as PostgreSQL's defaults have it), started.
    pub async fn start_replica_of(primary: &PrivatePostgres) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let replica = Self {
            port: free_port(),
            dir,
        };
        replica.chown(&[replica.dir.path()]);
        let data = replica.dir.path().join("data").display().to_string();
        let primary_port = primary.port.to_string();
        replica.run(&[
            &format!("{}/pg_basebackup", Self::BIN),
            "-h",
            "127.0.0.1",
            "-p",
            &primary_port,
            "-U",
            "postgres",
            "-D",
            &data,
            "-R",
            "-X",
            "stream",
        ]);
        replica.started()
    }

    /// A new cluster on a free port, not started.
    fn create() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let data = dir.path().join("data");
        let port = free_port();
        let postgres = Self { port, dir };
        // initdb and postgres refuse to run as root: the cluster belongs to `postgres`.
        postgres.chown(&[postgres.dir.path()]);
        postgres.run(&[
            &format!("{}/initdb", Self::BIN),
            "-D",
            &data.display().to_string(),
            "--auth=trust",
            "-U",
            "postgres",
        ]);
        postgres
    }

    fn started(self) -> Self {
        self.ctl("start");
        self
    }

    /// Gives files (folders recursively) to `postgres`; nothing to do when not root.
    fn chown(&self, paths: &[&Path]) {
        let _ = std::process::Command::new("chown")
            .arg("-R")
            .arg("postgres")
            .args(paths)
            .status();
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `statements` on its `postgres` database.
    pub async fn execute(&self, statements: &str) {
        connect(&self.url())
            .await
            .batch_execute(statements)
            .await
            .unwrap_or_else(|error| panic!("{statements}: {error}"));
    }

    /// Stops it (fast: open connections are cut).
    pub fn stop(&self) {
        self.ctl("stop");
    }

    /// Starts it again.
    pub fn start_again(&self) {
        self.ctl("start");
    }

    fn ctl(&self, action: &str) {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let mut args = vec![
            format!("{}/pg_ctl", Self::BIN),
            "-D".into(),
            data.display().to_string(),
            "-o".into(),
            options,
            "-w".into(),
            "-l".into(),
            self.dir.path().join("log").display().to_string(),
        ];
        if action == "stop" {
            args.extend(["-m".into(), "fast".into()]);
        }
        args.push(action.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args);
    }

    fn run(&self, command: &[&str]) {
        let status = if nix_is_root() {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(command)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            std::process::Command::new(command[0])
                .args(&command[1..])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
        assert!(
            status.is_ok_and(|s| s.success()),
            "{} failed",
            command.join(" ")
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.ctl_quietly();
    }
}

impl PrivatePostgres {
    fn ctl_quietly(&self) {
        let data = self.dir.path().join("data");
        let _ = std::process::Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &format!("{}/pg_ctl", Self::BIN),
                "-D",
            ])
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Whether this process runs as root.
fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|v| v.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false)
}
