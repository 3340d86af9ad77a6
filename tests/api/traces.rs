//! One trace from an order to its notification: a real `edgecart serve` exporting its spans
//! over OTLP/HTTP to a receiver of the test's own continues the client's `traceparent`
//! through the order's transaction, the outbox, the relay and the consumer, and the webhook
//! request carries the same trace.

use std::time::Duration;

use edgecart_tests::{OtlpReceiver, ServerProcess, Webhook, eventually, spawn_app_with};
use serde_json::json;

/// The trace the client started (W3C trace context's own example ids).
const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test]
async fn an_order_and_its_notification_share_the_clients_trace() {
    let receiver = OtlpReceiver::start().await;
    let webhook = Webhook::start(0).await;
    let url = webhook.url.clone();
    // This in-process node only prepares the database; the traced node is a real process.
    let setup = spawn_app_with(move |s| {
        s.relay_enabled = false;
        s.consumer_enabled = false;
        s.webhook_url = Some(url);
    })
    .await;
    let user = setup.create_user("a", 10_000).await;
    let product = setup.create_product("p", 1_000, 10).await;
    let server = ServerProcess::start_with_env(
        &setup.settings,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await;

    let order = reqwest::Client::new()
        .post(format!("{}/api/v1/orders", server.address))
        .header(
            "traceparent",
            format!("00-{CLIENT_TRACE}-00f067aa0ba902b7-01"),
        )
        .json(&json!({"user_id": user, "paymentAmount": 1_000,
                      "products": [{"id": product, "quantity": 1}]}))
        .send()
        .await
        .expect("order sent");
    assert_eq!(order.status(), 201);

    // The notification arrives with a traceparent of the client's trace.
    let notified = eventually(Duration::from_secs(15), || async {
        !webhook.accepted().is_empty()
    })
    .await;
    assert!(notified, "no notification reached the webhook");
    let traceparent = webhook.traceparents().first().cloned().flatten();
    let traceparent = traceparent.expect("the webhook request carries a traceparent");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[1], CLIENT_TRACE, "{traceparent}");

    // The collector holds the request, its transaction, the relay and the consumer's
    // notification, all in that trace, and the webhook's parent is the notification span.
    let expected = [
        "request",
        "sql.transaction",
        "events.relay",
        "events.notify",
    ];
    let complete = eventually(Duration::from_secs(15), || async {
        let spans = receiver.spans();
        expected.iter().all(|name| {
            spans
                .iter()
                .any(|s| s.name == *name && s.trace_id == CLIENT_TRACE)
        })
    })
    .await;
    let spans = receiver.spans();
    assert!(complete, "spans of the trace: {spans:#?}");
    let notify = spans
        .iter()
        .find(|s| s.name == "events.notify" && s.trace_id == CLIENT_TRACE)
        .expect("the notification span");
    assert_eq!(parts[2], notify.span_id, "the webhook call's parent");
    server.kill().await;
}
