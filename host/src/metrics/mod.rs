//! Every Prometheus metric of the node, named in one place (`edgecart_<noun>_<unit>`, bounded
//! labels). One registry per [`Metrics`], so several apps in one test process never collide.

use std::sync::Arc;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder, core::Collector,
};

mod labels;
mod plugin_calls;
mod plugin_stats;
mod record;

pub use labels::{
    Cache, CallResult, ChargeResult, ConsumerResult, Dependency, IdempotencyOutcome, MarkerOutcome,
    OrderOutcome, PoolState, RejectReason, RunRecording, ShadowResult, TxResult,
};
pub use plugin_calls::PluginCalls;
pub use plugin_stats::VersionStats;

/// Latency buckets in seconds, from 0.5 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A cheap-to-clone handle to the node's metrics.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    http_in_flight: IntGauge,
    http_connections: IntGauge,
    db_pool: IntGaugeVec,
    redis_connected: IntGauge,
    redis_duration: HistogramVec,
    redis_errors: IntCounterVec,
    idempotency: IntCounterVec,
    idempotency_markers: IntCounterVec,
    charges: IntCounterVec,
    cache_requests: IntCounterVec,
    cache_misses: IntCounterVec,
    cache_stale: IntCounterVec,
    cache_entries: IntGaugeVec,
    cache_bytes: IntGaugeVec,
    plugin_calls: IntCounterVec,
    plugin_failures: IntCounterVec,
    plugin_skipped: IntCounterVec,
    plugin_duration: HistogramVec,
    plugin_fuel: HistogramVec,
    plugin_shadow: IntCounterVec,
    plugin_runs: IntCounterVec,
    events_relayed: IntCounterVec,
    relay_errors: IntCounterVec,
    outbox_backlog: IntGauge,
    outbox_lag: Gauge,
    consumer_events: IntCounterVec,
    dead_letters: IntGauge,
    notification_delay: HistogramVec,
    orders: IntCounterVec,
    stock_outs: IntCounterVec,
    db_transactions: HistogramVec,
    batch_size: HistogramVec,
    batch_wait: HistogramVec,
    batches: IntCounterVec,
    batch_retries: IntCounterVec,
    dependency_up: IntGaugeVec,
    catalog_reads: IntCounterVec,
    replica_lag: Gauge,
}

/// Batch size buckets: powers of two up to the largest cap.
const BATCH_SIZE_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
];

/// The one way a metric comes to exist: built from its static definition and registered,
/// so none can be created and left out of the exposition.
fn register<M: Collector + Clone + 'static>(
    registry: &Registry,
    metric: prometheus::Result<M>,
) -> M {
    let metric = metric.expect("static metric definition");
    collect(registry, metric.clone());
    metric
}

