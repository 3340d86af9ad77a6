//! The plugins in force on this node: an immutable [`ActiveSet`] swapped atomically
//! (`arc-swap`) when PostgreSQL's plugin revision moves, so a request sees one consistent set
//! and never waits for a reload. A hook's plugins run in ascending priority, each on a fiber
//! that yields to the async runtime every so much fuel, in a turn and a pooling-allocator slot
//! ([`super::slots`]); the
//! registry is the [`Rules`] the services ask.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
};

use arc_swap::ArcSwap;
use futures_util::future::BoxFuture;
use tracing::Instrument;

use super::{
    Called, Compiled, Hook, HookInput, Invalid, PluginConfig, Runtime,
    runs::{self, LiveRun, Recorder},
    shadow::{ShadowRun, Shadows},
    slots::{Slot, Slots},
};
use crate::{
    domain::OnFailure,
    metrics::{CallResult, Metrics, PluginCalls},
    rules::{ChargeInput, Decision, LinePrice, OrderInput, RuleFailure, Rules},
    store::{
        PgPool, plugins as store,
        revisions::{self, Revision},
    },
};

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
    /// What a failed call does to the request.
    pub on_failure: OnFailure,
    pub(super) compiled: Compiled,
    calls: PluginCalls,
    /// The version run beside it on the same inputs, if any.
    pub(super) shadow: Option<(String, Compiled)>,
}

/// What runs on every hook, as of one plugin revision.
#[derive(Debug, Default)]
pub struct ActiveSet {
    /// The revision it was loaded at.
    pub revision: i64,
    by_hook: HashMap<Hook, Vec<Arc<Active>>>,
}

impl ActiveSet {
    /// The plugins on `hook`, in the order they run.
    pub fn on(&self, hook: Hook) -> &[Arc<Active>] {
        self.by_hook.get(&hook).map_or(&[], Vec::as_slice)
    }
}

/// Why the registry could not load what PostgreSQL says runs.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// PostgreSQL failed.
    #[error("reading the plugins from PostgreSQL failed")]
    Database(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had.
    #[error("no PostgreSQL connection for the plugins")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A stored version no longer compiles (a different host, or a corrupted row).
    #[error("plugin {name} {version} cannot be loaded")]
    Invalid {
        /// The plugin.
        name: String,
        /// Its version.
        version: String,
        /// Why.
        #[source]
        error: Invalid,
    },
}

/// The node's plugin registry; cheap to clone.
#[derive(Clone)]
pub struct Registry(Arc<Inner>);

pub(super) struct Inner {
    pub(super) runtime: Runtime,
    active: ArcSwap<ActiveSet>,
    /// Compiled versions by (hook, sha256), so a reload compiles only what is new.
    compiled: Mutex<HashMap<(Hook, String), Compiled>>,
    /// Set by the first successful load.
    loaded: AtomicBool,
    /// Serializes reloads.
    syncing: tokio::sync::Mutex<()>,
    /// Turns to run and pooling-allocator slots: calls beyond them wait instead of failing.
    slots: Slots,
    pub(super) metrics: Metrics,
    shadows: Shadows,
    /// Set by [`Registry::record_runs`]; without it no run is recorded.
    runs: OnceLock<Recorder>,
}

impl Registry {
    /// An empty registry over `runtime`; call [`Registry::sync`] to load what runs.
    pub fn new(runtime: Runtime, metrics: Metrics) -> Self {
        let slots = Slots::new(runtime.limits());
        Self(Arc::new_cyclic(|weak| Inner {
            loaded: AtomicBool::new(false),
            slots,
            runtime,
            active: ArcSwap::from_pointee(ActiveSet::default()),
            compiled: Mutex::new(HashMap::new()),
            syncing: tokio::sync::Mutex::new(()),
            shadows: Shadows::start(weak.clone(), metrics.clone()),
            runs: OnceLock::new(),
            metrics,
        }))
    }

    /// Records live calls as runs in `pool` from now on: every rejection and failure, and
    /// the share `sample` of accepted calls. Only the first call has an effect.
    pub fn record_runs(&self, pool: PgPool, sample: f64) {
        self.0
            .runs
            .get_or_init(|| Recorder::start(pool, sample, self.0.metrics.clone()));
    }

    /// The sandbox.
    pub fn runtime(&self) -> &Runtime {
        &self.0.runtime
    }

    /// Whether a load from PostgreSQL has succeeded (readiness).
    pub fn is_loaded(&self) -> bool {
        self.0.loaded.load(Ordering::Relaxed)
    }

