//! Success responses: JSON bodies, the bytes an idempotency record keeps, and sending a
//! recorded response again. Errors are rendered in [`problem`](super::problem) alone.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::Serialize;

use super::problem;
use crate::{
    idempotency::StoredResponse,
    service::{self, Answer, Origin},
};

/// A 201 with a JSON body.
pub fn created(value: &impl Serialize) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

/// A JSON body's bytes. Serializing the API's views cannot fail (string keys, no custom
/// serializers); an empty body would show it if it ever did.
pub fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Renders a JSON body as the bytes an idempotency record keeps.
pub fn stored_json(status: StatusCode, value: &impl Serialize) -> StoredResponse {
    StoredResponse {
        status: status.as_u16(),
        content_type: "application/json".into(),
        body: Bytes::from(json_bytes(value)),
    }
}

/// The renderer of a use case's answer, for a batch to hold: `status` with the JSON of
/// `view(value)` for a success, the problem for an error.
pub fn shared<T, V: Serialize>(
    status: StatusCode,
    view: impl Fn(&T) -> V + Send + Sync + 'static,
) -> service::SharedRender<T> {
    std::sync::Arc::new(move |outcome| match outcome {
        Ok(value) => stored_json(status, &view(value)),
        Err(error) => problem::stored_problem(error),
    })
}

/// Sends a rendered answer; a replay carries `Idempotent-Replayed: true`.
pub fn answer(done: Answer) -> Response {
    let StoredResponse {
        status,
        content_type,
        body,
    } = done.response;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if done.origin == Origin::Replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