/// Adds a collector to the exposition (every metric goes through here).
fn collect(registry: &Registry, collector: impl Collector + 'static) {
    registry
        .register(Box::new(collector))
        .expect("each metric is registered once");
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        let counter = |name: &str, help: &str, labels: &[&str]| {
            register(r, IntCounterVec::new(Opts::new(name, help), labels))
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
            register(r, HistogramVec::new(opts, labels))
        };
        let inner = Inner {
            http_requests: counter(
                "edgecart_http_requests_total",
                "HTTP requests answered, by method, route template and status.",
                &["method", "route", "status"],
            ),
            http_duration: histogram(
                "edgecart_http_request_duration_seconds",
                "HTTP request latency, by method and route template.",
                &["method", "route"],
            ),
            http_in_flight: register(
                r,
                IntGauge::new(
                    "edgecart_http_requests_in_flight",
                    "HTTP requests being served.",
                ),
            ),
            http_connections: register(
                r,
                IntGauge::new(
                    "edgecart_http_connections_open",
                    "HTTP connections open (accepted and not yet closed), on every listener.",
                ),
            ),
            db_pool: register(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "edgecart_db_pool_connections",
                        "PostgreSQL pool connections by state (size, available, in_use, waiting).",
                    ),
                    &["state"],
                ),
            ),
            redis_connected: register(
                r,
                IntGauge::new(
                    "edgecart_redis_connected",
                    "1 when a Redis connection is up.",
                ),
            ),
            redis_duration: histogram(
                "edgecart_redis_command_duration_seconds",
                "Redis command latency, by operation.",
                &["operation"],
            ),
            redis_errors: counter(
                "edgecart_redis_errors_total",
                "Redis commands that failed or timed out, by operation.",
                &["operation"],
            ),
            idempotency: counter(
                "edgecart_idempotency_requests_total",
                "Requests with an Idempotency-Key, by outcome (fresh, replayed, in_use, reused).",
                &["outcome"],
            ),
            idempotency_markers: counter(
                "edgecart_idempotency_markers_total",
                "In-flight idempotency markers removed without their answer, by outcome (taken_over: its node was gone; released: its request was dropped).",
                &["outcome"],
            ),
            charges: counter(
                "edgecart_point_charges_total",
                "Point charges, by result (applied, rejected).",
                &["result"],
            ),
            cache_requests: counter(
                "edgecart_cache_requests_total",
                "Cache lookups, by cache.",
                &["cache"],
            ),
            cache_misses: counter(
                "edgecart_cache_misses_total",
                "Cache lookups that ran the loader (concurrent misses share one), by cache.",
                &["cache"],
            ),
            cache_stale: counter(
                "edgecart_cache_stale_total",
                "Cached answers served past their freshness because PostgreSQL was unreachable, by cache.",
                &["cache"],
            ),
            cache_entries: register(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "edgecart_cache_entries",
                        "Entries a cache holds (an answer and its fresh index count apart), by cache.",
                    ),
                    &["cache"],
                ),
            ),
            cache_bytes: register(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "edgecart_cache_bytes",
                        "Weighed bytes a cache holds (bodies and bookkeeping), by cache.",
                    ),
                    &["cache"],
                ),
            ),
            plugin_calls: counter(
                "edgecart_plugin_calls_total",
                "Rule plugin calls, by plugin, version, hook and result (accept, reject, failure).",
                &["plugin", "version", "hook", "result"],
            ),
            plugin_failures: counter(
                "edgecart_plugin_failures_total",
                "Rule plugin calls that produced no decision, by plugin, version and kind (trap, fuel, time, memory, contract).",
                &["plugin", "version", "kind"],
            ),
            plugin_skipped: counter(
                "edgecart_plugin_skipped_total",
                "Failed rule plugin calls let through by the plugin's failure policy `skip`, by plugin and version.",
                &["plugin", "version"],
            ),
            plugin_duration: histogram(
                "edgecart_plugin_call_duration_seconds",
                "Rule plugin call latency (fresh instance, call, drop), by plugin and version.",
                &["plugin", "version"],
            ),
            plugin_fuel: register(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "edgecart_plugin_fuel_consumed",
                        "Fuel one rule plugin call burnt, by plugin and version.",
                    )
                    .buckets(vec![1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6, 3e6, 1e7]),
                    &["plugin", "version"],
                ),
            ),
            plugin_shadow: counter(
                "edgecart_plugin_shadow_runs_total",
                "Shadow runs, by plugin, shadow version and result (agree, disagree, failed, dropped).",
                &["plugin", "version", "result"],
            ),
            plugin_runs: counter(
                "edgecart_plugin_runs_total",
                "Live plugin calls picked to be recorded as runs, by plugin and what became of them (recorded, dropped, failed).",
                &["plugin", "result"],
            ),
            events_relayed: counter(
                "edgecart_events_relayed_total",
                "Outbox events published to the Redis stream.",
                &[],
            ),
            relay_errors: counter(
                "edgecart_relay_errors_total",
                "Outbox relay batches that failed (they stay unsent and are retried).",
                &[],
            ),
            outbox_backlog: register(
                r,
                IntGauge::new(
                    "edgecart_outbox_backlog",
                    "Outbox events not yet published.",
                ),
            ),
            outbox_lag: register(
                r,
                Gauge::new(
                    "edgecart_outbox_lag_seconds",
                    "Age of the oldest outbox event not yet published (0 when none).",
                ),
            ),
            consumer_events: counter(
                "edgecart_consumer_events_total",
                "Events the notification consumer handled, by result (processed, duplicate, retried, dead_lettered).",
                &["result"],
            ),
            dead_letters: register(
                r,
                IntGauge::new(
                    "edgecart_events_dead_letters",
                    "Events in the dead-letter stream (failed every delivery attempt; `edgecart events redrive` moves them back).",
                ),
            ),
            notification_delay: histogram(
                "edgecart_notification_delay_seconds",
                "From the order's commit-time outbox row to its notification being sent.",
                &[],
            ),
            orders: counter(
                "edgecart_orders_total",
                "Orders by result (paid, cancelled, rejected) and, for rejections, reason (out_of_stock, insufficient_balance, payment_amount_mismatch, rule, product_not_found, user_not_found, invalid, other).",
                &["result", "reason"],
            ),
            stock_outs: counter(
                "edgecart_stock_outs_total",
                "Orders refused because a product had fewer units than ordered.",
                &[],
            ),
            db_transactions: histogram(
                "edgecart_db_transaction_duration_seconds",
                "PostgreSQL transaction latency (begin to commit), by result (commit, error, retry).",
                &["result"],
            ),
            batch_size: register(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "edgecart_batch_size",
                        "Requests per group-commit batch, by kind (orders, charges).",
                    )
                    .buckets(BATCH_SIZE_BUCKETS.to_vec()),
                    &["kind"],
                ),
            ),
            batch_wait: histogram(
                "edgecart_batch_queue_wait_seconds",
                "How long a request waited in the queue for its batch, by kind.",
                &["kind"],
            ),
            batches: counter(
                "edgecart_batches_total",
                "Group-commit batches, by kind and result (committed, failed).",
                &["kind", "result"],
            ),
            batch_retries: counter(
                "edgecart_batch_retries_total",
                "Batches tried again because PostgreSQL asked (deadlock, serialization), by kind.",
                &["kind"],
            ),
            dependency_up: register(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "edgecart_dependency_up",
                        "1 when a dependency answers (postgres, redis, plugins: loaded), as /readyz sees it at scrape time.",
                    ),
                    &["dependency"],
                ),
            ),
            catalog_reads: counter(
                "edgecart_catalog_reads_total",
                "Catalog queries (product cache misses, product lists, popular), by the server that answered (primary, replica).",
                &["server"],
            ),
            replica_lag: register(
                r,
                Gauge::new(
                    "edgecart_replica_lag_seconds",
                    "How far the read replica lags the primary at its last check (+Inf: unreachable).",
                ),
            ),
            registry: registry.clone(),
        };
        // Series that exist from the start, at zero, so that rates and alerts see them before
        // the first event.
        for counter in [
            &inner.events_relayed,
            &inner.relay_errors,
            &inner.stock_outs,
        ] {
            counter.with_label_values::<&str>(&[]);
        }
        inner.notification_delay.with_label_values::<&str>(&[]);
        for result in ConsumerResult::ALL {
            inner.consumer_events.with_label_values(&[result.as_str()]);
        }
        for outcome in [OrderOutcome::Paid, OrderOutcome::Cancelled] {
            inner.orders.with_label_values(&outcome.labels());
        }
        for result in ChargeResult::ALL {
            inner.charges.with_label_values(&[result.as_str()]);
        }
        #[cfg(target_os = "linux")]
        collect(
            r,
            prometheus::process_collector::ProcessCollector::for_self(),
        );
        Self(Arc::new(inner))
    }

    /// The Prometheus text exposition of everything.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let families = self.0.registry.gather();
        if TextEncoder::new().encode(&families, &mut buffer).is_err() {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
