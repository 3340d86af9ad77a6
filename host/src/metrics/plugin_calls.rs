//! The call series of one plugin version, resolved once when the version is loaded so a
//! call records itself without looking its series up.

use std::time::Duration;

use prometheus::{Histogram, IntCounter, IntCounterVec};

use super::CallResult;

/// One plugin version's call series (see [`super::Metrics::plugin_calls`]).
#[derive(Clone)]
pub struct PluginCalls {
    pub(super) accepted: IntCounter,
    pub(super) rejected: IntCounter,
    pub(super) failed: IntCounter,
    pub(super) failures: IntCounterVec,
    pub(super) skipped: IntCounter,
    pub(super) plugin: String,
    pub(super) version: String,
    pub(super) duration: Histogram,
    pub(super) fuel: Histogram,
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
    pub fn record(&self, result: CallResult, elapsed: Duration, fuel: u64) {
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

    /// Counts a failed call its failure policy let through.
    pub fn skipped(&self) {
        self.skipped.inc();
    }
}
