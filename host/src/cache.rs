//! In-process caches and their staleness bounds. The popular-products list is cached for
//! `EDGECART_POPULAR_TTL_SECS` (default 10 s): an answer is at most that much older than the
//! query that produced it. Concurrent misses share one query (moka's `try_get_with`).

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use bytes::Bytes;

use moka::future::Cache;
use sha2::{Digest, Sha256};

use crate::domain::Sold;

/// The top sellers and a fingerprint of them (the HTTP layer's `ETag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popular {
    /// Most sold first.
    pub items: Vec<Sold>,
    /// Hex SHA-256 prefix of the items; equal lists have equal tags on every node.
    pub tag: String,
    /// The response body, rendered by the first request that sends this list and reused by
    /// every later one until the entry expires.
    pub rendered: OnceLock<Bytes>,
}

impl Popular {
    /// Wraps a list and computes its tag.
    pub fn new(items: Vec<Sold>) -> Self {
        let mut hasher = Sha256::new();
        for item in &items {
            hasher.update(item.id.to_be_bytes());
            hasher.update(item.count.to_be_bytes());
            hasher.update(item.name.as_bytes());
            hasher.update([0]);
        }
        let tag = hex::encode(&hasher.finalize()[..12]);
        Self {
            items,
            tag,
            rendered: OnceLock::new(),
        }
    }
}

/// The one-entry cache of the popular list.
#[derive(Clone)]
pub struct PopularCache {
    cache: Cache<(), Arc<Popular>>,
    ttl: Duration,
}

impl PopularCache {
    /// A cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            cache: Cache::builder().max_capacity(1).time_to_live(ttl).build(),
            ttl,
        }
    }

    /// The staleness bound.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The cached list, or the one `load` produces; concurrent callers share one `load`.
    pub async fn get_or_load<E: Send + Sync + 'static>(
        &self,
        load: impl Future<Output = Result<Popular, E>>,
    ) -> Result<Arc<Popular>, Arc<E>> {
        self.cache
            .try_get_with((), async { load.await.map(Arc::new) })
            .await
    }
}
