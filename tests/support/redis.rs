//! Redis as a test sees it: servers of the test's own (for tests that stop, restart or flush
//! Redis), the deletion of a test's keys on the shared one, and who listens on a channel.

use std::{process::Stdio, time::Duration};

use fred::prelude::{Builder, ClientLike, Config, Key, KeysInterface};
use futures_util::TryStreamExt;
use tokio::process::Child;

use crate::{TestApp, TestCa, free_port};

/// Deletes every key under `prefix` on the Redis at `url` (`SCAN`, then `DEL` in batches).
/// The prefix is matched as a glob: the ones `spawn_app` makes have no glob characters.
pub(crate) async fn delete_keys(url: &str, prefix: &str) -> Result<(), fred::error::Error> {
    let client = Builder::from_config(Config::from_url(url)?).build()?;
    client.init().await?;
    let keys: Vec<Key> = client
        .scan_buffered(format!("{prefix}*"), Some(1_000), None)
        .try_collect()
        .await?;
    for batch in keys.chunks(1_000) {
        client.del::<(), _>(batch.to_vec()).await?;
    }
    client.quit().await
}

/// How `redis-cli` reaches the Redis at `url`: `-u URL`, or for a cluster's seed list
/// (`redis-cluster://h1:p1,h2:p2`) `-c -u redis://h1:p1`, following its redirections.
fn cli_target(url: &str) -> Vec<String> {
    match url.split_once("-cluster://") {
        Some(_) => {
            let first = servers(url).swap_remove(0);
            vec!["-c".into(), "-u".into(), first]
        }
        None => vec!["-u".into(), url.to_owned()],
    }
}

/// Every server a URL names, each as a plain URL: a cluster's seeds (`redis-cluster://h1:p1,
/// h2:p2` → `redis://h1:p1`, `redis://h2:p2`), or the URL itself.
fn servers(url: &str) -> Vec<String> {
    match url.split_once("-cluster://") {
        Some((scheme, seeds)) => seeds
            .split(',')
            .map(|seed| format!("{scheme}://{seed}"))
            .collect(),
        None => vec![url.to_owned()],
    }
}

impl TestApp {
    /// Runs one command with `redis-cli` against the node's Redis (or Redis Cluster); its
    /// output, trimmed. Name keys with [`TestApp::redis_key`].
    pub async fn redis(&self, args: &[&str]) -> String {
        let output = tokio::process::Command::new("redis-cli")
            .args(cli_target(self.settings.redis_url.expose()))
            .args(args)
            .output()
            .await
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// The full name of the node's Redis key `name` (its prefix first).
    pub fn redis_key(&self, name: &str) -> String {
        format!("{}{name}", self.settings.redis_prefix)
    }

    /// The values of the node's Redis keys whose names after the prefix match the glob
    /// `pattern` (`SCAN`, then `GET` each; a key gone in between is left out).
    pub async fn redis_values(&self, pattern: &str) -> Vec<String> {
        let config = Config::from_url(self.settings.redis_url.expose()).expect("Redis URL");
        let client = Builder::from_config(config).build().expect("Redis client");
        client.init().await.expect("Redis connects");
        let keys: Vec<Key> = client
            .scan_buffered(self.redis_key(pattern), Some(1_000), None)
            .try_collect()
            .await
            .expect("SCAN");
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(value) = client.get::<Option<String>, _>(key).await.expect("GET") {
                values.push(value);
            }
        }
        let _ = client.quit().await;
        values
    }

    /// How many connections are subscribed to the node's channel `name` (after its prefix),
    /// asked with `redis-cli` (`PUBSUB NUMSUB`; summed over a cluster's masters, since each
    /// counts only its own subscribers).
    pub async fn subscribers(&self, name: &str) -> i64 {
        let channel = format!("{}{name}", self.settings.redis_prefix);
        let mut count = 0;
        for server in servers(self.settings.redis_url.expose()) {
            let output = tokio::process::Command::new("redis-cli")
                .args(["-u", &server, "PUBSUB", "NUMSUB"])
                .arg(&channel)
                .output()
                .await
                .expect("redis-cli runs");
            let text = String::from_utf8_lossy(&output.stdout);
            count += text
                .lines()
                .nth(1)
                .and_then(|count| count.trim().parse::<i64>().ok())
                .unwrap_or(0);
        }
        count
    }
}

/// A Redis server of the test's own, on a free port, stopped when dropped.
pub struct PrivateRedis {
    /// Its port.
    pub port: u16,
    child: Option<Child>,
    /// With TLS only: the server certificate and key, and the CA file clients trust.
    tls: Option<Tls>,
}

/// The files of a TLS-only server.
#[derive(Clone)]
struct Tls {
    cert: String,
    key: String,
    ca: String,
}

impl PrivateRedis {
    /// Starts `redis-server` on a free port and waits until it answers.
    pub async fn start() -> Self {
        Self::start_on(free_port(), None).await
    }

    /// Starts `redis-server` speaking TLS only (`--port 0 --tls-port …`) with the server
    /// certificate of `ca`, clients not asked for certificates.
    pub async fn start_with_tls(ca: &TestCa) -> Self {
        let tls = Tls {
            cert: ca.cert_file().display().to_string(),
            key: ca.key_file().display().to_string(),
            ca: ca.ca_file().display().to_string(),
        };
        Self::start_on(free_port(), Some(tls)).await
    }

    /// Starts it again on the same port (empty: it keeps no data).
    pub async fn restart(&mut self) {
        self.stop().await;
        *self = Self::start_on(self.port, self.tls.clone()).await;
    }

    async fn start_on(port: u16, tls: Option<Tls>) -> Self {
        let port_text = port.to_string();
        let mut args = vec!["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        match &tls {
            None => args.extend(["--port", &port_text]),
            Some(tls) => args.extend([
                "--port",
                "0",
                "--tls-port",
                &port_text,
                "--tls-cert-file",
                &tls.cert,
                "--tls-key-file",
                &tls.key,
                "--tls-auth-clients",
                "no",
            ]),
        }
        let child = tokio::process::Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts (scripts/test installs it)");
        let redis = Self {
            port,
            child: Some(child),
            tls,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("private redis did not start on port {port}");
    }

    /// `redis://127.0.0.1:PORT`, or `rediss://localhost:PORT` (the name its certificate is
    /// for) with TLS.
    pub fn url(&self) -> String {
        match self.tls {
            None => format!("redis://127.0.0.1:{}", self.port),
            Some(_) => format!("rediss://localhost:{}", self.port),
        }
    }

    /// Runs one command with `redis-cli` against this instance.
    pub async fn cli(&self, args: &[&str]) -> String {
        let mut command = tokio::process::Command::new("redis-cli");
        command.args(["-p", &self.port.to_string()]);
        if let Some(tls) = &self.tls {
            command.args(["-h", "localhost", "--tls", "--cacert", &tls.ca]);
        }
        let output = command.args(args).output().await.expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Stops the server.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }
}
