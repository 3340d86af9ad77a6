//! Success responses: JSON bodies, the bytes an idempotency record keeps, and sending a
//! recorded response again. Errors are rendered in [`problem`](super::problem) alone.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::Serialize;

use crate::{
    idempotency::StoredResponse,
    service::{Answer, Origin},
};

/// A 201 with a JSON body.
pub fn created(value: &impl Serialize) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

/// Renders a JSON body as the bytes an idempotency record keeps.
pub fn stored_json(status: StatusCode, value: &impl Serialize) -> StoredResponse {
    StoredResponse {
        status: status.as_u16(),
        content_type: "application/json".into(),
        body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
    }
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
