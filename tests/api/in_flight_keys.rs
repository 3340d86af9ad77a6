//! In-flight idempotency markers: one whose request runs on a live node blocks a duplicate
//! (409) on that node and on any other; one left by a node that is gone, or by a request that was dropped
//! before its answer, does not, and PostgreSQL decides. The SIGKILL case is in `faults`.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use edgecart_tests::{
    TestApp, answer_parts, assert_problem, eventually, spawn_app, spawn_app_with,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// Sends `user`'s charge of 5,000 with `key` to `app` in a task of its own.
fn spawn_charge(app: &Arc<TestApp>, user: i64, key: &str) -> JoinHandle<(u16, bool, Bytes)> {
    let (app, key) = (app.clone(), key.to_owned());
    tokio::spawn(async move {
        let body = json!({"chargeAmount": 5_000});
        answer_parts(app.charge(user, &body, Some(&key)).await).await
    })
}

/// How many in-flight markers `app` removed without their answer, for `outcome`.
async fn removed_markers(app: &TestApp, outcome: &str) -> f64 {
    let labels = [("outcome", outcome)];
    app.metric("edgecart_idempotency_markers_total", &labels)
        .await
}

/// The Redis key of `user`'s idempotency key `key`, as the node names it.
fn marker_key(app: &TestApp, user: i64, key: &str) -> String {
    app.redis_key(&format!("idem:{user}:{key}"))
}

/// The marker a request of `user` with `key` holds now, as JSON (`Null` when there is none).
async fn marker(app: &TestApp, user: i64, key: &str) -> Value {
    let text = app.redis(&["GET", &marker_key(app, user, key)]).await;
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_key_still_being_processed_gets_409_on_its_node_and_on_any_other() {
    a_live_marker_blocks_on_every_node(Arc::new(spawn_app().await)).await;
}

/// A key in flight on `a` gets 409 on `a` and on a second node, and its marker is never taken
/// over (the redis_cluster tests run it on a cluster too).
pub(crate) async fn a_live_marker_blocks_on_every_node(a: Arc<TestApp>) {
    // Arrange: hold the user's row so the first charge waits inside its transaction on A.
    let b = a.spawn_node().await;
    let user = a.create_user("a", 0).await;
    let lock = a.lock_user_row(user).await;
    let first = spawn_charge(&a, user, "slow");
    a.wait_for_lock_waiter().await;

    // Act: duplicates on A, and on B, which sees A's marker and A alive.
    let body = json!({"chargeAmount": 5_000});
    let duplicates = [
        a.charge(user, &body, Some("slow")).await,
        b.charge(user, &body, Some("slow")).await,
    ];

    // Assert
    for duplicate in duplicates {
        let detail = "이미 처리중인 요청입니다.";
        assert_problem(duplicate, 409, "IDEMPOTENCY_KEY_IN_USE", detail).await;
    }
    lock.release().await;
    let (status, replayed, _) = first.await.unwrap();
    assert_eq!((status, replayed), (200, false));
    assert_eq!(a.balance(user).await, 5_000);
    for node in [&*a, &b] {
        let taken = removed_markers(node, "taken_over").await;
        assert_eq!(taken, 0.0, "a live node's marker is never taken over");
    }
}

#[tokio::test]
async fn a_marker_left_by_a_node_that_is_gone_does_not_block_and_postgresql_decides() {
    orphaned_markers_are_taken_over(Arc::new(spawn_app().await)).await;
}

/// Markers naming a dead node, or none, are taken over at once and PostgreSQL decides (the
/// redis_cluster tests run it on a cluster too).
pub(crate) async fn orphaned_markers_are_taken_over(app: Arc<TestApp>) {
    let user = app.create_user("a", 0).await;
    // A marker naming a node without a liveness key, and one naming no node at all (the
    // format before node ids): both speak for no live request.
    for (round, node) in [Some("0000000000000dead"), None].into_iter().enumerate() {
        // Arrange: a charge really in flight (it holds its claim in PostgreSQL), whose
        // marker is made to look like a dead node's.
        let key = format!("orphan-{round}");
        let lock = app.lock_user_row(user).await;
        let first = spawn_charge(&app, user, &key);
        app.wait_for_lock_waiter().await;
        let mut orphan = marker(&app, user, &key).await;
        assert!(
            orphan["node"].is_string(),
            "a marker names its node: {orphan}"
        );
        match node {
            Some(node) => orphan["node"] = node.into(),
            None => drop(orphan.as_object_mut().unwrap().remove("node")),
        }
        let name = marker_key(&app, user, &key);
        assert_eq!(
            app.redis(&["SET", &name, &orphan.to_string(), "KEEPTTL"])
                .await,
            "OK"
        );

        // Act: a retry takes the marker over at once, and waits in PostgreSQL for the
        // transaction that really holds the key.
        let retry = spawn_charge(&app, user, &key);
        let taken = eventually(Duration::from_secs(5), || async {
            marker(&app, user, &key).await != orphan
        })
        .await;
        assert!(taken, "the retry took the orphaned marker over");
        lock.release().await;

        // Assert: one charge, whose answer the retry replays.
        let (status, replayed, body) = first.await.unwrap();
        assert_eq!((status, replayed), (200, false));
        let (status, replayed, again) = retry.await.unwrap();
        assert_eq!(
            (status, replayed),
            (200, true),
            "not 409 IDEMPOTENCY_KEY_IN_USE"
        );
        assert_eq!(body, again);
        assert_eq!(app.balance(user).await, 5_000 * (round as i64 + 1));
    }
    let taken = removed_markers(&app, "taken_over").await;
    assert_eq!(taken, 2.0);
}

#[tokio::test]
async fn a_request_dropped_at_its_deadline_frees_its_key_at_once() {
    // Arrange: a one-second request deadline, and a charge that waits past it.
    let app = spawn_app_with(|s| s.request_timeout_secs = 1).await;
    let user = app.create_user("a", 0).await;
    let lock = app.lock_user_row(user).await;
    let cut = app
        .charge(user, &json!({"chargeAmount": 5_000}), Some("dropped"))
        .await;
    assert_eq!(cut.status(), 408);

    // Act: the dropped request's marker goes without waiting for its expiry.
    let freed = eventually(Duration::from_secs(3), || async {
        marker(&app, user, "dropped").await.is_null()
    })
    .await;
    lock.release().await;

    // Assert: the key is free, and the charge applies once.
    assert!(freed, "the dropped request's marker was removed");
    let released = removed_markers(&app, "released").await;
    assert_eq!(released, 1.0);
    let (status, _, body) = answer_parts(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("dropped"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "not 409 IDEMPOTENCY_KEY_IN_USE");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["amount"],
        5_000
    );
    assert_eq!(app.balance(user).await, 5_000);
    assert_eq!(app.history_rows(user).await, 1);
}
