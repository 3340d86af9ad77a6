//! `edgecart plugin …`: the business teams' command line. `new`, `build`, `test` and `run`
//! work on a plugin crate on this machine (`run` executes a component in the same sandbox the
//! server uses, like Shopify's function-runner); `deploy`, `list`, `activate`, `rollback`,
//! `config`, `shadow` and `replay` talk to a server's admin API.
//!
//! - this file: the clap commands and their dispatch.
//! - [`local`]: `new`, `build`, `test` and `run`, on this machine.
//! - [`js`]: the JavaScript template and npm, for `new --lang js`, `build` and `test`.
//! - [`admin`]: the admin API calls, and where to reach it ([`Admin`]).
//! - [`replay`]: `replay`, of an uploaded version on the server or of a local component here.
//! - [`error`]: the one [`Error`] of every command, its causes kept as sources.
//! - [`admin_tokens`]: `edgecart admin-token create|list|revoke`, named admin tokens.
//! - [`tokens`]: `edgecart token issue`, end-user tokens for local testing.
//! - [`events`]: `edgecart events redrive`, dead-lettered events back to the event stream.
//! - [`openapi`]: `edgecart openapi`, the OpenAPI document on standard output.

mod admin;
pub mod admin_tokens;
mod error;
pub mod events;
mod js;
mod local;
pub mod openapi;
mod replay;
pub mod tokens;

pub use admin::Admin;
pub use error::Error;
pub use local::Lang;

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::plugins::Hook;

