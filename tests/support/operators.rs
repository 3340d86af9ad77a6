//! Named admin tokens for tests, made the way an operator makes them: with
//! `edgecart admin-token` against the app's database; and the audit log they leave.

use reqwest::Method;
use serde_json::Value;

use crate::{TestApp, edgecart_command};

impl TestApp {
    /// The audit log's newest 100 entries, newest first, of `target` (`plugin:NAME`, …) or all.
    pub async fn audit(&self, target: Option<&str>) -> Vec<Value> {
        let path = match target {
            Some(target) => format!("/admin/v1/audit?limit=100&target={target}"),
            None => "/admin/v1/audit?limit=100".to_owned(),
        };
        let response = self.admin(Method::GET, &path).send().await.expect("sent");
        assert_eq!(response.status(), 200, "GET {path}");
        let page: Value = response.json().await.expect("audit page");
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// Runs `edgecart admin-token ARGS` against the app's database, asserting it succeeds;
    /// returns what it printed.
    pub fn admin_token(&self, args: &[&str]) -> String {
        let output = edgecart_command()
            .arg("admin-token")
            .args(args)
            .env("EDGECART_DATABASE_URL", self.settings.database_url.expose())
            .env("RUST_LOG", "warn")
            .output()
            .expect("edgecart admin-token runs (cargo test --workspace builds it)");
        assert!(
            output.status.success(),
            "admin-token {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    }

    /// A new named admin token with `role` (`viewer`, `editor` or `admin`).
    pub fn create_admin_token(&self, name: &str, role: &str) -> String {
        self.admin_token(&["create", "--name", name, "--role", role])
    }
}
