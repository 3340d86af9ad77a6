//! Orders: placement in one transaction, every error row changing nothing, concurrency
//! invariants, idempotency and cancel.

use std::sync::Arc;

use edgecart_tests::{TestApp, assert_problem, spawn_app};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// Everything an order touches, to compare before and after a refused one.
async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut state = Vec::new();
    for sql in [
        "SELECT coalesce(sum(stock), 0)::bigint FROM products",
        "SELECT coalesce(sum(balance), 0)::bigint FROM users",
        "SELECT count(*) FROM point_history",
        "SELECT count(*) FROM orders",
        "SELECT count(*) FROM order_lines",
        "SELECT count(*) FROM outbox",
        "SELECT coalesce(sum(quantity), 0)::bigint FROM product_sales_hourly",
    ] {
        state.push(app.scalar(sql).await);
    }
    state
}

#[tokio::test]
async fn an_order_moves_stock_and_points_and_records_everything_in_one_go() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user("a", 20_000).await;
    let salad = app.create_product("양배추 샐러드", 2_500, 10).await;
    let squash = app.create_product("단호박 샐러드", 3_000, 5).await;

    // Act: the seed's body shape, a duplicate line to merge and an ignored extra field.
    let body = json!({"user_id": user, "paymentAmount": 10_500, "products": [
        {"id": squash, "quantity": 1, "name": "단호박 샐러드"},
        {"id": salad, "quantity": 2},
        {"id": salad, "quantity": 1},
    ]});
    let response = app.order(&body, None).await;

    // Assert
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["userId"], user);
    assert_eq!(order["totalAmount"], 10_500);
    assert_eq!(
        order["items"],
        json!([{"productId": salad, "quantity": 3, "unitPrice": 2_500}, {"productId": squash, "quantity": 1, "unitPrice": 3_000}])
    );
    let id = order["orderId"].as_i64().unwrap();
    assert_eq!((app.stock(salad).await, app.stock(squash).await), (7, 4));
    assert_eq!(app.balance(user).await, 9_500);
    let history = app
        .db
        .query_one("SELECT kind, amount, balance_after, order_id FROM point_history ORDER BY id DESC LIMIT 1", &[])
        .await
        .unwrap();
    assert_eq!(history.get::<_, String>(0), "USE");
    assert_eq!(
        (history.get::<_, i64>(1), history.get::<_, i64>(2)),
        (10_500, 9_500)
    );
    assert_eq!(history.get::<_, Option<i64>>(3), Some(id));
    let event = app
        .db
        .query_one("SELECT type, payload FROM outbox", &[])
        .await
        .unwrap();
    assert_eq!(event.get::<_, String>(0), "order.paid");
    assert_eq!(
        app.scalar("SELECT sum(quantity)::bigint FROM product_sales_hourly")
            .await,
        4
    );
    let shown: Value = app
        .get(&format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown, order);
}

#[tokio::test]
async fn user_id_is_also_accepted_as_user_id_in_camel_case() {
    let app = spawn_app().await;
    let user = app.create_user("a", 10_000).await;
    let product = app.create_product("p", 1_000, 5).await;
    let body = json!({"userId": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&body, None).await.status(), 201);
}

