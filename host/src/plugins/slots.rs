//! Admission of plugin calls. A call first waits for a turn to run: at most
//! [`Limits::running`] calls run at once (about one per core), because calls are pure CPU
//! work and more of them at once only share the cores, so that each one's wall-clock deadline
//! would measure the crowd instead of its own work. Then it takes one of the pooling
//! allocator's [`Limits::concurrency`] instance slots; the pool is larger than the running
//! calls so each component keeps warm slots of its own.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Limits;
use crate::rules::RuleFailure;

/// The turns and instance slots of a node's plugin calls.
pub(super) struct Slots {
    running: Arc<Semaphore>,
    instances: Arc<Semaphore>,
}

/// A call's turn and its instance slot; both are given back when it is dropped.
pub(super) struct Slot {
    _running: OwnedSemaphorePermit,
    _instance: OwnedSemaphorePermit,
}

impl Slots {
    /// Turns and slots for `limits` (never more turns than slots).
    pub(super) fn new(limits: &Limits) -> Self {
        let instances = limits.concurrency.max(1) as usize;
        Self {
            running: Arc::new(Semaphore::new(
                (limits.running.max(1) as usize).min(instances),
            )),
            instances: Arc::new(Semaphore::new(instances)),
        }
    }

    /// Waits for a turn, then for a free instance slot (always in this order, so two
    /// waiters never hold one each of what the other needs). The deadline of the call made
    /// in it starts after both.
    pub(super) async fn acquire(&self) -> Result<Slot, RuleFailure> {
        let running = self.running.clone().acquire_owned().await;
        let running = running.map_err(|e| RuleFailure::new("plugins", e))?;
        let instance = self.instances.clone().acquire_owned().await;
        let instance = instance.map_err(|e| RuleFailure::new("plugins", e))?;
        Ok(Slot {
            _running: running,
            _instance: instance,
        })
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn slots(running: u32, concurrency: u32) -> Slots {
        Slots::new(&Limits {
            running,
            concurrency,
            ..Limits::default()
        })
    }

    #[tokio::test]
    async fn a_call_past_the_running_ones_waits_for_a_turn_though_slots_are_free() {
        let slots = slots(1, 4);
        let first = slots.acquire().await.expect("a turn");
        assert!(slots.acquire().now_or_never().is_none(), "no second turn");
        drop(first);
        assert!(
            slots.acquire().now_or_never().is_some(),
            "the turn came back"
        );
    }

    #[tokio::test]
    async fn there_are_never_more_turns_than_instance_slots() {
        let slots = slots(8, 2);
        let held = [slots.acquire().await, slots.acquire().await];
        assert!(held.iter().all(Result::is_ok));
        assert!(slots.acquire().now_or_never().is_none(), "two slots only");
    }
}
