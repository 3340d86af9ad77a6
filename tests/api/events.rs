//! Order events: the outbox relay publishes them to the Redis stream, and the notification
//! consumer delivers each one's notification once, through retries, dead letters, Redis
//! outages and several nodes.

use std::{collections::HashMap, time::Duration};

use edgecart_tests::{PrivateRedis, Webhook, eventually, spawn_app_with, spawn_notifying};

/// Accepted notifications per event id.
pub(crate) fn deliveries(webhook: &Webhook) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for (key, _) in webhook.accepted() {
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn an_order_event_reaches_the_stream_and_is_notified_once() {
    let redis = PrivateRedis::start().await;
    let webhook = Webhook::start(0).await;
    // A one-minute poll: only the wake-up after the commit can deliver within the wait below.
    let app = spawn_notifying(&redis, &webhook, 60_000).await;
    let orders = app.place_orders(1).await;

    assert!(
        eventually(Duration::from_secs(5), || async {
            webhook.accepted().len() == 1
        })
        .await
    );
    let (key, body) = &webhook.accepted()[0];
    let event_id = app.scalar("SELECT max(id) FROM outbox").await;
    assert_eq!(key, &event_id.to_string());
    assert_eq!(body["type"], "order.paid");
    assert_eq!(body["payload"]["orderId"], orders[0]);
    assert!(body["message"].as_str().unwrap().contains("결제"));
    assert_eq!(redis.cli(&["XLEN", &app.event_stream()]).await, "1");
    let fields = redis.cli(&["XRANGE", &app.event_stream(), "-", "+"]).await;
    for field in ["id", "type", "payload", "order.paid"] {
        assert!(fields.contains(field), "{fields}");
    }
    assert_eq!(
        app.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        0
    );
    assert!(
        eventually(Duration::from_secs(2), || async {
            app.metric("edgecart_consumer_events_total", &[("result", "processed")])
                .await
                == 1.0
        })
        .await
    );
}

#[tokio::test]
async fn a_webhook_that_fails_twice_then_succeeds_gets_the_notification_once() {
    let redis = PrivateRedis::start().await;
    let webhook = Webhook::start(2).await;
    let app = spawn_notifying(&redis, &webhook, 200).await;
    app.place_orders(1).await;

    assert!(
        eventually(Duration::from_secs(5), || async {
            webhook.accepted().len() == 1
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(webhook.accepted().len(), 1);
    assert_eq!(webhook.attempts(), 3);
    assert_eq!(
        app.metric("edgecart_consumer_events_total", &[("result", "retried")])
            .await,
        2.0
    );
}

#[tokio::test]
async fn a_webhook_that_always_fails_gets_the_event_dead_lettered_after_the_last_attempt() {
    let redis = PrivateRedis::start().await;
    let webhook = Webhook::start(usize::MAX).await;
    let app = spawn_notifying(&redis, &webhook, 200).await;
    app.place_orders(1).await;

    let dead = app.dead_stream();
    assert!(
        eventually(Duration::from_secs(5), || async {
            redis.cli(&["XLEN", &dead]).await == "1"
        })
        .await
    );
    assert_eq!(webhook.attempts(), 3);
    assert!(webhook.accepted().is_empty());
    // Acknowledged: nothing stays pending in the group.
    let pending = redis
        .cli(&["XPENDING", &app.event_stream(), "notifications"])
        .await;
    assert!(pending.starts_with('0'), "{pending}");
}

#[tokio::test]
async fn orders_go_on_while_redis_is_down_and_every_event_arrives_once_when_it_is_back() {
    let mut redis = PrivateRedis::start().await;
    let webhook = Webhook::start(0).await;
    let app = spawn_notifying(&redis, &webhook, 200).await;
    app.place_orders(2).await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            webhook.accepted().len() == 2
        })
        .await
    );

    redis.stop().await;
    let during = app.place_orders(5).await;
    assert_eq!(during.len(), 5, "orders succeed without Redis");
    assert_eq!(
        app.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        5
    );

    redis.restart().await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            webhook.accepted().len() >= 7
        })
        .await,
        "delivered after Redis came back"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counts = deliveries(&webhook);
    assert_eq!(counts.len(), 7);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn two_relays_and_two_consumers_have_no_duplicate_effect() {
    let redis = PrivateRedis::start().await;
    let webhook = Webhook::start(0).await;
    let a = spawn_notifying(&redis, &webhook, 200).await;
    let b = a.spawn_node().await;
    let (first, second) = tokio::join!(a.place_orders(40), b.place_orders(40));
    assert_eq!(first.len() + second.len(), 80);

    assert!(
        eventually(Duration::from_secs(10), || async {
            webhook.accepted().len() >= 80
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counts = deliveries(&webhook);
    assert_eq!(counts.len(), 80);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(
        a.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn another_nodes_relay_is_woken_by_notify() {
    // Node a has no relay; node b relays, polling once a minute: a's NOTIFY after the commit
    // is what wakes b.
    let redis = PrivateRedis::start().await;
    let webhook = Webhook::start(0).await;
    let (redis_url, webhook_url) = (redis.url(), webhook.url.clone());
    let a = spawn_app_with(move |s| {
        s.redis_url = redis_url.into();
        s.webhook_url = Some(webhook_url);
        s.outbox_poll_ms = 60_000;
        s.relay_enabled = false;
    })
    .await;
    let mut settings_b = a.settings.clone();
    settings_b.relay_enabled = true;
    let b = {
        // The same database and Redis, with a relay.
        let settings = settings_b.clone();
        spawn_app_with(move |s| *s = settings).await
    };
    a.place_orders(3).await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            webhook.accepted().len() == 3
        })
        .await,
        "node b relayed node a's events"
    );
    assert_eq!(
        b.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        0
    );
}
