//! Everything that uses Redis, on a three-master Redis Cluster the test starts itself
//! (`EDGECART_REDIS_URL=redis-cluster://h1:p1,h2:p2,h3:p3`): idempotent charges (replays, a key
//! in flight on a live node, markers of dead nodes taken over), plugin and product
//! announcements across two nodes, event delivery through the stream's consumer group, and dead
//! letters redriven by the CLI.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{
    RedisCluster, TestApp, Webhook, answer_parts, eventually, spawn_app_with, spawn_notifying_on,
};
use serde_json::json;

use crate::{dead_letters, events::deliveries, in_flight_keys, plugin_nodes, product_cache};

/// A node on `cluster`, with `configure` applied after.
async fn node_on(
    cluster: &RedisCluster,
    configure: impl FnOnce(&mut edgecart::config::Settings),
) -> TestApp {
    let url = cluster.url();
    spawn_app_with(move |s| {
        s.redis_url = url.into();
        configure(s);
    })
    .await
}

#[tokio::test]
async fn charges_replay_and_refuse_reuse_through_the_cluster() {
    let cluster = RedisCluster::start().await;
    let a = node_on(&cluster, |_| {}).await;
    let b = a.spawn_node().await;
    let user = a.create_user("a", 0).await;
    let body = json!({"chargeAmount": 5_000});

    let (status, replayed, first) = answer_parts(a.charge(user, &body, Some("k")).await).await;
    assert_eq!((status, replayed), (200, false));
    // The answer is remembered in the cluster, under the key's slot.
    let remembered = a.redis_key(&format!("idem:{user}:k"));
    assert_eq!(a.redis(&["EXISTS", &remembered]).await, "1");
    let (status, replayed, again) = answer_parts(b.charge(user, &body, Some("k")).await).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(first, again);
    let other = json!({"chargeAmount": 6_000});
    assert_eq!(b.charge(user, &other, Some("k")).await.status(), 422);
    assert_eq!(a.balance(user).await, 5_000);
    assert!(
        a.metric("edgecart_redis_errors_total", &[]).await == 0.0,
        "no command failed on the cluster"
    );
}

#[tokio::test]
async fn a_key_in_flight_on_a_live_node_is_refused_on_every_node_of_the_cluster() {
    let cluster = RedisCluster::start().await;
    in_flight_keys::a_live_marker_blocks_on_every_node(Arc::new(node_on(&cluster, |_| {}).await))
        .await;
}

#[tokio::test]
async fn markers_of_dead_nodes_are_taken_over_on_the_cluster() {
    let cluster = RedisCluster::start().await;
    in_flight_keys::orphaned_markers_are_taken_over(Arc::new(node_on(&cluster, |_| {}).await))
        .await;
}

#[tokio::test]
async fn plugin_changes_reach_another_node_through_the_cluster() {
    let cluster = RedisCluster::start().await;
    // No PostgreSQL check within the test: only the announcement can tell node B in time.
    let a = node_on(&cluster, |s| s.plugins.sync_ms = 3_600_000).await;
    plugin_nodes::changes_hold_on_every_node_within_a_second(&a).await;
}

#[tokio::test]
async fn product_changes_reach_another_node_through_the_cluster() {
    let cluster = RedisCluster::start().await;
    let a = node_on(&cluster, |s| s.product_ttl_secs = 3_600).await;
    product_cache::announced_changes_reach_another_node(&a).await;
}

#[tokio::test]
async fn every_order_event_is_notified_once_through_the_clusters_stream() {
    let cluster = RedisCluster::start().await;
    let webhook = Webhook::start(0).await;
    let app = spawn_notifying_on(cluster.url(), &webhook, 200).await;
    let _second_consumer = app.spawn_node().await;
    app.place_orders(5).await;

    let delivered = eventually(Duration::from_secs(10), || async {
        deliveries(&webhook).len() == 5
    })
    .await;
    assert!(delivered, "{:?}", deliveries(&webhook));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(deliveries(&webhook).values().all(|count| *count == 1));
    assert_eq!(cluster.cli(&["XLEN", &app.event_stream()]).await, "5");
    let pending = cluster
        .cli(&["XPENDING", &app.event_stream(), "notifications"])
        .await;
    assert!(pending.starts_with('0'), "all acknowledged: {pending}");
}

#[tokio::test]
async fn dead_letters_wait_in_the_cluster_and_the_cli_redrives_them() {
    let cluster = RedisCluster::start().await;
    let webhook = Webhook::start(usize::MAX).await;
    let app = spawn_notifying_on(cluster.url(), &webhook, 200).await;
    app.place_orders(2).await;
    let dead = app.dead_stream();
    let dead_lettered = eventually(Duration::from_secs(10), || async {
        cluster.cli(&["XLEN", &dead]).await == "2"
    })
    .await;
    assert!(dead_lettered, "both events dead-lettered");
    assert!(webhook.accepted().is_empty());
    webhook.recover();

    let run = dead_letters::redrive(&cluster.url(), &app.settings.redis_prefix, &[]).await;
    assert!(run.success, "events redrive: {}", run.stderr);
    assert!(
        run.stdout.starts_with("moved 2 dead-lettered events"),
        "{}",
        run.stdout
    );

    let notified = eventually(Duration::from_secs(10), || async {
        deliveries(&webhook).len() == 2
    })
    .await;
    assert!(notified, "{:?}", deliveries(&webhook));
    assert_eq!(cluster.cli(&["XLEN", &dead]).await, "0");
    assert!(deliveries(&webhook).values().all(|count| *count == 1));
}
