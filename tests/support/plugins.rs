//! Rule plugins: the built components (default plugins, hostile fixtures, WAT fixtures) and
//! the admin calls that upload, deploy and configure them.

use reqwest::Response;
use serde_json::Value;

use crate::{TestApp, repo_path};

/// The version a fresh deployment registers its default plugins as (`charge-limits`,
/// `order-checks`, `bulk-discount`, `promotions`, all of rule contract 0.2). Tests that upload
/// another version of a default plugin use a later one.
pub const DEFAULT_VERSION: &str = "0.2.0";

/// A default plugin's component, as `scripts/build-plugins` built it.
pub fn plugin_wasm(name: &str) -> Vec<u8> {
    let path = repo_path(&format!("plugins/dist/{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-plugins)", path.display()))
}

/// A hostile test fixture's component (`tests/fixtures/plugins`).
pub fn fixture_wasm(name: &str) -> Vec<u8> {
    let path = repo_path(&format!("tests/fixtures/plugins/dist/{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-plugins)", path.display()))
}

/// A WAT fixture of `tests/fixtures/plugins/wat/` as a component, with `extra` in place of
/// its `;; @extra-instances` marker (if it has one).
pub fn wat_fixture(name: &str, extra: &str) -> Vec<u8> {
    let path = repo_path(&format!("tests/fixtures/plugins/wat/{name}.wat"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace(";; @extra-instances", extra);
    wat::parse_str(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl TestApp {
    /// Uploads a plugin version.
    pub async fn upload_plugin(
        &self,
        name: &str,
        hook: &str,
        version: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.admin(
            reqwest::Method::POST,
            &format!("/admin/v1/plugins/{name}/versions?hook={hook}&version={version}"),
        )
        .header("Content-Type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .expect("request sent")
    }

    /// Uploads a plugin version, asserting it is stored (201).
    pub async fn add_version(&self, name: &str, hook: &str, version: &str, bytes: Vec<u8>) {
        let uploaded = self.upload_plugin(name, hook, version, bytes).await;
        assert_eq!(
            uploaded.status(),
            201,
            "upload {name} {version}: {}",
            uploaded.text().await.unwrap_or_default()
        );
    }

    /// Uploads and activates a plugin version, asserting both succeed.
    pub async fn deploy_plugin(&self, name: &str, hook: &str, version: &str, bytes: Vec<u8>) {
        self.add_version(name, hook, version, bytes).await;
        self.plugin_change(name, "activate", Some(version)).await;
    }

    /// `POST /admin/v1/plugins/{name}/{change}` with `{"version": version}` (`activate`,
    /// `shadow`), asserting 200.
    pub async fn plugin_change(&self, name: &str, change: &str, version: Option<&str>) {
        let changed = self
            .admin_post(
                &format!("/admin/v1/plugins/{name}/{change}"),
                &serde_json::json!({"version": version}),
            )
            .await;
        assert_eq!(changed.status(), 200, "{change} {name} {version:?}");
    }

    /// Uploads a plugin version and makes it `name`'s shadow, asserting both succeed.
    pub async fn shadow_version(&self, name: &str, hook: &str, version: &str, bytes: Vec<u8>) {
        self.add_version(name, hook, version, bytes).await;
        self.plugin_change(name, "shadow", Some(version)).await;
    }

    /// Shadows charge-limits with `version` of the fixture `fx-disagree`, which refuses every
    /// charge over 2,000 won (so it disagrees with the default rule above that).
    pub async fn shadow_strict_charge_rule(&self, version: &str) {
        let wasm = fixture_wasm("fx-disagree");
        self.shadow_version("charge-limits", "charge.validate", version, wasm)
            .await;
    }

    /// Deploys the fixture `fx-panic` (it traps on a charge of 13) as the charge rule `name`,
    /// with the failure policy `skip` and `priority`, so its failures let charges through.
    pub async fn deploy_skipped_failing_rule(&self, name: &str, priority: i32) {
        self.deploy_plugin(name, "charge.validate", "1.0.0", fixture_wasm("fx-panic"))
            .await;
        let response = self
            .admin(
                reqwest::Method::PUT,
                &format!("/admin/v1/plugins/{name}/config"),
            )
            .json(&serde_json::json!({"config": {}, "onFailure": "skip", "priority": priority}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "skip policy for {name}");
    }

    /// Deploys the test fixture `fixture` as plugin `name` at `version`, the only charge rule
    /// (the default charge-limits deactivated).
    pub async fn deploy_charge_rule_alone(&self, name: &str, version: &str, fixture: &str) {
        self.admin_post(
            "/admin/v1/plugins/charge-limits/deactivate",
            &serde_json::json!({}),
        )
        .await;
        self.deploy_plugin(name, "charge.validate", version, fixture_wasm(fixture))
            .await;
    }

    /// A plugin's entry from the admin API, asserting it exists.
    pub async fn plugin_entry(&self, name: &str) -> Value {
        let response = self
            .admin(reqwest::Method::GET, &format!("/admin/v1/plugins/{name}"))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "plugin {name}");
        response.json().await.expect("json")
    }

    /// Sets a plugin's config (and priority), asserting success.
    pub async fn configure_plugin(&self, name: &str, config: Value, priority: Option<i32>) {
        let response = self
            .admin(
                reqwest::Method::PUT,
                &format!("/admin/v1/plugins/{name}/config"),
            )
            .json(&serde_json::json!({"config": config, "priority": priority}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "config {name}");
    }

    /// Deploys the Rust template (no minimum, a `limit` maximum) as `charge-limits` at
    /// `version`, first clearing the config: the template's schema knows only `limit`, and an
    /// activation checks the config in force.
    pub async fn deploy_template_as_charge_limits(&self, version: &str) {
        self.configure_plugin("charge-limits", serde_json::json!({}), None)
            .await;
        self.deploy_plugin(
            "charge-limits",
            "charge.validate",
            version,
            plugin_wasm("template"),
        )
        .await;
    }

    /// Deploys each hostile `charge.validate` fixture in turn as the only charge rule and
    /// checks that its misbehaviour (triggered by a charge of 13) fails only that request
    /// with 503 `PLUGIN_FAILED` naming it, changes no balance, is counted once under one of
    /// its failure `kinds`, and that the next charge is served. Each fixture is deactivated
    /// before the next.
    pub async fn assert_hostile_charge_rules_fail_alone(&self, cases: &[(&str, &[&str])]) {
        let user = self.create_user("hostile", 0).await;
        self.admin_post(
            "/admin/v1/plugins/charge-limits/deactivate",
            &serde_json::json!({}),
        )
        .await;
        let mut balance = 0;
        for &(fixture, kinds) in cases {
            self.deploy_plugin(fixture, "charge.validate", "1.0.0", fixture_wasm(fixture))
                .await;
            let failed = self.charge_amount(user, 13).await;
            assert_eq!(failed.status(), 503, "{fixture}");
            let failed: Value = failed.json().await.expect("JSON");
            assert_eq!(failed["code"], "PLUGIN_FAILED", "{fixture}: {failed}");
            let detail = failed["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(&format!("{fixture} 1.0.0")), "{failed}");
            assert_eq!(
                self.balance(user).await,
                balance,
                "{fixture} changed nothing"
            );
            let next = self.charge_amount(user, 5_000).await;
            assert_eq!(next.status(), 200, "after {fixture}");
            balance += 5_000;
            let mut counted = 0.0;
            for kind in kinds {
                let labels = [("plugin", fixture), ("kind", kind)];
                counted += self.metric("edgecart_plugin_failures_total", &labels).await;
            }
            assert_eq!(counted, 1.0, "{fixture} counted under {kinds:?}");
            self.admin_post(
                &format!("/admin/v1/plugins/{fixture}/deactivate"),
                &serde_json::json!({}),
            )
            .await;
        }
    }
}
