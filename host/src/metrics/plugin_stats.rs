//! One plugin's figures on this node, per version, read back from the node's own Prometheus
//! series (calls by result, failures by kind, skipped calls, the call-duration histogram and
//! shadow runs): what the console shows as live figures, without a Prometheus server.

use std::collections::BTreeMap;

use prometheus::{core::Collector, proto::MetricFamily};

use super::Metrics;

/// One version's figures since this node started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionStats {
    /// The version.
    pub version: String,
    /// Calls that accepted (or priced).
    pub accepted: u64,
    /// Calls that rejected.
    pub rejected: u64,
    /// Calls that produced no decision.
    pub failed: u64,
    /// Failed calls by kind (`trap`, `fuel`, `time`, `memory`, `contract`).
    pub failures: BTreeMap<String, u64>,
    /// Failed calls the failure policy `skip` let through.
    pub skipped: u64,
    /// The 99th percentile of the call duration in seconds, estimated from the histogram's
    /// buckets as Prometheus' `histogram_quantile` does; `None` before the first call.
    pub p99_seconds: Option<f64>,
    /// Shadow runs of this version by result (`agree`, `disagree`, `failed`, `dropped`).
    pub shadow: BTreeMap<String, u64>,
}

impl Metrics {
    /// `plugin`'s figures on this node, one entry per version it has run (or shadowed) since
    /// the node started, in version order.
    pub fn plugin_stats(&self, plugin: &str) -> Vec<VersionStats> {
        let inner = &self.0;
        let mut versions: BTreeMap<String, VersionStats> = BTreeMap::new();
        for_each_series(&inner.plugin_calls.collect(), plugin, |labels, metric| {
            if let (Some(version), Some(result)) = (labels.get("version"), labels.get("result")) {
                let stats = entry(&mut versions, version);
                match *result {
                    "accept" => stats.accepted += counter_value(metric),
                    "reject" => stats.rejected += counter_value(metric),
                    _ => stats.failed += counter_value(metric),
                }
            }
        });
        for_each_series(
            &inner.plugin_failures.collect(),
            plugin,
            |labels, metric| {
                if let (Some(version), Some(kind)) = (labels.get("version"), labels.get("kind")) {
                    let failures = &mut entry(&mut versions, version).failures;
                    *failures.entry((*kind).to_owned()).or_default() += counter_value(metric);
                }
            },
        );
        for_each_series(&inner.plugin_skipped.collect(), plugin, |labels, metric| {
            if let Some(version) = labels.get("version") {
                entry(&mut versions, version).skipped += counter_value(metric);
            }
        });
        for_each_series(&inner.plugin_shadow.collect(), plugin, |labels, metric| {
            if let (Some(version), Some(result)) = (labels.get("version"), labels.get("result")) {
                let shadow = &mut entry(&mut versions, version).shadow;
                *shadow.entry((*result).to_owned()).or_default() += counter_value(metric);
            }
        });
        for_each_series(
            &inner.plugin_duration.collect(),
            plugin,
            |labels, metric| {
                if let Some(version) = labels.get("version") {
                    let histogram = metric.get_histogram();
                    let buckets: Vec<(f64, u64)> = histogram
                        .get_bucket()
                        .iter()
                        .map(|b| (b.upper_bound(), b.cumulative_count()))
                        .collect();
                    entry(&mut versions, version).p99_seconds =
                        quantile(0.99, &buckets, histogram.get_sample_count());
                }
            },
        );
        versions.into_values().collect()
    }
}

/// The figures of `version` in `versions`, added empty when missing.
fn entry<'a>(
    versions: &'a mut BTreeMap<String, VersionStats>,
    version: &str,
) -> &'a mut VersionStats {
    versions
        .entry(version.to_owned())
        .or_insert_with(|| VersionStats {
            version: version.to_owned(),
            ..VersionStats::default()
        })
}

/// Calls `each` with the labels and the series of every series of `families` whose `plugin`
/// label is `plugin`.
fn for_each_series(
    families: &[MetricFamily],
    plugin: &str,
    mut each: impl FnMut(&BTreeMap<&str, &str>, &prometheus::proto::Metric),
) {
    for metric in families.iter().flat_map(|f| f.get_metric()) {
        let labels: BTreeMap<&str, &str> = metric
            .get_label()
            .iter()
            .map(|pair| (pair.name(), pair.value()))
            .collect();
        if labels.get("plugin") == Some(&plugin) {
            each(&labels, metric);
        }
    }
}

/// A counter series' value (counters hold whole numbers here).
fn counter_value(metric: &prometheus::proto::Metric) -> u64 {
    metric.get_counter().get_value() as u64
}

/// The `q` quantile of a histogram given as ascending `(upper bound, cumulative count)`
/// buckets and its total `count`: linear within the bucket it falls in, the lowest bucket
/// starting at 0; past the last finite bound, that bound. `None` when nothing was observed.
fn quantile(q: f64, buckets: &[(f64, u64)], count: u64) -> Option<f64> {
    if count == 0 {
        return None;
    }
    let rank = q * count as f64;
    let mut lower = (0.0, 0u64);
    for &(bound, cumulative) in buckets {
        if cumulative as f64 >= rank {
            let in_bucket = (cumulative - lower.1) as f64;
            let fraction = if in_bucket > 0.0 {
                (rank - lower.1 as f64) / in_bucket
            } else {
                1.0
            };
            return Some(lower.0 + (bound - lower.0) * fraction);
        }
        lower = (bound, cumulative);
    }
    // Above every finite bucket: the largest bound is the best the histogram can say.
    Some(lower.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_within_its_bucket() {
        // 100 observations: 50 up to 1 ms, 40 more up to 2 ms, 10 more up to 4 ms.
        let buckets = [(0.001, 50), (0.002, 90), (0.004, 100)];
        assert_eq!(quantile(0.5, &buckets, 100), Some(0.001));
        // rank 99 is the 9th of the 10 in (2 ms, 4 ms].
        let p99 = quantile(0.99, &buckets, 100).unwrap_or_default();
        assert!((p99 - 0.0038).abs() < 1e-9, "{p99}");
        assert_eq!(quantile(0.99, &buckets, 0), None);
    }

    #[test]
    fn quantile_past_the_last_bucket_is_its_bound() {
        // Two observations above the largest finite bound (counted only in +Inf).
        assert_eq!(quantile(0.99, &[(0.5, 0), (1.0, 0)], 2), Some(1.0));
    }
}
