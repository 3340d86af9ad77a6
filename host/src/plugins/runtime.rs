//! The sandbox: one wasmtime `Engine` (component model, pooling allocator, fuel, epochs), the
//! compilation of uploaded components (validated, cached on disk by content hash and engine
//! compatibility), and one call = a fresh `Store` and instance with a fuel budget, a wall-clock
//! deadline and a memory cap. No WASI is linked: an import the host does not give traps when
//! called, and uploads may only import the interfaces a Rust guest's standard library links.

use std::{
    collections::hash_map::DefaultHasher,
    fmt,
    hash::{Hash, Hasher},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits,
    StoreLimitsBuilder, Trap,
    component::{Component, HasSelf, InstancePre, Linker, types::ComponentItem},
};

use super::{
    Hook,
    bindings::{charge_validate, host, order_price, order_validate, types},
};
use crate::rules::{ChargeInput, OrderInput, Rejection};

/// Fuel between two yields of a running plugin to the async runtime: a long call shares its
/// worker thread in slices of about this many instructions instead of stalling it.
const YIELD_EVERY: u64 = 20_000;

/// How long one epoch tick lasts; deadlines are counted in ticks.
const TICK: Duration = Duration::from_millis(2);

/// Bytes at the start of each linear memory reset with `memset` instead of being returned to
/// the kernel when an instance ends. A plugin built with a small stack (see
/// `plugins/.cargo/config.toml`) touches only pages in this range, so the next instance in
/// the slot takes no page faults: most of a call's cost otherwise.
const KEEP_RESIDENT: usize = 128 << 10;

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
    /// Instances that may run at once (pooling allocator slots).
    pub concurrency: u32,
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
        }
    }
}

/// A plugin's configuration as the guest sees it.
pub type PluginConfig = Vec<(String, String)>;

/// A component that cannot become a plugin for a hook: the upload's 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Why a call produced no decision. The request fails closed (503 `PLUGIN_FAILED`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CallFailure {
    /// The metric label.
    pub kind: FailureKind,
    /// What happened, for logs.
    pub message: String,
}

/// How a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The guest trapped: a panic, `unreachable`, a stack overflow, a forbidden import.
    Trap,
    /// The fuel budget ran out.
    Fuel,
    /// The wall-clock deadline passed.
    Time,
    /// The memory cap was hit.
    Memory,
    /// The input was over the size limit, or the answer broke the contract.
    Contract,
}

impl FailureKind {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::Fuel => "fuel",
            FailureKind::Time => "time",
            FailureKind::Memory => "memory",
            FailureKind::Contract => "contract",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The text (possibly cut at the per-call cap).
    pub message: String,
}

/// A call's result and what it cost.
#[derive(Debug, Clone)]
pub struct Called<T> {
    /// The plugin's answer, or why there is none.
    pub outcome: Result<T, CallFailure>,
    /// Fuel burnt.
    pub fuel: u64,
    /// Wall-clock time of instantiate + call.
    pub duration: Duration,
    /// What the plugin logged.
    pub logs: Vec<LogLine>,
}

impl<T> Called<T> {
    /// The same call with its answer turned by `f`.
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Called<U> {
        Called {
            outcome: self.outcome.map(f),
            fuel: self.fuel,
            duration: self.duration,
            logs: self.logs,
        }
    }
}

/// A hook's input, whichever the hook.
#[derive(Debug, Clone)]
pub enum HookInput {
    /// `charge.validate`.
    Charge(ChargeInput),
    /// `order.validate`.
    OrderValidate(OrderInput),
    /// `order.price`.
    OrderPrice(OrderInput),
}

impl HookInput {
    /// The hook this input is for.
    pub fn hook(&self) -> Hook {
        match self {
            HookInput::Charge(_) => Hook::ChargeValidate,
            HookInput::OrderValidate(_) => Hook::OrderValidate,
            HookInput::OrderPrice(_) => Hook::OrderPrice,
        }
    }
}

