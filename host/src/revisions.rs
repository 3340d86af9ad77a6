//! Keeping every node in step with something PostgreSQL holds under a revision (the plugins
//! that run, the product catalog): a change bumps its revision in the change's own
//! transaction and, once committed, is announced on the Redis channel `<prefix><channel>`
//! with the new revision as the message. Each node applies an announcement when it hears
//! one, and checks PostgreSQL's revision every so often for one it missed (Redis down, a lost
//! subscription, a node started later). PostgreSQL is the truth; an announcement only makes
//! convergence fast. What a revision means belongs to each [`Follower`].

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{redis::Redis, store::PgPool};

/// Something a node keeps in step with a revision in PostgreSQL.
pub trait Follower: Send + Sync + 'static {
    /// Why applying a change failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Applies an announced revision.
    fn heard(
        &self,
        pool: &PgPool,
        revision: i64,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Reads PostgreSQL's revision and applies it if it moved (the periodic check, and what
    /// follows missed announcements).
    fn catch_up(&self, pool: &PgPool) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Announces a committed revision to every node (best effort: nodes also check PostgreSQL,
/// so a lost announcement only delays convergence).
pub async fn announce(redis: &Redis, channel: &str, revision: i64) {
    if let Err(error) = redis.publish(&redis.key(channel), revision).await {
        tracing::warn!(%error, channel, "could not announce a change; other nodes will find it in PostgreSQL");
    }
}

/// The newest revision announced since the follower last looked, or that some were missed.
#[derive(Default)]
struct Heard {
    newest: AtomicI64,
    missed: AtomicBool,
}

impl Heard {
    fn record(&self, message: Option<String>) {
        match message.and_then(|text| text.parse::<i64>().ok()) {
            Some(revision) => {
                self.newest.fetch_max(revision, Ordering::AcqRel);
            }
            None => self.missed.store(true, Ordering::Release),
        }
    }

    /// The revision to apply, or `None` when the follower must catch up from PostgreSQL.
    fn take(&self) -> Option<i64> {
        if self.missed.swap(false, Ordering::AcqRel) {
            return None;
        }
        Some(self.newest.load(Ordering::Acquire))
    }
}

/// Keeps `follower` in step until `stop` is cancelled: applies each announcement on
/// `channel` as it arrives, and catches up from PostgreSQL every `every`. A failure keeps
/// what the follower holds, is logged once until it clears, and is retried.
pub async fn keep_in_sync<F: Follower>(
    follower: F,
    channel: &str,
    pool: PgPool,
    redis: Redis,
    every: Duration,
    stop: CancellationToken,
) {
    let wake = Arc::new(Notify::new());
    let heard = Arc::new(Heard::default());
    let watching = redis.watch_channel(redis.key(channel), stop.clone(), {
        let (wake, heard) = (wake.clone(), heard.clone());
        move |message| {
            heard.record(message);
            wake.notify_one();
        }
    });
    let mut failing = false;
    loop {
        let announced = tokio::select! {
            () = stop.cancelled() => break,
            () = wake.notified() => heard.take(),
            () = tokio::time::sleep(every) => None,
        };
        let applied = match announced {
            Some(revision) => follower.heard(&pool, revision).await,
            None => follower.catch_up(&pool).await,
        };
        match applied {
            Ok(()) => failing = false,
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(channel, error = %crate::telemetry::chain(&error), "could not apply changes; keeping what is loaded");
            }
            Err(_) => {}
        }
    }
    let _ = watching.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_announced_revision_is_applied_and_a_missed_one_means_catching_up() {
        let heard = Heard::default();
        heard.record(Some("7".into()));
        heard.record(Some("5".into()));
        assert_eq!(heard.take(), Some(7));
        heard.record(None);
        heard.record(Some("8".into()));
        assert_eq!(heard.take(), None);
        assert_eq!(heard.take(), Some(8));
        heard.record(Some("not a revision".into()));
        assert_eq!(heard.take(), None);
    }
}
