//! Shadow runs: a version run beside the active one on the same live inputs, off the request
//! path, on a bounded queue (a full queue drops runs and counts them). Each run is compared
//! with the active version's decision, counted as agree, disagree or failed, and a sample of
//! disagreements is logged with both decisions.

use std::sync::{
    Arc, Weak,
    atomic::{AtomicU64, Ordering},
};

use tokio::sync::mpsc;

use super::{HookInput, registry::Active, registry::Inner};
use crate::{
    metrics::{Metrics, ShadowResult},
    rules::Decision,
};

/// How many shadow runs may wait; more are dropped (and counted).
const SHADOW_QUEUE: usize = 1024;

/// A live request's input and the active version's decision (`None` when it failed), to
/// replay on the shadow version.
#[derive(Debug)]
pub(super) struct ShadowRun {
    pub(super) plugin: Arc<Active>,
    pub(super) input: HookInput,
    pub(super) active: Option<Decision>,
}

impl ShadowRun {
    fn version(&self) -> &str {
        self.plugin.shadow.as_ref().map_or("", |(v, _)| v.as_str())
    }
}

/// How a shadow run compared with the active version's decision (`None`: it failed).
fn compare(active: Option<&Decision>, shadow: Option<&Decision>) -> ShadowResult {
    match (active, shadow) {
        (_, None) => ShadowResult::Failed,
        (Some(active), Some(shadow)) if active.same_outcome(shadow) => ShadowResult::Agree,
        _ => ShadowResult::Disagree,
    }
}

/// The queue of shadow runs and the task that works it off.
pub(super) struct Shadows {
    queue: mpsc::Sender<ShadowRun>,
    metrics: Metrics,
}

impl Shadows {
    /// Starts the worker; it runs until the registry behind `registry` is gone.
    pub(super) fn start(registry: Weak<Inner>, metrics: Metrics) -> Self {
        let (queue, runs) = mpsc::channel(SHADOW_QUEUE);
        tokio::spawn(work_off(registry, runs));
        Self { queue, metrics }
    }

    /// Queues a run, or drops it (counted) when the queue is full.
    pub(super) fn queue(&self, run: ShadowRun) {
        if let Err(mpsc::error::TrySendError::Full(run) | mpsc::error::TrySendError::Closed(run)) =
            self.queue.try_send(run)
        {
            self.metrics
                .plugin_shadow(&run.plugin.name, run.version(), ShadowResult::Dropped);
        }
    }
}

/// Runs queued shadow calls one at a time, each in an instance slot, and logs a sample of
/// disagreements: the first ten, then one in a hundred.
async fn work_off(registry: Weak<Inner>, mut runs: mpsc::Receiver<ShadowRun>) {
    let disagreements = AtomicU64::new(0);
    while let Some(run) = runs.recv().await {
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let Some((version, compiled)) = &run.plugin.shadow else {
            continue;
        };
        let Ok(_slot) = inner.slot().await else {
            continue;
        };
        let shadow = inner
            .runtime
            .call(compiled, &run.input, &run.plugin.config)
            .await
            .outcome
            .ok();
        let comparison = compare(run.active.as_ref(), shadow.as_ref());
        inner
            .metrics
            .plugin_shadow(&run.plugin.name, version, comparison);
        if comparison != ShadowResult::Disagree {
            continue;
        }
        let seen = disagreements.fetch_add(1, Ordering::Relaxed);
        if seen < 10 || seen.is_multiple_of(100) {
            tracing::info!(
                plugin = %run.plugin.name,
                active_version = %run.plugin.version,
                shadow_version = %version,
                input = ?run.input,
                active = ?run.active,
                shadow = ?shadow,
                "shadow version disagrees"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{LinePrice, Rejection};

    fn prices(units: &[i64], reason: Option<&str>) -> Decision {
        Decision::Prices(
            units
                .iter()
                .map(|&unit_price| LinePrice {
                    unit_price,
                    reason: reason.map(str::to_owned),
                })
                .collect(),
        )
    }

    #[test]
    fn same_prices_agree_whatever_the_reasons() {
        let a = prices(&[100, 200], None);
        let b = prices(&[100, 200], Some("bulk"));
        assert_eq!(compare(Some(&a), Some(&b)), ShadowResult::Agree);
        let c = prices(&[100, 199], None);
        assert_eq!(compare(Some(&a), Some(&c)), ShadowResult::Disagree);
    }

    #[test]
    fn a_failed_shadow_is_failed_and_a_failed_active_disagrees() {
        let reject = Decision::Reject(Rejection {
            code: "NO".into(),
            message: "no".into(),
        });
        assert_eq!(compare(Some(&reject), None), ShadowResult::Failed);
        assert_eq!(compare(None, Some(&reject)), ShadowResult::Disagree);
        assert_eq!(
            compare(Some(&Decision::Accept), Some(&reject)),
            ShadowResult::Disagree
        );
    }
}
