//! The plugin lifecycle business teams drive through the admin API: upload (validated and
//! smoke-called), list, activate, roll back, deactivate, configure, shadow, dry-run
//! evaluation, and recorded runs with their replay (`runs`). Every change commits with a bumped plugin revision, is loaded by this node at
//! once and announced so that the other nodes load it too.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use deadpool_postgres::GenericClient;

use super::{Database, Error};
use crate::{
    domain::{OnFailure, Operator, Plugin, Snapshot, Version},
    metrics::Metrics,
    plugins::{Called, Compiled, Hook, HookInput, PluginConfig, Registry, dry_run, sync},
    redis::Redis,
    store::{plugins as store, snapshots},
    telemetry::chain,
};

mod changes;
mod runs;
mod schema;
mod stats;
mod validate;

pub use schema::ConfigError;

use changes::{Change, Upload, change_in, register_in, upload_in};
use validate::{existing_name, existing_version, valid_name, valid_version};

/// `name`'s stored plugin (its row locked for the transaction with `lock`), or
/// `PluginNotFound`.
async fn stored(db: &impl GenericClient, name: &str, lock: bool) -> Result<Plugin, Error> {
    store::find(db, name, lock)
        .await?
        .ok_or(Error::PluginNotFound)
}

/// Largest config (its JSON text), in bytes.
const MAX_CONFIG_BYTES: usize = 16 << 10;

/// The plugins `scripts/build-plugins` builds and a fresh deployment registers: name, hook,
/// whether it starts active.
pub const DEFAULTS: [(&str, Hook, bool); 4] = [
    ("charge-limits", Hook::ChargeValidate, true),
    ("order-checks", Hook::OrderValidate, true),
    ("bulk-discount", Hook::OrderPrice, false),
    ("promotions", Hook::OrderPrice, false),
];
/// The version the defaults are registered as: components of rule contract 0.2, each with its
/// config schema. (A deployment registered before keeps the versions it has.)
pub const DEFAULT_VERSION: &str = "0.2.0";

/// A plugin with its versions, as the admin API shows it.
#[derive(Debug, Clone)]
pub struct PluginEntry {
    /// State.
    pub plugin: Plugin,
    /// Versions, oldest first.
    pub versions: Vec<Version>,
}

/// The plugin admin use cases.
#[derive(Clone)]
pub struct Plugins {
    db: Database,
    registry: Registry,
    redis: Redis,
    /// The node's metrics, which the live figures ([`Plugins::stats`]) read back.
    metrics: Metrics,
    /// One replay at a time on a node: like the shadow runs, it takes one instance slot.
    replaying: Arc<tokio::sync::Semaphore>,
    /// Largest component accepted, in bytes (`EDGECART_PLUGIN_MAX_BYTES`).
    max_bytes: usize,
}

impl Plugins {
    /// Builds the service; uploads over `max_bytes` are refused.
    pub fn new(
        db: Database,
        registry: Registry,
        redis: Redis,
        metrics: Metrics,
        max_bytes: usize,
    ) -> Self {
        Self {
            db,
            registry,
            redis,
            metrics,
            replaying: Arc::new(tokio::sync::Semaphore::new(1)),
            max_bytes,
        }
    }

    /// Validates and stores a new version. Validation: a component, of the hook's world,
    /// importing only what the host gives, answering a smoke call with a sample input.
    #[tracing::instrument(name = "plugins.upload", skip_all, fields(plugin = name, hook = %hook, version = version))]
    pub async fn upload(
        &self,
        operator: &Operator,
        name: &str,
        hook: Hook,
        version: &str,
        bytes: Vec<u8>,
        note: Option<&str>,
    ) -> Result<Version, Error> {
        valid_name(name)?;
        valid_version(version)?;
        if bytes.len() > self.max_bytes {
            return Err(Error::PluginInvalid(format!(
                "the component has {} bytes; at most {} are accepted",
                bytes.len(),
                self.max_bytes
            )));
        }
        let config_schema = self.validate(hook, &bytes).await?;
        let sha256 = crate::plugins::sha256_hex(&bytes);
        let upload = Upload {
            operator,
            name,
            hook,
            version,
            sha256: &sha256,
            bytes: &bytes,
            note,
            config_schema: config_schema.as_ref(),
        };
        self.db.transaction(&upload, upload_in).await
    }