/// A plugin's answer, whichever the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A validation plugin accepted.
    Accept,
    /// The plugin refused.
    Reject(Rejection),
    /// A pricing plugin's price for each line.
    Prices(Vec<LinePrice>),
}

/// A plugin's price for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrice {
    /// Price per unit after the plugin.
    pub unit_price: i64,
    /// Why it changed, if it did.
    pub reason: Option<String>,
}

/// The store data of one call: its memory cap and its log.
pub struct CallState {
    limits: StoreLimits,
    logs: Vec<LogLine>,
    log_budget: usize,
}

impl CallState {
    fn log(&mut self, level: &'static str, message: String) {
        if self.log_budget == 0 {
            return;
        }
        let mut message = message;
        if message.len() > self.log_budget {
            let mut end = self.log_budget;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        self.log_budget -= message.len();
        self.logs.push(LogLine { level, message });
    }
}

impl host::Host for CallState {
    fn log(&mut self, level: host::Level, message: String) {
        let level = match level {
            host::Level::Debug => "debug",
            host::Level::Info => "info",
            host::Level::Warn => "warn",
            host::Level::Error => "error",
        };
        CallState::log(self, level, message);
    }
}

impl types::Host for CallState {}

/// A compiled plugin version, ready to instantiate for its hook.
#[derive(Clone)]
pub struct Compiled {
    /// Hex SHA-256 of the component's bytes.
    pub sha256: String,
    pre: Pre,
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled")
            .field("sha256", &self.sha256)
            .field("hook", &self.hook())
            .finish()
    }
}

#[derive(Clone)]
enum Pre {
    Charge(charge_validate::ChargeValidatePre<CallState>),
    OrderValidate(order_validate::OrderValidatePre<CallState>),
    OrderPrice(order_price::OrderPricePre<CallState>),
}

impl Compiled {
    /// The hook this version serves.
    pub fn hook(&self) -> Hook {
        match self.pre {
            Pre::Charge(_) => Hook::ChargeValidate,
            Pre::OrderValidate(_) => Hook::OrderValidate,
            Pre::OrderPrice(_) => Hook::OrderPrice,
        }
    }
}

/// Import namespaces a component may have: the host interface and the few interfaces a Rust
/// guest's standard library links (never called by a well-behaved plugin; they trap).
const ALLOWED_IMPORTS: [&str; 3] = ["edgecart:rules/", "wasi:cli/", "wasi:io/"];

/// The engine and what every call shares.
pub struct Runtime {
    engine: Engine,
    limits: Limits,
    cache_dir: Option<PathBuf>,
    compatibility: String,
    ticking: Arc<AtomicBool>,
}

