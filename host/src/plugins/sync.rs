//! Keeping every node's registry in step ([`crate::revisions`]): a change is announced on
//! the Redis channel `<prefix>plugins` after it commits, and each node reloads when it hears
//! one, or when its check of PostgreSQL's plugin revision finds a change it missed.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Registry, SyncError};
use crate::{
    redis::Redis,
    revisions::{self, Follower},
    store::PgPool,
};

/// The channel (after the prefix) plugin changes are announced on.
const CHANNEL: &str = "plugins";

/// Announces a new plugin revision to every node.
pub async fn announce(redis: &Redis, revision: i64) {
    revisions::announce(redis, CHANNEL, revision).await;
}

impl Follower for Registry {
    type Error = SyncError;

    async fn heard(&self, pool: &PgPool, _revision: i64) -> Result<(), SyncError> {
        self.sync(pool).await.map(drop)
    }

    async fn catch_up(&self, pool: &PgPool) -> Result<(), SyncError> {
        self.sync(pool).await.map(drop)
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
    revisions::keep_in_sync(registry, CHANNEL, pool, redis, every, stop).await;
}
