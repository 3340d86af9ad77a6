//! Idempotent charges: replays, reuse, concurrency, and Redis losing or lacking its data.

use std::sync::Arc;

use edgecart_tests::{
    PrivateRedis, answer_parts as parts, assert_problem, spawn_app, spawn_app_with,
};
use futures_util::future::join_all;
use serde_json::{Value, json};

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer_byte_for_byte() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let (status, replayed, first) = parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("same"))
            .await,
    )
    .await;
    assert_eq!((status, replayed), (200, false));

    // Act: the same body, written differently (whitespace, an extra field).
    let again = app
        .http
        .post(app.url(&format!("/api/v1/users/{user}/charge")))
        .header("Idempotency-Key", "same")
        .header("content-type", "application/json")
        .body("{ \"ignored\": true,\n  \"chargeAmount\" : 5000 }")
        .send()
        .await
        .unwrap();

    // Assert
    let (status, replayed, second) = parts(again).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(first, second);
    assert_eq!(app.balance(user).await, 5_000);
    assert_eq!(app.history_rows(user).await, 1);
}

#[tokio::test]
async fn a_rejected_charge_is_remembered_too() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let (status, _, first) = parts(
        app.charge(user, &json!({"chargeAmount": 10}), Some("r"))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    let (status, replayed, second) = parts(
        app.charge(user, &json!({"chargeAmount": 10}), Some("r"))
            .await,
    )
    .await;
    assert_eq!((status, replayed), (400, true));
    assert_eq!(first, second);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    assert_eq!(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("k"))
            .await
            .status(),
        200
    );
    let response = app
        .charge(user, &json!({"chargeAmount": 6_000}), Some("k"))
        .await;
    assert_problem(
        response,
        422,
        "IDEMPOTENCY_KEY_REUSED",
        "같은 멱등성 키가 다른 요청에 사용되었습니다.",
    )
    .await;
    assert_eq!(app.balance(user).await, 5_000);
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let app = spawn_app().await;
    let (a, b) = (app.create_user("a", 0).await, app.create_user("b", 0).await);
    assert_eq!(
        app.charge(a, &json!({"chargeAmount": 5_000}), Some("shared"))
            .await
            .status(),
        200
    );
    let (status, replayed, _) = parts(
        app.charge(b, &json!({"chargeAmount": 5_000}), Some("shared"))
            .await,
    )
    .await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!((app.balance(a).await, app.balance(b).await), (5_000, 5_000));
}

#[tokio::test]
async fn fifty_concurrent_requests_with_one_key_charge_exactly_once() {
    // Arrange
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 1_000).await;

    // Act
    let responses = join_all((0..50).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            parts(
                app.charge(user, &json!({"chargeAmount": 7_000}), Some("burst"))
                    .await,
            )
            .await
        })
    }))
    .await;

    // Assert: one fresh 200, the rest replays (200) or in-flight conflicts (409).
    let mut fresh = 0;
    let mut bodies = std::collections::HashSet::new();
    for response in responses {
        let (status, replayed, body) = response.unwrap();
        match (status, replayed) {
            (200, false) => fresh += 1,
            (200, true) => {}
            (409, false) => continue,
            other => panic!("unexpected answer {other:?}"),
        }
        bodies.insert(body);
    }
    assert_eq!(fresh, 1);
    assert_eq!(bodies.len(), 1, "every 200 carries the same body");
    assert_eq!(app.balance(user).await, 8_000);
    assert_eq!(app.history_rows(user).await, 2);
}

#[tokio::test]
async fn a_hundred_distinct_keys_at_once_make_a_hundred_charges() {
    let app = Arc::new(spawn_app().await);
    let user = app.create_user("a", 0).await;

    let responses = join_all((0..100).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            app.charge(
                user,
                &json!({"chargeAmount": 1_000}),
                Some(&format!("key-{i}")),
            )
            .await
            .status()
        })
    }))
    .await;

    assert!(responses.into_iter().all(|s| s.unwrap() == 200));
    assert_eq!(app.balance(user).await, 100_000);
    assert_eq!(app.history_rows(user).await, 100);
    let (sum, last): (i64, i64) = {
        let row = app
            .db
            .query_one(
                "SELECT sum(amount)::bigint, (SELECT balance_after FROM point_history WHERE user_id = $1 ORDER BY id DESC LIMIT 1) \
                 FROM point_history WHERE user_id = $1",
                &[&user],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(
        (sum, last),
        (100_000, 100_000),
        "history agrees with the balance"
    );
}

#[tokio::test]
async fn a_flushed_redis_never_causes_a_second_charge() {
    // Arrange: a Redis of this test's own, so FLUSHALL touches no other test.
    let redis = PrivateRedis::start().await;
    let app = spawn_app_with(|s| s.redis_url = redis.url().into()).await;
    let user = app.create_user("a", 0).await;
    let (status, _, first) = parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("durable"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(
        redis.cli(&["DBSIZE"]).await,
        "0",
        "the fast path cached the answer"
    );

    // Act
    assert_eq!(redis.cli(&["FLUSHALL"]).await, "OK");
    let (status, replayed, second) = parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("durable"))
            .await,
    )
    .await;

    // Assert
    assert_eq!((status, replayed), (200, true));
    assert_eq!(first, second);
    assert_eq!(app.balance(user).await, 5_000);
    let response = app
        .charge(user, &json!({"chargeAmount": 9_000}), Some("durable"))
        .await;
    assert_eq!(
        response.status(),
        422,
        "PostgreSQL alone still tells a reuse"
    );
}

