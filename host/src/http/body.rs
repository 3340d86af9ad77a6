//! Request bodies are read whole, within a deadline and a size limit, before the request goes
//! on to the concurrency limit and its handler. A client that trickles a body therefore holds
//! no concurrency permit while it does, and loses its connection at the deadline (408, then
//! closed) instead of keeping it.
//!
//! It reads bytes and nothing more: parsing, media types and each route's own size limit stay
//! with the extractors, which then read the buffered body. The request deadline
//! (`EDGECART_REQUEST_TIMEOUT_SECS`, outside this layer) still bounds body and handler
//! together.

use std::time::Duration;

use axum::{
    body::{Body, HttpBody},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::problem::ApiError;

/// How much of a body is read, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// The largest body read; a larger one is refused with 413.
    pub max_bytes: usize,
    /// How long the whole body may take to arrive, counted once the headers are in.
    pub deadline: Duration,
}

/// Middleware: replaces the streaming body with the whole body, read within `limits`. A body
/// that misses the deadline gets 408 with `Connection: close`; one over the size limit gets
/// 413; one the client breaks off gets 400.
pub async fn buffer(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    // A declared length over the limit is refused without reading a byte.
    let declared = body.size_hint().lower();
    if usize::try_from(declared).map_or(true, |declared| declared > limits.max_bytes) {
        return ApiError::TooLarge.into_response();
    }
    let read = Limited::new(body, limits.max_bytes).collect();
    match tokio::time::timeout(limits.deadline, read).await {
        Ok(Ok(collected)) => {
            let body = Body::from(collected.to_bytes());
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            ApiError::TooLarge.into_response()
        }
        Ok(Err(_)) => ApiError::InvalidBody("the body could not be read").into_response(),
        Err(_elapsed) => {
            // The problem+json layer gives the bare status its body and keeps the header;
            // hyper closes the connection whose body was left unread in any case.
            let mut response = StatusCode::REQUEST_TIMEOUT.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}
