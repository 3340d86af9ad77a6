//! In-process caches of public answers (product details, product list pages, the popular
//! list) and their bounds. An [`AnswerCache`] holds each answer as it is sent, its body and a
//! tag derived from the body's bytes (so equal answers have equal tags on every node).
//!
//! - An answer is *fresh* for [`Bounds::fresh`] after the load behind it started; a lookup
//!   of a fresh answer touches nothing else. Past that the next lookup loads it again, and
//!   concurrent lookups of one key share one load (and its error).
//! - The last answer loaded for a key is also *held* for [`Bounds::stale_if_error`] past its
//!   freshness. While loads fail because PostgreSQL is unreachable, lookups answer from it
//!   and say how old it is; for [`RETRY_AFTER_FAILURE`] after such a failure they answer from
//!   it at once, without trying again, so an outage costs readers no waiting.
//! - Refresh ahead: [`AnswerCache::due`] names the keys whose fresh answers were read since
//!   they were loaded, and [`AnswerCache::refreshed`] keeps what the caller loaded for them
//!   (in one query, say) as fresh answers counted from the round's start. Done every half of
//!   [`Bounds::fresh`], answers that are read stay fresh without a reader ever waiting for a
//!   load, and the ones nobody reads expire as before.
//! - [`AnswerCache::reset`] forgets everything, and a load that was in flight during a reset
//!   is answered to its callers but not kept, so a change announced during a load is never
//!   hidden behind the load's older answer.
//! - Memory is bounded by entries and by bytes at once: each entry weighs its bytes (body,
//!   tag, bookkeeping) but at least `max_bytes / max_entries`, and the cache holds at most
//!   `max_bytes` of weight. A held answer and its fresh index are weighed apart, so the bound
//!   is conservative.
//!
//! It knows nothing of PostgreSQL, HTTP or what the answers mean: callers give the load.

use std::{
    hash::Hash,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use moka::{Expiry, future::Cache};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// How long after a load failed with PostgreSQL unreachable held answers are served without
/// trying PostgreSQL again.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// What an entry costs beside its body and tag: its key, the entry, moka's bookkeeping (an
/// estimate on the safe side).
const ENTRY_OVERHEAD: usize = 192;

/// How long answers stay and how much of them a cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// How long an answer is served without asking PostgreSQL again.
    pub fresh: Duration,
    /// How long past `fresh` an answer may be served while PostgreSQL is unreachable.
    pub stale_if_error: Duration,
    /// Entries held at most.
    pub max_entries: u64,
    /// Bytes held at most (bodies, tags and bookkeeping).
    pub max_bytes: u64,
}

/// An answer as it is sent: the body and its tag (hex of the first 96 bits of the body's
/// SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    body: Bytes,
    tag: String,
}

impl Rendered {
    /// Wraps a body and computes its tag.
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let tag = hex::encode(&Sha256::digest(&body)[..12]);
        Self { body, tag }
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The tag: equal bodies have equal tags.
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

/// A held answer, when the load behind it started, and whether it was read since.
#[derive(Debug)]
struct Entry {
    rendered: Rendered,
    loaded_at: Instant,
    read: AtomicBool,
}

impl Entry {
    fn new(rendered: Rendered, loaded_at: Instant) -> Arc<Self> {
        Arc::new(Self {
            rendered,
            loaded_at,
            read: AtomicBool::new(false),
        })
    }

    /// Notes a read; most reads find it noted already and write nothing.
    fn mark_read(&self) {
        if !self.read.load(Ordering::Relaxed) {
            self.read.store(true, Ordering::Relaxed);
        }
    }
}

/// A refresh-ahead round ([`AnswerCache::due`]): the keys to load again, and when the round
/// began (the start of the loads behind the answers it keeps).
#[derive(Debug)]
pub struct Refresh<K> {
    keys: Vec<K>,
    generation: u64,
    started: Instant,
}

impl<K> Refresh<K> {
    /// The keys whose answers are to be loaded again.
    pub fn keys(&self) -> &[K] {
        &self.keys
    }
}

/// The answer to a lookup.
#[derive(Debug, Clone)]
pub struct Served {
    entry: Arc<Entry>,
    stale: Option<Duration>,
}

impl Served {
    /// The answer.
    pub fn rendered(&self) -> &Rendered {
        &self.entry.rendered
    }

