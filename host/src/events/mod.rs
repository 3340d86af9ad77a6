//! Order events leave through the transactional outbox: the [`relay`] moves committed outbox
//! rows to the Redis stream `<prefix>events`, and the [`consumer`] (consumer group
//! `notifications`) turns each event into a notification through a [`sink`], once.
//!
//! Delivery is at least once (a relay that dies between publishing and marking publishes
//! again); the effect is once per event id (the consumer remembers what it notified, and a
//! webhook gets the event id as its `Idempotency-Key`).

pub mod consumer;
pub mod relay;
pub mod signal;
pub mod sink;

/// The stream events are published on (after the Redis prefix).
pub const STREAM: &str = "events";
/// Where events that failed every delivery attempt go (after the Redis prefix).
pub const DEAD_STREAM: &str = "events:dead";
/// The consumer group of the notification consumer.
pub const GROUP: &str = "notifications";

/// An event as it travels on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The outbox id: the identity consumers deduplicate by.
    pub id: i64,
    /// `order.paid`, `order.cancelled`, …
    pub event_type: String,
    /// The payload as JSON text.
    pub payload: String,
    /// When the causing transaction stored it (RFC 3339, milliseconds).
    pub at: String,
}

impl Event {
    /// The entry's fields on the stream: `id`, `type`, `payload` and `at`.
    pub fn stream_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("id", self.id.to_string()),
            ("type", self.event_type.clone()),
            ("payload", self.payload.clone()),
            ("at", self.at.clone()),
        ]
    }
}
