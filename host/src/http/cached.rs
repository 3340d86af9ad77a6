//! Sending answers served from the node's caches ([`crate::cache`]) with HTTP revalidation,
//! the one place these headers are made: `ETag` (the answer's tag, derived from its bytes,
//! so the same on every node), `Cache-Control: public, max-age=N, stale-if-error=S`,
//! `Vary: Accept-Encoding` (large answers are compressed when the client asks), `Age` when
//! the answer is served past its freshness because PostgreSQL is unreachable, and 304 with
//! no body when `If-None-Match` names the current tag (or `*`).

use std::convert::Infallible;

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};

use crate::cache::{Bounds, Served};

/// The `Cache-Control` value of answers kept within `bounds`.
fn cache_control(bounds: Bounds) -> String {
    format!(
        "public, max-age={}, stale-if-error={}",
        bounds.fresh.as_secs(),
        bounds.stale_if_error.as_secs()
    )
}

/// Extractor: the request's `If-None-Match` values (none, most often), copied without the
/// rest of the headers.
#[derive(Debug, Default)]
pub struct IfNoneMatch(Vec<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let values = parts.headers.get_all(header::IF_NONE_MATCH);
        Ok(Self(values.iter().cloned().collect()))
    }
}

impl IfNoneMatch {
    /// Whether it names `etag` (weak comparison, as RFC 9110 says for it) or is `*`.
    fn names(&self, etag: &str) -> bool {
        self.0
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == etag || tag == "*")
    }
}

/// The response to a GET of a cached answer: 200 with its JSON body, or 304 without one when
/// the request's `If-None-Match` names it; both with the revalidation headers.
pub fn respond(served: &Served, bounds: Bounds, request: &IfNoneMatch) -> Response {
    let rendered = served.rendered();
    let etag = format!("\"{}\"", rendered.tag());
    let mut response = if request.names(&etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/json")],
            rendered.body().clone(),
        )
            .into_response()
    };
    let headers = response.headers_mut();
    // The tag is hex and the others are digits and ASCII: they always make header values.
    if let (Ok(etag), Ok(control)) = (
        HeaderValue::from_str(&etag),
        HeaderValue::from_str(&cache_control(bounds)),
    ) {
        headers.insert(header::ETAG, etag);
        headers.insert(header::CACHE_CONTROL, control);
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(age) = served.stale_age() {
        headers.insert(header::AGE, HeaderValue::from(age.as_secs()));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_none_match(value: &str) -> IfNoneMatch {
        IfNoneMatch(vec![HeaderValue::from_str(value).unwrap()])
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_the_wildcard() {
        let tag = "\"abc\"";
        assert!(if_none_match("\"abc\"").names(tag));
        assert!(if_none_match("W/\"abc\"").names(tag));
        assert!(if_none_match("\"x\", \"abc\"").names(tag));
        assert!(if_none_match("*").names(tag));
        assert!(!if_none_match("\"abcd\"").names(tag));
        assert!(!IfNoneMatch::default().names(tag));
    }
}
