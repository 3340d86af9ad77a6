//! Rule plugins through the HTTP API: the default plugins' rules, the admin lifecycle, hot
//! swaps under traffic, several nodes, hostile components, and shadow runs.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{
    DEFAULT_VERSION, PrivateRedis, assert_client_error, assert_problem, eventually, fixture_wasm,
    plugin_wasm, spawn_app, spawn_app_with,
};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_fresh_deployment_runs_the_default_plugins() {
    let app = spawn_app().await;
    let response = app
        .admin(Method::GET, "/admin/v1/plugins")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    let summary: Vec<(String, String, Value)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["hook"].as_str().unwrap().to_owned(),
                p["activeVersion"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("bulk-discount".into(), "order.price".into(), Value::Null),
            (
                "charge-limits".into(),
                "charge.validate".into(),
                json!(DEFAULT_VERSION)
            ),
            (
                "order-checks".into(),
                "order.validate".into(),
                json!(DEFAULT_VERSION)
            ),
            ("promotions".into(), "order.price".into(), Value::Null),
        ]
    );
    for plugin in list.as_array().unwrap() {
        let version = &plugin["versions"][0];
        assert_eq!(version["version"], DEFAULT_VERSION, "{plugin}");
        assert_eq!(
            version["configSchema"]["additionalProperties"], false,
            "a 0.2 component with a closed schema: {plugin}"
        );
    }
    let version = &list[1]["versions"][0];
    assert_eq!(version["sha256"].as_str().unwrap().len(), 64);
    assert!(version["size"].as_i64().unwrap() > 1000);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn charge_limits_are_the_plugins_and_follow_its_config_and_activation() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;

    // The default limits, from the plugin.
    assert_eq!(app.charge_amount(user, 1_000).await.status(), 200);
    assert_eq!(app.charge_amount(user, 1_000_000).await.status(), 200);
    assert_problem(
        app.charge_amount(user, 999).await,
        400,
        "CHARGE_AMOUNT_TOO_SMALL",
        "최소 충전 금액은 1,000원 입니다.",
    )
    .await;
    assert_problem(
        app.charge_amount(user, 1_000_001).await,
        400,
        "CHARGE_AMOUNT_TOO_LARGE",
        "최대 충전 금액은 1,000,000원 입니다.",
    )
    .await;

    // A config change applies to the next call.
    app.configure_plugin("charge-limits", json!({"max": "500000"}), None)
        .await;
    assert_problem(
        app.charge_amount(user, 600_000).await,
        400,
        "CHARGE_AMOUNT_TOO_LARGE",
        "최대 충전 금액은 500,000원 입니다.",
    )
    .await;
    assert_eq!(
        app.plugin_entry("charge-limits").await["config"],
        json!({"max": "500000"})
    );

    // Deactivated, the host holds no limit of its own (only "positive").
    let response = app
        .admin_post("/admin/v1/plugins/charge-limits/deactivate", &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.charge_amount(user, 5_000_000).await.status(), 200);
    assert_eq!(app.charge_amount(user, 1).await.status(), 200);
    assert_problem(
        app.charge_amount(user, 0).await,
        400,
        "INVALID_CHARGE_AMOUNT",
        "충전 금액이 올바르지 않습니다.",
    )
    .await;
    assert_eq!(app.balance(user).await, 1_001_000 + 5_000_001);
}