impl Runtime {
    /// Builds the engine and starts its epoch ticker. `cache_dir` keeps compiled artifacts
    /// across restarts; it must be writable by this server only (artifacts are native code).
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, wasmtime::Error> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(limits.concurrency)
            .total_stacks(limits.concurrency)
            .total_core_instances(limits.concurrency * 4)
            .total_memories(limits.concurrency * 2)
            .total_tables(limits.concurrency * 4)
            .max_memory_size(limits.memory_bytes)
            // A slot's pages past the resident window go back to the kernel as the instance
            // ends, not in batches: a batch parks its slots until it fills, and an allocation
            // racing another thread's flush of the batch then fails although slots are free
            // (the slot-burst test). Unbatched cost nothing measurable under load.
            .decommit_batch_size(1)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(16 << 10);
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
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let compatibility = format!("{:016x}", hasher.finish());
        let ticking = Arc::new(AtomicBool::new(true));
        let ticker = engine.clone();
        let running = ticking.clone();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while running.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticker.increment_epoch();
                }
            })?;
        Ok(Self {
            engine,
            limits,
            cache_dir,
            compatibility,
            ticking,
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Validates and compiles a component for `hook`: it must be a component, target the
    /// hook's world, and import nothing but the host interface (and the standard library's
    /// inert imports).
    pub fn compile(&self, hook: Hook, bytes: &[u8]) -> Result<Compiled, Invalid> {
        let sha256 = sha256_hex(bytes);
        let component = self.load(&sha256, bytes)?;
        let ty = component.component_type();
        for (name, item) in ty.imports(&self.engine) {
            // Imported types (the WIT records) carry no capability.
            if matches!(item.ty, ComponentItem::Type(_)) {
                continue;
            }
            let allowed = ALLOWED_IMPORTS.iter().any(|p| name.starts_with(p));
            if !allowed || !matches!(item.ty, ComponentItem::ComponentInstance(_)) {
                return Err(Invalid(format!(
                    "imports {name}, which the host does not give (only edgecart:rules/host)"
                )));
            }
        }
        let wrong_world = |e: wasmtime::Error| {
            Invalid(format!(
                "does not implement world {} for hook {hook}: {e:#}",
                hook.world()
            ))
        };
        let pre = match hook {
            Hook::ChargeValidate => Pre::Charge(
                charge_validate::ChargeValidatePre::new(self.instance_pre(&component, |l| {
                    charge_validate::ChargeValidate::add_to_linker::<_, HasSelf<_>>(l, |s| s)
                })?)
                .map_err(wrong_world)?,
            ),
            Hook::OrderValidate => Pre::OrderValidate(
                order_validate::OrderValidatePre::new(self.instance_pre(&component, |l| {
                    order_validate::OrderValidate::add_to_linker::<_, HasSelf<_>>(l, |s| s)
                })?)
                .map_err(wrong_world)?,
            ),
            Hook::OrderPrice => Pre::OrderPrice(
                order_price::OrderPricePre::new(self.instance_pre(&component, |l| {
                    order_price::OrderPrice::add_to_linker::<_, HasSelf<_>>(l, |s| s)
                })?)
                .map_err(wrong_world)?,
            ),
        };
        Ok(Compiled { sha256, pre })
    }

    /// Links `component` against the host interface `add_world` defines, every other import
    /// a trap, and checks it can be instantiated.
    fn instance_pre(
        &self,
        component: &Component,
        add_world: impl FnOnce(&mut Linker<CallState>) -> wasmtime::Result<()>,
    ) -> Result<InstancePre<CallState>, Invalid> {
        let link = || {
            let mut linker = Linker::new(&self.engine);
            add_world(&mut linker)?;
            linker.define_unknown_imports_as_traps(component)?;
            linker.instantiate_pre(component)
        };
        link().map_err(|e| Invalid(format!("cannot be linked: {e:#}")))
    }

    /// The component from the artifact cache, or compiled (and then cached).
    fn load(&self, sha256: &str, bytes: &[u8]) -> Result<Component, Invalid> {
        let cached = self
            .cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{sha256}-{}.cwasm", self.compatibility)));
        if let Some(path) = &cached
            && path.exists()
        {
            // SAFETY: the file was written by `Component::serialize` of an engine with the
            // same compatibility hash (it is in the name), in a directory only this server
            // writes; a truncated or foreign file fails to deserialize and is recompiled.
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring a bad cached plugin artifact")
                }
            }
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| Invalid(format!("not a WebAssembly component: {e}")))?;
        if let Some(path) = cached
            && let Err(e) = write_artifact(&path, &component)
        {
            tracing::warn!(path = %path.display(), error = %e, "could not cache a compiled plugin");
        }
        Ok(component)
    }

    /// A fresh store with this call's budgets.
    fn store(&self) -> Store<CallState> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(
            &self.engine,
            CallState {
                limits,
                logs: Vec::new(),
                log_budget: self.limits.log_bytes,
            },
        );
        store.limiter(|state| &mut state.limits);
        // Only fails when fuel is not enabled, and it is.
        let _ = store.set_fuel(self.limits.fuel);
        let ticks = self.limits.deadline.as_micros() / TICK.as_micros() + 1;
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        // Only fails when fuel is not enabled, and it is.
        let _ = store.fuel_async_yield_interval(Some(YIELD_EVERY));
        store
    }

    /// A fresh store for a call with `input_bytes` of input, or the failed call when the
    /// input is over the limit.
    fn begin<T>(&self, input_bytes: usize) -> Result<(Store<CallState>, Instant), Called<T>> {
        if input_bytes > self.limits.input_bytes {
            return Err(Called {
                outcome: Err(CallFailure {
                    kind: FailureKind::Contract,
                    message: format!(
                        "input of {input_bytes} bytes is over the {} byte limit",
                        self.limits.input_bytes
                    ),
                }),
                fuel: 0,
                duration: Duration::ZERO,
                logs: Vec::new(),
            });
        }
        Ok((self.store(), Instant::now()))
    }

    /// Classifies how a call ended and what it cost.
    fn finish<T>(
        &self,
        mut store: Store<CallState>,
        started: Instant,
        result: wasmtime::Result<Result<T, CallFailure>>,
    ) -> Called<T> {
        let outcome = result.unwrap_or_else(|e| Err(classify(&e)));
        let duration = started.elapsed();
        let fuel = self
            .limits
            .fuel
            .saturating_sub(store.get_fuel().unwrap_or(0));
        Called {
            outcome,
            fuel,
            duration,
            logs: std::mem::take(&mut store.data_mut().logs),
        }
    }

    /// Asks a `charge.validate` plugin.
    pub async fn validate_charge(
        &self,
        plugin: &Compiled,
        input: &ChargeInput,
        config: &PluginConfig,
    ) -> Called<Option<Rejection>> {
        let Pre::Charge(pre) = &plugin.pre else {
            return wrong_hook(plugin, Hook::ChargeValidate);
        };
        let (mut store, started) = match self.begin(24 + config_size(config)) {
            Ok(begun) => begun,
            Err(refused) => return refused,
        };
        let result = async {
            let bindings = pre.instantiate_async(&mut store).await?;
            let charge = types::Charge {
                user_id: input.user_id,
                amount: input.amount,
                balance: input.balance,
            };
            let answer = bindings
                .call_validate_charge(&mut store, charge, config)
                .await?;
            Ok(answer
                .err()
                .map(|r| rejection(r.code, r.message))
                .transpose())
        }
        .await;
        self.finish(store, started, result)
    }

    /// Asks an `order.validate` plugin.
    pub async fn validate_order(
        &self,
        plugin: &Compiled,
        input: &OrderInput,
        config: &PluginConfig,
    ) -> Called<Option<Rejection>> {
        let Pre::OrderValidate(pre) = &plugin.pre else {
            return wrong_hook(plugin, Hook::OrderValidate);
        };
        let (mut store, started) = match self.begin(order_size(input) + config_size(config)) {
            Ok(begun) => begun,
            Err(refused) => return refused,
        };
        let result = async {
            let bindings = pre.instantiate_async(&mut store).await?;
            let order = order_record(input);
            let answer = bindings
                .call_validate_order(&mut store, &order, config)
                .await?;
            Ok(answer
                .err()
                .map(|r| rejection(r.code, r.message))
                .transpose())
        }
        .await;
        self.finish(store, started, result)
    }

    /// Asks an `order.price` plugin for one price per line.
    pub async fn price_order(
        &self,
        plugin: &Compiled,
        input: &OrderInput,
        config: &PluginConfig,
    ) -> Called<Result<Vec<LinePrice>, Rejection>> {
        let Pre::OrderPrice(pre) = &plugin.pre else {
            return wrong_hook(plugin, Hook::OrderPrice);
        };
        let (mut store, started) = match self.begin(order_size(input) + config_size(config)) {
            Ok(begun) => begun,
            Err(refused) => return refused,
        };
        let result = async {
            let bindings = pre.instantiate_async(&mut store).await?;
            let order = order_record(input);
            Ok(
                match bindings
                    .call_price_order(&mut store, &order, config)
                    .await?
                {
                    Err(r) => rejection(r.code, r.message).map(Err),
                    Ok(prices) if prices.len() != input.lines.len() => Err(contract(format!(
                        "{} prices for {} lines",
                        prices.len(),
                        input.lines.len()
                    ))),
                    Ok(prices) if prices.iter().any(|p| p.unit_price < 0) => {
                        Err(contract("a negative price".to_owned()))
                    }
                    Ok(prices) => Ok(Ok(prices
                        .into_iter()
                        .map(|p| LinePrice {
                            unit_price: p.unit_price,
                            reason: p.reason,
                        })
                        .collect())),
                },
            )
        }
        .await;
        self.finish(store, started, result)
    }
}

