//! Every field of rule contract 0.2 reaches a plugin through a real request: the echo
//! fixtures (tests/fixtures/plugins/fx-echo-*, and fx-js-echo-order, their JavaScript twin)
//! refuse each call with their input written into the message, so the client's 400 shows
//! what the host gave them: the coupon as sent, the product's name and attributes, the user's
//! attributes and PAID-order count, and the time.

use edgecart_tests::{TestApp, assert_client_error, fixture_wasm, spawn_app};
use serde_json::json;

/// The time now in Unix milliseconds, as the host stamps `now`.
fn unix_millis() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The echo's message for an order of one `product` by `user`.
async fn echoed_order(app: &TestApp, user: i64, product: i64, coupon: Option<&str>) -> String {
    let mut body = json!({"user_id": user, "products": [{"id": product, "quantity": 1}], "paymentAmount": 2500});
    if let Some(coupon) = coupon {
        body["couponCode"] = json!(coupon);
    }
    let refused = assert_client_error(app.order(&body, None).await, "the echo").await;
    assert_eq!(refused["code"], "ECHO", "{refused}");
    refused["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_order_plugin_of_contract_0_2_sees_coupon_names_attributes_and_paid_orders() {
    an_order_plugin_sees_its_whole_input("fx-echo-order").await;
}

#[tokio::test]
async fn an_order_rule_in_javascript_sees_the_same_input() {
    an_order_plugin_sees_its_whole_input("fx-js-echo-order").await;
}

/// Deploys the echo `fixture` (an order-validate component) and checks, field by field, what
/// it was given: the coupon, PAID orders, the user's and the product's attributes, the name,
/// the price, and a `now` stamped during the request.
async fn an_order_plugin_sees_its_whole_input(fixture: &str) {
    let app = spawn_app().await;
    let user = app.create_user("a", 100_000).await;
    let product = app.create_product("양배추 샐러드", 2_500, 10).await;
    app.admin_patch(
        &format!("/admin/v1/products/{product}"),
        &json!({"attributes": {"category": "salad", "brand": "빽다방"}}),
    )
    .await;
    app.admin_patch(
        &format!("/admin/v1/users/{user}"),
        &json!({"attributes": {"tier": "gold"}}),
    )
    .await;
    for _ in 0..2 {
        let placed = app
            .order(&json!({"user_id": user, "products": [{"id": product, "quantity": 1}], "paymentAmount": 2500}), None)
            .await;
        assert_eq!(placed.status(), 201);
    }
    app.deploy_plugin("echo", "order.validate", "1.0.0", fixture_wasm(fixture))
        .await;

    let before = unix_millis();
    let message = echoed_order(&app, user, product, Some("SPRING25")).await;
    let now: u64 = message
        .strip_prefix("now=")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|now| now.parse().ok())
        .unwrap_or_default();
    assert!(
        (before..=unix_millis()).contains(&now),
        "now={now}: {message}"
    );
    assert!(message.contains("coupon=SPRING25"), "{message}");
    assert!(message.contains("paid=2"), "two PAID orders: {message}");
    assert!(message.contains("user={tier=gold}"), "{message}");
    assert!(
        message.contains(&format!(
            "lines=[{product}:양배추 샐러드:{{brand=빽다방,category=salad}}:2500]"
        )),
        "{message}"
    );
    let without = echoed_order(&app, user, product, None).await;
    assert!(without.contains("coupon=-"), "no coupon: {without}");
}

#[tokio::test]
async fn a_charge_plugin_of_contract_0_2_sees_the_users_attributes() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.admin_patch(
        &format!("/admin/v1/users/{user}"),
        &json!({"attributes": {"tier": "silver"}}),
    )
    .await;
    app.deploy_charge_rule_alone("echo", "1.0.0", "fx-echo-charge")
        .await;
    let refused = assert_client_error(app.charge_amount(user, 5_000).await, "the echo").await;
    let message = refused["detail"].as_str().unwrap_or_default();
    assert!(message.contains("user={tier=silver}"), "{message}");
    assert!(message.contains("amount=5000"), "{message}");
}
