//! The transactions that change a plugin: one [`Change`] of its state (activate, rollback,
//! deactivate, configure, shadow) or the upload of a version, each bumping the plugin
//! revision and writing its audit row beside the change.

use deadpool_postgres::Transaction;

use super::{
    super::{Committed, Error, Work, commit, operators},
    schema, stored,
};
use crate::{
    domain::{OnFailure, Operator, Plugin, Version},
    plugins::Hook,
    store::{
        plugins as store,
        revisions::{self as store_revisions, Revision},
        snapshots,
    },
};

/// One change to a plugin's state.
#[derive(Debug, Clone, Copy)]
pub(super) enum Change<'a> {
    Activate(&'a str),
    Rollback,
    Deactivate,
    Configure(&'a serde_json::Value, Option<i32>, Option<OnFailure>),
    Shadow(Option<&'a str>),
}

impl Change<'_> {
    /// The audit log's name of this change.
    fn action(self) -> &'static str {
        match self {
            Change::Activate(_) => "plugin.activate",
            Change::Rollback => "plugin.rollback",
            Change::Deactivate => "plugin.deactivate",
            Change::Configure(..) => "plugin.configure",
            Change::Shadow(_) => "plugin.shadow",
        }
    }
}

/// A version being stored.
pub(super) struct Upload<'a> {
    pub(super) operator: &'a Operator,
    pub(super) name: &'a str,
    pub(super) hook: Hook,
    pub(super) version: &'a str,
    pub(super) sha256: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) note: Option<&'a str>,
    pub(super) config_schema: Option<&'a serde_json::Value>,
}

pub(super) fn change_in<'t>(
    tx: &'t Transaction<'t>,
    &(operator, name, change): &'t (&Operator, &str, Change<'_>),
) -> Work<'t, (i64, Committed)> {
    Box::pin(async move {
        let revision = apply(tx, operator, name, change).await?;
        Ok((revision, commit(tx, &[]).await?))
    })
}

pub(super) fn upload_in<'t>(
    tx: &'t Transaction<'t>,
    upload: &'t Upload<'_>,
) -> Work<'t, (Version, Committed)> {
    Box::pin(async move {
        let stored = store_version(tx, upload).await?;
        Ok((stored, commit(tx, &[]).await?))
    })
}

/// Registers the default versions and activates those that start active, all in one
/// transaction (so a crash never leaves them stored but inactive), unless plugins exist:
/// several nodes starting at once register them once.
pub(super) fn register_in<'t>(
    tx: &'t Transaction<'t>,
    defaults: &'t [(Upload<'_>, bool)],
) -> Work<'t, (Option<i64>, Committed)> {
    Box::pin(async move {
        // The revision row first: a node starting beside us waits here, then sees ours.
        store_revisions::bump(tx, Revision::Plugins).await?;
        if store::any(tx).await? {
            return Ok((None, commit(tx, &[]).await?));
        }
        for (upload, _) in defaults {
            store_version(tx, upload).await?;
        }
        let mut revision = None;
        for (upload, _) in defaults.iter().filter(|(_, active)| *active) {
            let activate = Change::Activate(upload.version);
            revision = Some(apply(tx, upload.operator, upload.name, activate).await?);
        }
        Ok((revision, commit(tx, &[]).await?))
    })
}

