//! Assertions on answers: problem+json bodies (exact or any 4xx), the parts a replay is
//! compared by, and [`eventually`] for conditions that hold after a while.

use std::time::Duration;

use reqwest::{Response, header::CONTENT_TYPE};
use serde_json::Value;

/// Status, `Idempotent-Replayed` header and body bytes of an answer.
pub async fn answer_parts(response: Response) -> (u16, bool, bytes::Bytes) {
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    (status, replayed, response.bytes().await.expect("body"))
}

/// Checks the problem+json media type and returns the parsed body.
async fn problem_body(response: Response, what: &str) -> Value {
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "content type for {what}"
    );
    response.json().await.expect("problem body is JSON")
}

/// Asserts a problem+json answer: status, media type, `code` and `detail`. Returns the body.
pub async fn assert_problem(response: Response, status: u16, code: &str, detail: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status for {code}");
    let body = problem_body(response, code).await;
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["detail"], detail, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], "about:blank", "{body}");
    body
}

/// Asserts any 4xx problem+json answer (for the bad-input battery).
pub async fn assert_client_error(response: Response, what: &str) -> Value {
    let status = response.status();
    assert!(
        status.is_client_error(),
        "{what}: expected 4xx, got {status}"
    );
    let body = problem_body(response, what).await;
    assert_eq!(body["status"], status.as_u16(), "{what}: {body}");
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: {body}"
    );
    body
}

/// Polls `check` every 50 ms until it holds or `within` passes; returns whether it held.
pub async fn eventually<F: Future<Output = bool>>(
    within: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
