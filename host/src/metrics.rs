//! Every Prometheus metric of the node, named in one place (`edgecart_<noun>_<unit>`, bounded
//! labels). One registry per [`Metrics`], so several apps in one test process never collide.

use std::{sync::Arc, time::Duration};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

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
    db_pool: IntGaugeVec,
    redis_connected: IntGauge,
    redis_duration: HistogramVec,
    redis_errors: IntCounterVec,
    idempotency: IntCounterVec,
    charges: IntCounterVec,
    cache_requests: IntCounterVec,
    cache_misses: IntCounterVec,
    plugin_calls: IntCounterVec,
    plugin_failures: IntCounterVec,
    plugin_duration: HistogramVec,
    plugin_fuel: HistogramVec,
    plugin_shadow: IntCounterVec,
    events_relayed: IntCounterVec,
    relay_errors: IntCounterVec,
    outbox_backlog: IntGauge,
    outbox_lag: prometheus::Gauge,
    consumer_events: IntCounterVec,
    notification_delay: HistogramVec,
    orders: IntCounterVec,
    stock_outs: IntCounterVec,
    db_transactions: HistogramVec,
    dependency_up: IntGaugeVec,
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
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels)
                .expect("static metric definition");
            registry
                .register(Box::new(metric.clone()))
                .expect("metric registered once");
            metric
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
            let metric = HistogramVec::new(opts, labels).expect("static metric definition");
            registry
                .register(Box::new(metric.clone()))
                .expect("metric registered once");
            metric
        };
        let http_requests = counter(
            "edgecart_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            &["method", "route", "status"],
        );
        let http_duration = histogram(
            "edgecart_http_request_duration_seconds",
            "HTTP request latency, by method and route template.",
            &["method", "route"],
        );
        let http_in_flight = IntGauge::new(
            "edgecart_http_requests_in_flight",
            "HTTP requests being served.",
        )
        .expect("static metric definition");
        let db_pool = IntGaugeVec::new(
            Opts::new(
                "edgecart_db_pool_connections",
                "PostgreSQL pool connections by state (size, available, in_use, waiting).",
            ),
            &["state"],
        )
        .expect("static metric definition");
        let redis_connected = IntGauge::new(
            "edgecart_redis_connected",
            "1 when a Redis connection is up.",
        )
        .expect("static metric definition");
        let redis_duration = histogram(
            "edgecart_redis_command_duration_seconds",
            "Redis command latency, by operation.",
            &["operation"],
        );
        let redis_errors = counter(
            "edgecart_redis_errors_total",
            "Redis commands that failed or timed out, by operation.",
            &["operation"],
        );
        let idempotency = counter(
            "edgecart_idempotency_requests_total",
            "Requests with an Idempotency-Key, by outcome (fresh, replayed, in_use, reused).",
            &["outcome"],
        );
        let charges = counter(
            "edgecart_point_charges_total",
            "Point charges, by result (applied, rejected).",
            &["result"],
        );
        let cache_requests = counter(
            "edgecart_cache_requests_total",
            "Cache lookups, by cache.",
            &["cache"],
        );
        let cache_misses = counter(
            "edgecart_cache_misses_total",
            "Cache lookups that ran the loader (concurrent misses share one), by cache.",
            &["cache"],
        );
        let plugin_calls = counter(
            "edgecart_plugin_calls_total",
            "Rule plugin calls, by plugin, version, hook and result (accept, reject, failure).",
            &["plugin", "version", "hook", "result"],
        );
        let plugin_failures = counter(
            "edgecart_plugin_failures_total",
            "Rule plugin calls that produced no decision, by plugin, version and kind (trap, fuel, time, memory, contract).",
            &["plugin", "version", "kind"],
        );
        let plugin_duration = histogram(
            "edgecart_plugin_call_duration_seconds",
            "Rule plugin call latency (fresh instance, call, drop), by plugin and version.",
            &["plugin", "version"],
        );
        let plugin_fuel = {
            let opts = HistogramOpts::new(
                "edgecart_plugin_fuel_consumed",
                "Fuel one rule plugin call burnt, by plugin and version.",
            )
            .buckets(vec![1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6, 3e6, 1e7]);
            let metric =
                HistogramVec::new(opts, &["plugin", "version"]).expect("static metric definition");
            registry
                .register(Box::new(metric.clone()))
                .expect("metric registered once");
            metric
        };
        let plugin_shadow = counter(
            "edgecart_plugin_shadow_runs_total",
            "Shadow runs, by plugin, shadow version and result (agree, disagree, failed, dropped).",
            &["plugin", "version", "result"],
        );
        let events_relayed = counter(
            "edgecart_events_relayed_total",
            "Outbox events published to the Redis stream.",
            &[],
        );
        let relay_errors = counter(
            "edgecart_relay_errors_total",
            "Outbox relay batches that failed (they stay unsent and are retried).",
            &[],
        );
        let outbox_backlog = IntGauge::new(
            "edgecart_outbox_backlog",
            "Outbox events not yet published.",
        )
        .expect("static metric definition");
        let outbox_lag = prometheus::Gauge::new(
            "edgecart_outbox_lag_seconds",
            "Age of the oldest outbox event not yet published (0 when none).",
        )
        .expect("static metric definition");
        let consumer_events = counter(
            "edgecart_consumer_events_total",
            "Events the notification consumer handled, by result (processed, duplicate, retried, dead_lettered).",
            &["result"],
        );
        let notification_delay = histogram(
            "edgecart_notification_delay_seconds",
            "From the order's commit-time outbox row to its notification being sent.",
            &[],
        );
        let orders = counter(
            "edgecart_orders_total",
            "Orders by result (paid, cancelled, rejected) and, for rejections, reason (out_of_stock, insufficient_balance, payment_amount_mismatch, rule, product_not_found, user_not_found, invalid, other).",
            &["result", "reason"],
        );
        let stock_outs = counter(
            "edgecart_stock_outs_total",
            "Orders refused because a product had fewer units than ordered.",
            &[],
        );
        let db_transactions = histogram(
            "edgecart_db_transaction_duration_seconds",
            "PostgreSQL transaction latency (begin to commit), by result (commit, error, retry).",
            &["result"],
        );
        let dependency_up = IntGaugeVec::new(
            Opts::new(
                "edgecart_dependency_up",
                "1 when a dependency answers (postgres, redis, plugins: loaded), as /readyz sees it at scrape time.",
            ),
            &["dependency"],
        )
        .expect("static metric definition");
        // Series that exist from the start, at zero, so that rates and alerts see them before
        // the first event.
        for counter in [&events_relayed, &relay_errors, &stock_outs] {
            counter.with_label_values::<&str>(&[]);
        }
        notification_delay.with_label_values::<&str>(&[]);
        for result in ["processed", "duplicate", "retried", "dead_lettered"] {
            consumer_events.with_label_values(&[result]);
        }
        for result in ["paid", "cancelled"] {
            orders.with_label_values(&[result, ""]);
        }
        for result in ["applied", "rejected"] {
            charges.with_label_values(&[result]);
        }
        registry
            .register(Box::new(dependency_up.clone()))
            .expect("metric registered once");
        registry
            .register(Box::new(outbox_backlog.clone()))
            .expect("metric registered once");
        registry
            .register(Box::new(outbox_lag.clone()))
            .expect("metric registered once");
        for gauge in [&http_in_flight, &redis_connected] {
            registry
                .register(Box::new(gauge.clone()))
                .expect("metric registered once");
        }
        registry
            .register(Box::new(db_pool.clone()))
            .expect("metric registered once");
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("metric registered once");
        Self(Arc::new(Inner {
            registry,
            http_requests,
            http_duration,
            http_in_flight,
            db_pool,
            redis_connected,
            redis_duration,
            redis_errors,
            idempotency,
            charges,
            cache_requests,
            cache_misses,
            plugin_calls,
            plugin_failures,
            plugin_duration,
            plugin_fuel,
            plugin_shadow,
            events_relayed,
            relay_errors,
            outbox_backlog,
            outbox_lag,
            consumer_events,
            notification_delay,
            orders,
            stock_outs,
            db_transactions,
            dependency_up,
        }))
    }

    /// The call metrics of one plugin version on one hook, resolved once (when the version
    /// is loaded) so that a call records itself without looking its series up.
    pub fn plugin_calls(&self, plugin: &str, version: &str, hook: &str) -> PluginCalls {
        let m = &self.0;
        let calls = |result| {
            m.plugin_calls
                .with_label_values(&[plugin, version, hook, result])
        };
        PluginCalls {
            accepted: calls("accept"),
            rejected: calls("reject"),
            failed: calls("failure"),
            failures: m.plugin_failures.clone(),
            plugin: plugin.to_owned(),
            version: version.to_owned(),
            duration: m.plugin_duration.with_label_values(&[plugin, version]),
            fuel: m.plugin_fuel.with_label_values(&[plugin, version]),
        }
    }

    /// Sets the dependency gauges from the list of those that do not answer.
    pub fn set_dependencies(&self, down: &[&str]) {
        for dependency in ["postgres", "redis", "plugins"] {
            self.0
                .dependency_up
                .with_label_values(&[dependency])
                .set(i64::from(!down.contains(&dependency)));
        }
    }

    /// Counts an order outcome; `reason` is empty unless it was rejected.
    pub fn order(&self, result: &str, reason: &str) {
        self.0.orders.with_label_values(&[result, reason]).inc();
    }

    /// Counts a stock-out.
    pub fn stock_out(&self) {
        self.0.stock_outs.with_label_values::<&str>(&[]).inc();
    }

    /// Records one transaction's latency.
    pub fn observe_transaction(&self, result: &str, elapsed: Duration) {
        self.0
            .db_transactions
            .with_label_values(&[result])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts published outbox events.
    pub fn events_relayed(&self, count: usize) {
        self.0
            .events_relayed
            .with_label_values::<&str>(&[])
            .inc_by(count as u64);
    }

    /// Counts a failed relay batch.
    pub fn relay_error(&self) {
        self.0.relay_errors.with_label_values::<&str>(&[]).inc();
    }

    /// Sets the outbox backlog and the age of its oldest event.
    pub fn set_outbox_backlog(&self, count: i64, lag_seconds: f64) {
        self.0.outbox_backlog.set(count);
        self.0.outbox_lag.set(lag_seconds);
    }

    /// Counts an event the consumer handled.
    pub fn consumer_event(&self, result: &str) {
        self.0.consumer_events.with_label_values(&[result]).inc();
    }

    /// Records how long an event took from its outbox row to its notification.
    pub fn observe_notification_delay(&self, delay: Duration) {
        self.0
            .notification_delay
            .with_label_values::<&str>(&[])
            .observe(delay.as_secs_f64());
    }

    /// Counts one shadow run: `agree`, `disagree`, `failed` or `dropped` (queue full).
    pub fn plugin_shadow(&self, plugin: &str, version: &str, result: &str) {
        self.0
            .plugin_shadow
            .with_label_values(&[plugin, version, result])
            .inc();
    }

    pub fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.0
            .http_requests
            .with_label_values(&[method, route, &status])
            .inc();
        self.0
            .http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// The in-flight request gauge.
    pub fn http_in_flight(&self) -> &IntGauge {
        &self.0.http_in_flight
    }

    /// Records one Redis command.
    pub fn observe_redis(&self, operation: &str, elapsed: Duration, ok: bool) {
        self.0
            .redis_duration
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
        if !ok {
            self.0.redis_errors.with_label_values(&[operation]).inc();
        }
    }

    /// Counts one idempotent request by outcome.
    pub fn idempotency(&self, outcome: &str) {
        self.0.idempotency.with_label_values(&[outcome]).inc();
    }

    /// Counts one charge by result.
    pub fn charge(&self, result: &str) {
        self.0.charges.with_label_values(&[result]).inc();
    }

    /// Counts one cache lookup.
    pub fn cache_request(&self, cache: &str) {
        self.0.cache_requests.with_label_values(&[cache]).inc();
    }

    /// Counts one cache load.
    pub fn cache_miss(&self, cache: &str) {
        self.0.cache_misses.with_label_values(&[cache]).inc();
    }

    /// Sets the gauges read at scrape time (pool state, Redis connectivity).
    pub fn set_pool_state(
        &self,
        size: usize,
        available: usize,
        waiting: usize,
        redis_connected: bool,
    ) {
        let gauge = |state: &str, value: usize| {
            self.0
                .db_pool
                .with_label_values(&[state])
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        gauge("size", size);
        gauge("available", available);
        gauge("waiting", waiting);
        gauge("in_use", size.saturating_sub(available));
        self.0.redis_connected.set(i64::from(redis_connected));
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

/// How a plugin call ended, for [`PluginCalls::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult<'a> {
    /// The plugin accepted (or priced).
    Accept,
    /// The plugin rejected.
    Reject,
    /// The call failed; the failure kind (`trap`, `fuel`, `time`, `memory`, `contract`).
    Failure(&'a str),
}

/// One plugin version's call series (see [`Metrics::plugin_calls`]).
#[derive(Clone)]
pub struct PluginCalls {
    accepted: IntCounter,
    rejected: IntCounter,
    failed: IntCounter,
    failures: IntCounterVec,
    plugin: String,
    version: String,
    duration: Histogram,
    fuel: Histogram,
}

impl std::fmt::Debug for PluginCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginCalls")
            .field("plugin", &self.plugin)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl PluginCalls {
    /// Counts one call, its duration and the fuel it burnt.
    pub fn record(&self, result: CallResult<'_>, elapsed: Duration, fuel: u64) {
        match result {
            CallResult::Accept => self.accepted.inc(),
            CallResult::Reject => self.rejected.inc(),
            CallResult::Failure(kind) => {
                self.failed.inc();
                self.failures
                    .with_label_values(&[&self.plugin, &self.version, kind])
                    .inc();
            }
        }
        self.duration.observe(elapsed.as_secs_f64());
        self.fuel.observe(fuel as f64);
    }
}
