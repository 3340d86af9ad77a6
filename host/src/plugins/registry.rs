//! The plugins in force on this node: an immutable [`ActiveSet`] swapped atomically
//! (`arc-swap`) when PostgreSQL's plugin revision moves, so a request sees one consistent set
//! and never waits for a reload. Plugins run in ascending priority, each on a fiber that yields
//! to the async runtime every so much fuel (so a long call never stalls a worker), one
//! pooling-allocator slot each; shadow versions run afterwards on a bounded queue.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use arc_swap::ArcSwap;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::{
    Hook,
    runtime::{
        Answer, CallFailure, Called, Compiled, HookInput, Invalid, LinePrice, PluginConfig, Runtime,
    },
};
use crate::{
    metrics::{CallResult, Metrics, PluginCalls},
    rules::{ChargeInput, OrderInput, Pricing, Rejection, RuleFailure, Rules, Verdict},
    store::{PgPool, plugins as store},
};

/// How many shadow runs may wait; more are dropped (and counted).
const SHADOW_QUEUE: usize = 1024;

/// One plugin as it runs on its hook.
#[derive(Debug)]
pub struct Active {
    /// The plugin's name.
    pub name: String,
    /// The active version.
    pub version: String,
    /// Lower runs first.
    pub priority: i32,
    /// Its config.
    pub config: PluginConfig,
    compiled: Compiled,
    calls: PluginCalls,
    shadow: Option<(String, Compiled)>,
}

/// What runs on every hook, as of one plugin revision.
#[derive(Debug, Default)]
pub struct ActiveSet {
    /// The revision it was loaded at.
    pub revision: i64,
    charge: Vec<Arc<Active>>,
    order_validate: Vec<Arc<Active>>,
    order_price: Vec<Arc<Active>>,
}

impl ActiveSet {
    /// The plugins on `hook`, in the order they run.
    pub fn on(&self, hook: Hook) -> &[Arc<Active>] {
        match hook {
            Hook::ChargeValidate => &self.charge,
            Hook::OrderValidate => &self.order_validate,
            Hook::OrderPrice => &self.order_price,
        }
    }
}

/// Why the registry could not load what PostgreSQL says runs.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// PostgreSQL failed.
    #[error("database: {0}")]
    Database(String),
    /// A stored version no longer compiles (a different host, or a corrupted row).
    #[error("plugin {name} {version}: {error}")]
    Invalid {
        /// The plugin.
        name: String,
        /// Its version.
        version: String,
        /// Why.
        error: Invalid,
    },
}

impl From<tokio_postgres::Error> for SyncError {
    fn from(e: tokio_postgres::Error) -> Self {
        SyncError::Database(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for SyncError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        SyncError::Database(e.to_string())
    }
}

/// The node's plugin registry; cheap to clone.
#[derive(Clone)]
pub struct Registry(Arc<Inner>);

struct Inner {
    runtime: Runtime,
    active: ArcSwap<ActiveSet>,
    /// Compiled versions by (hook, sha256), so a reload compiles only what is new.
    compiled: Mutex<HashMap<(Hook, String), Compiled>>,
    /// Disagreements seen, for sampling which ones are logged.
    disagreements: std::sync::atomic::AtomicU64,
    /// Set by the first successful load.
    loaded: std::sync::atomic::AtomicBool,
    /// Serializes reloads.
    syncing: tokio::sync::Mutex<()>,
    /// One permit per pooling-allocator slot: calls beyond it wait instead of failing.
    slots: Arc<tokio::sync::Semaphore>,
    metrics: Metrics,
    shadow: mpsc::Sender<ShadowRun>,
}

impl Registry {
    /// An empty registry over `runtime`; call [`Registry::sync`] to load what runs.
    pub fn new(runtime: Runtime, metrics: Metrics) -> Self {
        let (shadow, queue) = mpsc::channel(SHADOW_QUEUE);
        let slots = Arc::new(tokio::sync::Semaphore::new(
            runtime.limits().concurrency as usize,
        ));
        let registry = Self(Arc::new(Inner {
            loaded: std::sync::atomic::AtomicBool::new(false),
            disagreements: std::sync::atomic::AtomicU64::new(0),
            slots,
            runtime,
            active: ArcSwap::from_pointee(ActiveSet::default()),
            compiled: Mutex::new(HashMap::new()),
            syncing: tokio::sync::Mutex::new(()),
            metrics,
            shadow,
        }));
        tokio::spawn(run_shadows(Arc::downgrade(&registry.0), queue));
        registry
    }

