//! Redis as a test sees it: servers of the test's own (for tests that stop, restart or flush
//! Redis), and the deletion of a test's keys on the shared one.

use std::{process::Stdio, time::Duration};

use fred::prelude::{Builder, ClientLike, Config, Key, KeysInterface};
use futures_util::TryStreamExt;
use tokio::process::Child;

use crate::free_port;

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

/// A Redis server of the test's own, on a free port, stopped when dropped.
pub struct PrivateRedis {
    /// Its port.
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts `redis-server` on a free port and waits until it answers.
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    /// Starts it again on the same port (empty: it keeps no data).
    pub async fn restart(&mut self) {
        self.stop().await;
        *self = Self::start_on(self.port).await;
    }

    async fn start_on(port: u16) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts (scripts/test installs it)");
        let redis = Self {
            port,
            child: Some(child),
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

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs one command with `redis-cli` against this instance.
    pub async fn cli(&self, args: &[&str]) -> String {
        let output = tokio::process::Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .await
            .expect("redis-cli runs");
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
