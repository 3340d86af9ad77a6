//! W3C trace context (`traceparent`) across process boundaries: a request continues its
//! caller's trace, an outbox event keeps the trace it was stored in, and the relay, the
//! consumer and the webhook call continue it, so one trace runs from an order to its
//! notification. Every function here does nothing while spans are not exported.

use std::collections::HashMap;

use opentelemetry::global;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::export::exporting;

/// The header (and stream field) that carries the trace context.
pub const TRACEPARENT: &str = "traceparent";

/// Makes `span` a child of the trace context in an incoming request's `headers`.
pub fn continue_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    if exporting() {
        let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
        let _ = span.set_parent(parent);
    }
}

/// Makes `span` a child of a `traceparent` stored or received earlier (none: a new trace).
pub fn continue_from(span: &tracing::Span, traceparent: Option<&str>) {
    if let (true, Some(traceparent)) = (exporting(), traceparent) {
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
        let parent = global::get_text_map_propagator(|p| p.extract(&carrier));
        let _ = span.set_parent(parent);
    }
}

/// The current span's `traceparent`, to store with an event or send on.
pub fn current() -> Option<String> {
    if !exporting() {
        return None;
    }
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    carrier.remove(TRACEPARENT)
}

/// Adds the current span's trace context to an outgoing request's `headers`.
pub fn inject_into(headers: &mut http::HeaderMap) {
    if exporting() {
        let context = tracing::Span::current().context();
        global::get_text_map_propagator(|p| {
            p.inject_context(&context, &mut HeaderInjector(headers));
        });
    }
}