#[tokio::test]
async fn every_refused_order_changes_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("a", 5_000).await;
    let cheap = app.create_product("cheap", 1_000, 2).await;
    let before = snapshot(&app).await;
    let line = |id: i64, quantity: i64| json!({"id": id, "quantity": quantity});
    let cases = [
        (
            json!({"user_id": user, "paymentAmount": 0, "products": []}),
            400,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다.",
        ),
        (
            json!({"user_id": user, "paymentAmount": 1_000, "products": [line(cheap, 0)]}),
            400,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다.",
        ),
        (
            json!({"user_id": user, "paymentAmount": 1_000, "products": [line(-1, 1)]}),
            400,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다.",
        ),
        (
            json!({"user_id": 0, "paymentAmount": 1_000, "products": [line(cheap, 1)]}),
            400,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다.",
        ),
        (
            json!({"user_id": user, "paymentAmount": "1000", "products": [line(cheap, 1)]}),
            400,
            "INVALID_ORDER",
            "주문 정보가 올바르지 않습니다.",
        ),
        (
            json!({"user_id": 424_242, "paymentAmount": 1_000, "products": [line(cheap, 1)]}),
            404,
            "USER_NOT_FOUND",
            "해당 유저가 존재하지 않습니다.",
        ),
        (
            json!({"user_id": user, "paymentAmount": 1_000, "products": [line(cheap, 1), line(424_242, 1)]}),
            404,
            "PRODUCT_NOT_FOUND",
            "해당 상품이 존재하지 않습니다.",
        ),
        (
            json!({"user_id": user, "paymentAmount": 3_000, "products": [line(cheap, 3)]}),
            409,
            "OUT_OF_STOCK",
            "품절된 상품이 존재합니다.",
        ),
        (
            json!({"user_id": user, "paymentAmount": 999, "products": [line(cheap, 1)]}),
            409,
            "PAYMENT_AMOUNT_MISMATCH",
            "결제 금액이 일치하지 않습니다.",
        ),
    ];
    for (body, status, code, detail) in cases {
        assert_problem(app.order(&body, None).await, status, code, detail).await;
        assert_eq!(snapshot(&app).await, before, "{code} changed something");
    }

    // A balance too small, on a product with enough stock.
    let pricey = app.create_product("pricey", 6_000, 5).await;
    let before = snapshot(&app).await;
    let body = json!({"user_id": user, "paymentAmount": 6_000, "products": [line(pricey, 1)]});
    assert_problem(
        app.order(&body, None).await,
        409,
        "INSUFFICIENT_BALANCE",
        "결제 금액이 부족합니다.",
    )
    .await;
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_thousand_simultaneous_orders_for_fifty_units_sell_exactly_fifty() {
    // Arrange: 100 users, one product with 50 units.
    let app = Arc::new(spawn_app().await);
    let product = app.create_product("hot", 1_000, 50).await;
    let mut users = Vec::new();
    for i in 0..100 {
        users.push(app.create_user(&format!("u{i}"), 100_000).await);
    }
    let points_before = app.scalar("SELECT sum(balance)::bigint FROM users").await;

    // Act
    let statuses = join_all((0..1_000).map(|i| {
        let app = app.clone();
        let user = users[i % users.len()];
        tokio::spawn(async move {
            let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
            let response = app.order(&body, None).await;
            let status = response.status().as_u16();
            let code = response.json::<Value>().await.ok().and_then(|b| b["code"].as_str().map(str::to_owned));
            (status, code)
        })
    }))
    .await;

    // Assert
    let paid = statuses
        .iter()
        .filter(|s| s.as_ref().unwrap().0 == 201)
        .count();
    let sold_out = statuses
        .iter()
        .filter(|s| s.as_ref().unwrap().1.as_deref() == Some("OUT_OF_STOCK"))
        .count();
    let mut seen: std::collections::BTreeMap<(u16, Option<String>), usize> = Default::default();
    for outcome in statuses.iter().flatten() {
        *seen.entry(outcome.clone()).or_default() += 1;
    }
    assert_eq!((paid, sold_out), (50, 950), "{seen:?}");
    assert_eq!(app.stock(product).await, 0);
    let paid_totals = app
        .scalar("SELECT sum(total_amount)::bigint FROM orders WHERE status = 'PAID'")
        .await;
    let points_after = app.scalar("SELECT sum(balance)::bigint FROM users").await;
    assert_eq!(
        points_after + paid_totals,
        points_before,
        "points are conserved"
    );
}

#[tokio::test]
async fn thirty_orders_at_once_from_a_user_who_can_pay_ten_pay_exactly_ten() {
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 10_000).await;
    let product = app.create_product("p", 1_000, 1_000).await;
    let statuses = join_all((0..30).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
            app.order(&body, None).await.status().as_u16()
        })
    }))
    .await;
    let statuses: Vec<u16> = statuses.into_iter().map(Result::unwrap).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 20);
    assert_eq!(app.balance(user).await, 0);
    assert_eq!(app.stock(product).await, 990);
}

