//! The one wasmtime [`Engine`] of a node: its `Config` (component model, pooling allocator,
//! fuel, epoch interruption), the [`Limits`] every call runs under, and the epoch ticker that
//! turns deadlines into ticks; compiled functions are shared through the process's
//! [`FunctionCache`]. Knows nothing of components, stores or hooks.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::function_cache::FunctionCache;

/// How long one epoch tick lasts; deadlines are counted in ticks.
pub(crate) const TICK: Duration = Duration::from_millis(2);

/// Bytes of each linear memory reset in place (`memset`, or copied back from the component's
/// memory image) instead of being returned to the kernel when an instance ends, so the next
/// instance in the slot takes no page faults on them. A fault on a copy-on-write image page
/// also flushes the page from every core's TLB (an inter-processor interrupt, dear in a VM):
/// most of a JavaScript call's cost under load otherwise. Without `PAGEMAP_SCAN` (Linux
/// before 6.7) the window is the start of memory, reset whether touched or not, so it stays
/// small: a Rust plugin built with a small stack (see `plugins/.cargo/config.toml`) touches
/// only pages in this range.
const KEEP_RESIDENT: usize = 128 << 10;

/// The resident window with `PAGEMAP_SCAN`: the kernel reports which pages a call dirtied
/// anywhere in the memory, and up to this many bytes of them are reset in place (the rest go
/// back to the kernel). A JavaScript rule's engine dirties hundreds of KiB per call; a Rust
/// rule a few pages, and pays only for those.
const KEEP_RESIDENT_SCANNED: usize = 4 << 20;

/// Bytes at the top of each async stack reset in place when a call ends, for the same reason:
/// the JavaScript engine's interpreter uses tens of KiB of stack per call.
const STACK_KEEP_RESIDENT: usize = 64 << 10;

// What one component may hold: what a Rust guest has, and one more of each for other
// toolchains. The pool holds `concurrency` times as much, and a component asking for more is
// refused when it is compiled (the upload's 400), so no plugin can take the slots that other
// calls need.

/// Core instances one component may contain (a Rust guest has three: its code, and the two
/// `wasm-component-ld` adds to wire its standard library's imports).
pub(crate) const CORE_INSTANCES_PER_COMPONENT: u32 = 4;
/// Linear memories one component may define (a Rust guest has one).
pub(crate) const MEMORIES_PER_COMPONENT: u32 = 2;
/// Tables one component may define (a Rust guest has two).
pub(crate) const TABLES_PER_COMPONENT: u32 = 3;
/// Elements a table may have, as declared or grown (wasmtime's default: a C# or JavaScript
/// guest can need 10,000 and more; a Rust guest has a few dozen). Each table slot of the pool
/// is this large.
pub(crate) const TABLE_ELEMENTS: usize = 20_000;

/// What one plugin call may use. Defaults follow Shopify Functions.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Fuel per call (about one wasm instruction each).
    pub fuel: u64,
    /// Linear memory per instance, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock time per call, the backstop behind fuel.
    pub deadline: Duration,
    /// Size of a call's input (records plus config), in bytes.
    pub input_bytes: usize,
    /// Log text kept per call, in bytes.
    pub log_bytes: usize,
    /// Instances that may exist at once (pooling allocator slots).
    pub concurrency: u32,
    /// Calls that run at once; more wait their turn before their deadline starts. At most
    /// `concurrency`.
    pub running: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 11_000_000,
            memory_bytes: 10 << 20,
            deadline: Duration::from_millis(50),
            input_bytes: 128 << 10,
            log_bytes: 1 << 10,
            concurrency: 64,
            running: cpu_count(),
        }
    }
}

/// The cores this process may use (its CPU affinity and cgroup quota), at least one.
pub fn cpu_count() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
}

impl Limits {
    /// The call deadline in epoch ticks (rounded up, at least one).
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let ticks = self.deadline.as_micros() / TICK.as_micros() + 1;
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

/// Builds the engine every plugin of this node is compiled for and runs in.
pub(crate) fn new_engine(limits: &Limits) -> wasmtime::Result<Engine> {
    // `concurrency` shares of what one component may hold (see the constants above).
    let keep_resident = if PoolingAllocationConfig::is_pagemap_scan_available() {
        KEEP_RESIDENT_SCANNED
    } else {
        KEEP_RESIDENT
    };
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(limits.concurrency)
        .total_stacks(limits.concurrency)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .total_core_instances(limits.concurrency * CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_memories_per_module(1)
        .total_memories(limits.concurrency * MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_tables_per_module(1)
        .total_tables(limits.concurrency * TABLES_PER_COMPONENT)
        .table_elements(TABLE_ELEMENTS)
        .max_memory_size(limits.memory_bytes)
        // A slot's pages past the resident window go back to the kernel as the instance
        // ends, not in batches: a batch parks its slots until it fills, and an allocation
        // racing another thread's flush of the batch then fails although slots are free
        // (the slot-burst test). Unbatched cost nothing measurable under load.
        .decommit_batch_size(1)
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(TABLE_ELEMENTS * std::mem::size_of::<usize>())
        .async_stack_keep_resident(STACK_KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(512 << 10)
        .async_stack_size(1 << 20)
        // Small reservations keep many engines (one per test server) within the address
        // space; the memory cap is enforced by the store limiter and the pool.
        .memory_reservation((limits.memory_bytes as u64).next_power_of_two())
        .memory_guard_size(64 << 10)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .enable_incremental_compilation(FunctionCache::shared())?;
    Engine::new(&config)
}

/// A short, file-name-safe digest of what a precompiled artifact must match to load into
/// `engine` (wasmtime version, `Config`, features).
pub(crate) fn compatibility(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The thread that advances the engine's epoch every [`TICK`]; it stops and is joined when
/// this value is dropped, and it holds no strong reference to the engine meanwhile.
pub(crate) struct EpochTicker {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub(crate) fn start(engine: &Engine) -> std::io::Result<Self> {
        let running = Arc::new(AtomicBool::new(true));
        let weak = engine.weak();
        let thread = std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn({
                let running = running.clone();
                move || {
                    while running.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        match weak.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => return,
                        }
                    }
                }
            })?;
        Ok(Self {
            running,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