#[tokio::test]
async fn charges_work_through_postgresql_alone_while_redis_is_down() {
    // Arrange
    let mut redis = PrivateRedis::start().await;
    let app = spawn_app_with(|s| s.redis_url = redis.url().into()).await;
    let user = app.create_user("a", 0).await;
    redis.stop().await;

    // Act
    let (status, replayed, first) = parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("no-redis"))
            .await,
    )
    .await;
    let (status2, replayed2, second) = parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("no-redis"))
            .await,
    )
    .await;
    let reused = app
        .charge(user, &json!({"chargeAmount": 6_000}), Some("no-redis"))
        .await;

    // Assert
    assert_eq!((status, replayed), (200, false));
    assert_eq!((status2, replayed2), (200, true));
    assert_eq!(first, second);
    assert_eq!(reused.status(), 422);
    assert_eq!(app.balance(user).await, 5_000);
}

#[tokio::test]
async fn a_server_error_is_not_remembered_so_the_client_may_retry() {
    // Arrange: sabotage the history table so the charge fails inside its transaction.
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.db
        .batch_execute("ALTER TABLE point_history RENAME TO point_history_gone")
        .await
        .unwrap();

    // Act
    let failed = app
        .charge(user, &json!({"chargeAmount": 5_000}), Some("retry-me"))
        .await;
    app.db
        .batch_execute("ALTER TABLE point_history_gone RENAME TO point_history")
        .await
        .unwrap();
    let retried = app
        .charge(user, &json!({"chargeAmount": 5_000}), Some("retry-me"))
        .await;

    // Assert
    assert_problem(failed, 500, "INTERNAL_ERROR", "서버 오류가 발생했습니다.").await;
    let (status, replayed, body) = parts(retried).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["amount"],
        5_000
    );
    assert_eq!(app.balance(user).await, 5_000);
}

#[tokio::test]
async fn records_older_than_the_retention_are_purged_and_newer_ones_kept() {
    // Arrange: one charge now, and one record aged past the 24 h retention.
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    assert_eq!(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("recent"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("old"))
            .await
            .status(),
        200
    );
    app.db
        .execute(
            "UPDATE idempotency_records SET created_at = now() - interval '25 hours' WHERE idempotency_key = 'old'",
            &[],
        )
        .await
        .unwrap();

    // Act
    let pool = edgecart::store::pool(&app.settings).unwrap();
    let client = pool.get().await.unwrap();
    let purged =
        edgecart::idempotency::durable::purge(&client, std::time::Duration::from_secs(86_400), 100)
            .await
            .unwrap();

    // Assert
    assert_eq!(purged, 1);
    let keys: Vec<String> = app
        .db
        .query("SELECT idempotency_key FROM idempotency_records", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(keys, vec!["recent".to_owned()]);
}

#[tokio::test]
async fn a_reuse_found_only_in_postgresql_does_not_block_the_original_replay() {
    // Arrange: the first request's answer is only in PostgreSQL (Redis was flushed).
    let redis = PrivateRedis::start().await;
    let app = spawn_app_with(|s| s.redis_url = redis.url().into()).await;
    let user = app.create_user("a", 0).await;
    let (_, _, first) = parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("owner"))
            .await,
    )
    .await;
    assert_eq!(redis.cli(&["FLUSHALL"]).await, "OK");

    // Act: a different body with the same key, then the original body again.
    let reuse = app
        .charge(user, &json!({"chargeAmount": 9_000}), Some("owner"))
        .await;
    let (status, replayed, again) = parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("owner"))
            .await,
    )
    .await;

    // Assert
    assert_eq!(reuse.status(), 422);
    assert_eq!((status, replayed), (200, true));
    assert_eq!(first, again);
    assert_eq!(app.balance(user).await, 5_000);
}
