//! Event delivery as the tests set it up: a server on a Redis of the test's own notifying a
//! webhook of the test's own, paid orders to make events, and the names of its streams.

use serde_json::{Value, json};

use crate::{PrivateRedis, TestApp, Webhook, spawn_app_with};

/// A server on `redis` notifying `webhook`: three attempts 10 ms apart, pending entries
/// taken over after a second, the outbox polled every `poll_ms`.
pub async fn spawn_notifying(redis: &PrivateRedis, webhook: &Webhook, poll_ms: u64) -> TestApp {
    spawn_notifying_on(redis.url(), webhook, poll_ms).await
}

/// [`spawn_notifying`] on the Redis (or Redis Cluster) at `redis_url`.
pub async fn spawn_notifying_on(redis_url: String, webhook: &Webhook, poll_ms: u64) -> TestApp {
    let webhook_url = webhook.url.clone();
    spawn_app_with(move |s| {
        s.redis_url = redis_url.into();
        s.webhook_url = Some(webhook_url);
        s.outbox_poll_ms = poll_ms;
        s.consumer_max_attempts = 3;
        s.consumer_backoff_ms = 10;
        s.consumer_claim_idle_ms = 1_000;
    })
    .await
}

impl TestApp {
    /// Places `count` paid orders (one new user and product for them all) and returns their
    /// ids.
    pub async fn place_orders(&self, count: usize) -> Vec<i64> {
        let user = self.create_user("a", 100_000_000).await;
        let product = self.create_product("p", 1_000, 1_000_000).await;
        let mut ids = Vec::new();
        for _ in 0..count {
            let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
            let response = self.order(&body, None).await;
            assert_eq!(response.status(), 201);
            let order: Value = response.json().await.expect("order json");
            ids.push(order["orderId"].as_i64().expect("orderId"));
        }
        ids
    }

    /// The event stream's key (`<prefix>events`).
    pub fn event_stream(&self) -> String {
        format!("{}events", self.settings.redis_prefix)
    }

    /// The dead-letter stream's key (`<prefix>events:dead`).
    pub fn dead_stream(&self) -> String {
        format!("{}events:dead", self.settings.redis_prefix)
    }
}
