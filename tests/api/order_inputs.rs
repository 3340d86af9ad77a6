//! What rule contract 0.2 adds to orders: the optional `couponCode` (checked for shape, part
//! of what an idempotent replay compares) and each user's count of PAID orders, kept by the
//! batch that places orders and by cancels.

use edgecart_tests::{TestApp, assert_problem, spawn_app};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// The detail of an invalid coupon code.
const INVALID_COUPON: &str = "주문 정보가 올바르지 않습니다: 쿠폰 코드(couponCode)는 제어 문자 없이 1~64자여야 하며 공백만으로 이루어질 수 없습니다.";

/// A user with `balance` and a product of `price` with plenty of stock.
async fn shop(app: &TestApp, balance: i64, price: i64) -> (i64, i64) {
    let user = app.create_user("buyer", balance).await;
    let product = app.create_product("p", price, 1_000).await;
    (user, product)
}

/// One unit of `product` for `user` at `price`, with `coupon` when given.
fn order_body(user: i64, product: i64, price: i64, coupon: Option<Value>) -> Value {
    let mut body = json!({"user_id": user, "paymentAmount": price,
                          "products": [{"id": product, "quantity": 1}]});
    if let Some(coupon) = coupon {
        body["couponCode"] = coupon;
    }
    body
}

/// The user's count of PAID orders, as stored.
async fn paid_orders(app: &TestApp, user: i64) -> i64 {
    app.db
        .query_one("SELECT paid_orders FROM users WHERE id = $1", &[&user])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_valid_coupon_code_is_accepted_and_an_order_without_one_too() {
    // Arrange
    let app = spawn_app().await;
    let (user, product) = shop(&app, 10_000, 1_000).await;

    // Act + Assert
    for coupon in [
        None,
        Some(json!("WELCOME10")),
        Some(json!(" 여름 세일 ")),
        Some(json!("가".repeat(64))),
        Some(Value::Null),
    ] {
        let response = app
            .order(&order_body(user, product, 1_000, coupon.clone()), None)
            .await;
        assert_eq!(response.status(), 201, "{coupon:?}");
    }
}

#[tokio::test]
async fn an_invalid_coupon_code_is_invalid_order_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (user, product) = shop(&app, 10_000, 1_000).await;

    // Act + Assert
    for coupon in [
        "",
        "   ",
        "\u{3000}",
        "a\nb",
        "tab\there",
        "nul\u{0}",
        &"x".repeat(65),
    ] {
        let body = order_body(user, product, 1_000, Some(json!(coupon)));
        assert_problem(
            app.order(&body, None).await,
            400,
            "INVALID_ORDER",
            INVALID_COUPON,
        )
        .await;
    }
    for coupon in [json!(10), json!(["A"]), json!({"code": "A"})] {
        let body = order_body(user, product, 1_000, Some(coupon));
        assert_problem(
            app.order(&body, None).await,
            400,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다.",
        )
        .await;
    }
    assert_eq!(app.scalar("SELECT count(*) FROM orders").await, 0);
    assert_eq!(app.balance(user).await, 10_000);
}

#[tokio::test]
async fn the_coupon_code_is_part_of_what_an_idempotent_replay_compares() {
    // Arrange
    let app = spawn_app().await;
    let (user, product) = shop(&app, 10_000, 1_000).await;
    let with_coupon = order_body(user, product, 1_000, Some(json!("A")));
    let first = app.order(&with_coupon, Some("coupon-key")).await;
    assert_eq!(first.status(), 201);

    // Act
    let replay = app.order(&with_coupon, Some("coupon-key")).await;
    let other_coupon = order_body(user, product, 1_000, Some(json!("B")));
    let reuse = app.order(&other_coupon, Some("coupon-key")).await;
    let no_coupon = order_body(user, product, 1_000, None);
    let reuse_without = app.order(&no_coupon, Some("coupon-key")).await;

    // Assert
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    for response in [reuse, reuse_without] {
        assert_problem(
            response,
            422,
            "IDEMPOTENCY_KEY_REUSED",
            "같은 멱등성 키가 다른 요청에 사용되었습니다.",
        )
        .await;
    }
    assert_eq!(app.scalar("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn paid_orders_counts_every_paid_order_and_a_cancel_takes_one_back() {
    // Arrange: orders in concurrent batches, one refused for want of points.
    let app = spawn_app().await;
    let (user, product) = shop(&app, 10_000, 1_000).await;
    let other = app.create_user("other", 5_000).await;
    let orders = join_all((0..10).map(|_| {
        let body = order_body(user, product, 1_000, None);
        let app = &app;
        async move { app.order(&body, None).await }
    }))
    .await;
    let mut ids = Vec::new();
    for response in orders {
        assert_eq!(response.status(), 201);
        ids.push(
            response.json::<Value>().await.unwrap()["orderId"]
                .as_i64()
                .unwrap(),
        );
    }
    let refused = app
        .order(&order_body(user, product, 1_000, None), None)
        .await;
    assert_eq!(refused.status(), 409, "the balance is spent");
    let others = app
        .order(&order_body(other, product, 1_000, None), None)
        .await;
    assert_eq!(others.status(), 201);
    assert_eq!(paid_orders(&app, user).await, 10);

    // Act: one cancel, then the same cancel again (a no-op).
    for _ in 0..2 {
        assert_eq!(app.cancel(ids[0]).await.status(), 200);
    }

    // Assert
    assert_eq!(paid_orders(&app, user).await, 9);
    assert_eq!(paid_orders(&app, other).await, 1);
    let paid = app
        .db
        .query_one(
            "SELECT count(*) FROM orders WHERE user_id = $1 AND status = 'PAID'",
            &[&user],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(paid, 9);
}