    /// Every plugin with its versions.
    #[tracing::instrument(name = "plugins.list", skip_all)]
    pub async fn list(&self) -> Result<Vec<PluginEntry>, Error> {
        let client = self.db.pool().get().await?;
        let (plugins, versions) =
            futures_util::try_join!(store::all(&client), store::versions(&client, None))?;
        let mut by_name: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        for version in versions {
            by_name
                .entry(version.name.clone())
                .or_default()
                .push(version);
        }
        Ok(plugins
            .into_iter()
            .map(|plugin| PluginEntry {
                versions: by_name.remove(&plugin.name).unwrap_or_default(),
                plugin,
            })
            .collect())
    }

    /// One plugin with its versions.
    #[tracing::instrument(name = "plugins.show", skip_all, fields(plugin = name))]
    pub async fn show(&self, name: &str) -> Result<PluginEntry, Error> {
        existing_name(name)?;
        let client = self.db.pool().get().await?;
        let plugin = stored(&client, name, false).await?;
        let versions = store::versions(&client, Some(name)).await?;
        Ok(PluginEntry { plugin, versions })
    }

    /// Every activation's snapshot of a plugin, newest first.
    #[tracing::instrument(name = "plugins.history", skip_all, fields(plugin = name))]
    pub async fn history(&self, name: &str) -> Result<Vec<Snapshot>, Error> {
        existing_name(name)?;
        let client = self.db.pool().get().await?;
        stored(&client, name, false).await?;
        Ok(snapshots::history(&client, name).await?)
    }

    /// Makes `version` the one that runs.
    #[tracing::instrument(name = "plugins.activate", skip_all, fields(plugin = name, version = version))]
    pub async fn activate(
        &self,
        operator: &Operator,
        name: &str,
        version: &str,
    ) -> Result<PluginEntry, Error> {
        self.change(operator, name, Change::Activate(version)).await
    }

    /// Activates the version active before the current one.
    #[tracing::instrument(name = "plugins.rollback", skip_all, fields(plugin = name))]
    pub async fn rollback(&self, operator: &Operator, name: &str) -> Result<PluginEntry, Error> {
        self.change(operator, name, Change::Rollback).await
    }

    /// Stops running the plugin (its versions stay).
    #[tracing::instrument(name = "plugins.deactivate", skip_all, fields(plugin = name))]
    pub async fn deactivate(&self, operator: &Operator, name: &str) -> Result<PluginEntry, Error> {
        self.change(operator, name, Change::Deactivate).await
    }

    /// Sets the config and, when given, the priority and the failure policy. The config must
    /// fit the active and the shadow version: their schemas (0.2), or strings only (0.1).
    #[tracing::instrument(name = "plugins.configure", skip_all, fields(plugin = name, priority = ?priority))]
    pub async fn configure(
        &self,
        operator: &Operator,
        name: &str,
        config: &serde_json::Map<String, serde_json::Value>,
        priority: Option<i32>,
        on_failure: Option<OnFailure>,
    ) -> Result<PluginEntry, Error> {
        let config = serde_json::Value::Object(config.clone());
        if config.to_string().len() > MAX_CONFIG_BYTES {
            return Err(Error::InvalidPluginRequest(format!(
                "config is larger than {MAX_CONFIG_BYTES} bytes"
            )));
        }
        let change = Change::Configure(&config, priority, on_failure);
        self.change(operator, name, change).await
    }

    /// Runs `version` beside the active one (or stops, with `None`).
    #[tracing::instrument(name = "plugins.shadow", skip_all, fields(plugin = name, version = ?version))]
    pub async fn shadow(
        &self,
        operator: &Operator,
        name: &str,
        version: Option<&str>,
    ) -> Result<PluginEntry, Error> {
        self.change(operator, name, Change::Shadow(version)).await
    }

