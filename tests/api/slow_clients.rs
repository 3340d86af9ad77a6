//! Slow and hostile clients, on real loopback sockets against the real server: a `/readyz`
//! flood does not starve normal clients.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{TestApp, spawn_app_with};
use futures_util::future::join_all;
use serde_json::json;

/// Waits until `n` sessions of the app's database wait for a lock.
async fn wait_for_lock_waiters(app: &TestApp, n: i64) {
    for _ in 0..500 {
        let waiting: i64 = app
            .db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} requests never waited for the lock");
}

#[tokio::test]
async fn a_readyz_flood_needs_no_pooled_connection_while_orders_hold_them_all() {
    // Arrange: a pool of 2, both connections held by charges waiting on a row lock.
    let app = Arc::new(spawn_app_with(|s| s.db_pool_size = 2).await);
    let user = app.create_user("a", 100_000).await;
    let product = app.create_product("p", 1_000, 100).await;
    let lock = app.lock_user_row(user).await;
    let charges: Vec<_> = (0..2)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.charge(
                    user,
                    &json!({"chargeAmount": 5_000}),
                    Some(&format!("held-{i}")),
                )
                .await
                .status()
                .as_u16()
            })
        })
        .collect();
    wait_for_lock_waiters(&app, 2).await;
    let pool = "edgecart_db_pool_connections";
    assert_eq!(
        app.metric(pool, &[("state", "size")]).await,
        2.0,
        "/metrics answers while the pool is full"
    );
    assert_eq!(
        app.metric(pool, &[("state", "available")]).await,
        0.0,
        "the pool is exhausted"
    );

    // Act: 200 concurrent /readyz, each allowed 10 s.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let flood = (0..200).map(|_| {
        let request = client.get(app.url("/readyz")).send();
        async move { request.await.map(|r| r.status().as_u16()).ok() }
    });
    let answers = join_all(flood).await;

    // Assert: every one answered ready without a pooled connection; the held charges and a
    // new order go through once the lock is gone.
    assert!(
        answers.iter().all(|a| *a == Some(200)),
        "{:?}",
        answers
            .iter()
            .filter(|a| **a != Some(200))
            .collect::<Vec<_>>()
    );
    lock.release().await;
    for charge in charges {
        assert_eq!(charge.await.unwrap(), 200);
    }
    let order = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&order, None).await.status(), 201);
}
