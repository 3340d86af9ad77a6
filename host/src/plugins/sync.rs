//! Keeping every node's registry in step: a change is announced on the Redis channel
//! `<prefix>plugins` after it commits, and each node reloads when it hears one, or when its
//! poll of PostgreSQL's plugin revision finds a change it missed (Redis down, node started
//! later). PostgreSQL is the truth; an announcement only makes convergence fast.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::Registry;
use crate::{redis::Redis, store::PgPool};

/// The channel (after the prefix) plugin changes are announced on.
const CHANNEL: &str = "plugins";

/// Announces a new plugin revision to every node (best effort: nodes also poll PostgreSQL,
/// so a lost announcement only delays convergence).
pub async fn announce(redis: &Redis, revision: i64) {
    if let Err(error) = redis.publish(&redis.key(CHANNEL), revision).await {
        tracing::warn!(%error, "could not announce a plugin change; other nodes will poll it");
    }
}

/// Keeps `registry` in step with PostgreSQL until `stop` is cancelled: reloads when an
/// announcement arrives and every `every` in case one was missed. A failed reload keeps the
/// loaded set and is retried.
pub async fn keep_in_sync(
    registry: Registry,
    pool: PgPool,
    redis: Redis,
    every: Duration,
    stop: CancellationToken,
) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let watching = redis.watch_channel(redis.key(CHANNEL), stop.clone(), {
        let wake = wake.clone();
        move || wake.notify_one()
    });
    let mut failing = false;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
        match registry.sync(&pool).await {
            Ok(_) => failing = false,
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(error = %crate::telemetry::chain(&error), "could not load plugin changes; keeping the loaded set");
            }
            Err(_) => {}
        }
    }
    let _ = watching.await;
}
