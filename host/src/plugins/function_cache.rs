//! The in-memory cache of compiled functions that Cranelift's incremental compilation reads
//! and fills ([`wasmtime::CacheStore`]), one per process, shared by every engine in it.
//!
//! Every JavaScript rule carries the same engine (StarlingMonkey, about 12 MB of wasm); only
//! its data (the rule's source and the engine's heap snapshot) differs from one rule to the
//! next. Cranelift keys each function by its IR and the target's flags, so the second JS
//! upload on a node finds the engine's functions here and compiles only what is new: seconds
//! instead of minutes. A key holds everything the compiled code depends on, so engines with
//! other settings (fuel, limits) miss rather than share wrong code. The artifact cache on disk
//! ([`super::cache`]) still keeps whole components across restarts; this one is memory only.

use std::{
    borrow::Cow,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use moka::sync::Cache;

/// Bytes of compiled functions kept; the least recently used go first. The JS engine's
/// functions take about a tenth of this.
const CAPACITY_BYTES: u64 = 512 << 20;

/// Compiled functions by Cranelift's cache key, and how often a lookup found one.
#[derive(Debug)]
pub(crate) struct FunctionCache {
    functions: Cache<Vec<u8>, Arc<[u8]>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Lookups so far: found, and compiled anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lookups {
    /// Functions found compiled.
    pub(crate) hits: u64,
    /// Functions compiled because they were not.
    pub(crate) misses: u64,
}

impl FunctionCache {
    /// The process's cache.
    pub(crate) fn shared() -> Arc<Self> {
        static SHARED: OnceLock<Arc<FunctionCache>> = OnceLock::new();
        SHARED
            .get_or_init(|| Arc::new(Self::with_capacity(CAPACITY_BYTES)))
            .clone()
    }

    fn with_capacity(bytes: u64) -> Self {
        let weigh = |key: &Vec<u8>, value: &Arc<[u8]>| {
            u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
        };
        Self {
            functions: Cache::builder().max_capacity(bytes).weigher(weigh).build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Lookups since the process started.
    pub(crate) fn lookups(&self) -> Lookups {
        Lookups {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let found = self.functions.get(key);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found.map(|value| Cow::Owned(value.to_vec()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        self.functions.insert(key.to_vec(), value.into());
        true
    }
}
