//! The deadline of a request, body and handler together: `EDGECART_REQUEST_TIMEOUT_SECS` for
//! every route but a plugin upload, which compiles the component before it answers and gets
//! `EDGECART_PLUGIN_UPLOAD_TIMEOUT_SECS` (a JavaScript rule carries a 12 MB engine). Past it
//! the client gets 408. A compile cut off this way still finishes and is cached, so the same
//! upload sent again answers quickly.

use std::time::Duration;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The route whose requests get [`Deadlines::upload`].
pub const UPLOAD_ROUTE: &str = "/admin/v1/plugins/{name}/versions";

/// How long requests may take.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Every request but an upload.
    pub request: Duration,
    /// A plugin upload (`POST` [`UPLOAD_ROUTE`]).
    pub upload: Duration,
}

impl Deadlines {
    /// The deadline of a `method` request to the route `matched` (`None`: no route matched).
    fn of(&self, method: &Method, matched: Option<&str>) -> Duration {
        if method == Method::POST && matched == Some(UPLOAD_ROUTE) {
            self.upload.max(self.request)
        } else {
            self.request
        }
    }
}

/// Middleware: runs the request within its deadline, or answers 408 (the problem+json layer
/// gives the bare status its body).
pub async fn limit(State(deadlines): State<Deadlines>, request: Request, next: Next) -> Response {
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let deadline = deadlines.of(request.method(), matched);
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_upload_gets_the_upload_deadline() {
        let deadlines = Deadlines {
            request: Duration::from_secs(10),
            upload: Duration::from_secs(120),
        };
        let upload = Some(UPLOAD_ROUTE);
        assert_eq!(
            deadlines.of(&Method::POST, upload),
            Duration::from_secs(120)
        );
        assert_eq!(deadlines.of(&Method::GET, upload), Duration::from_secs(10));
        assert_eq!(
            deadlines.of(&Method::POST, Some("/api/v1/orders")),
            Duration::from_secs(10)
        );
        assert_eq!(deadlines.of(&Method::POST, None), Duration::from_secs(10));
        let shorter = Deadlines {
            upload: Duration::from_secs(1),
            ..deadlines
        };
        assert_eq!(
            shorter.of(&Method::POST, upload),
            Duration::from_secs(10),
            "never shorter"
        );
    }
}
