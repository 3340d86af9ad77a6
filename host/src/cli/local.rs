//! The commands that work on this machine alone: `new` writes a plugin crate from the embedded
//! template, `build` and `test` run cargo on it, and `run` executes a component once in the
//! same sandbox the server uses (like Shopify's function-runner). No server is involved.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::{Value, json};

use super::{Error, js, read};
use crate::{
    http::plugins::EvaluateView,
    plugins::{Hook, HookInput, Limits, PluginConfig, Runtime},
};

/// The template, embedded so that `new` works from the binary alone: a plugin of contract 0.2,
/// whose WIT the new crate gets as `wit/rules.wit`.
const TEMPLATE_LIB: &str = include_str!("../../../plugins/template/src/lib.rs");
const TEMPLATE_COMPONENT: &str = include_str!("../../../plugins/template/src/component.rs");
const WIT: &str = include_str!("../../../wit/v0.2/rules.wit");
const CARGO_CONFIG: &str = include_str!("../../../plugins/.cargo/config.toml");

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// A Rust crate (the `charge.validate` template).
    Rust,
    /// A JavaScript project built with componentize-js, for any hook.
    Js,
}

/// Creates the plugin `dir/name` from the template of `lang` (JavaScript: for `hook`).
pub(super) fn new(name: &str, dir: &Path, lang: Lang, hook: Hook) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(Error::InvalidName);
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(Error::Exists(root));
    }
    let manifest = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the component; rlib: lets `cargo test` run the rule natively.
crate-type = ["cdylib", "rlib"]

[dependencies]
wit-bindgen = {{ version = "0.63", default-features = false, features = ["macros", "realloc"] }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

# Small components; a panic traps the call (503 PLUGIN_FAILED) instead of unwinding.
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true
panic = "abort"

# A workspace of its own, wherever it is created.
[workspace]
"#
    );
    let component = TEMPLATE_COMPONENT.replace("../../wit/v0.2/rules.wit", "wit/rules.wit");
    let (files, next) = match lang {
        Lang::Rust => (
            vec![
                ("Cargo.toml", manifest),
                ("src/lib.rs", TEMPLATE_LIB.to_owned()),
                ("src/component.rs", component),
                ("wit/rules.wit", WIT.to_owned()),
                (".cargo/config.toml", CARGO_CONFIG.to_owned()),
            ],
            "src/lib.rs",
        ),
        Lang::Js => (js::files(name, hook), "src/rule.js"),
    };
    for (path, text) in files {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| Error::Io { path, source })?;
    }
    println!(
        "created {}: edit {next}, then `edgecart plugin test {0}` and `edgecart plugin build {0}`",
        root.display()
    );
    Ok(())
}

/// Builds the crate (or JavaScript project) in `dir` into a component and returns its path.
pub(super) fn build(dir: &Path) -> Result<PathBuf, Error> {
    if js::is_project(dir) {
        return js::build(dir);
    }
    tool(
        dir,
        "cargo",
        &["build", "--release", "--target", "wasm32-wasip2"],
    )?;
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let name = manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .ok_or(Error::NoPackageName)?;
    let metadata = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(dir)
        .output()
        .map_err(|source| Error::Spawn {
            command: "cargo metadata",
            source,
        })?;
    // Without metadata (an unusual cargo), the crate's own target folder.
    let target_dir = serde_json::from_slice::<Value>(&metadata.stdout)
        .ok()
        .and_then(|m| m["target_directory"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| dir.join("target"));
    let wasm = target_dir
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    if wasm.exists() {
        Ok(wasm)
    } else {
        Err(Error::NotBuilt(wasm))
    }
}

/// Runs the crate's unit tests natively, or a JavaScript project's `node --test` suite.
pub(super) fn test(dir: &Path) -> Result<(), Error> {
    if js::is_project(dir) {
        js::test(dir)
    } else {
        tool(dir, "cargo", &["test"])
    }
}

/// Runs `program args…` (`cargo` or `npm`) in `dir`, all its output going to standard error,
/// so that standard output keeps only what the command itself prints (`build`: the path).
pub(super) fn tool(dir: &Path, program: &'static str, args: &[&str]) -> Result<(), Error> {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(std::io::stderr())
        .status()
        .map_err(|source| Error::Spawn {
            command: program,
            source,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Tool {
            program,
            args: args.join(" "),
            status,
        })
    }
}

/// Calls the component `wasm` once on the JSON in `input`, for `hook` or else the first hook
/// whose world it implements, and prints decision, fuel, duration and logs.
pub(super) async fn run(
    input: &Path,
    hook: Option<Hook>,
    config: Vec<(String, Value)>,
    wasm: &Path,
) -> Result<(), Error> {
    let bytes = read(wasm)?;
    let input: Value = serde_json::from_slice(&read(input)?).map_err(Error::InputJson)?;
    let runtime = Runtime::new(Limits::default(), None)?;
    let config = PluginConfig::new(&Value::Object(config.into_iter().collect()));
    let hooks = match hook {
        Some(hook) => vec![hook],
        None => Hook::ALL.to_vec(),
    };
    let mut refusals = Vec::new();
    for hook in hooks {
        match runtime.compile(hook, &bytes) {
            Ok(compiled) => {
                let input = HookInput::parse(hook, &input)?;
                let evaluation = EvaluateView::from(runtime.call(&compiled, &input, &config).await);
                let report = json!({
                    "hook": hook.as_str(),
                    "decision": evaluation.decision,
                    "fuel": evaluation.fuel,
                    "durationMicros": evaluation.duration_micros,
                    "logs": evaluation.logs,
                });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
                return Ok(());
            }
            Err(invalid) => refusals.push((hook, invalid)),
        }
    }
    Err(Error::NotAPlugin(refusals))
}
