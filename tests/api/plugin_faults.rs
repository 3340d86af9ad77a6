//! Plugins that misbehave fail only their own request and the server goes on: hostile
//! components, a thousand failing calls (nothing leaks), a pricing plugin breaking the
//! contract (the order fails closed), a long call, a burst at a small concurrency.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{DEFAULT_VERSION, fixture_wasm, spawn_app, spawn_app_with};
use futures_util::future::join_all;
use serde_json::json;

#[tokio::test]
async fn hostile_plugins_fail_their_request_and_the_next_one_succeeds() {
    spawn_app()
        .await
        .assert_hostile_charge_rules_fail_alone(&[
            ("fx-loop", &["fuel", "time"]),
            ("fx-alloc", &["memory"]),
            ("fx-panic", &["trap"]),
            ("fx-recursion", &["trap"]),
            ("fx-bad-code", &["contract"]),
        ])
        .await;
}

#[tokio::test]
async fn a_thousand_failing_calls_leak_nothing() {
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 0).await;
    app.deploy_charge_rule_alone("fx-panic", "1.0.0", "fx-panic")
        .await;
    let rss = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Warm up, then measure 1,000 failures (16 at a time, far more than the 64 pool slots
    // in total, so leaked slots would block the last calls).
    for _ in 0..50 {
        assert_eq!(app.charge_amount(user, 13).await.status(), 503);
    }
    let before = rss();
    for _ in 0..1_000 / 16 {
        let batch = (0..16).map(|_| {
            let app = app.clone();
            async move { app.charge_amount(user, 13).await.status().as_u16() }
        });
        assert!(join_all(batch).await.iter().all(|s| *s == 503));
    }
    let after = rss();
    assert_eq!(app.charge_amount(user, 5_000).await.status(), 200);
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} kB to {after} kB over 1,000 failed calls"
    );
}

#[tokio::test]
async fn a_pricing_plugin_breaking_the_contract_fails_the_order_closed() {
    let app = spawn_app().await;
    let user = app.create_user("a", 100_000).await;
    let product = app.create_product("p", 1_000, 100).await;
    let order = |quantity: i64| json!({"user_id": user, "paymentAmount": quantity * 1_000, "products": [{"id": product, "quantity": quantity}]});
    // A negative price; a 4 MiB reason (logged 1,000 times).
    for fixture in ["fx-price-negative", "fx-huge-reason"] {
        app.deploy_plugin(fixture, "order.price", "1.0.0", fixture_wasm(fixture))
            .await;
        let failed = app.order(&order(13), None).await;
        assert_eq!(failed.status(), 503, "{fixture}");
        assert_eq!(app.stock(product).await, 100, "{fixture}");
        let counted = app
            .metric(
                "edgecart_plugin_failures_total",
                &[("plugin", fixture), ("kind", "contract")],
            )
            .await;
        assert_eq!(counted, 1.0, "{fixture}");
        app.admin_post(
            &format!("/admin/v1/plugins/{fixture}/deactivate"),
            &json!({}),
        )
        .await;
    }
    assert_eq!(app.order(&order(2), None).await.status(), 201);
}

#[tokio::test]
async fn a_long_plugin_call_does_not_stall_the_server() {
    // One thread serves everything here (a current-thread runtime), and the looping plugin
    // may run for a whole second: other requests must still be answered meanwhile.
    let app = Arc::new(
        spawn_app_with(|s| {
            s.plugins.fuel = 100_000_000_000;
            s.plugins.timeout_ms = 1_000;
        })
        .await,
    );
    let user = app.create_user("a", 0).await;
    app.deploy_charge_rule_alone("fx-loop", "1.0.0", "fx-loop")
        .await;
    let looping = tokio::spawn({
        let app = app.clone();
        async move { app.charge_amount(user, 13).await.status().as_u16() }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;

    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(
        app.get(&format!("/api/v1/users/{user}")).await.status(),
        200
    );
    assert!(!looping.is_finished(), "the plugin call was still running");

    assert_eq!(looping.await.unwrap(), 503);
    assert_eq!(
        app.metric(
            "edgecart_plugin_failures_total",
            &[("plugin", "fx-loop"), ("kind", "time")]
        )
        .await,
        1.0
    );
}

/// The pool's slots are sized for the configured concurrency plus the slots the allocator
/// holds back while it batches their reset: with few calls at a time allowed, every request of
/// a concurrent burst still gets its calls (it waits its turn) and none fails for want of a
/// slot, with two plugins of different components on one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_never_runs_out_of_plugin_slots_at_a_small_concurrency() {
    let app = Arc::new(spawn_app_with(|s| s.plugins.concurrency = 2).await);
    let user = app.create_user("a", 100_000_000).await;
    let product = app.create_product("p", 1_000, 100_000).await;
    let response = app
        .admin_post(
            "/admin/v1/plugins/bulk-discount/activate",
            &json!({"version": DEFAULT_VERSION}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let burst = (0..600).map(|_| {
        let app = app.clone();
        async move {
            let order = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
            app.order(&order, None).await.status().as_u16()
        }
    });
    let statuses = join_all(burst).await;
    let failed: Vec<_> = statuses.iter().filter(|s| **s != 201).collect();
    assert!(
        failed.is_empty(),
        "{} of 600 failed: {failed:?}",
        failed.len()
    );
}
