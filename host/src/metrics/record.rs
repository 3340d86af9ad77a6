//! How the node records what happened: one method per metric family, each taking its label
//! values as the enums of [`super::labels`].

use std::time::Duration;

use prometheus::IntGauge;

use super::{
    Cache, ChargeResult, ConsumerResult, Dependency, IdempotencyOutcome, MarkerOutcome, Metrics,
    OrderOutcome, PluginCalls, PoolState, RunRecording, ShadowResult, TxResult,
};

impl Metrics {
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
            skipped: m.plugin_skipped.with_label_values(&[plugin, version]),
            plugin: plugin.to_owned(),
            version: version.to_owned(),
            duration: m.plugin_duration.with_label_values(&[plugin, version]),
            fuel: m.plugin_fuel.with_label_values(&[plugin, version]),
        }
    }

    /// Sets the dependency gauges from the list of those that do not answer.
    pub fn set_dependencies(&self, down: &[Dependency]) {
        for dependency in Dependency::ALL {
            self.0
                .dependency_up
                .with_label_values(&[dependency.as_str()])
                .set(i64::from(!down.contains(dependency)));
        }
    }

    /// Counts an order outcome.
    pub fn order(&self, outcome: OrderOutcome) {
        self.0.orders.with_label_values(&outcome.labels()).inc();
    }

    /// Counts a stock-out.
    pub fn stock_out(&self) {
        self.0.stock_outs.with_label_values::<&str>(&[]).inc();
    }

    /// Records how long a request waited for its batch.
    pub fn batch_wait(&self, kind: &str, waited: Duration) {
        self.0
            .batch_wait
            .with_label_values(&[kind])
            .observe(waited.as_secs_f64());
    }

    /// Records a finished batch: its size, how often it was retried, whether it committed.
    pub fn batch_done(&self, kind: &str, size: usize, retries: u32, committed: bool) {
        self.0
            .batch_size
            .with_label_values(&[kind])
            .observe(size as f64);
        let result = if committed { "committed" } else { "failed" };
        self.0.batches.with_label_values(&[kind, result]).inc();
        if retries > 0 {
            self.0
                .batch_retries
                .with_label_values(&[kind])
                .inc_by(u64::from(retries));
        }
    }

    /// Records one transaction's latency.
    pub fn observe_transaction(&self, result: TxResult, elapsed: Duration) {
        self.0
            .db_transactions
            .with_label_values(&[result.as_str()])
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
    pub fn consumer_event(&self, result: ConsumerResult) {
        self.0
            .consumer_events
            .with_label_values(&[result.as_str()])
            .inc();
    }

    /// Sets how many events wait in the dead-letter stream.
    pub fn set_dead_letters(&self, count: u64) {
        self.0
            .dead_letters
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Records how long an event took from its outbox row to its notification.
    pub fn observe_notification_delay(&self, delay: Duration) {
        self.0
            .notification_delay
            .with_label_values::<&str>(&[])
            .observe(delay.as_secs_f64());
    }

    /// Counts one shadow run of a plugin's shadow version.
    pub fn plugin_shadow(&self, plugin: &str, version: &str, result: ShadowResult) {
        self.0
            .plugin_shadow
            .with_label_values(&[plugin, version, result.as_str()])
            .inc();
    }

    /// Counts `n` live calls of `plugin` picked to be recorded as runs, by what became of them.
    pub fn plugin_runs(&self, plugin: &str, result: RunRecording, n: usize) {
        self.0
            .plugin_runs
            .with_label_values(&[plugin, result.as_str()])
            .inc_by(n as u64);
    }

    /// Counts one answered HTTP request and records its latency.
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

    /// The open-connections gauge.
    pub fn http_connections(&self) -> &IntGauge {
        &self.0.http_connections
    }

    /// Records one Redis command.
    pub fn observe_redis(&self, operation: &'static str, elapsed: Duration, ok: bool) {
        self.0
            .redis_duration
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
        if !ok {
            self.0.redis_errors.with_label_values(&[operation]).inc();
        }
    }

    /// Counts one idempotent request by outcome.
    pub fn idempotency(&self, outcome: IdempotencyOutcome) {
        self.0
            .idempotency
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    /// Counts one in-flight marker removed without its answer.
    pub fn idempotency_marker(&self, outcome: MarkerOutcome) {
        self.0
            .idempotency_markers
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    /// Counts one charge by result.
    pub fn charge(&self, result: ChargeResult) {
        self.0.charges.with_label_values(&[result.as_str()]).inc();
    }

    /// Counts one cache lookup.
    pub fn cache_request(&self, cache: Cache) {
        self.0
            .cache_requests
            .with_label_values(&[cache.as_str()])
            .inc();
    }

    /// Counts one cache load.
    pub fn cache_miss(&self, cache: Cache) {
        self.0
            .cache_misses
            .with_label_values(&[cache.as_str()])
            .inc();
    }

    /// Counts one answer served past its freshness because PostgreSQL was unreachable.
    pub fn cache_stale(&self, cache: Cache) {
        self.0
            .cache_stale
            .with_label_values(&[cache.as_str()])
            .inc();
    }

    /// Sets a cache's size gauges.
    pub fn set_cache_size(&self, cache: Cache, entries: u64, bytes: u64) {
        let label = [cache.as_str()];
        let value = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.0
            .cache_entries
            .with_label_values(&label)
            .set(value(entries));
        self.0
            .cache_bytes
            .with_label_values(&label)
            .set(value(bytes));
    }

    /// Counts one catalog query, answered by the replica or the primary.
    pub fn catalog_read(&self, on_replica: bool) {
        let server = if on_replica { "replica" } else { "primary" };
        self.0.catalog_reads.with_label_values(&[server]).inc();
    }

    /// Sets the replica's lag gauge from a check (`None`: unreachable).
    pub fn observe_replica_lag(&self, lag: Option<Duration>) {
        let seconds = lag.map_or(f64::INFINITY, |lag| lag.as_secs_f64());
        self.0.replica_lag.set(seconds);
    }

    /// Sets the gauges read at scrape time (pool state, Redis connectivity).
    pub fn set_pool_state(
        &self,
        size: usize,
        available: usize,
        waiting: usize,
        redis_connected: bool,
    ) {
        let gauge = |state: PoolState, value: usize| {
            self.0
                .db_pool
                .with_label_values(&[state.as_str()])
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        gauge(PoolState::Size, size);
        gauge(PoolState::Available, available);
        gauge(PoolState::Waiting, waiting);
        gauge(PoolState::InUse, size.saturating_sub(available));
        self.0.redis_connected.set(i64::from(redis_connected));
    }
}
