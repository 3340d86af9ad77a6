//! Order events leave through the transactional outbox: the [`relay`] moves committed outbox
//! rows to the Redis stream `<prefix>events`, and the [`consumer`] (consumer group
//! `notifications`) turns each event into a notification through a [`sink`], once. An event
//! that failed every attempt waits in the dead-letter stream `<prefix>events:dead` until
//! [`dead_letters`] moves it back (`edgecart events redrive`); its length is a gauge.
//!
//! Delivery is at least once (a relay that dies between publishing and marking publishes
//! again); the effect is once per event id (the consumer remembers what it notified, and a
//! webhook gets the event id as its `Idempotency-Key`).

pub mod consumer;
pub mod dead_letters;
pub mod relay;
pub mod signal;
pub mod sink;

use std::collections::HashMap;

use crate::telemetry::context::TRACEPARENT;

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
    /// The W3C trace context to continue, when traces are exported (stream field
    /// `traceparent`, absent otherwise).
    pub traceparent: Option<String>,
}

impl Event {
    /// The event a stream entry's fields carry, or `None` when `id`, `type` or `payload` is
    /// missing or the id is not a number (`at` may be missing: it reads as empty).
    pub fn from_fields(fields: &HashMap<String, String>) -> Option<Self> {
        Some(Self {
            id: fields.get("id")?.parse().ok()?,
            event_type: fields.get("type")?.clone(),
            payload: fields.get("payload")?.clone(),
            at: fields.get("at").cloned().unwrap_or_default(),
            traceparent: fields.get(TRACEPARENT).cloned(),
        })
    }

    /// The entry's fields on the stream: `id`, `type`, `payload`, `at` and, when there is
    /// one, `traceparent`.
    pub fn stream_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("id", self.id.to_string()),
            ("type", self.event_type.clone()),
            ("payload", self.payload.clone()),
            ("at", self.at.clone()),
        ];
        fields.extend(self.traceparent.clone().map(|t| (TRACEPARENT, t)));
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_event_reads_back_from_the_fields_it_is_written_as() {
        let event = Event {
            id: 42,
            event_type: "order.paid".into(),
            payload: r#"{"orderId":7}"#.into(),
            at: "2026-01-02T03:04:05.678Z".into(),
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        };
        let written: HashMap<String, String> = event
            .stream_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(Event::from_fields(&written), Some(event));
    }

    #[test]
    fn fields_without_an_id_type_or_payload_are_no_event() {
        let whole = [("id", "1"), ("type", "order.paid"), ("payload", "{}")];
        assert_eq!(
            Event::from_fields(&fields(&whole)).map(|e| e.at),
            Some(String::new())
        );
        for missing in ["id", "type", "payload"] {
            let partial: Vec<_> = whole
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            assert_eq!(Event::from_fields(&fields(&partial)), None, "{missing}");
        }
        let junk = [("id", "x"), ("type", "order.paid"), ("payload", "{}")];
        assert_eq!(Event::from_fields(&fields(&junk)), None);
    }
}