#[tokio::test]
async fn order_checks_and_bulk_discount_price_orders() {
    let app = spawn_app().await;
    let user = app.create_user("a", 1_000_000).await;
    let product = app.create_product("p", 1_000, 100).await;
    let order = |quantity: i64, amount: i64| json!({"user_id": user, "paymentAmount": amount, "products": [{"id": product, "quantity": quantity}]});

    // order-checks: configured quantity cap.
    app.configure_plugin("order-checks", json!({"max-quantity": "20"}), None)
        .await;
    let refused = assert_client_error(app.order(&order(21, 21_000), None).await, "too many").await;
    assert_eq!(refused["code"], "ORDER_QUANTITY_TOO_LARGE");
    let mut too_many_lines = Vec::new();
    for i in 0..21 {
        let id = app.create_product(&format!("line {i}"), 0, 10).await;
        too_many_lines.push(json!({"id": id, "quantity": 1}));
    }
    let refused = assert_client_error(
        app.order(
            &json!({"user_id": user, "paymentAmount": 0, "products": too_many_lines}),
            None,
        )
        .await,
        "lines",
    )
    .await;
    assert_eq!(refused["code"], "ORDER_TOO_MANY_LINES");

    // bulk-discount is uploaded but not active: list prices.
    assert_eq!(app.order(&order(10, 10_000), None).await.status(), 201);

    // Active: 10% off from 10 units; the old amount is now a mismatch.
    let activated = app
        .admin_post(
            "/admin/v1/plugins/bulk-discount/activate",
            &json!({"version": DEFAULT_VERSION}),
        )
        .await;
    assert_eq!(activated.status(), 200);
    assert_problem(
        app.order(&order(10, 10_000), None).await,
        409,
        "PAYMENT_AMOUNT_MISMATCH",
        "결제 금액이 일치하지 않습니다.",
    )
    .await;
    let placed = app.order(&order(10, 9_000), None).await;
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.unwrap();
    assert_eq!(placed["totalAmount"], 9_000);
    assert_eq!(app.order(&order(9, 9_000), None).await.status(), 201);
    assert_eq!(app.balance(user).await, 1_000_000 - 10_000 - 9_000 - 9_000);
}

#[tokio::test]
async fn uploads_are_validated() {
    let app = spawn_app().await;
    let invalid =
        |response| async move { assert_client_error(response, "upload").await["code"].clone() };
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    for bytes in [random, core_module, Vec::new()] {
        assert_eq!(
            invalid(
                app.upload_plugin("x", "charge.validate", "1.0.0", bytes)
                    .await
            )
            .await,
            "PLUGIN_INVALID"
        );
    }
    // The wrong world for the hook.
    assert_eq!(
        invalid(
            app.upload_plugin("x", "order.price", "1.0.0", plugin_wasm("charge-limits"))
                .await
        )
        .await,
        "PLUGIN_INVALID"
    );
    // Imports the host does not give, and a failing smoke call.
    for fixture in ["fx-wasi-files", "fx-wasi-sockets", "fx-smoke-panic"] {
        assert_eq!(
            invalid(
                app.upload_plugin("x", "charge.validate", "1.0.0", fixture_wasm(fixture))
                    .await
            )
            .await,
            "PLUGIN_INVALID",
            "{fixture}"
        );
    }
    // Over 4 MiB.
    let large = app
        .upload_plugin("x", "charge.validate", "1.0.0", fixture_wasm("fx-large"))
        .await;
    assert_eq!(large.status(), 413);
    // Bad names, versions, hooks, media types.
    for (name, hook, version) in [
        ("X", "charge.validate", "1.0.0"),
        ("x", "charge.check", "1.0.0"),
        ("x", "charge.validate", "one"),
    ] {
        assert_eq!(
            invalid(
                app.upload_plugin(name, hook, version, plugin_wasm("template"))
                    .await
            )
            .await,
            "INVALID_PLUGIN_REQUEST",
            "{name} {hook} {version}"
        );
    }
    let json_body = app
        .admin(
            Method::POST,
            "/admin/v1/plugins/x/versions?hook=charge.validate&version=1.0.0",
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 415);
    // A version is immutable; a plugin stays on its hook.
    assert_eq!(
        app.upload_plugin("x", "charge.validate", "1.0.0", plugin_wasm("template"))
            .await
            .status(),
        201
    );
    assert_problem(
        app.upload_plugin("x", "charge.validate", "1.0.0", plugin_wasm("template"))
            .await,
        409,
        "PLUGIN_VERSION_EXISTS",
        "이미 존재하는 플러그인 버전입니다.",
    )
    .await;
    assert_eq!(
        invalid(
            app.upload_plugin("x", "order.price", "2.0.0", plugin_wasm("bulk-discount"))
                .await
        )
        .await,
        "PLUGIN_INVALID"
    );
    // Nothing was stored by the refused uploads.
    assert_eq!(
        app.scalar("SELECT count(*) FROM plugin_versions WHERE name = 'x'")
            .await,
        1
    );
}

