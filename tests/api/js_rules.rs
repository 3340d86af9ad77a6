//! Rules in JavaScript (componentize-js components of contract 0.2) through the HTTP API: the
//! template's `order.price` rule deployed and pricing an order under the
//! `PAYMENT_AMOUNT_MISMATCH` guard; the same rule shadowing, replaying and being shadowed by
//! the Rust `bulk-discount` it mirrors, agreeing on every order; and hostile JS fixtures (a
//! loop, unbounded allocation, a thrown Error, `Date.now()`, `Math.random()`) each failing
//! only their own request, counted under their failure kind, with the next request served;
//! and `edgecart plugin replay --wasm` and `plugin deploy --activate` with a JS component.

use std::time::Duration;

use edgecart_tests::{
    ADMIN_TOKEN, TestApp, assert_problem, edgecart_command, eventually, fixture_wasm, repo_path,
    spawn_app, spawn_app_with,
};
use serde_json::{Value, json};

#[tokio::test]
async fn the_js_template_prices_an_order_and_the_payment_guard_holds() {
    let app = spawn_app().await;
    app.admin_post("/admin/v1/plugins/bulk-discount/deactivate", &json!({}))
        .await;
    app.deploy_plugin(
        "js-price",
        "order.price",
        "1.0.0",
        fixture_wasm("js-order-price"),
    )
    .await;
    app.configure_plugin("js-price", json!({"threshold": 2, "percent": 20}), None)
        .await;
    let user = app.create_user("a", 100_000).await;
    let salad = app.create_product("salad", 2_500, 10).await;
    let body = |amount: i64| json!({"user_id": user, "products": [{"id": salad, "quantity": 2}], "paymentAmount": amount});
    // 2 × 2,500 = 5,000 at list price; 20% off two or more: 2 × 2,000 = 4,000.
    assert_problem(
        app.order(&body(5_000), None).await,
        409,
        "PAYMENT_AMOUNT_MISMATCH",
        "결제 금액이 일치하지 않습니다.",
    )
    .await;
    assert_eq!(app.balance(user).await, 100_000, "nothing paid");
    let placed = app.order(&body(4_000), None).await;
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.expect("JSON");
    assert_eq!(placed["totalAmount"], 4_000, "{placed}");
    assert_eq!(placed["items"][0]["unitPrice"], 2_000, "{placed}");
    assert_eq!(app.balance(user).await, 96_000);
}

#[tokio::test]
async fn hostile_js_rules_fail_only_their_request_under_their_failure_kind() {
    spawn_app()
        .await
        .assert_hostile_charge_rules_fail_alone(&[
            ("fx-js-loop", &["fuel", "time"]),
            ("fx-js-alloc", &["memory"]),
            ("fx-js-throw", &["trap"]),
            ("fx-js-date-now", &["trap"]),
            ("fx-js-math-random", &["trap"]),
        ])
        .await;
}

/// The orders of the agreement test: (quantity, unit price) per line. Prices that 20% off
/// does not divide evenly check that both round down alike.
const ORDERS: [&[(i64, i64)]; 4] = [
    &[(1, 2_500)],
    &[(2, 999)],
    &[(3, 1_001), (1, 700)],
    &[(2, 7), (5, 1)],
];

/// What a line costs under threshold 2, 20% off: the Rust rule's own formula.
fn discounted(quantity: i64, price: i64) -> i64 {
    quantity
        * if quantity >= 2 {
            price * 80 / 100
        } else {
            price
        }
}

/// Places every order of [`ORDERS`] for `user`, paying the discounted total.
async fn place_orders(app: &TestApp, user: i64) {
    for lines in ORDERS {
        let mut products = Vec::new();
        let mut total = 0;
        for &(quantity, price) in lines {
            let product = app.create_product("p", price, 100).await;
            products.push(json!({"id": product, "quantity": quantity}));
            total += discounted(quantity, price);
        }
        let body = json!({"user_id": user, "products": products, "paymentAmount": total});
        let placed = app.order(&body, None).await;
        assert_eq!(
            placed.status(),
            201,
            "{body}: {}",
            placed.text().await.unwrap_or_default()
        );
    }
}

/// Waits until `version` of bulk-discount has `n` shadow runs that agreed and none otherwise.
async fn shadow_agrees(app: &TestApp, version: &str, n: f64) {
    let count = |result: &'static str| {
        let labels = [
            ("plugin", "bulk-discount"),
            ("version", version),
            ("result", result),
        ];
        async move {
            app.metric("edgecart_plugin_shadow_runs_total", &labels)
                .await
        }
    };
    let agreed = eventually(Duration::from_secs(10), || async {
        count("agree").await >= n
    })
    .await;
    assert!(
        agreed,
        "{version}: {} of {n} shadow runs agreed",
        count("agree").await
    );
    for result in ["disagree", "failed", "dropped"] {
        assert_eq!(count(result).await, 0.0, "{version}: {result}");
    }
}