impl Runtime {
    /// Calls `plugin` on `input`, whichever its hook: for the callers that treat every hook
    /// alike (dry runs, the upload's smoke call, shadow runs).
    pub async fn call(
        &self,
        plugin: &Compiled,
        input: &HookInput,
        config: &PluginConfig,
    ) -> Called<Answer> {
        let validation =
            |rejection: Option<Rejection>| rejection.map_or(Answer::Accept, Answer::Reject);
        match input {
            HookInput::Charge(charge) => self
                .validate_charge(plugin, charge, config)
                .await
                .map(validation),
            HookInput::OrderValidate(order) => self
                .validate_order(plugin, order, config)
                .await
                .map(validation),
            HookInput::OrderPrice(order) => self
                .price_order(plugin, order, config)
                .await
                .map(|priced| priced.map_or_else(Answer::Reject, Answer::Prices)),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

/// Hex SHA-256 of a component: its identity in storage and in the artifact cache.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes an artifact atomically (a temporary file renamed into place), so that concurrent
/// servers sharing the directory never read half a file.
fn write_artifact(path: &std::path::Path, component: &Component) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// Maps a wasmtime error to the failure kinds of the metrics.
fn classify(error: &wasmtime::Error) -> CallFailure {
    let kind = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => FailureKind::Fuel,
        Some(Trap::Interrupt) => FailureKind::Time,
        Some(_) => FailureKind::Trap,
        // The limiter's refusal is not a `Trap` (see ../shared/notes/wasmtime.md).
        None if format!("{error:#}").contains("growing memory") => FailureKind::Memory,
        None if format!("{error:#}").contains("memory") => FailureKind::Memory,
        None => FailureKind::Trap,
    };
    CallFailure {
        kind,
        message: format!("{error:#}"),
    }
}

fn contract(message: String) -> CallFailure {
    CallFailure {
        kind: FailureKind::Contract,
        message,
    }
}

/// A rejection as the contract allows it: an upper-case code of at most 64 characters and a
/// message of at most 512.
fn rejection(code: String, message: String) -> Result<Rejection, CallFailure> {
    let code_ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        return Err(contract(format!(
            "rejection code {code:?} is not UPPER_SNAKE_CASE of at most 64 characters"
        )));
    }
    if message.chars().count() > 512 || message.contains('\0') {
        return Err(contract("rejection message over 512 characters".to_owned()));
    }
    Ok(Rejection { code, message })
}

fn wrong_hook<T>(plugin: &Compiled, expected: Hook) -> Called<T> {
    Called {
        outcome: Err(contract(format!(
            "a {} plugin was called for {expected}",
            plugin.hook()
        ))),
        fuel: 0,
        duration: Duration::ZERO,
        logs: Vec::new(),
    }
}

/// An order as the WIT records carry it.
fn order_record(input: &OrderInput) -> types::Order {
    types::Order {
        user_id: input.user_id,
        balance: input.balance,
        lines: input
            .lines
            .iter()
            .map(|l| types::OrderLine {
                product_id: l.product_id,
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
    }
}

fn config_size(config: &PluginConfig) -> usize {
    config.iter().map(|(k, v)| k.len() + v.len() + 16).sum()
}

fn order_size(input: &OrderInput) -> usize {
    16 + input.lines.len() * 24
}
