//! Rule plugins: WebAssembly components (WIT package `edgecart:rules` in `wit/`) that hold the
//! business teams' decisions, run sandboxed by wasmtime, in the stages wasmtime and spin
//! draw: an engine built once, compiled components kept per version, a fresh store per call.
//!
//! - [`hook`]: the hooks and the world each runs.
//! - [`engine`]: the one wasmtime `Engine`, the [`Limits`] of a call, the epoch ticker.
//! - [`compile`]: validation and linking of uploads, through the artifact cache.
//! - [`function_cache`]: compiled functions in memory, shared by the process's engines (the
//!   JS engine inside every JavaScript rule is compiled once).
//! - [`cache`]: compiled artifacts on disk, loaded only when their MAC shows this server's
//!   user wrote them.
//! - [`input`]: a call's input and config, as the records of either contract.
//! - [`instance`]: one call in a fresh store, its answer checked and made a
//!   [`crate::rules::Decision`].
//! - [`host`]: the host interface a plugin may call (`log`) and the state of one call.
//! - [`error`]: how a call fails, classified from wasmtime's typed errors.
//! - [`registry`]: what runs on this node, swapped atomically; implements
//!   [`crate::rules::Rules`].
//! - [`runs`]: a sample of live calls and every rejection and failure, recorded off the
//!   request path for listing and replay.
//! - [`replay`]: a version run again on recorded runs, and the tally of how it agreed.
//! - [`slots`]: the turns (about one per core) and instance slots calls wait for.
//! - [`shadow`]: a candidate version run beside the active one, compared off the request path.
//! - [`sync`]: announcements on Redis and the PostgreSQL poll that keep nodes in step.
//! - [`json`]: a call's input and outcome as JSON (dry runs, recorded runs, replay).
//! - [`dry_run`]: the smoke call an upload must pass.

#![deny(missing_docs)]

mod bindings;
mod cache;
pub mod compile;
pub mod dry_run;
pub mod engine;
pub mod error;
mod function_cache;
pub mod hook;
pub mod host;
pub mod input;
pub mod instance;
pub mod json;
pub mod registry;
pub mod replay;
pub mod runs;
mod runtime;
mod shadow;
mod slots;
pub mod sync;
#[cfg(test)]
mod tests;

pub use compile::{Compiled, Contract, Invalid, sha256_hex};
pub use engine::Limits;
pub use error::{CallFailure, FailureKind};
pub use hook::Hook;
pub use host::LogLine;
pub use input::{HookInput, PluginConfig};
pub use instance::Called;
pub use registry::{ActiveSet, Registry, SyncError};
pub use runtime::{Runtime, RuntimeError};