    /// The sandbox.
    pub fn runtime(&self) -> &Runtime {
        &self.0.runtime
    }

    /// Whether a load from PostgreSQL has succeeded (readiness).
    pub fn is_loaded(&self) -> bool {
        self.0.loaded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What runs now.
    pub fn active(&self) -> Arc<ActiveSet> {
        self.0.active.load_full()
    }

    /// Compiles (or finds compiled) a component for `hook`, off the async workers.
    pub async fn compile(&self, hook: Hook, bytes: Vec<u8>) -> Result<Compiled, Invalid> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || inner.compile(hook, &bytes))
            .await
            .map_err(|e| Invalid(format!("compilation did not finish: {e}")))?
    }

    /// Waits for a free instance slot; hold it for the duration of one call.
    pub async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, RuleFailure> {
        self.0.slot().await
    }

    /// Loads what PostgreSQL says runs, if its revision differs from the loaded one, and
    /// swaps it in atomically. On error the loaded set stays.
    pub async fn sync(&self, pool: &PgPool) -> Result<i64, SyncError> {
        let _one_at_a_time = self.0.syncing.lock().await;
        let client = pool.get().await?;
        let revision = store::revision(&client).await?;
        if revision == self.0.active.load().revision && self.is_loaded() {
            return Ok(revision);
        }
        let running = store::running(&client).await?;
        let mut set = ActiveSet {
            revision,
            ..ActiveSet::default()
        };
        for row in running {
            let plugin = &row.plugin;
            let Ok(hook) = plugin.hook.parse::<Hook>() else {
                continue;
            };
            let shadow = match (&plugin.shadow_version, &row.shadow_sha256) {
                (Some(version), Some(sha)) => Some((
                    version.clone(),
                    self.load(&client, hook, &plugin.name, version, sha).await?,
                )),
                _ => None,
            };
            let (Some(version), Some(sha)) = (&plugin.active_version, &row.active_sha256) else {
                continue;
            };
            let compiled = self.load(&client, hook, &plugin.name, version, sha).await?;
            let active = Arc::new(Active {
                calls: self
                    .0
                    .metrics
                    .plugin_calls(&plugin.name, version, hook.as_str()),
                name: plugin.name.clone(),
                version: version.clone(),
                priority: plugin.priority,
                config: config_pairs(&plugin.config),
                compiled,
                shadow,
            });
            match hook {
                Hook::ChargeValidate => set.charge.push(active),
                Hook::OrderValidate => set.order_validate.push(active),
                Hook::OrderPrice => set.order_price.push(active),
            }
        }
        for list in [
            &mut set.charge,
            &mut set.order_validate,
            &mut set.order_price,
        ] {
            list.sort_by(|a, b| a.priority.cmp(&b.priority).then(a.name.cmp(&b.name)));
        }
        self.0.active.store(Arc::new(set));
        self.0
            .loaded
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(revision)
    }

    /// A stored version, compiled (from the in-memory map, or the bytes in PostgreSQL).
    async fn load(
        &self,
        client: &deadpool_postgres::Client,
        hook: Hook,
        name: &str,
        version: &str,
        sha256: &str,
    ) -> Result<Compiled, SyncError> {
        if let Some(compiled) = self.0.cached(hook, sha256) {
            return Ok(compiled);
        }
        let invalid = |error| SyncError::Invalid {
            name: name.to_owned(),
            version: version.to_owned(),
            error,
        };
        let bytes = store::bytes_by_sha256(client, sha256)
            .await?
            .ok_or_else(|| invalid(Invalid("its bytes are gone".into())))?;
        self.compile(hook, bytes).await.map_err(invalid)
    }
}

impl Inner {
    fn cached(&self, hook: Hook, sha256: &str) -> Option<Compiled> {
        self.compiled
            .lock()
            .ok()?
            .get(&(hook, sha256.to_owned()))
            .cloned()
    }

    fn compile(&self, hook: Hook, bytes: &[u8]) -> Result<Compiled, Invalid> {
        let compiled = self.runtime.compile(hook, bytes)?;
        if let Ok(mut map) = self.compiled.lock() {
            map.insert((hook, compiled.sha256.clone()), compiled.clone());
        }
        Ok(compiled)
    }

