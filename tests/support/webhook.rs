//! A webhook receiver of the test's own, standing in for the notification endpoint the
//! consumer calls.

use serde_json::Value;
use tokio::task::JoinHandle;

/// A webhook receiver of the test's own: records every notification it accepts (with its
/// `Idempotency-Key`), and answers 500 to the first `fail_first` attempts (or, after
/// [`Webhook::recover`], to none).
pub struct Webhook {
    /// Its URL.
    pub url: String,
    state: std::sync::Arc<WebhookState>,
    server: JoinHandle<()>,
}

#[derive(Default)]
struct WebhookState {
    fail_first: std::sync::atomic::AtomicUsize,
    attempts: std::sync::atomic::AtomicUsize,
    accepted: std::sync::Mutex<Vec<(String, Value)>>,
    traceparents: std::sync::Mutex<Vec<Option<String>>>,
}

impl Webhook {
    /// Starts on a free port; `fail_first = usize::MAX` fails every attempt.
    pub async fn start(fail_first: usize) -> Self {
        use axum::{Json, extract::State, http::HeaderMap, routing::post};
        let state = std::sync::Arc::new(WebhookState {
            fail_first: fail_first.into(),
            ..WebhookState::default()
        });
        async fn receive(
            State(state): State<std::sync::Arc<WebhookState>>,
            headers: HeaderMap,
            Json(body): Json<Value>,
        ) -> axum::http::StatusCode {
            let attempt = state
                .attempts
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if attempt < state.fail_first.load(std::sync::atomic::Ordering::SeqCst) {
                return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            }
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let traceparent = headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            state.accepted.lock().expect("lock").push((key, body));
            state.traceparents.lock().expect("lock").push(traceparent);
            axum::http::StatusCode::OK
        }
        let app = axum::Router::new()
            .route("/notify", post(receive))
            .with_state(state.clone());
        let (address, server) = crate::serve_locally(app).await;
        Self {
            url: format!("http://{address}/notify"),
            state,
            server,
        }
    }

    /// Accepts every attempt from now on.
    pub fn recover(&self) {
        self.state
            .fail_first
            .store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// Attempts received so far (accepted or not).
    pub fn attempts(&self) -> usize {
        self.state
            .attempts
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The accepted notifications: `(Idempotency-Key, body)`.
    pub fn accepted(&self) -> Vec<(String, Value)> {
        self.state.accepted.lock().expect("lock").clone()
    }

    /// The `traceparent` header of each accepted notification, in the order accepted.
    pub fn traceparents(&self) -> Vec<Option<String>> {
        self.state.traceparents.lock().expect("lock").clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}
