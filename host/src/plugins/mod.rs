//! Rule plugins: WebAssembly components (WIT package `edgecart:rules` in `wit/`) that hold the
//! business teams' decisions, run sandboxed by wasmtime.
//!
//! - [`hook`]: the hooks and the world each runs.
//! - [`runtime`]: the engine, validation and compilation of uploads, one sandboxed call.
//! - [`dry_run`]: one call on an input given as JSON (evaluate, `edgecart plugin run`).
//! - [`registry`]: what runs on this node, swapped atomically; implements [`crate::rules::Rules`].
//! - [`keep_in_sync`]: follows PostgreSQL's plugin revision, woken by Redis announcements.

mod bindings;
pub mod dry_run;
pub mod hook;
pub mod registry;
pub mod runtime;

use std::{sync::Arc, time::Duration};

pub use hook::Hook;
pub use registry::{ActiveSet, Registry};
pub use runtime::{
    Answer, CallFailure, Called, Compiled, FailureKind, HookInput, Invalid, Limits, LinePrice,
    LogLine, PluginConfig, Runtime, sha256_hex,
};

use crate::{background::AbortOnDrop, redis::Redis, store::PgPool};

/// Keeps `registry` in step with PostgreSQL until the task is dropped: reloads when a Redis
/// announcement arrives and, in case one is missed (Redis down, node started later), every
/// `every`. A failed reload keeps the loaded set and is retried.
pub async fn keep_in_sync(registry: Registry, pool: PgPool, redis: Redis, every: Duration) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let watcher = redis.watch_plugin_revisions({
        let wake = wake.clone();
        move || wake.notify_one()
    });
    let _stop_watching = AbortOnDrop(watcher);
    let mut failing = false;
    loop {
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
        match registry.sync(&pool).await {
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "could not load plugin changes; keeping the loaded set");
            }
            Err(_) => {}
        }
    }
}
