//! [`Runtime`]: the sandbox a node runs plugins in, built once. Its stages each have a file:
//! the engine and limits ([`super::engine`]), validation and compilation of uploads
//! ([`super::compile`]), and one call in a fresh store ([`super::instance`]).

use std::path::PathBuf;

use wasmtime::Engine;

use super::engine::{self, EpochTicker, Limits};

/// The engine and what every call shares.
pub struct Runtime {
    pub(super) engine: Engine,
    pub(super) limits: Limits,
    pub(super) cache_dir: Option<PathBuf>,
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
    /// across restarts; it must be writable by this server only (artifacts are native code).
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, RuntimeError> {
        let engine = engine::new_engine(&limits).map_err(RuntimeError::Engine)?;
        let ticker = EpochTicker::start(&engine).map_err(RuntimeError::Ticker)?;
        Ok(Self {
            compatibility: engine::compatibility(&engine),
            engine,
            limits,
            cache_dir,
            _ticker: ticker,
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}