/// `edgecart plugin` subcommands.
#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Create a new plugin from a template: a Rust crate (a `charge.validate` rule to edit),
    /// or with `--lang js` a JavaScript project for `--hook`.
    New {
        /// Plugin name, `[a-z0-9-]{1,64}`; also the folder created.
        name: String,
        /// Folder to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The rule's language.
        #[arg(long, value_enum, default_value = "rust")]
        lang: Lang,
        /// The hook of a JavaScript rule (the Rust template is a `charge.validate` rule).
        #[arg(long, default_value = "charge.validate")]
        hook: Hook,
    },
    /// Build a plugin into a component: `cargo build --release --target wasm32-wasip2` for a
    /// crate, `npm run build` (componentize-js into `dist/rule.wasm`) for a JavaScript project.
    Build {
        /// The plugin crate.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run a plugin's unit tests natively (`cargo test`, or `npm test`: `node --test`).
    Test {
        /// The plugin crate.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run a component once, here, in the server's sandbox; prints decision, fuel and logs.
    Run {
        /// The hook's input as JSON (see `evaluate` in the README).
        #[arg(long)]
        input: PathBuf,
        /// The hook; by default the one whose world the component implements.
        #[arg(long)]
        hook: Option<Hook>,
        /// A config entry, `key=text` or `key:=json`; repeat for more.
        #[arg(long = "config", value_parser = key_value)]
        config: Vec<(String, serde_json::Value)>,
        /// The component.
        wasm: PathBuf,
    },
    /// Upload a component as a new version (and activate it with `--activate`).
    Deploy {
        /// Plugin name.
        #[arg(long)]
        name: String,
        /// The hook.
        #[arg(long)]
        hook: Hook,
        /// A semantic version, e.g. 1.2.0.
        #[arg(long)]
        version: String,
        /// Make it the active version once uploaded.
        #[arg(long)]
        activate: bool,
        /// The component.
        wasm: PathBuf,
        #[command(flatten)]
        admin: Admin,
    },
    /// List the plugins of a server.
    List {
        #[command(flatten)]
        admin: Admin,
    },
    /// Activate an uploaded version.
    Activate {
        /// Plugin name.
        name: String,
        /// The version.
        version: String,
        #[command(flatten)]
        admin: Admin,
    },
    /// Activate the version active before the current one.
    Rollback {
        /// Plugin name.
        name: String,
        #[command(flatten)]
        admin: Admin,
    },
    /// Replace a plugin's config (`key=text` or `key:=json` entries) and optionally its priority.
    Config {
        /// Plugin name.
        name: String,
        /// Config entries: `key=text` for a string, `key:=json` for a typed value.
        #[arg(value_parser = key_value)]
        entries: Vec<(String, serde_json::Value)>,
        /// Lower runs first.
        #[arg(long)]
        priority: Option<i32>,
        #[command(flatten)]
        admin: Admin,
    },
    /// Run a version in shadow beside the active one, or stop with `--stop`.
    Shadow {
        /// Plugin name.
        name: String,
        /// The version to shadow.
        version: Option<String>,
        /// Stop shadowing.
        #[arg(long, conflicts_with = "version")]
        stop: bool,
        #[command(flatten)]
        admin: Admin,
    },
    /// Replay a version on the plugin's recorded runs and report how it agrees with them.
    Replay {
        /// Plugin name.
        name: String,
        /// An uploaded version (replayed by the server).
        #[arg(required_unless_present = "wasm")]
        version: Option<String>,
        /// A component not yet uploaded, replayed here on runs fetched from the server.
        #[arg(long, conflicts_with = "version")]
        wasm: Option<PathBuf>,
        /// The newest this many runs (default 1,000, at most 10,000).
        #[arg(long)]
        limit: Option<i64>,
        /// A config for every run (`key=text` or `key:=json`; repeat for more); by default
        /// each run replays with its own.
        #[arg(long = "config", value_parser = key_value)]
        config: Vec<(String, serde_json::Value)>,
        #[command(flatten)]
        admin: Admin,
    },
}

/// Runs one `edgecart plugin` command; `main` prints the error with its sources.
pub async fn run(command: PluginCommand) -> Result<(), Error> {
    match command {
        PluginCommand::New {
            name,
            dir,
            lang,
            hook,
        } => local::new(&name, &dir, lang, hook),
        PluginCommand::Build { dir } => {
            local::build(&dir).map(|wasm| println!("{}", wasm.display()))
        }
        PluginCommand::Test { dir } => local::test(&dir),
        PluginCommand::Run {
            input,
            hook,
            config,
            wasm,
        } => local::run(&input, hook, config, &wasm).await,
        PluginCommand::Deploy {
            name,
            hook,
            version,
            activate,
            wasm,
            admin,
        } => admin.deploy(&name, hook, &version, activate, &wasm).await,
        PluginCommand::List { admin } => admin.list().await,
        PluginCommand::Activate {
            name,
            version,
            admin,
        } => admin.activate(&name, &version).await,
        PluginCommand::Rollback { name, admin } => admin.rollback(&name).await,
        PluginCommand::Config {
            name,
            entries,
            priority,
            admin,
        } => admin.configure(&name, entries, priority).await,
        PluginCommand::Shadow {
            name,
            version,
            stop,
            admin,
        } => admin.shadow(&name, version.as_deref(), stop).await,
        PluginCommand::Replay {
            name,
            version,
            wasm,
            limit,
            config,
            admin,
        } => {
            let target = match (&version, &wasm) {
                (_, Some(wasm)) => replay::Target::Wasm(wasm),
                (version, None) => replay::Target::Version(version.as_deref().unwrap_or_default()),
            };
            let config = (!config.is_empty()).then(|| config.into_iter().collect());
            replay::replay(&admin, &name, target, limit, config).await
        }
    }
}

/// A config entry: `key=text` (a string, what a 0.1 plugin takes) or `key:=json` (a typed
/// value for a 0.2 plugin's schema: `max:=500`, `tiers:='["gold"]'`), as httpie writes them.
fn key_value(entry: &str) -> Result<(String, serde_json::Value), Error> {
    let bad = || Error::NotKeyValue(entry.to_owned());
    let (key, value) = entry.split_once('=').ok_or_else(bad)?;
    match key.strip_suffix(':') {
        Some(key) => Ok((
            key.to_owned(),
            serde_json::from_str(value).map_err(|_| bad())?,
        )),
        None => Ok((key.to_owned(), serde_json::Value::String(value.to_owned()))),
    }
}

/// The bytes of a file, or an error naming it.
fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn config_entries_are_text_or_typed_json() {
        let entry = |text: &str| key_value(text).ok();
        assert_eq!(entry("max=500"), Some(("max".into(), json!("500"))));
        assert_eq!(entry("max:=500"), Some(("max".into(), json!(500))));
        assert_eq!(
            entry(r#"tiers:=["gold"]"#),
            Some(("tiers".into(), json!(["gold"])))
        );
        assert_eq!(entry("note=a=b"), Some(("note".into(), json!("a=b"))));
        assert_eq!(entry("max:=lots"), None, "not JSON");
        assert_eq!(entry("max"), None, "no value");
    }
}