    /// Compiles (or finds compiled) a component for `hook`, off the async workers.
    pub async fn compile(&self, hook: Hook, bytes: Vec<u8>) -> Result<Compiled, Invalid> {
        let inner = self.0.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| inner.compile(hook, &bytes)))
            .await
            .map_err(|e| Invalid(format!("compilation did not finish: {e}")))?
    }

    /// Runs `compiled` once on `input` in a free instance slot, outside the active set (dry
    /// runs and the upload's smoke call).
    pub async fn call(
        &self,
        compiled: &Compiled,
        input: &HookInput,
        config: &PluginConfig,
    ) -> Result<Called, RuleFailure> {
        let _slot = self.0.slot().await?;
        Ok(self.0.runtime.call(compiled, input, config).await)
    }

    /// The config schema `compiled` declares (0.2; `None` for 0.1), from a call in a free
    /// instance slot.
    pub async fn config_schema(
        &self,
        compiled: &Compiled,
    ) -> Result<Result<Option<String>, super::CallFailure>, RuleFailure> {
        let _slot = self.0.slot().await?;
        Ok(self.0.runtime.config_schema(compiled).await)
    }

    /// Loads what PostgreSQL says runs, if its revision differs from the loaded one, and
    /// swaps it in atomically. On error the loaded set stays.
    #[tracing::instrument(name = "plugins.sync", skip_all)]
    pub async fn sync(&self, pool: &PgPool) -> Result<i64, SyncError> {
        let _one_at_a_time = self.0.syncing.lock().await;
        let client = pool.get().await?;
        let revision = revisions::current(&client, Revision::Plugins).await?;
        if revision == self.0.active.load().revision && self.is_loaded() {
            return Ok(revision);
        }
        let mut set = ActiveSet {
            revision,
            ..ActiveSet::default()
        };
        for row in store::running(&client).await? {
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
            set.by_hook.entry(hook).or_default().push(Arc::new(Active {
                calls: self
                    .0
                    .metrics
                    .plugin_calls(&plugin.name, version, hook.as_str()),
                name: plugin.name.clone(),
                version: version.clone(),
                priority: plugin.priority,
                config: PluginConfig::new(&plugin.config),
                on_failure: plugin.on_failure,
                compiled,
                shadow,
            }));
        }
        for list in set.by_hook.values_mut() {
            list.sort_by(|a, b| a.priority.cmp(&b.priority).then(a.name.cmp(&b.name)));
        }
        self.0.active.store(Arc::new(set));
        self.0.loaded.store(true, Ordering::Relaxed);
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

    /// Waits for a turn to run and a free instance slot; hold it for one call.
    pub(super) async fn slot(&self) -> Result<Slot, RuleFailure> {
        self.slots.acquire().await
    }

    /// Runs the plugins of the input's hook in order: the first rejection wins, and each
    /// pricing plugin sees the prices of the one before. With no plugin, a validation
    /// accepts and pricing keeps the list prices.
    async fn decide(&self, mut input: HookInput) -> Result<Decision, RuleFailure> {
        let set = self.active.load_full();
        let hook = input.hook();
        let mut reasons: Vec<Option<String>> = Vec::new();
        for plugin in set.on(hook) {
            let called = self.call_active(plugin, &input).await?;
            match called.outcome {
                Ok(Decision::Accept) => {}
                Ok(Decision::Reject(rejection)) => return Ok(Decision::Reject(rejection)),
                Ok(Decision::Prices(prices)) => {
                    if let HookInput::OrderPrice(order) = &mut input {
                        reasons.resize(order.lines.len(), None);
                        for ((line, reason), price) in
                            order.lines.iter_mut().zip(&mut reasons).zip(prices)
                        {
                            line.unit_price = price.unit_price;
                            *reason = price.reason.or(reason.take());
                        }
                    }
                }
                // `skip`: as if it had accepted, prices as they were.
                Err(_) if plugin.on_failure == OnFailure::Skip => plugin.calls.skipped(),
                Err(failure) => {
                    return Err(RuleFailure::new(
                        format!("{} {}", plugin.name, plugin.version),
                        failure,
                    ));
                }
            }
        }
        Ok(match input {
            HookInput::OrderPrice(order) => Decision::Prices(
                order
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(i, line)| LinePrice {
                        unit_price: line.unit_price,
                        reason: reasons.get_mut(i).and_then(Option::take),
                    })
                    .collect(),
            ),
            _ => Decision::Accept,
        })
    }

    /// One call of an active plugin: in a slot, traced, counted, logged when it fails,
    /// queued for its shadow version, and for recording when it is picked.
    async fn call_active(
        &self,
        plugin: &Arc<Active>,
        input: &HookInput,
    ) -> Result<Called, RuleFailure> {
        let hook = input.hook();
        let span =
            tracing::debug_span!("plugin", plugin = %plugin.name, version = %plugin.version, %hook);
        let called = {
            let _slot = self.slot().await?;
            self.runtime
                .call(&plugin.compiled, input, &plugin.config)
                .instrument(span)
                .await
        };
        let result = match &called.outcome {
            Err(f) => CallResult::Failure(f.kind.as_str()),
            Ok(Decision::Reject(_)) => CallResult::Reject,
            Ok(_) => CallResult::Accept,
        };
        plugin.calls.record(result, called.duration, called.fuel);
        if let Err(failure) = &called.outcome {
            tracing::warn!(plugin = %plugin.name, version = %plugin.version, %hook, kind = %failure.kind, error = %failure.message, "plugin call failed");
        }
        if let Some(recorder) = self.runs.get()
            && recorder.wants(runs::outcome_of(&called))
        {
            recorder.queue(LiveRun {
                plugin: plugin.clone(),
                input: input.clone(),
                called: called.clone(),
            });
        }
        if plugin.shadow.is_some() {
            self.shadows.queue(ShadowRun {
                plugin: plugin.clone(),
                input: input.clone(),
                active: called.outcome.clone().ok(),
            });
        }
        Ok(called)
    }
}

impl Rules for Registry {
    fn validate_charge(
        &self,
        input: ChargeInput,
    ) -> BoxFuture<'static, Result<Decision, RuleFailure>> {
        let inner = self.0.clone();
        Box::pin(async move { inner.decide(HookInput::Charge(input)).await })
    }

    fn validate_order(
        &self,
        input: OrderInput,
    ) -> BoxFuture<'static, Result<Decision, RuleFailure>> {
        let inner = self.0.clone();
        Box::pin(async move { inner.decide(HookInput::OrderValidate(input)).await })
    }

    fn price_order(&self, input: OrderInput) -> BoxFuture<'static, Result<Decision, RuleFailure>> {
        let inner = self.0.clone();
        Box::pin(async move { inner.decide(HookInput::OrderPrice(input)).await })
    }
}
