//! Values at the edge of what PostgreSQL stores: text it refuses (a NUL, `\u0000` in JSON) is
//! a 400 in every text field, and a refund or returned stock past the 64-bit range is a 409;
//! neither changes anything.

use edgecart_tests::{DEFAULT_VERSION, TestApp, assert_problem, plugin_wasm, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

const INVALID_TEXT: (&str, &str) = ("INVALID_TEXT", "저장할 수 없는 문자가 포함되어 있습니다.");

/// The number of audit entries: a refused change must not have written one.
async fn audit_len(app: &TestApp) -> usize {
    let response = app
        .admin(Method::GET, "/admin/v1/audit?limit=100")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().map_or(0, Vec::len)
}

/// 1 while the order is paid, read from the database.
async fn paid(app: &TestApp, order: i64) -> i64 {
    let sql = format!("SELECT count(*) FROM orders WHERE status = 'PAID' AND id = {order}");
    app.scalar(&sql).await
}

/// Places a one-line order of one unit and returns its id.
async fn order_one(app: &TestApp, user: i64, product: i64, price: i64) -> i64 {
    let body = json!({"user_id": user, "paymentAmount": price,
                      "products": [{"id": product, "quantity": 1}]});
    let response = app.order(&body, None).await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    order["orderId"].as_i64().expect("orderId")
}

#[tokio::test]
async fn a_nul_in_any_text_field_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let product = app.create_product("salad", 2_500, 10).await;
    // Config text a plugin's schema takes (a NUL in charge-limits' numbers is refused by its
    // schema first): promotions' coupon codes and attribute values are any strings.
    let configured = "promotions";
    let activated = app
        .admin_post(
            &format!("/admin/v1/plugins/{configured}/activate"),
            &json!({"version": DEFAULT_VERSION}),
        )
        .await;
    assert_eq!(activated.status(), 200);
    let entries = audit_len(&app).await;
    let plugin = "charge-limits";
    let config_before = app.plugin_entry(configured).await["config"].clone();

    let (user_code, user_detail) = ("INVALID_USER", "유저 정보가 올바르지 않습니다.");
    let (product_code, product_detail) = ("INVALID_PRODUCT", "상품 정보가 올바르지 않습니다.");
    let cases = [
        (
            app.admin(Method::POST, "/admin/v1/users")
                .json(&json!({"name": "a\u{0}b", "hpNo": "010", "amount": 0})),
            (user_code, user_detail),
        ),
        (
            app.admin(Method::PATCH, &format!("/admin/v1/users/{user}"))
                .json(&json!({"hpNo": "010\u{0}"})),
            (user_code, user_detail),
        ),
        (
            app.admin(Method::POST, "/admin/v1/products")
                .json(&json!({"name": "\u{0}", "price": 1, "stock": 1})),
            (product_code, product_detail),
        ),
        (
            app.admin(Method::PATCH, &format!("/admin/v1/products/{product}"))
                .json(&json!({"name": "x\u{0}"})),
            (product_code, product_detail),
        ),
        (
            app.admin(Method::PUT, &format!("/admin/v1/plugins/{configured}/config"))
                .json(&json!({"config": {"coupons": [{"code": "A\u{0}", "percent": 5}]}})),
            INVALID_TEXT,
        ),
        (
            app.admin(Method::PUT, &format!("/admin/v1/plugins/{configured}/config"))
                .json(&json!({"config": {"productAttributes": [{"key": "k", "value": "v\u{0}", "percent": 5}]}})),
            INVALID_TEXT,
        ),
        (
            app.admin(
                Method::POST,
                &format!("/admin/v1/plugins/{plugin}/versions?hook=charge.validate&version=9.0.0&note=a%00b"),
            )
            .header("Content-Type", "application/wasm")
            .body(plugin_wasm("charge-limits")),
            INVALID_TEXT,
        ),
        (
            app.admin(Method::GET, "/admin/v1/audit?target=user%3A%00"),
            INVALID_TEXT,
        ),
    ];
    for (i, (request, (code, detail))) in cases.into_iter().enumerate() {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_problem(response, 400, code, detail).await;
    }

    // Nothing changed: no audit entry, no version, the config as it was.
    assert_eq!(audit_len(&app).await, entries);
    let configured_after = app.plugin_entry(configured).await;
    assert_eq!(configured_after["config"], config_before);
    let after = app.plugin_entry(plugin).await;
    let versions = after["versions"].as_array().expect("versions");
    assert!(
        versions.iter().all(|v| v["version"] != "9.0.0"),
        "{versions:?}"
    );
}

#[tokio::test]
async fn a_refund_past_the_64_bit_balance_is_409_and_changes_nothing() {
    let app = spawn_app().await;
    let price = 2_500;
    let user = app.create_user("rich", i64::MAX - 5_000).await;
    let product = app.create_product("salad", price, 10).await;
    let order = order_one(&app, user, product, price).await;
    // A charge brings the balance within the refund of the top: MAX - 1_500.
    assert_eq!(app.charge_amount(user, 6_000).await.status(), 200);
    let entries = audit_len(&app).await;

    assert_problem(
        app.cancel(order).await,
        409,
        "BALANCE_OVERFLOW",
        "잔액 한도를 초과합니다.",
    )
    .await;

    assert_eq!(paid(&app, order).await, 1, "the order is still paid");
    assert_eq!(app.balance(user).await, i64::MAX - 1_500);
    assert_eq!(app.stock(product).await, 9);
    assert_eq!(audit_len(&app).await, entries);
}

#[tokio::test]
async fn returned_stock_past_the_64_bit_range_is_409_and_changes_nothing() {
    let app = spawn_app().await;
    let price = 2_500;
    let user = app.create_user("a", 10_000).await;
    let product = app.create_product("salad", price, 10).await;
    let order = order_one(&app, user, product, price).await;
    let patched = app
        .admin(Method::PATCH, &format!("/admin/v1/products/{product}"))
        .json(&json!({"stock": i64::MAX}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);

    assert_problem(
        app.cancel(order).await,
        409,
        "STOCK_OVERFLOW",
        "재고 한도를 초과합니다.",
    )
    .await;

    assert_eq!(paid(&app, order).await, 1, "the order is still paid");
    assert_eq!(app.balance(user).await, 10_000 - price);
    assert_eq!(app.stock(product).await, i64::MAX);
}