#[tokio::test]
async fn crossed_orders_never_deadlock_or_fail() {
    let app = Arc::new(spawn_app().await);
    let a = app.create_product("a", 100, 10_000).await;
    let b = app.create_product("b", 200, 10_000).await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(app.create_user(&format!("u{i}"), 1_000_000).await);
    }
    let statuses = join_all((0..200).map(|i| {
        let app = app.clone();
        let user = users[i % users.len()];
        let lines = if i % 2 == 0 {
            json!([{"id": a, "quantity": 1}, {"id": b, "quantity": 2}])
        } else {
            json!([{"id": b, "quantity": 2}, {"id": a, "quantity": 1}])
        };
        tokio::spawn(async move {
            app.order(
                &json!({"user_id": user, "paymentAmount": 500, "products": lines}),
                None,
            )
            .await
            .status()
            .as_u16()
        })
    }))
    .await;
    assert!(statuses.into_iter().all(|s| s.unwrap() == 201));
    assert_eq!(
        (app.stock(a).await, app.stock(b).await),
        (10_000 - 200, 10_000 - 400)
    );
    assert_eq!(
        app.scalar("SELECT sum(balance)::bigint FROM users").await,
        20 * 1_000_000 - 200 * 500
    );
}

#[tokio::test]
async fn concurrent_orders_and_cancels_keep_stock_plus_sold_constant() {
    let app = Arc::new(spawn_app().await);
    let product = app.create_product("p", 500, 100).await;
    let user = app.create_user("a", 1_000_000).await;
    let mut placed = Vec::new();
    for _ in 0..20 {
        let body = json!({"user_id": user, "paymentAmount": 500, "products": [{"id": product, "quantity": 1}]});
        let order: Value = app.order(&body, None).await.json().await.unwrap();
        placed.push(order["orderId"].as_i64().unwrap());
    }
    let mut tasks = Vec::new();
    for (i, id) in placed.into_iter().enumerate() {
        let canceller = app.clone();
        tasks.push(tokio::spawn(async move {
            let app = canceller;
            let cancel = app.cancel(id).await.status();
            assert_eq!(cancel, 200);
            if i % 2 == 0 {
                // A second cancel of the same order at the same time refunds nothing more.
                let again = app.cancel(id).await.status();
                assert_eq!(again, 200);
            }
        }));
        let buyer = app.clone();
        tasks.push(tokio::spawn(async move {
            let app = buyer;
            let body = json!({"user_id": user, "paymentAmount": 500, "products": [{"id": product, "quantity": 1}]});
            assert_eq!(app.order(&body, None).await.status(), 201);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let sold = app
        .scalar("SELECT coalesce(sum(l.quantity), 0)::bigint FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'PAID'")
        .await;
    assert_eq!(app.stock(product).await + sold, 100);
    assert_eq!(sold, 20);
    let paid = app
        .scalar("SELECT sum(total_amount)::bigint FROM orders WHERE status = 'PAID'")
        .await;
    assert_eq!(
        app.balance(user).await + paid,
        1_000_000,
        "points are conserved"
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM point_history WHERE kind = 'REFUND'")
            .await,
        20
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM outbox WHERE type = 'order.cancelled'")
            .await,
        20
    );
    assert_eq!(
        app.scalar("SELECT sum(quantity)::bigint FROM product_sales_hourly")
            .await,
        20
    );
}

#[tokio::test]
async fn cancelling_returns_everything_once_and_again_is_a_no_op() {
    let app = spawn_app().await;
    let user = app.create_user("a", 10_000).await;
    let product = app.create_product("p", 2_000, 5).await;
    let body = json!({"user_id": user, "paymentAmount": 4_000, "products": [{"id": product, "quantity": 2}]});
    let order: Value = app.order(&body, None).await.json().await.unwrap();
    let id = order["orderId"].as_i64().unwrap();

    let first = app.cancel(id).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "CANCELLED");
    let state = snapshot(&app).await;
    let again: Value = app.cancel(id).await.json().await.unwrap();

    assert_eq!(again, first);
    assert_eq!(
        snapshot(&app).await,
        state,
        "a second cancel changes nothing"
    );
    assert_eq!(
        (app.stock(product).await, app.balance(user).await),
        (5, 10_000)
    );
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"],
        "CANCELLED"
    );
}

#[tokio::test]
async fn unknown_and_invalid_order_ids() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/orders/999").await,
        404,
        "ORDER_NOT_FOUND",
        "해당 주문이 존재하지 않습니다.",
    )
    .await;
    let cancel = app.cancel(999).await;
    assert_problem(
        cancel,
        404,
        "ORDER_NOT_FOUND",
        "해당 주문이 존재하지 않습니다.",
    )
    .await;
    assert_problem(
        app.get("/api/v1/orders/abc").await,
        400,
        "INVALID_ORDER_ID",
        "잘못된 주문 번호입니다.",
    )
    .await;
}