    /// A dry run of one version on a given input and config; nothing is stored.
    #[tracing::instrument(name = "plugins.evaluate", skip_all, fields(plugin = name, version = version))]
    pub async fn evaluate(
        &self,
        name: &str,
        version: &str,
        input: &serde_json::Value,
        config: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Called, Error> {
        let (hook, compiled) = self.stored_version(name, version).await?;
        let request = HookInput::parse(hook, input)
            .map_err(|e| Error::InvalidPluginRequest(e.to_string()))?;
        let config = PluginConfig::new(&serde_json::Value::Object(config.clone()));
        Ok(self.registry.call(&compiled, &request, &config).await?)
    }

    /// Registers and activates the default plugins from `dir` when no plugin exists yet (a
    /// fresh deployment). Several nodes starting at once register them once.
    #[tracing::instrument(name = "plugins.register_defaults", skip_all)]
    pub async fn register_defaults(&self, dir: &Path) -> Result<(), Error> {
        {
            let client = self.db.pool().get().await?;
            if store::any(&client).await? {
                return Ok(());
            }
        }
        let mut components = Vec::with_capacity(DEFAULTS.len());
        for (name, hook, active) in DEFAULTS {
            let path = dir.join(format!("{name}.wasm"));
            let bytes = std::fs::read(&path).map_err(|e| {
                Error::PluginInvalid(format!(
                    "default plugin {name}: cannot read {} ({e}); run scripts/build-plugins or set EDGECART_PLUGIN_DIR",
                    path.display()
                ))
            })?;
            let schema = self.validate(hook, &bytes).await?;
            components.push((
                name,
                hook,
                active,
                crate::plugins::sha256_hex(&bytes),
                bytes,
                schema,
            ));
        }
        let system = Operator::system();
        let defaults: Vec<(Upload<'_>, bool)> = components
            .iter()
            .map(|(name, hook, active, sha256, bytes, schema)| {
                let upload = Upload {
                    operator: &system,
                    name,
                    hook: *hook,
                    version: DEFAULT_VERSION,
                    sha256,
                    bytes,
                    note: Some("default plugin"),
                    config_schema: schema.as_ref(),
                };
                (upload, *active)
            })
            .collect();
        if let Some(revision) = self.db.transaction(&defaults[..], register_in).await? {
            self.loaded(revision).await;
        }
        Ok(())
    }

    /// Applies one change in a transaction that bumps the revision, then loads it here and
    /// announces it to the other nodes.
    async fn change(
        &self,
        operator: &Operator,
        name: &str,
        change: Change<'_>,
    ) -> Result<PluginEntry, Error> {
        existing_name(name)?;
        if let Change::Activate(version) | Change::Shadow(Some(version)) = change {
            existing_version(version)?;
        }
        let revision = self
            .db
            .transaction(&(operator, name, change), change_in)
            .await?;
        self.loaded(revision).await;
        self.show(name).await
    }

    /// A stored version of a plugin, compiled (or found compiled), with its plugin's hook.
    async fn stored_version(&self, name: &str, version: &str) -> Result<(Hook, Compiled), Error> {
        existing_name(name)?;
        existing_version(version)?;
        let (plugin, bytes) = {
            let client = self.db.pool().get().await?;
            let plugin = stored(&client, name, false).await?;
            let (_, bytes) = store::version_bytes(&client, name, version)
                .await?
                .ok_or(Error::PluginVersionNotFound)?;
            (plugin, bytes)
        };
        let hook: Hook = plugin
            .hook
            .parse()
            .map_err(|_| Error::PluginInvalid("stored with an unknown hook".into()))?;
        let compiled = self
            .registry
            .compile(hook, bytes)
            .await
            .map_err(|e| Error::PluginInvalid(e.0))?;
        Ok((hook, compiled))
    }

    /// Loads a committed plugin revision on this node and announces it to the others.
    async fn loaded(&self, revision: i64) {
        if let Err(e) = self.registry.sync(self.db.pool()).await {
            tracing::warn!(error = %chain(&e), "could not load the plugin change on this node");
        }
        sync::announce(&self.redis, revision).await;
    }

    /// Compiles a component for `hook`, smoke-calls it with a sample input and, for a 0.2
    /// component, takes its config schema: the checks an upload must pass before anything is
    /// stored. The schema, when there is one.
    async fn validate(&self, hook: Hook, bytes: &[u8]) -> Result<Option<serde_json::Value>, Error> {
        let compiled = self
            .registry
            .compile(hook, bytes.to_vec())
            .await
            .map_err(|e| Error::PluginInvalid(e.0))?;
        if let Err(failure) = dry_run::smoke_call(&self.registry, hook, &compiled).await? {
            return Err(Error::PluginInvalid(format!(
                "the smoke call with a sample input failed: {failure}"
            )));
        }
        let schema = self
            .registry
            .config_schema(&compiled)
            .await?
            .map_err(|failure| {
                Error::PluginInvalid(format!("its config-schema call failed: {failure}"))
            })?;
        schema.as_deref().map(schema::parse).transpose()
    }
}
