//! The default `promotions` plugin (order.price, contract 0.2) through real orders: uploaded
//! but not active on a fresh deployment; once activated and configured, percent off by
//! product attribute, a coupon inside and outside its window (by the request's `now`), a
//! user-tier discount and a first-order discount, each guarded by `paymentAmount`: the
//! undiscounted amount is refused with 409 `PAYMENT_AMOUNT_MISMATCH` and changes nothing, the
//! discounted total is paid, and the balance drops by exactly it.

use edgecart_tests::{DEFAULT_VERSION, TestApp, assert_client_error, assert_problem, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

const HOUR_MS: i64 = 3_600_000;

/// The plugin entry of `promotions`.
async fn entry(app: &TestApp) -> Value {
    let response = app
        .admin(Method::GET, "/admin/v1/plugins/promotions")
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

async fn put_config(app: &TestApp, config: Value) -> reqwest::Response {
    app.admin(Method::PUT, "/admin/v1/plugins/promotions/config")
        .json(&json!({"config": config}))
        .send()
        .await
        .expect("request sent")
}

/// Activates the default `promotions` and sets `config` (checked against its schema).
async fn promote(app: &TestApp, config: Value) {
    let activated = app
        .admin_post(
            "/admin/v1/plugins/promotions/activate",
            &json!({"version": DEFAULT_VERSION}),
        )
        .await;
    assert_eq!(activated.status(), 200, "activate promotions");
    let configured = put_config(app, config).await;
    assert_eq!(
        configured.status(),
        200,
        "config: {}",
        configured.text().await.unwrap_or_default()
    );
}

/// An order of `lines` (`(product, quantity)`) by `user`, paying `amount`.
fn order(user: i64, lines: &[(i64, i64)], coupon: Option<&str>, amount: i64) -> Value {
    let products: Vec<Value> = lines
        .iter()
        .map(|(id, quantity)| json!({"id": id, "quantity": quantity}))
        .collect();
    let mut body = json!({"user_id": user, "products": products, "paymentAmount": amount});
    if let Some(coupon) = coupon {
        body["couponCode"] = json!(coupon);
    }
    body
}

/// The guard: paying `refused` is 409 `PAYMENT_AMOUNT_MISMATCH` and changes nothing; paying
/// `total` is 201 with that total, and the balance drops by exactly it. The placed order.
async fn pays_exactly(
    app: &TestApp,
    user: i64,
    lines: &[(i64, i64)],
    coupon: Option<&str>,
    (refused, total): (i64, i64),
) -> Value {
    let before = app.balance(user).await;
    let stock_before = app.stock(lines[0].0).await;
    assert_problem(
        app.order(&order(user, lines, coupon, refused), None).await,
        409,
        "PAYMENT_AMOUNT_MISMATCH",
        "결제 금액이 일치하지 않습니다.",
    )
    .await;
    assert_eq!(
        app.balance(user).await,
        before,
        "nothing paid for {refused}"
    );
    assert_eq!(app.stock(lines[0].0).await, stock_before, "no stock taken");
    let placed = app.order(&order(user, lines, coupon, total), None).await;
    assert_eq!(
        placed.status(),
        201,
        "paying {total}: {}",
        placed.text().await.unwrap_or_default()
    );
    let placed: Value = placed.json().await.expect("JSON");
    assert_eq!(placed["totalAmount"], total, "{placed}");
    assert_eq!(app.balance(user).await, before - total);
    placed
}

/// The unit price the order charged for `product`.
fn unit_price(placed: &Value, product: i64) -> i64 {
    placed["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["productId"] == product))
        .and_then(|item| item["unitPrice"].as_i64())
        .unwrap_or_else(|| panic!("no line for {product} in {placed}"))
}

/// A user with one paid order already (so the first-order discount is out of the way).
async fn returning_user(app: &TestApp, amount: i64) -> i64 {
    let user = app.create_user("returning", amount + 100).await;
    let warm = app.create_product("warm-up", 100, 10).await;
    let placed = app.order(&order(user, &[(warm, 1)], None, 100), None).await;
    assert_eq!(placed.status(), 201);
    user
}

#[tokio::test]
async fn promotions_is_uploaded_but_not_active_on_a_fresh_deployment() {
    let app = spawn_app().await;
    let entry = entry(&app).await;
    assert_eq!(entry["hook"], "order.price");
    assert_eq!(entry["activeVersion"], Value::Null);
    assert_eq!(entry["versions"][0]["version"], DEFAULT_VERSION);
    let schema = &entry["versions"][0]["configSchema"];
    assert_eq!(schema["title"], "promotions", "{schema}");
    // Not active: a salad at list price, even with a coupon.
    let user = app.create_user("a", 10_000).await;
    let salad = app.create_product("salad", 2_500, 10).await;
    let placed = app
        .order(&order(user, &[(salad, 1)], Some("SPRING25"), 2_500), None)
        .await;
    assert_eq!(placed.status(), 201);
}

#[tokio::test]
async fn lines_whose_product_has_the_attribute_are_discounted_and_the_total_is_guarded() {
    let app = spawn_app().await;
    let user = returning_user(&app, 100_000).await;
    let salad = app.create_product("양배추 샐러드", 2_500, 10).await;
    let soup = app.create_product("soup", 3_000, 10).await;
    app.admin_patch(
        &format!("/admin/v1/products/{salad}"),
        &json!({"attributes": {"category": "salad"}}),
    )
    .await;
    app.admin_patch(
        &format!("/admin/v1/products/{soup}"),
        &json!({"attributes": {"category": "soup"}}),
    )
    .await;
    promote(
        &app,
        json!({"productAttributes": [{"key": "category", "value": "salad", "percent": 10}]}),
    )
    .await;

    // 2 × 2,500 + 3,000 = 8,000 at list price; the salads at 2,250: 7,500.
    let placed = pays_exactly(&app, user, &[(salad, 2), (soup, 1)], None, (8_000, 7_500)).await;
    assert_eq!(unit_price(&placed, salad), 2_250);
    assert_eq!(unit_price(&placed, soup), 3_000);
    assert_eq!(app.stock(salad).await, 8);
}

#[tokio::test]
async fn a_coupon_counts_inside_its_window_by_the_requests_time_and_not_outside() {
    let app = spawn_app().await;
    let user = returning_user(&app, 100_000).await;
    let product = app.create_product("p", 10_000, 10).await;
    let now = chrono::Utc::now().timestamp_millis();
    promote(
        &app,
        json!({"coupons": [
            {"code": "NOW25", "percent": 25, "validFrom": now - HOUR_MS, "validUntil": now + HOUR_MS},
            {"code": "GONE50", "percent": 50, "validFrom": now - 2 * HOUR_MS, "validUntil": now - HOUR_MS},
            {"code": "SOON50", "percent": 50, "validFrom": now + HOUR_MS}
        ]}),
    )
    .await;

    // Valid now, in any case: 25 % off 10,000.
    let placed = pays_exactly(&app, user, &[(product, 1)], Some("now25"), (10_000, 7_500)).await;
    assert_eq!(unit_price(&placed, product), 7_500);
    // Expired and not yet valid: list price, and the discounted amount is the mismatch.
    for code in ["GONE50", "SOON50", "UNKNOWN"] {
        let placed = pays_exactly(&app, user, &[(product, 1)], Some(code), (5_000, 10_000)).await;
        assert_eq!(unit_price(&placed, product), 10_000, "{code}");
    }
}

#[tokio::test]
async fn a_user_with_the_tier_attribute_gets_its_discount_and_others_do_not() {
    let app = spawn_app().await;
    let gold = returning_user(&app, 100_000).await;
    let silver = returning_user(&app, 100_000).await;
    for (user, tier) in [(gold, "gold"), (silver, "silver")] {
        app.admin_patch(
            &format!("/admin/v1/users/{user}"),
            &json!({"attributes": {"tier": tier}}),
        )
        .await;
    }
    let product = app.create_product("p", 1_999, 10).await;
    promote(
        &app,
        json!({"userAttributes": [{"key": "tier", "value": "gold", "percent": 5}]}),
    )
    .await;

    // 3 × 1,999 = 5,997; at 5 % off, 1,899.05 rounds down to 1,899 a unit: 5,697.
    let placed = pays_exactly(&app, gold, &[(product, 3)], None, (5_997, 5_697)).await;
    assert_eq!(unit_price(&placed, product), 1_899);
    pays_exactly(&app, silver, &[(product, 3)], None, (5_697, 5_997)).await;
}

#[tokio::test]
async fn a_first_order_is_discounted_and_the_next_one_is_not() {
    let app = spawn_app().await;
    let user = app.create_user("new", 100_000).await;
    let product = app.create_product("p", 5_000, 10).await;
    promote(&app, json!({"firstOrder": {"percent": 20}})).await;

    pays_exactly(&app, user, &[(product, 1)], None, (5_000, 4_000)).await;
    // Now one PAID order: list price.
    pays_exactly(&app, user, &[(product, 1)], None, (4_000, 5_000)).await;
}

#[tokio::test]
async fn a_promotions_config_outside_its_schema_is_refused_naming_the_field() {
    let app = spawn_app().await;
    promote(&app, json!({})).await;
    let cases = [
        (
            json!({"coupons": [{"code": "X", "percent": 0}]}),
            "/coupons/0/percent",
        ),
        (json!({"coupons": [{"percent": 10}]}), "/coupons/0"),
        (
            json!({"firstOrder": {"percent": "20"}}),
            "/firstOrder/percent",
        ),
        (json!({"coupon": []}), ""),
    ];
    for (config, path) in cases {
        let refused = assert_client_error(put_config(&app, config.clone()).await, "config").await;
        assert_eq!(refused["code"], "PLUGIN_CONFIG_INVALID", "{refused}");
        assert_eq!(refused["errors"][0]["path"], path, "{config}: {refused}");
    }
    let entry = entry(&app).await;
    assert_eq!(entry["config"], json!({}), "nothing changed");
}
