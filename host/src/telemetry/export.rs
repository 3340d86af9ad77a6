//! OTLP/HTTP export of spans, configured by the standard `OTEL_*` variables the OpenTelemetry
//! SDK reads itself (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`,
//! `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, …). Off unless an endpoint is set; then spans go
//! through the SDK's batch processor, on a thread of its own, off the request path.
//! `EDGECART_TRACE_FILTER` chooses which spans are exported; the default, [`DEFAULT_FILTER`],
//! takes requests, use cases, SQL transactions, Redis commands, plugin calls, the relay and
//! the consumer, and leaves out the per-statement spans (`edgecart::store=debug` adds them).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// The spans exported unless `EDGECART_TRACE_FILTER` says otherwise.
pub const DEFAULT_FILTER: &str =
    "info,edgecart::service::tx=debug,edgecart::redis=debug,edgecart::plugins=debug";

/// Whether spans are exported (set once the subscriber with the exporter is installed).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported: trace context is read, stored and sent only then.
pub(super) fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The span exporter of this process; dropping it flushes what is still buffered.
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Starts propagating W3C trace context (`traceparent`), now that spans are exported.
    pub(super) fn activate(&self) {
        global::set_text_map_propagator(TraceContextPropagator::new());
        EXPORTING.store(true, Ordering::Relaxed);
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("edgecart: flushing spans failed: {error}");
        }
    }
}

/// Why spans cannot be exported as configured.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The OTLP exporter rejected its configuration (an endpoint that is not a URL, …).
    #[error("the OTLP span exporter cannot be built")]
    Build(#[from] opentelemetry_otlp::ExporterBuildError),
    /// `EDGECART_TRACE_FILTER` is not a filter.
    #[error("EDGECART_TRACE_FILTER is not a valid filter")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
}

/// The layer exporting this process's spans.
pub(super) type SpanLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The exporter and its layer when the environment asks for export, `None` when it does not.
pub(super) fn from_environment() -> Result<Option<(Exporter, SpanLayer)>, ExportError> {
    let set = |name: &str| std::env::var(name).is_ok_and(|value| !value.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.eq_ignore_ascii_case("none"));
    if disabled
        || !(set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    {
        return Ok(None);
    }
    let filter = EnvFilter::try_new(
        std::env::var("EDGECART_TRACE_FILTER").unwrap_or_else(|_| DEFAULT_FILTER.into()),
    )?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let resource = if set("OTEL_SERVICE_NAME") {
        Resource::builder().build()
    } else {
        Resource::builder().with_service_name("edgecart").build()
    };
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    // What costs on every span or every poll and says little here: source locations, thread
    // ids, busy/idle timing, and making each entered span the active OpenTelemetry context
    // (nothing here reads it: trace context is taken from the span itself).
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("edgecart"))
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_context_activation(false)
        .with_filter(filter)
        .boxed();
    Ok(Some((Exporter { provider }, layer)))
}