#[tokio::test]
async fn admin_errors_name_what_is_missing() {
    let app = spawn_app().await;
    let missing = app
        .admin(Method::GET, "/admin/v1/plugins/nope")
        .send()
        .await
        .unwrap();
    assert_problem(
        missing,
        404,
        "PLUGIN_NOT_FOUND",
        "플러그인을 찾을 수 없습니다.",
    )
    .await;
    let no_version = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/activate",
            &json!({"version": "9.9.9"}),
        )
        .await;
    assert_problem(
        no_version,
        404,
        "PLUGIN_VERSION_NOT_FOUND",
        "플러그인 버전을 찾을 수 없습니다.",
    )
    .await;
    // Versions and names no plugin can have never reach PostgreSQL (a NUL byte would be a
    // 500 there).
    let nul = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/activate",
            &json!({"version": "\u{0}1.0.0"}),
        )
        .await;
    assert_problem(
        nul,
        404,
        "PLUGIN_VERSION_NOT_FOUND",
        "플러그인 버전을 찾을 수 없습니다.",
    )
    .await;
    let bad_name = app
        .admin(Method::GET, "/admin/v1/plugins/%00x")
        .send()
        .await
        .unwrap();
    assert_problem(
        bad_name,
        404,
        "PLUGIN_NOT_FOUND",
        "플러그인을 찾을 수 없습니다.",
    )
    .await;
    let no_previous = app
        .admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert_problem(
        no_previous,
        409,
        "NO_PREVIOUS_VERSION",
        "되돌릴 이전 버전이 없습니다.",
    )
    .await;
    let wrong_type = app
        .admin(Method::PUT, "/admin/v1/plugins/charge-limits/config")
        .json(&json!({"config": {"max": true}}))
        .send()
        .await
        .unwrap();
    let wrong_type = assert_client_error(wrong_type, "config").await;
    assert_eq!(wrong_type["code"], "PLUGIN_CONFIG_INVALID");
    assert_eq!(wrong_type["errors"][0]["path"], "/max", "{wrong_type}");
    let unauthenticated = app
        .http
        .get(app.url("/admin/v1/plugins"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn activation_rollback_and_evaluate() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    // 0.3.0 is the template: at most 1,000,000, and no minimum.
    app.deploy_plugin(
        "charge-limits",
        "charge.validate",
        "0.3.0",
        plugin_wasm("template"),
    )
    .await;
    assert_eq!(app.charge_amount(user, 500).await.status(), 200);
    let entry = app
        .admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert_eq!(entry.status(), 200);
    let entry: Value = entry.json().await.unwrap();
    assert_eq!(entry["activeVersion"], DEFAULT_VERSION);
    assert_eq!(
        assert_client_error(app.charge_amount(user, 500).await, "rolled back").await["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );

    // A dry run: decision, fuel, duration and the plugin's log; nothing stored.
    let evaluated = app
        .admin_post(
            &format!("/admin/v1/plugins/charge-limits/versions/{DEFAULT_VERSION}/evaluate"),
            &json!({"input": {"userId": 1, "amount": 999, "balance": 0}, "config": {"min": "500"}}),
        )
        .await;
    assert_eq!(evaluated.status(), 200);
    let evaluated: Value = evaluated.json().await.unwrap();
    assert_eq!(evaluated["decision"], json!({"accept": true}));
    assert!(evaluated["fuel"].as_u64().unwrap() > 0);
    let rejected: Value = app
        .admin_post(
            &format!("/admin/v1/plugins/charge-limits/versions/{DEFAULT_VERSION}/evaluate"),
            &json!({"input": {"userId": 1, "amount": 999, "balance": 0}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rejected["decision"]["reject"]["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );
    assert!(
        !rejected["logs"].as_array().unwrap().is_empty(),
        "{rejected}"
    );
    assert_eq!(app.balance(user).await, 500);
}

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
    let a = spawn_app().await;
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

    // The template's schema knows only `limit`, and an activation checks the config in force.
    a.configure_plugin("charge-limits", json!({}), None).await;
    a.deploy_plugin(
        "charge-limits",
        "charge.validate",
        "0.3.0",
        plugin_wasm("template"),
    )
    .await;
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
async fn hostile_plugins_fail_their_request_and_the_next_one_succeeds() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.admin_post("/admin/v1/plugins/charge-limits/deactivate", &json!({}))
        .await;
    let cases = [
        ("fx-loop", &["fuel", "time"][..]),
        ("fx-alloc", &["memory"][..]),
        ("fx-panic", &["trap"][..]),
        ("fx-recursion", &["trap"][..]),
        ("fx-bad-code", &["contract"][..]),
    ];
    let mut balance = 0;
    for (fixture, kinds) in cases {
        app.deploy_plugin(fixture, "charge.validate", "1.0.0", fixture_wasm(fixture))
            .await;
        // amount 13 triggers the fixture's misbehaviour.
        let failed = assert_client_error_or_503(app.charge_amount(user, 13).await).await;
        assert_eq!(failed["code"], "PLUGIN_FAILED", "{fixture}");
        assert!(
            failed["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("{fixture} 1.0.0")),
            "{failed}"
        );
        assert_eq!(
            app.balance(user).await,
            balance,
            "{fixture} changed nothing"
        );
        assert_eq!(
            app.charge_amount(user, 5_000).await.status(),
            200,
            "after {fixture}"
        );
        balance += 5_000;
        let mut counted = 0.0;
        for kind in kinds {
            counted += app
                .metric(
                    "edgecart_plugin_failures_total",
                    &[("plugin", fixture), ("kind", kind)],
                )
                .await;
        }
        assert_eq!(counted, 1.0, "{fixture} counted as {kinds:?}");
        app.admin_post(
            &format!("/admin/v1/plugins/{fixture}/deactivate"),
            &json!({}),
        )
        .await;
    }
}

/// The body of a 503 problem.
async fn assert_client_error_or_503(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 503);
    response.json().await.unwrap()
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
async fn a_disagreeing_shadow_is_counted_and_never_changes_an_answer() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    // 0.3.0 refuses everything over 2,000; the default charge-limits stays active.
    app.shadow_strict_charge_rule("0.3.0").await;
    assert_eq!(
        app.plugin_entry("charge-limits").await["shadowVersion"],
        "0.3.0"
    );

    for _ in 0..3 {
        assert_eq!(app.charge_amount(user, 5_000).await.status(), 200);
    }
    assert_eq!(app.charge_amount(user, 1_500).await.status(), 200);
    let labels = |result| {
        [
            ("plugin", "charge-limits"),
            ("version", "0.3.0"),
            ("result", result),
        ]
    };
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.metric("edgecart_plugin_shadow_runs_total", &labels("disagree"))
                .await
                == 3.0
                && app
                    .metric("edgecart_plugin_shadow_runs_total", &labels("agree"))
                    .await
                    == 1.0
        })
        .await,
        "3 disagreements and 1 agreement counted"
    );
    assert_eq!(app.balance(user).await, 16_500);

    let stopped = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/shadow",
            &json!({"version": null}),
        )
        .await;
    assert_eq!(stopped.status(), 200);
    assert_eq!(
        app.plugin_entry("charge-limits").await["shadowVersion"],
        Value::Null
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
    // The template's schema knows only `limit`, and an activation checks the config in force.
    a.configure_plugin("charge-limits", json!({}), None).await;
    a.deploy_plugin(
        "charge-limits",
        "charge.validate",
        "0.3.0",
        plugin_wasm("template"),
    )
    .await;
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