/// Applies one change inside `tx` and records it; returns the new plugin revision.
async fn apply(
    tx: &Transaction<'_>,
    operator: &Operator,
    name: &str,
    change: Change<'_>,
) -> Result<i64, Error> {
    {
        // The revision row first: it serializes every change, on every node.
        let revision = store_revisions::bump(tx, Revision::Plugins).await?;
        let plugin = stored(tx, name, true).await?;
        match change {
            Change::Activate(version) => {
                fits(tx, name, version, &plugin.config).await?;
                if plugin.active_version.as_deref() != Some(version) {
                    make_active(tx, &plugin, version).await?;
                    snapshots::record(tx, &plugin, version, &operator.name).await?;
                }
            }
            Change::Rollback => {
                let previous = snapshots::roll_back(tx, name)
                    .await?
                    .ok_or(Error::NoPreviousVersion)?;
                make_active(tx, &plugin, &previous.version).await?;
                let config = previous.config.as_ref().unwrap_or(&plugin.config);
                let priority = previous.priority.unwrap_or(plugin.priority);
                let on_failure = previous.on_failure.unwrap_or(plugin.on_failure);
                store::set_config(tx, name, config, priority, on_failure).await?;
            }
            Change::Deactivate => store::set_active(tx, name, None).await?,
            Change::Configure(config, priority, on_failure) => {
                let running = [&plugin.active_version, &plugin.shadow_version];
                for version in running.into_iter().flatten() {
                    fits(tx, name, version, config).await?;
                }
                let priority = priority.unwrap_or(plugin.priority);
                let on_failure = on_failure.unwrap_or(plugin.on_failure);
                store::set_config(tx, name, config, priority, on_failure).await?
            }
            Change::Shadow(version) => {
                if let Some(version) = version {
                    fits(tx, name, version, &plugin.config).await?;
                }
                store::set_shadow(tx, name, version).await?
            }
        }
        let after = stored(tx, name, false).await?;
        let (before_json, after_json) = (plugin_json(&plugin), plugin_json(&after));
        let target = format!("plugin:{name}");
        operators::record(
            tx,
            operator,
            change.action(),
            &target,
            Some(&before_json),
            Some(&after_json),
        )
        .await?;
        Ok(revision)
    }
}

/// Makes `version` the one that runs. A shadow of that same version is promoted with it: left
/// as shadow it would run a second time on every call, only to agree with itself.
async fn make_active(tx: &Transaction<'_>, plugin: &Plugin, version: &str) -> Result<(), Error> {
    store::set_active(tx, &plugin.name, Some(version)).await?;
    if plugin.shadow_version.as_deref() == Some(version) {
        store::set_shadow(tx, &plugin.name, None).await?;
    }
    Ok(())
}

/// Refuses `config` for `version` of plugin `name` when it does not fit the version's schema
/// (or, for a 0.1 version, is not all strings); 404 when there is no such version.
async fn fits(
    tx: &Transaction<'_>,
    name: &str,
    version: &str,
    config: &serde_json::Value,
) -> Result<(), Error> {
    let stored = store::config_schema(tx, name, version)
        .await?
        .ok_or(Error::PluginVersionNotFound)?;
    schema::check(stored.as_ref(), config)
}

/// Stores an uploaded version inside `tx` and records it.
async fn store_version(
    tx: &Transaction<'_>,
    &Upload {
        operator,
        name,
        hook,
        version,
        sha256,
        bytes,
        note,
        config_schema,
    }: &Upload<'_>,
) -> Result<Version, Error> {
    {
        let stored_hook = store::ensure(tx, name, hook.as_str()).await?;
        if stored_hook != hook.as_str() {
            return Err(Error::PluginInvalid(format!(
                "plugin {name} is on hook {stored_hook}, not {hook}"
            )));
        }
        let stored = store::insert_version(tx, name, version, sha256, bytes, note, config_schema)
            .await?
            .ok_or(Error::PluginVersionExists)?;
        let after = serde_json::json!({
            "version": version, "hook": hook.as_str(), "sha256": sha256, "size": stored.size,
            "configSchema": config_schema,
        });
        let target = format!("plugin:{name}");
        operators::record(tx, operator, "plugin.upload", &target, None, Some(&after)).await?;
        Ok(stored)
    }
}

/// A plugin's state as the audit log shows it.
fn plugin_json(plugin: &Plugin) -> serde_json::Value {
    serde_json::json!({
        "hook": plugin.hook,
        "activeVersion": plugin.active_version,
        "shadowVersion": plugin.shadow_version,
        "priority": plugin.priority,
        "config": plugin.config,
        "onFailure": plugin.on_failure.as_str(),
    })
}