#[tokio::test]
async fn an_order_with_an_idempotency_key_is_placed_once() {
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 100_000).await;
    let product = app.create_product("p", 1_000, 100).await;
    let body = json!({"user_id": user, "paymentAmount": 2_000, "products": [{"id": product, "quantity": 2}]});
    let statuses = join_all((0..20).map(|_| {
        let app = app.clone();
        let body = body.clone();
        tokio::spawn(async move {
            let response = app.order(&body, Some("order-key")).await;
            (
                response.status().as_u16(),
                response.headers().get("idempotent-replayed").is_some(),
            )
        })
    }))
    .await;
    let fresh = statuses
        .iter()
        .filter(|s| *s.as_ref().unwrap() == (201, false))
        .count();
    assert_eq!(fresh, 1);
    assert!(statuses.iter().all(|s| matches!(
        s.as_ref().unwrap(),
        (201, true) | (409, false) | (201, false)
    )));
    assert_eq!(app.stock(product).await, 98);
    assert_eq!(app.balance(user).await, 98_000);
    let other = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&other, Some("order-key")).await.status(), 422);
    // A refused order is remembered like a paid one.
    let short =
        json!({"user_id": user, "paymentAmount": 1, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&short, Some("short")).await.status(), 409);
    let again = app.order(&short, Some("short")).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_problem(
        again,
        409,
        "PAYMENT_AMOUNT_MISMATCH",
        "결제 금액이 일치하지 않습니다.",
    )
    .await;
}

#[tokio::test]
async fn a_price_change_between_reading_and_paying_is_a_mismatch_not_a_wrong_charge() {
    // The client saw 1,000; the operator raises the price; the server prices again and refuses.
    let app = spawn_app().await;
    let user = app.create_user("a", 10_000).await;
    let product = app.create_product("p", 1_000, 10).await;
    app.db
        .execute(
            "UPDATE products SET price = 1500 WHERE id = $1",
            &[&product],
        )
        .await
        .unwrap();
    let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_problem(
        app.order(&body, None).await,
        409,
        "PAYMENT_AMOUNT_MISMATCH",
        "결제 금액이 일치하지 않습니다.",
    )
    .await;
    assert_eq!(
        (app.stock(product).await, app.balance(user).await),
        (10, 10_000)
    );
}

#[tokio::test]
async fn a_price_raised_while_an_order_waits_for_its_batch_is_caught_by_the_batch() {
    // The order is priced at 1,000, then its batch waits for the product's row, whose holder
    // raises the price. The batch must notice, the order be priced again, and refused: with
    // and without a key.
    let app = Arc::new(spawn_app().await);
    for key in [None, Some("in-flight-price")] {
        let user = app.create_user("a", 10_000).await;
        let product = app.create_product("p", 1_000, 10).await;
        let before = snapshot(&app).await;
        let lock = app.lock_product_row(product).await;
        let in_flight = tokio::spawn({
            let app = app.clone();
            async move {
                let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
                app.order(&body, key).await
            }
        });
        app.wait_for_lock_waiter().await;
        lock.commit_with(&format!(
            "UPDATE products SET price = 1500 WHERE id = {product}"
        ))
        .await;

        assert_problem(
            in_flight.await.unwrap(),
            409,
            "PAYMENT_AMOUNT_MISMATCH",
            "결제 금액이 일치하지 않습니다.",
        )
        .await;
        assert_eq!(snapshot(&app).await, before, "key {key:?}");
    }
}
