//! Group commit under real concurrency: rushes on one product from many users, with group
//! commit on and off, on one node and on two; a batch in which one order's plugin fails; and
//! the order a batch takes its locks in (its keys before its rows) on a fresh connection.
//! Invariants, not timings: exactly the stock is sold, to payers who could pay, every refused
//! order changes nothing, points and stock are conserved, and each answer is its own.

use std::{collections::BTreeSet, sync::Arc};

use edgecart_tests::{PrivateRedis, RowLock, TestApp, fixture_wasm, spawn_app, spawn_app_with};
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;

/// One order's answer: who sent it, the status, the body.
struct Answered {
    user: i64,
    status: u16,
    body: Value,
}

/// Sends `orders` (user, body) all at once, spread over `nodes` in turn.
async fn rush(nodes: &[Arc<TestApp>], orders: Vec<(i64, Value)>) -> Vec<Answered> {
    let sent = orders.into_iter().enumerate().map(|(i, (user, body))| {
        let node = nodes[i % nodes.len()].clone();
        async move {
            let response = node.order(&body, None).await;
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(Value::Null);
            Answered { user, status, body }
        }
    });
    join_all(sent).await
}

/// The rush of the issue: 2,000 orders at once for a product with 500 units, from 200 users
/// of whom 50 cannot pay for one; checked as a client and from PostgreSQL.
async fn two_thousand_orders_for_five_hundred_units(app: Arc<TestApp>, batched: bool) {
    let product = app.create_product("hot", 1_000, 500).await;
    let mut rich = BTreeSet::new();
    let mut poor = BTreeSet::new();
    for i in 0..200 {
        if i % 4 == 0 {
            poor.insert(app.create_user("poor", 500).await);
        } else {
            rich.insert(app.create_user("rich", 100_000).await);
        }
    }
    let points_before = app.scalar("SELECT sum(balance)::bigint FROM users").await;
    let users: Vec<i64> = rich.iter().chain(&poor).copied().collect();
    let orders = (0..2_000)
        .map(|i| {
            let user = users[i % users.len()];
            let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
            (user, body)
        })
        .collect();

    let answers = rush(std::slice::from_ref(&app), orders).await;

    let mut paid_ids = BTreeSet::new();
    let mut paid_per_user = std::collections::BTreeMap::<i64, i64>::new();
    for answer in &answers {
        let code = answer.body["code"].as_str().unwrap_or_default();
        match answer.status {
            201 => {
                assert!(
                    rich.contains(&answer.user),
                    "a payer who could not pay paid"
                );
                assert_eq!(answer.body["userId"], answer.user, "{}", answer.body);
                assert_eq!(answer.body["status"], "PAID");
                assert_eq!(answer.body["totalAmount"], 1_000);
                let id = answer.body["orderId"].as_i64().expect("an order id");
                assert!(paid_ids.insert(id), "order {id} answered twice");
                *paid_per_user.entry(answer.user).or_default() += 1;
            }
            409 if poor.contains(&answer.user) => assert_eq!(code, "INSUFFICIENT_BALANCE"),
            409 => assert_eq!(code, "OUT_OF_STOCK", "{}", answer.body),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(paid_ids.len(), 500, "exactly the stock is sold");
    assert_eq!(app.stock(product).await, 0);

    // PostgreSQL holds exactly the answered orders, whole, and nothing of the refused ones.
    let stored: BTreeSet<i64> = app
        .db
        .query("SELECT id FROM orders", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(stored, paid_ids);
    for (sql, expected) in [
        ("SELECT count(*) FROM order_lines", 500),
        ("SELECT count(*) FROM point_history WHERE kind = 'USE'", 500),
        ("SELECT count(*) FROM outbox WHERE type = 'order.paid'", 500),
        (
            "SELECT coalesce(sum(quantity), 0)::bigint FROM product_sales_hourly",
            500,
        ),
        (
            "SELECT sum(balance)::bigint FROM users",
            points_before - 500_000,
        ),
    ] {
        assert_eq!(app.scalar(sql).await, expected, "{sql}");
    }
    for user in &users {
        let balance = app
            .scalar(&format!("SELECT balance FROM users WHERE id = {user}"))
            .await;
        let paid = paid_per_user.get(user).copied().unwrap_or(0);
        let start = if poor.contains(user) { 500 } else { 100_000 };
        assert_eq!(balance, start - 1_000 * paid, "user {user}");
    }
    // Each order's history row carries the balance after it: per user, the rows' balances are
    // the distinct steps from the start down to the final balance.
    let steps_ok = app
        .scalar(
            "SELECT count(*) FROM (SELECT user_id, count(DISTINCT balance_after) AS d, count(*) AS n \
             FROM point_history WHERE kind = 'USE' GROUP BY user_id) s WHERE d <> n",
        )
        .await;
    assert_eq!(
        steps_ok, 0,
        "two orders of one user recorded the same balance after"
    );

    let orders = [("kind", "orders")];
    let batches = app.metric("edgecart_batch_size_count", &orders).await;
    let batched_orders = app.metric("edgecart_batch_size_sum", &orders).await;
    assert!(
        batched_orders >= 2_000.0,
        "{batched_orders} orders went through batches"
    );
    if batched {
        assert!(
            batches < batched_orders,
            "no batch held more than one order"
        );
    } else {
        assert_eq!(
            batches, batched_orders,
            "with EDGECART_BATCH=off every batch is one order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rush_of_2000_orders_on_500_units_sells_exactly_500_to_payers_who_can_pay() {
    // Room for all 2,000 at once (the default sheds load above 1,024 requests in flight).
    let app = spawn_app_with(|s| s.max_concurrent_requests = 4_096).await;
    two_thousand_orders_for_five_hundred_units(Arc::new(app), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_rush_with_group_commit_off_has_the_same_outcome() {
    let app = spawn_app_with(|s| {
        s.max_concurrent_requests = 4_096;
        s.batch.enabled = false;
    })
    .await;
    two_thousand_orders_for_five_hundred_units(Arc::new(app), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_rushing_crossed_orders_never_oversell_or_surface_a_deadlock() {
    let a = Arc::new(spawn_app().await);
    let b = Arc::new(a.spawn_node().await);
    let first = a.create_product("a", 1_000, 200).await;
    let second = a.create_product("b", 1_000, 200).await;
    let mut users = Vec::new();
    for _ in 0..100 {
        users.push(a.create_user("u", 1_000_000).await);
    }
    // Orders of one product, of the other, and of both (in both line orders), alternating
    // between the nodes.
    let lines = [
        json!([{"id": first, "quantity": 1}]),
        json!([{"id": second, "quantity": 1}]),
        json!([{"id": first, "quantity": 1}, {"id": second, "quantity": 1}]),
        json!([{"id": second, "quantity": 1}, {"id": first, "quantity": 1}]),
    ];
    let orders = (0..1_200)
        .map(|i| {
            let user = users[i % users.len()];
            let products = &lines[i % lines.len()];
            let amount = 1_000 * products.as_array().map_or(0, Vec::len) as i64;
            (
                user,
                json!({"user_id": user, "paymentAmount": amount, "products": products}),
            )
        })
        .collect();

    let answers = rush(&[a.clone(), b.clone()], orders).await;

    for answer in &answers {
        match answer.status {
            201 => {}
            409 => assert_eq!(answer.body["code"], "OUT_OF_STOCK", "{}", answer.body),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    for product in [first, second] {
        let sold = a
            .scalar(&format!(
                "SELECT coalesce(sum(quantity), 0)::bigint FROM order_lines WHERE product_id = {product}"
            ))
            .await;
        assert_eq!(sold + a.stock(product).await, 200, "product {product}");
        assert!(a.stock(product).await >= 0);
    }
    assert_eq!(
        a.stock(first).await,
        0,
        "the rush sold out the first product"
    );
    let paid = answers.iter().filter(|a| a.status == 201).count() as i64;
    assert_eq!(a.scalar("SELECT count(*) FROM orders").await, paid);
    let spent = a
        .scalar("SELECT (100 * 1000000 - sum(balance))::bigint FROM users")
        .await;
    let charged = a
        .scalar("SELECT sum(total_amount)::bigint FROM orders")
        .await;
    assert_eq!(spent, charged, "points conserved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_whose_plugin_fails_fails_alone_and_the_rest_of_its_batch_is_paid() {
    let app = Arc::new(spawn_app().await);
    app.deploy_plugin(
        "fx-price-negative",
        "order.price",
        "1.0.0",
        fixture_wasm("fx-price-negative"),
    )
    .await;
    let product = app.create_product("p", 1_000, 10_000).await;
    let user = app.create_user("a", 100_000_000).await;
    // Every tenth order buys 13 units, which the plugin prices at -1: a plugin failure.
    let orders = (0..300)
        .map(|i| {
            let quantity = if i % 10 == 0 { 13 } else { 1 };
            let body = json!({"user_id": user, "paymentAmount": quantity * 1_000,
                              "products": [{"id": product, "quantity": quantity}]});
            (user, body)
        })
        .collect();

    let answers = rush(std::slice::from_ref(&app), orders).await;

    let failed = answers.iter().filter(|a| a.status == 503).count();
    let paid = answers.iter().filter(|a| a.status == 201).count();
    for answer in answers.iter().filter(|a| a.status == 503) {
        assert_eq!(answer.body["code"], "PLUGIN_FAILED", "{}", answer.body);
    }
    assert_eq!((failed, paid), (30, 270), "each failure is its own order's");
    assert_eq!(app.stock(product).await, 10_000 - 270);
    assert_eq!(app.scalar("SELECT count(*) FROM orders").await, 270);
    let batches = app
        .metric("edgecart_batch_size_count", &[("kind", "orders")])
        .await;
    assert!(
        batches < 270.0,
        "the paid orders shared batches ({batches} batches)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_charges_of_many_users_each_apply_once_in_shared_batches() {
    // Without Redis, repeats of one key are not stopped by the fast path: they meet in
    // PostgreSQL, often in one batch.
    let mut redis = PrivateRedis::start().await;
    let app = Arc::new(spawn_app_with(|s| s.redis_url = redis.url().into()).await);
    let mut users = Vec::new();
    for _ in 0..20 {
        users.push(app.create_user("u", 0).await);
    }
    let full = app.create_user("full", 0).await;
    app.db
        .execute(
            "UPDATE users SET balance = 9223372036854775000 WHERE id = $1",
            &[&full],
        )
        .await
        .unwrap();
    redis.stop().await;

    // 10 keys per user, each sent three times; and charges that would overflow one balance.
    let mut sent = Vec::new();
    for (u, &user) in users.iter().enumerate() {
        for k in 0..10 {
            for _ in 0..3 {
                sent.push((user, format!("k{u}-{k}"), 1_000 * (k + 1)));
            }
        }
    }
    for k in 0..5 {
        sent.push((full, format!("full-{k}"), 1_000));
    }
    let answers = join_all(sent.iter().map(|(user, key, amount)| {
        let app = app.clone();
        async move {
            let response = app
                .charge(user, &json!({"chargeAmount": amount}), Some(key))
                .await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    }))
    .await;

    for ((user, key, _), (status, body)) in sent.iter().zip(&answers) {
        match status {
            200 => assert_eq!(body["userId"], *user, "{key}: {body}"),
            409 if *user == full => assert_eq!(body["code"], "BALANCE_OVERFLOW", "{body}"),
            409 => assert_eq!(body["code"], "IDEMPOTENCY_KEY_IN_USE", "{key}: {body}"),
            other => panic!("{key}: unexpected {other}: {body}"),
        }
    }
    // Each key applied once: 1,000 + 2,000 + … + 10,000 per user, ten history rows each.
    for &user in &users {
        assert_eq!(app.balance(user).await, 55_000, "user {user}");
        let rows = app
            .scalar(&format!(
                "SELECT count(*) FROM point_history WHERE user_id = {user}"
            ))
            .await;
        assert_eq!(rows, 10, "user {user}");
    }
    assert_eq!(app.balance(full).await, 9_223_372_036_854_775_000);
    let batches = app
        .metric("edgecart_batch_size_count", &[("kind", "charges")])
        .await;
    let charges = app
        .metric("edgecart_batch_size_sum", &[("kind", "charges")])
        .await;
    assert!(batches < charges, "{charges} charges in {batches} batches");
}

/// Whether `user`'s idempotency key `key` is claimed by a transaction still open: an insert
/// of the same key then waits for it (here until its lock timeout) instead of succeeding.
async fn key_is_claimed(app: &TestApp, user: i64, key: &str) -> bool {
    let mut probe = app.db_client().await;
    let tx = probe.transaction().await.unwrap();
    tx.batch_execute("SET LOCAL lock_timeout = '300ms'")
        .await
        .unwrap();
    let inserted = tx
        .execute(
            "INSERT INTO idempotency_records (user_id, idempotency_key, fingerprint) \
             VALUES ($1, $2, '\\x00')",
            &[&user, &key],
        )
        .await;
    match inserted {
        Ok(_) => false,
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => true,
        Err(e) => panic!("probe insert: {e}"),
    }
}

/// Sends `request` (with `user`'s key `k`) while `held` holds the row it needs, and checks
/// that it claims its key before it waits for that row; then lets it through, answered
/// `status`.
async fn claims_before_waiting(
    app: &TestApp,
    user: i64,
    held: RowLock,
    request: JoinHandle<reqwest::Response>,
    status: u16,
) {
    app.wait_for_lock_waiter().await;
    assert!(
        key_is_claimed(app, user, "k").await,
        "it waits for the row holding its key"
    );
    held.release().await;
    assert_eq!(request.await.unwrap().status(), status);
}

// On a fresh node no statement is prepared yet: the order a batch is written in (the claims,
// then the rows) must hold anyway, or a retry that claims the key first deadlocks with it.

#[tokio::test]
async fn a_charge_claims_its_key_before_it_waits_for_its_user() {
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 0).await;
    let held = app.lock_user_row(user).await;
    let request = tokio::spawn({
        let app = app.clone();
        async move {
            app.charge(user, &json!({"chargeAmount": 1_000}), Some("k"))
                .await
        }
    });
    claims_before_waiting(&app, user, held, request, 200).await;
}

#[tokio::test]
async fn an_order_claims_its_key_before_it_waits_for_its_products() {
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 10_000).await;
    let product = app.create_product("p", 1_000, 10).await;
    let held = app.lock_product_row(product).await;
    let request = tokio::spawn({
        let app = app.clone();
        let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
        async move { app.order(&body, Some("k")).await }
    });
    claims_before_waiting(&app, user, held, request, 201).await;
}
