//! Sending answers served from the node's caches ([`crate::cache`]) with HTTP revalidation,
//! the one place these headers are made: `ETag` (the answer's tag, derived from its bytes,
//! so the same on every node), `Cache-Control: public, max-age=N, stale-if-error=S`,
//! `Vary: Accept-Encoding` (large answers are compressed when the client asks), `Age` when
//! the answer is served past its freshness because PostgreSQL is unreachable, and 304 with
//! no body when `If-None-Match` names the current tag (or `*`).

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
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

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 says for it) or is `*`.
fn unchanged(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// The response to a GET of a cached answer: 200 with its JSON body, or 304 without one when
/// the request's `If-None-Match` names it; both with the revalidation headers.
pub fn respond(served: &Served, bounds: Bounds, request: &HeaderMap) -> Response {
    let rendered = served.rendered();
    let etag = format!("\"{}\"", rendered.tag());
    let mut response = if unchanged(request, &etag) {
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

    fn if_none_match(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_the_wildcard() {
        let tag = "\"abc\"";
        assert!(unchanged(&if_none_match("\"abc\""), tag));
        assert!(unchanged(&if_none_match("W/\"abc\""), tag));
        assert!(unchanged(&if_none_match("\"x\", \"abc\""), tag));
        assert!(unchanged(&if_none_match("*"), tag));
        assert!(!unchanged(&if_none_match("\"abcd\""), tag));
        assert!(!unchanged(&HeaderMap::new(), tag));
    }
}