    /// Records a call in the metrics, and logs a failure.
    fn observe<T>(&self, plugin: &Active, hook: Hook, called: &Called<T>, rejected: bool) {
        let result = match &called.outcome {
            Err(f) => CallResult::Failure(f.kind.as_str()),
            Ok(_) if rejected => CallResult::Reject,
            Ok(_) => CallResult::Accept,
        };
        plugin.calls.record(result, called.duration, called.fuel);
        if let Err(failure) = &called.outcome {
            tracing::warn!(plugin = %plugin.name, version = %plugin.version, %hook, kind = %failure.kind, error = %failure.message, "plugin call failed");
        }
    }

    fn queue_shadow(&self, run: ShadowRun) {
        if let Err(mpsc::error::TrySendError::Full(run) | mpsc::error::TrySendError::Closed(run)) =
            self.shadow.try_send(run)
        {
            self.metrics
                .plugin_shadow(&run.plugin.name, run.version(), "dropped");
        }
    }

    async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, RuleFailure> {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| RuleFailure {
                rule: "plugins".into(),
                reason: e.to_string(),
            })
    }

    /// Runs the validation plugins of the input's hook in order; the first rejection wins.
    async fn validate(&self, set: &ActiveSet, input: HookInput) -> Result<Verdict, RuleFailure> {
        let hook = input.hook();
        for plugin in set.on(hook) {
            let slot = self.slot().await?;
            let span = tracing::debug_span!("plugin", plugin = %plugin.name, version = %plugin.version, %hook);
            let called = match &input {
                HookInput::Charge(charge) => {
                    self.runtime
                        .validate_charge(&plugin.compiled, charge, &plugin.config)
                        .instrument(span)
                        .await
                }
                HookInput::OrderValidate(order) | HookInput::OrderPrice(order) => {
                    self.runtime
                        .validate_order(&plugin.compiled, order, &plugin.config)
                        .instrument(span)
                        .await
                }
            };
            drop(slot);
            let rejected = matches!(called.outcome, Ok(Some(_)));
            self.observe(plugin, hook, &called, rejected);
            if plugin.shadow.is_some() {
                self.queue_shadow(ShadowRun {
                    plugin: plugin.clone(),
                    input: input.clone(),
                    active: Decision::of_validation(&called.outcome),
                });
            }
            match called.outcome {
                Ok(None) => {}
                Ok(Some(rejection)) => return Ok(Verdict::Reject(rejection)),
                Err(failure) => return Err(rule_failure(plugin, failure)),
            }
        }
        Ok(Verdict::Accept)
    }

    /// Runs the pricing plugins in order, each seeing the previous one's prices.
    async fn price_order(
        &self,
        set: &ActiveSet,
        input: &OrderInput,
    ) -> Result<Pricing, RuleFailure> {
        let mut input = input.clone();
        for plugin in set.on(Hook::OrderPrice) {
            let slot = self.slot().await?;
            let called = self
                .runtime
                .price_order(&plugin.compiled, &input, &plugin.config)
                .instrument(tracing::debug_span!("plugin", plugin = %plugin.name, version = %plugin.version, hook = %Hook::OrderPrice))
                .await;
            drop(slot);
            let rejected = matches!(called.outcome, Ok(Err(_)));
            self.observe(plugin, Hook::OrderPrice, &called, rejected);
            if plugin.shadow.is_some() {
                self.queue_shadow(ShadowRun {
                    plugin: plugin.clone(),
                    input: HookInput::OrderPrice(input.clone()),
                    active: Decision::of_pricing(&called.outcome),
                });
            }
            match called.outcome {
                Ok(Ok(prices)) => {
                    for (line, price) in input.lines.iter_mut().zip(prices) {
                        line.unit_price = price.unit_price;
                    }
                }
                Ok(Err(rejection)) => return Ok(Pricing::Reject(rejection)),
                Err(failure) => return Err(rule_failure(plugin, failure)),
            }
        }
        Ok(Pricing::Priced(
            input.lines.iter().map(|l| l.unit_price).collect(),
        ))
    }
}

