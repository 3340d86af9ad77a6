//! [`Runtime`]: the sandbox a node runs plugins in, built once. Its stages each have a file:
//! the engine and limits ([`super::engine`]), validation and compilation of uploads
//! ([`super::compile`]) with their artifact cache ([`super::cache`]), and one call in a fresh
//! store ([`super::instance`]).

use std::path::PathBuf;

use wasmtime::Engine;

use super::{
    cache::ArtifactCache,
    engine::{self, EpochTicker, Limits},
};

/// The engine and what every call shares.
pub struct Runtime {
    pub(super) engine: Engine,
    pub(super) limits: Limits,
    /// The artifact cache, when it has a directory this server can trust.
    pub(super) cache: Option<ArtifactCache>,
    pub(super) compatibility: String,
    /// Declared last, so it stops (and is joined) after the rest is dropped.
    _ticker: EpochTicker,
}

/// Why the sandbox could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime refused the engine configuration.
    #[error("the plugin engine could not be built")]
    Engine(#[source] wasmtime::Error),
    /// The epoch ticker thread could not start.
    #[error("the plugin epoch ticker could not start")]
    Ticker(#[source] std::io::Error),
}

impl Runtime {
    /// Builds the engine and starts its epoch ticker. `cache_dir` keeps compiled artifacts
    /// across restarts; artifacts are native code, so a directory another user owns or may
    /// write is not used (the cache is off, with a warning), and a missing one is created
    /// with mode 0700.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, RuntimeError> {
        let engine = engine::new_engine(&limits).map_err(RuntimeError::Engine)?;
        let ticker = EpochTicker::start(&engine).map_err(RuntimeError::Ticker)?;
        let cache = cache_dir.and_then(|dir| match ArtifactCache::open(&dir) {
            Ok(cache) => Some(cache),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "plugin artifact cache off: the directory is not trusted");
                None
            }
        });
        Ok(Self {
            compatibility: engine::compatibility(&engine),
            engine,
            limits,
            cache,
            _ticker: ticker,
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}
