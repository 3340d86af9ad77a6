//! Plugin changes across nodes and processes: a hot swap under traffic fails no request, a
//! change on one node or host process holds on the others within a second, a node that missed
//! the announcement converges from PostgreSQL, and a restart reuses its compiled artifacts.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{
    DEFAULT_VERSION, PrivateRedis, TestApp, assert_client_error, eventually, plugin_wasm,
    spawn_app, spawn_app_with,
};
use futures_util::future::join_all;
use serde_json::json;

#[tokio::test]
async fn a_hot_swap_under_traffic_fails_no_request() {
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 0).await;
    app.upload_plugin(
        "charge-limits",
        "charge.validate",
        "0.3.0",
        plugin_wasm("template"),
    )
    .await;
    // 1,500 won: refused by neither version. Charges run while versions flip.
    let traffic = (0..200).map(|_| {
        let app = app.clone();
        async move { app.charge_amount(user, 1_500).await.status().as_u16() }
    });
    let swaps = async {
        for version in ["0.3.0", DEFAULT_VERSION, "0.3.0"] {
            let response = app
                .admin_post(
                    "/admin/v1/plugins/charge-limits/activate",
                    &json!({"version": version}),
                )
                .await;
            assert_eq!(response.status(), 200);
        }
    };
    let (statuses, ()) = tokio::join!(join_all(traffic), swaps);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.balance(user).await, 200 * 1_500);
    // After the last swap the template's rule holds: no minimum.
    assert_eq!(app.charge_amount(user, 10).await.status(), 200);
}

#[tokio::test]
async fn changes_on_one_node_hold_on_the_others_within_a_second() {
    changes_hold_on_every_node_within_a_second(&spawn_app().await).await;
}

/// A config change, an activation and a rollback on `a` hold on a second node within a second,
/// and a node started afterwards has the same active set (the redis_cluster tests run it on a
/// cluster too).
pub(crate) async fn changes_hold_on_every_node_within_a_second(a: &TestApp) {
    let b = a.spawn_node().await;
    let user = a.create_user("a", 0).await;
    let refused_on_b = |amount: i64| {
        let b = &b;
        move || async move { b.charge_amount(user, amount).await.status() == 400 }
    };

    a.configure_plugin("charge-limits", json!({"max": "500000"}), None)
        .await;
    assert!(
        eventually(Duration::from_secs(1), refused_on_b(600_000)).await,
        "config"
    );

    a.deploy_template_as_charge_limits("0.3.0").await;
    // The template has no minimum.
    assert!(
        eventually(Duration::from_secs(1), || async {
            b.charge_amount(user, 10).await.status() == 200
        })
        .await,
        "activation"
    );

    a.admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert!(
        eventually(Duration::from_secs(1), refused_on_b(10)).await,
        "rollback"
    );

    // A node started afterwards has the same active set, with the config the default version
    // was activated with (the rollback restored its snapshot whole).
    let c = a.spawn_node().await;
    assert_eq!(
        assert_client_error(c.charge_amount(user, 10).await, "third node").await["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );
    let entry = c.plugin_entry("charge-limits").await;
    assert_eq!(entry["activeVersion"], DEFAULT_VERSION);
    assert_eq!(entry["config"], json!({}));
}

#[tokio::test]
async fn a_node_that_misses_the_announcement_converges_from_postgres() {
    // Both nodes on a Redis of the test's own, which then stops: no announcement arrives.
    let mut redis = PrivateRedis::start().await;
    let a = spawn_app_with(|s| {
        s.redis_url = redis.url().into();
        s.plugins.sync_ms = 1_000;
    })
    .await;
    let b = a.spawn_node().await;
    let user = a.create_user("a", 0).await;
    redis.stop().await;

    a.configure_plugin("charge-limits", json!({"max": "500000"}), None)
        .await;

    assert!(
        eventually(Duration::from_secs(3), || async {
            b.charge_amount(user, 600_000).await.status() == 400
        })
        .await,
        "node b polled the change from PostgreSQL"
    );
}

#[tokio::test]
async fn a_restart_loads_compiled_artifacts_instead_of_compiling() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_owned();
    let app = spawn_app_with(|s| s.plugins.cache_dir = dir.clone()).await;
    let artifacts = || {
        let mut files: Vec<(String, std::time::SystemTime)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().modified().unwrap(),
                )
            })
            .filter(|(name, _)| name.ends_with(".cwasm"))
            .collect();
        files.sort();
        files
    };
    let first = artifacts();
    // One per default plugin (charge-limits, order-checks, bulk-discount, promotions), named
    // by content hash and engine compatibility.
    assert_eq!(first.len(), 4, "{first:?}");
    let charge_limits = edgecart::plugins::sha256_hex(&plugin_wasm("charge-limits"));
    assert!(
        first
            .iter()
            .any(|(name, _)| name.starts_with(&charge_limits) && name.ends_with(".cwasm"))
    );

    // A node starting on the same cache neither recompiles nor rewrites them, and serves.
    let second = app.spawn_node().await;
    assert_eq!(artifacts(), first);
    let user = second.create_user("a", 0).await;
    assert_eq!(
        assert_client_error(second.charge_amount(user, 999).await, "from cache").await["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );
}

#[tokio::test]
async fn a_change_on_one_host_process_holds_on_another_within_a_second() {
    // Node b is a separate `edgecart serve` process on the same PostgreSQL and Redis.
    let a = spawn_app().await;
    let b = edgecart_tests::ServerProcess::start(&a.settings).await;
    let user = a.create_user("a", 0).await;
    let charge_on_b = |amount: i64| {
        let url = format!("{}/api/v1/users/{user}/charge", b.address);
        let http = a.http.clone();
        async move {
            http.post(url)
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&json!({"chargeAmount": amount}))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        }
    };
    assert_eq!(charge_on_b(600_000).await, 200);

    a.configure_plugin("charge-limits", json!({"max": "500000"}), None)
        .await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            charge_on_b(600_000).await == 400
        })
        .await,
        "config change in force on the other process"
    );
    a.deploy_template_as_charge_limits("0.3.0").await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            charge_on_b(10).await == 200
        })
        .await,
        "activation in force on the other process"
    );
    a.admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            charge_on_b(10).await == 400
        })
        .await,
        "rollback in force on the other process"
    );
    b.kill().await;
}