    /// Its age, when it is served past its freshness because PostgreSQL is unreachable.
    pub fn stale_age(&self) -> Option<Duration> {
        self.stale
    }
}

/// Where an entry sits: the fresh index of one generation, or the held last answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot<K> {
    Fresh(u64, K),
    Held(K),
}

/// Each slot's lifetime, counted from the start of the load behind it (not from its
/// insertion, which comes a query later).
struct Lifetimes {
    fresh: Duration,
    held: Duration,
}

impl<K> Expiry<Slot<K>, Arc<Entry>> for Lifetimes {
    fn expire_after_create(
        &self,
        key: &Slot<K>,
        value: &Arc<Entry>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        let lifetime = match key {
            Slot::Fresh(..) => self.fresh,
            Slot::Held(_) => self.held,
        };
        Some(lifetime.saturating_sub(value.loaded_at.elapsed()))
    }

    fn expire_after_update(
        &self,
        key: &Slot<K>,
        value: &Arc<Entry>,
        updated_at: std::time::Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        self.expire_after_create(key, value, updated_at)
    }
}

/// A bounded cache of answers by key; cheap to clone.
pub struct AnswerCache<K>(Arc<Inner<K>>);

impl<K> Clone for AnswerCache<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

struct Inner<K> {
    cache: Cache<Slot<K>, Arc<Entry>>,
    bounds: Bounds,
    /// Bumped by every reset; fresh entries of an older generation are never found.
    generation: AtomicU64,
    /// When a load last failed with PostgreSQL unreachable (cleared by a successful load).
    failed_at: Mutex<Option<Instant>>,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> AnswerCache<K> {
    /// An empty cache within `bounds`.
    pub fn new(bounds: Bounds) -> Self {
        let min_weight = bounds.max_bytes.div_ceil(bounds.max_entries.max(1));
        let weigher = move |_key: &Slot<K>, entry: &Arc<Entry>| {
            let bytes = entry.rendered.body.len() + entry.rendered.tag.len() + ENTRY_OVERHEAD;
            let weight = u64::try_from(bytes).unwrap_or(u64::MAX).max(min_weight);
            u32::try_from(weight).unwrap_or(u32::MAX)
        };
        let cache = Cache::builder()
            .max_capacity(bounds.max_bytes)
            .weigher(weigher)
            .expire_after(Lifetimes {
                fresh: bounds.fresh,
                held: bounds.fresh.saturating_add(bounds.stale_if_error),
            })
            .build();
        Self(Arc::new(Inner {
            cache,
            bounds,
            generation: AtomicU64::new(0),
            failed_at: Mutex::new(None),
        }))
    }

    /// The bounds it was made with.
    pub fn bounds(&self) -> Bounds {
        self.0.bounds
    }

    /// The answer for `key`: the fresh one, or the one the future from `load()` gives (made
    /// only on a miss; concurrent callers share one load and its error). When the load fails and
    /// `unreachable` says PostgreSQL could not be reached, the held answer if it is at most
    /// `stale_if_error` past its freshness.
    pub async fn get<E, F>(
        &self,
        key: K,
        load: impl FnOnce() -> F,
        unreachable: impl Fn(&E) -> bool,
    ) -> Result<Served, Arc<E>>
    where
        E: Send + Sync + 'static,
        F: Future<Output = Result<Rendered, E>>,
    {
        let inner = &self.0;
        let generation = inner.generation.load(Ordering::Acquire);
        let fresh = Slot::Fresh(generation, key.clone());
        if let Some(entry) = inner.cache.get(&fresh).await {
            entry.mark_read();
            return Ok(Served { entry, stale: None });
        }
        // On the heap, and made only now: a hit's future (most lookups) stays small.
        Box::pin(self.miss(key, generation, load, unreachable)).await
    }

    /// A lookup that found no fresh answer for `key` in `generation`.
    async fn miss<E, F>(
        &self,
        key: K,
        generation: u64,
        load: impl FnOnce() -> F,
        unreachable: impl Fn(&E) -> bool,
    ) -> Result<Served, Arc<E>>
    where
        E: Send + Sync + 'static,
        F: Future<Output = Result<Rendered, E>>,
    {
        let inner = &self.0;
        if inner.recently_failed()
            && let Some(served) = inner.held(&key).await
        {
            return Ok(served);
        }
        let init = async {
            let loaded_at = Instant::now();
            let entry = Entry::new(load().await?, loaded_at);
            // A reset since the load began: answer it, keep nothing.
            if inner.generation.load(Ordering::Acquire) == generation {
                inner
                    .cache
                    .insert(Slot::Held(key.clone()), entry.clone())
                    .await;
            }
            inner.set_failed(false);
            Ok::<_, E>(entry)
        };
        let fresh = Slot::Fresh(generation, key.clone());
        match inner.cache.try_get_with(fresh, init).await {
            Ok(entry) => Ok(Served { entry, stale: None }),
            Err(error) if unreachable(error.as_ref()) => {
                inner.set_failed(true);
                inner.held(&key).await.ok_or(error)
            }
            Err(error) => Err(error),
        }
    }

    /// Begins a refresh-ahead round: the keys (at most `limit`) whose fresh answers were read
    /// since they were loaded.
    pub fn due(&self, limit: usize) -> Refresh<K> {
        let inner = &self.0;
        let started = Instant::now();
        let generation = inner.generation.load(Ordering::Acquire);
        let keys = inner
            .cache
            .iter()
            .filter(|(_, entry)| entry.read.load(Ordering::Relaxed))
            .filter_map(|(slot, _)| match slot.as_ref() {
                Slot::Fresh(g, key) if *g == generation => Some(key.clone()),
                _ => None,
            })
            .take(limit)
            .collect();
        Refresh {
            keys,
            generation,
            started,
        }
    }

    /// Ends a refresh-ahead round: keeps `answers` as fresh answers loaded when the round began,
    /// unless the cache was reset since. A due key without an answer is left to expire.
    pub async fn refreshed(
        &self,
        round: Refresh<K>,
        answers: impl IntoIterator<Item = (K, Rendered)>,
    ) {
        let inner = &self.0;
        for (key, rendered) in answers {
            if inner.generation.load(Ordering::Acquire) != round.generation {
                return;
            }
            let entry = Entry::new(rendered, round.started);
            inner
                .cache
                .insert(Slot::Held(key.clone()), entry.clone())
                .await;
            inner
                .cache
                .insert(Slot::Fresh(round.generation, key), entry)
                .await;
        }
    }

    /// Forgets every answer, and keeps none of the loads in flight.
    pub fn reset(&self) {
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        self.0.cache.invalidate_all();
    }

    /// Entries and weighted bytes held, once pending evictions are done.
    pub async fn size(&self) -> (u64, u64) {
        self.0.cache.run_pending_tasks().await;
        (self.0.cache.entry_count(), self.0.cache.weighted_size())
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Inner<K> {
    /// The held answer of `key`, if it is still within `stale_if_error` of its freshness.
    async fn held(&self, key: &K) -> Option<Served> {
        let entry = self.cache.get(&Slot::Held(key.clone())).await?;
        let age = entry.loaded_at.elapsed();
        let limit = self.bounds.fresh.saturating_add(self.bounds.stale_if_error);
        (age <= limit).then_some(Served {
            entry,
            stale: Some(age),
        })
    }

    fn recently_failed(&self) -> bool {
        self.failed_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < RETRY_AFTER_FAILURE)
    }

    fn set_failed(&self, failed: bool) {
        if let Ok(mut at) = self.failed_at.lock() {
            *at = failed.then(Instant::now);
        }
    }
}

#[cfg(test)]
mod tests;
