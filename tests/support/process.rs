//! The real `edgecart serve` binary as a child process, for tests that kill a node with
//! SIGKILL or run a second host process.

use std::{process::Stdio, time::Duration};

use edgecart::Settings;
use tokio::process::Child;

use crate::{ADMIN_TOKEN, edgecart_command, free_port, repo_path};

/// The real `edgecart serve` binary as a child process (for tests that kill it).
pub struct ServerProcess {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// Where its standard output and error go: `target/edgecart-<port>.log`.
    log: std::path::PathBuf,
    child: Child,
}

impl ServerProcess {
    /// Starts `target/debug/edgecart serve` with `settings` (as `EDGECART_*` variables) on a
    /// free port and waits until it answers `/healthz`.
    pub async fn start(settings: &Settings) -> Self {
        Self::start_with_env(settings, &[]).await
    }

    /// [`ServerProcess::start`] with more variables (`extra` wins over the settings' own).
    pub async fn start_with_env(settings: &Settings, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut env = vec![
            ("EDGECART_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            (
                "EDGECART_DATABASE_URL".to_owned(),
                settings.database_url.expose().to_owned(),
            ),
            (
                "EDGECART_REDIS_URL".to_owned(),
                settings.redis_url.expose().to_owned(),
            ),
            (
                "EDGECART_REDIS_PREFIX".to_owned(),
                settings.redis_prefix.clone(),
            ),
            ("EDGECART_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned()),
            (
                "EDGECART_PLUGIN_DIR".to_owned(),
                settings.plugins.dir.display().to_string(),
            ),
            (
                "EDGECART_PLUGIN_CACHE_DIR".to_owned(),
                settings.plugins.cache_dir.display().to_string(),
            ),
            (
                "EDGECART_DB_TIMEOUT_MS".to_owned(),
                settings.db_timeout_ms.to_string(),
            ),
            (
                "EDGECART_OUTBOX_POLL_MS".to_owned(),
                settings.outbox_poll_ms.to_string(),
            ),
            (
                "EDGECART_CONSUMER_CLAIM_IDLE_MS".to_owned(),
                settings.consumer_claim_idle_ms.to_string(),
            ),
            (
                "EDGECART_IDEMPOTENCY_IN_FLIGHT_SECS".to_owned(),
                settings.idempotency_in_flight_secs.to_string(),
            ),
            (
                "RUST_LOG".to_owned(),
                std::env::var("SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            ),
        ];
        if let Some(url) = &settings.webhook_url {
            env.push(("EDGECART_WEBHOOK_URL".to_owned(), url.clone()));
        }
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        // Its log, for a failing test and for tests that read it.
        let log_path = repo_path(&format!("target/edgecart-{port}.log"));
        let log = std::fs::File::create(&log_path).ok();
        let errors = log.as_ref().and_then(|f| f.try_clone().ok());
        let (log, errors) = (
            log.map_or_else(Stdio::null, Stdio::from),
            errors.map_or_else(Stdio::null, Stdio::from),
        );
        let child = tokio::process::Command::from(edgecart_command())
            .arg("serve")
            .envs(env)
            .stdout(log)
            .stderr(errors)
            .kill_on_drop(true)
            .spawn()
            .expect("edgecart starts");
        let address = format!("http://127.0.0.1:{port}");
        let health = format!("{address}/healthz");
        for _ in 0..300 {
            if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
                return Self {
                    address,
                    log: log_path,
                    child,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("edgecart did not start on port {port}");
    }

    /// What it has written to its standard output and error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The sum of the series of metric `name` with `labels` in its `/metrics` (see
    /// `TestApp::metric`).
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.address))
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text");
        crate::app::metric_sum(&text, name, labels)
    }

    /// SIGKILL: no shutdown, no drain.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}
