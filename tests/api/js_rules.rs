//! Rules in JavaScript (componentize-js components of contract 0.2) through the HTTP API: the
//! template's `order.price` rule deployed and pricing an order under the
//! `PAYMENT_AMOUNT_MISMATCH` guard, and hostile JS fixtures (a loop, unbounded allocation, a
//! thrown Error, `Date.now()`, `Math.random()`) each failing only their own request, counted
//! under their failure kind, with the next request served.

use edgecart_tests::{TestApp, assert_problem, fixture_wasm, spawn_app_with};
use serde_json::{Value, json};

/// A server whose requests may last two minutes: an upload compiles the ~12 MB component
/// (the JS engine inside) before it answers, which takes longer than the default 10 s in a
/// debug build on two cores.
async fn spawn_app() -> TestApp {
    spawn_app_with(|s| s.request_timeout_secs = 120).await
}

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
    app.configure_plugin("js-price", json!({"minQuantity": 2, "percent": 20}), None)
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
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.admin_post("/admin/v1/plugins/charge-limits/deactivate", &json!({}))
        .await;
    let cases = [
        ("fx-js-loop", &["fuel", "time"][..]),
        ("fx-js-alloc", &["memory"][..]),
        ("fx-js-throw", &["trap"][..]),
        ("fx-js-date-now", &["trap"][..]),
        ("fx-js-math-random", &["trap"][..]),
    ];
    let mut balance = 0;
    for (fixture, kinds) in cases {
        app.deploy_plugin(fixture, "charge.validate", "1.0.0", fixture_wasm(fixture))
            .await;
        // amount 13 triggers the fixture's misbehaviour.
        let failed = app.charge_amount(user, 13).await;
        assert_eq!(failed.status(), 503, "{fixture}");
        let failed: Value = failed.json().await.expect("JSON");
        assert_eq!(failed["code"], "PLUGIN_FAILED", "{fixture}: {failed}");
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
        assert_eq!(counted, 1.0, "{fixture} counted under {kinds:?}");
        app.admin_post(
            &format!("/admin/v1/plugins/{fixture}/deactivate"),
            &json!({}),
        )
        .await;
    }
}