/// Replays `version` of bulk-discount on every recorded run and asserts all agree.
async fn replay_agrees(app: &TestApp, version: &str, runs: usize) {
    let path = format!("/admin/v1/plugins/bulk-discount/versions/{version}/replay");
    let replayed = app.admin_post(&path, &json!({"limit": 1000})).await;
    assert_eq!(replayed.status(), 200, "replay {version}");
    let tally: Value = replayed.json().await.expect("JSON");
    assert_eq!(tally["runs"], runs, "{tally}");
    assert_eq!(
        (&tally["agreed"], &tally["disagreed"], &tally["failed"]),
        (&json!(runs), &json!(0), &json!(0)),
        "{tally}"
    );
}

#[tokio::test]
async fn the_js_bulk_discount_and_the_rust_one_agree_in_shadow_and_replay() {
    let app = spawn_app_with(|s| s.plugins.run_sample = 1.0).await;
    let user = app.create_user("a", 1_000_000).await;
    // The Rust bulk-discount of the default plugins, inactive at start.
    let rust = "0.2.0";
    app.plugin_change("bulk-discount", "activate", Some(rust))
        .await;
    app.configure_plugin(
        "bulk-discount",
        json!({"threshold": 2, "percent": "20"}),
        None,
    )
    .await;

    // The JS version shadows the Rust one on live orders, then replays what was recorded.
    let js = "9.0.0-js";
    app.shadow_version(
        "bulk-discount",
        "order.price",
        js,
        fixture_wasm("js-order-price"),
    )
    .await;
    place_orders(&app, user).await;
    shadow_agrees(&app, js, ORDERS.len() as f64).await;
    replay_agrees(&app, js, ORDERS.len()).await;

    // The other way round: JS active and priced the orders, Rust in its shadow and replayed.
    app.plugin_change("bulk-discount", "activate", Some(js))
        .await;
    app.plugin_change("bulk-discount", "shadow", Some(rust))
        .await;
    place_orders(&app, user).await;
    shadow_agrees(&app, rust, ORDERS.len() as f64).await;
    replay_agrees(&app, rust, 2 * ORDERS.len()).await;
}

/// Runs `edgecart plugin ARGS --url <app> --token <admin token>`, asserting success, and
/// returns what it printed.
async fn plugin_cli(app: &TestApp, args: &[&str]) -> String {
    let output = tokio::process::Command::from(edgecart_command())
        .arg("plugin")
        .args(args)
        .args(["--url", &app.url(""), "--token", ADMIN_TOKEN])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("edgecart runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "plugin {args:?}: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_cli_replays_and_deploys_a_js_component_like_a_rust_one() {
    let app = spawn_app_with(|s| s.plugins.run_sample = 1.0).await;
    let user = app.create_user("a", 1_000_000).await;
    app.plugin_change("bulk-discount", "activate", Some("0.2.0"))
        .await;
    let config = json!({"threshold": 2, "percent": "20"});
    app.configure_plugin("bulk-discount", config, None).await;
    place_orders(&app, user).await;
    let runs = ORDERS.len() as i64;
    crate::plugin_runs::wait_for_runs(&app, "bulk-discount", "accepted", runs).await;

    // The local JS component replayed on the Rust version's recorded runs.
    let js = repo_path("tests/fixtures/plugins/dist/js-order-price.wasm");
    let js = js.to_str().expect("a UTF-8 path");
    let report = plugin_cli(&app, &["replay", "bulk-discount", "--wasm", js]).await;
    let report: Value = serde_json::from_str(&report).expect("a JSON report");
    assert_eq!(
        (&report["runs"], &report["agreed"], &report["disagreed"]),
        (&json!(runs), &json!(runs), &json!(0)),
        "{report}"
    );

    // Deployed and activated by the CLI, the JS version prices the next orders.
    let deploy = ["deploy", "--name", "bulk-discount", "--hook", "order.price"];
    plugin_cli(
        &app,
        &[&deploy[..], &["--version", "9.1.0-js", "--activate", js]].concat(),
    )
    .await;
    assert_eq!(
        app.plugin_entry("bulk-discount").await["activeVersion"],
        "9.1.0-js"
    );
    place_orders(&app, user).await;
    let calls = [
        ("plugin", "bulk-discount"),
        ("version", "9.1.0-js"),
        ("result", "accept"),
    ];
    let priced = app.metric("edgecart_plugin_calls_total", &calls).await;
    assert_eq!(priced, ORDERS.len() as f64, "the JS version priced them");
}
