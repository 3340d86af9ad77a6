//! Where a notification goes: a log line (the default), or an HTTP webhook with a timeout,
//! retried with exponential backoff. The notification is the seed's 알림톡: a short message
//! for the customer plus the event itself.

use std::time::Duration;

use serde_json::{Value, json};

use super::Event;
use crate::telemetry::context;

/// A notification target.
#[derive(Clone, Debug)]
pub enum Sink {
    /// Writes one log line per notification.
    Log,
    /// POSTs the notification as JSON to a URL, with the event id as `Idempotency-Key` (and
    /// the trace's `traceparent` when traces are exported).
    Webhook {
        /// The client (its timeout is the per-attempt timeout).
        client: reqwest::Client,
        /// Where to POST.
        url: String,
    },
}

/// Why a notification could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The webhook could not be reached, or did not answer in time.
    #[error("the webhook request failed")]
    Request(#[from] reqwest::Error),
    /// The webhook answered with an error status.
    #[error("the webhook answered {0}")]
    Status(reqwest::StatusCode),
}

/// The webhook client could not be built (TLS set-up failed).
#[derive(Debug, thiserror::Error)]
#[error("the webhook client could not be built")]
pub struct SinkError(#[from] reqwest::Error);

impl Sink {
    /// The log sink, or a webhook when `url` is given.
    pub fn new(url: Option<&str>, timeout: Duration) -> Result<Self, SinkError> {
        match url.filter(|u| !u.is_empty()) {
            None => Ok(Sink::Log),
            Some(url) => Ok(Sink::Webhook {
                client: reqwest::Client::builder().timeout(timeout).build()?,
                url: url.to_owned(),
            }),
        }
    }

    /// Sends one notification (one attempt).
    pub async fn send(&self, event: &Event) -> Result<(), SendError> {
        let notification = notification(event);
        match self {
            Sink::Log => {
                tracing::info!(event_id = event.id, event_type = %event.event_type, message = %notification["message"].as_str().unwrap_or_default(), "notification");
                Ok(())
            }
            Sink::Webhook { client, url } => {
                let mut trace = http::HeaderMap::new();
                context::inject_into(&mut trace);
                let response = client
                    .post(url)
                    .headers(trace)
                    .header("Idempotency-Key", event.id.to_string())
                    .json(&notification)
                    .send()
                    .await?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(SendError::Status(response.status()))
                }
            }
        }
    }
}

/// The notification for an event: the message a customer reads, and the event.
fn notification(event: &Event) -> Value {
    let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let order = payload["orderId"].as_i64().unwrap_or_default();
    let amount = payload["totalAmount"].as_i64().unwrap_or_default();
    let message = match event.event_type.as_str() {
        "order.paid" => format!("주문 {order}번이 결제되었습니다. 결제 금액: {amount}원"),
        "order.cancelled" => format!("주문 {order}번이 취소되었습니다. 환불 금액: {amount}원"),
        other => format!("이벤트 {other}"),
    };
    json!({
        "eventId": event.id,
        "type": event.event_type,
        "occurredAt": event.at,
        "message": message,
        "payload": payload,
    })
}
