//! Tracing set-up: log lines (readable or JSON, on standard error so that what a command
//! prints stays clean) filtered by `RUST_LOG` (default `info`), and,
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the
//! same spans exported over OTLP/HTTP ([`export`]) with W3C trace context carried across
//! HTTP, the outbox, the stream and the webhook ([`context`]).

pub mod context;
mod export;

use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

pub use export::Exporter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls (tests build many apps) do nothing and
/// return `None`. The returned [`Exporter`], when spans are exported, flushes them when
/// dropped: `main` holds it until the process ends.
pub fn init(format: LogFormat) -> Option<Exporter> {
    let logs = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = match format {
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let (exporter, spans) = match export::from_environment() {
        Ok(Some((exporter, layer))) => (Some(exporter), Some(layer)),
        Ok(None) => (None, None),
        Err(error) => {
            // Logging is not up yet: the one place that writes to stderr directly.
            eprintln!("edgecart: OpenTelemetry export is off: {}", chain(&error));
            (None, None)
        }
    };
    let installed = tracing_subscriber::registry()
        .with(spans)
        .with(lines.with_filter(logs))
        .try_init()
        .is_ok();
    if installed {
        if let Some(exporter) = &exporter {
            exporter.activate();
        }
        exporter
    } else {
        None
    }
}

/// An error and its sources as one line (`outer: cause: root cause`), for logs and `main`:
/// every layer's error keeps its source, and this is where the chain is read out.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // `#[error(transparent)]` and `"{0}"` wrappers repeat their source's text.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