fn rule_failure(plugin: &Active, failure: CallFailure) -> RuleFailure {
    RuleFailure {
        rule: format!("{} {}", plugin.name, plugin.version),
        reason: failure.to_string(),
    }
}

impl Rules for Registry {
    fn validate_charge(
        &self,
        input: ChargeInput,
    ) -> BoxFuture<'static, Result<Verdict, RuleFailure>> {
        let inner = self.0.clone();
        Box::pin(async move {
            let set = inner.active.load_full();
            inner.validate(&set, HookInput::Charge(input)).await
        })
    }

    fn validate_order(
        &self,
        input: OrderInput,
    ) -> BoxFuture<'static, Result<Verdict, RuleFailure>> {
        let inner = self.0.clone();
        Box::pin(async move {
            let set = inner.active.load_full();
            inner.validate(&set, HookInput::OrderValidate(input)).await
        })
    }

    fn price_order(&self, input: OrderInput) -> BoxFuture<'static, Result<Pricing, RuleFailure>> {
        let inner = self.0.clone();
        Box::pin(async move {
            let set = inner.active.load_full();
            inner.price_order(&set, &input).await
        })
    }
}

/// A decision in a form two versions' answers can be compared in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Accept,
    Reject(Rejection),
    Prices(Vec<i64>),
    Failed,
}

impl Decision {
    fn of_validation(outcome: &Result<Option<Rejection>, CallFailure>) -> Self {
        match outcome {
            Ok(None) => Decision::Accept,
            Ok(Some(r)) => Decision::Reject(r.clone()),
            Err(_) => Decision::Failed,
        }
    }

    fn of_answer(outcome: &Result<Answer, CallFailure>) -> Self {
        match outcome {
            Ok(Answer::Accept) => Decision::Accept,
            Ok(Answer::Reject(r)) => Decision::Reject(r.clone()),
            Ok(Answer::Prices(prices)) => {
                Decision::Prices(prices.iter().map(|p| p.unit_price).collect())
            }
            Err(_) => Decision::Failed,
        }
    }

    fn of_pricing(outcome: &Result<Result<Vec<LinePrice>, Rejection>, CallFailure>) -> Self {
        match outcome {
            Ok(Ok(prices)) => Decision::Prices(prices.iter().map(|p| p.unit_price).collect()),
            Ok(Err(r)) => Decision::Reject(r.clone()),
            Err(_) => Decision::Failed,
        }
    }
}

/// A live request's input and the active version's decision, to replay on the shadow version.
#[derive(Debug)]
struct ShadowRun {
    plugin: Arc<Active>,
    input: HookInput,
    active: Decision,
}

impl ShadowRun {
    fn version(&self) -> &str {
        self.plugin.shadow.as_ref().map_or("", |(v, _)| v.as_str())
    }
}

/// Runs queued shadow calls one at a time, off the request path, until the registry is gone.
async fn run_shadows(registry: std::sync::Weak<Inner>, mut queue: mpsc::Receiver<ShadowRun>) {
    while let Some(run) = queue.recv().await {
        let Some(inner) = registry.upgrade() else {
            return;
        };
        if let Ok(_slot) = inner.slot().await {
            inner.shadow(run).await;
        }
    }
}

impl Inner {
    async fn shadow(&self, run: ShadowRun) {
        let Some((version, compiled)) = &run.plugin.shadow else {
            return;
        };
        let shadow = Decision::of_answer(
            &self
                .runtime
                .call(compiled, &run.input, &run.plugin.config)
                .await
                .outcome,
        );
        let result = if shadow == Decision::Failed {
            "failed"
        } else if shadow == run.active {
            "agree"
        } else {
            "disagree"
        };
        self.metrics
            .plugin_shadow(&run.plugin.name, version, result);
        let seen = if result == "disagree" {
            self.disagreements
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        } else {
            u64::MAX
        };
        // A sample: the first ten, then one in a hundred.
        if seen < 10 || (seen != u64::MAX && seen % 100 == 0) {
            tracing::info!(
                plugin = %run.plugin.name,
                active_version = %run.plugin.version,
                shadow_version = %version,
                input = ?run.input,
                active = ?run.active,
                shadow = ?shadow,
                "shadow version disagrees"
            );
        }
    }
}

/// A stored config (a JSON object of strings) as the guest's list of pairs.
pub fn config_pairs(config: &serde_json::Value) -> PluginConfig {
    config
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}
