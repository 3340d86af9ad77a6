//! Admission of API and admin requests, in front of their handlers: the whole body is read,
//! within a deadline and a size limit, and only then is a concurrency permit taken; past the
//! limit the request is shed at once (503 + `Retry-After`) instead of queueing into timeouts.
//! A client that trickles a body therefore holds no permit while it does, and loses its
//! connection at the deadline (408, then closed) instead of keeping it.
//!
//! It reads bytes and nothing more: parsing, media types and each route's own size limit stay
//! with the extractors, which then read the buffered body. The request deadline
//! (`EDGECART_REQUEST_TIMEOUT_SECS`, outside this layer) still bounds body and handler
//! together. One middleware does both steps, so a request without a body (every read) pays
//! for one layer and a semaphore's try, nothing more.

use std::{sync::Arc, time::Duration};

use axum::{
    body::{Body, HttpBody},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::Semaphore;

use super::problem::{self, ApiError};

/// How much of a body is read, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// The largest body read; a larger one is refused with 413.
    pub max_bytes: usize,
    /// How long the whole body may take to arrive, counted once the headers are in.
    pub deadline: Duration,
}

/// What [`admit`] checks: the body's limits and the node's concurrency permits (shared by the
/// API and the admin API).
#[derive(Debug, Clone)]
pub struct Admission {
    /// Limits of the body read.
    pub bodies: BodyLimits,
    /// Permits of requests in their handlers, `EDGECART_MAX_CONCURRENT_REQUESTS` in all.
    pub permits: Arc<Semaphore>,
}

/// Middleware: replaces the streaming body with the whole body, read within the limits, then
/// runs the request under a concurrency permit, or sheds it (503 `OVERLOADED`) when none is
/// free.
pub async fn admit(State(admission): State<Admission>, request: Request, next: Next) -> Response {
    let request = match read_whole(request, admission.bodies).await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let Ok(_permit) = admission.permits.try_acquire() else {
        return problem::overloaded();
    };
    next.run(request).await
}

/// The request with its whole body read within `limits`. A body that misses the deadline gets
/// 408 with `Connection: close`; one over the size limit gets 413; one the client breaks off
/// gets 400.
async fn read_whole(request: Request, limits: BodyLimits) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        return Ok(Request::from_parts(parts, body));
    }
    // A declared length over the limit is refused without reading a byte.
    let declared = body.size_hint().lower();
    if usize::try_from(declared).map_or(true, |declared| declared > limits.max_bytes) {
        return Err(ApiError::TooLarge.into_response());
    }
    let read = Limited::new(body, limits.max_bytes).collect();
    match tokio::time::timeout(limits.deadline, read).await {
        Ok(Ok(collected)) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::TooLarge.into_response())
        }
        Ok(Err(_)) => Err(ApiError::InvalidBody("the body could not be read").into_response()),
        Err(_elapsed) => {
            // The problem+json layer gives the bare status its body and keeps the header;
            // hyper closes the connection whose body was left unread in any case.
            let mut response = StatusCode::REQUEST_TIMEOUT.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(response)
        }
    }
}
