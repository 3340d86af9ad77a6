//! `edgecart plugin …`: the business teams' command line. `new`, `build`, `test` and `run`
//! work on a plugin crate on this machine (`run` executes a component in the same sandbox the
//! server uses, like Shopify's function-runner); `deploy`, `list`, `activate`, `rollback`,
//! `config` and `shadow` talk to a server's admin API.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    http::plugins::EvaluateView,
    plugins::{Hook, HookInput, Limits, Runtime},
};

/// Where and how to reach the admin API.
#[derive(Args, Clone, Debug)]
pub struct Admin {
    /// Base URL of an edgecart node.
    #[arg(
        long,
        env = "EDGECART_ADMIN_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// The admin bearer token.
    #[arg(long, env = "EDGECART_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `edgecart plugin` subcommands.
#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Create a new plugin crate from the template (a `charge.validate` rule to edit).
    New {
        /// Plugin name, `[a-z0-9-]{1,64}`; also the folder created.
        name: String,
        /// Folder to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Build a plugin crate into a component (`cargo build --release --target wasm32-wasip2`).
    Build {
        /// The plugin crate.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run a plugin crate's unit tests natively (`cargo test`).
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
        /// A config entry, `key=value`; repeat for more.
        #[arg(long = "config", value_parser = key_value)]
        config: Vec<(String, String)>,
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
    /// Replace a plugin's config (`key=value` pairs) and optionally its priority.
    Config {
        /// Plugin name.
        name: String,
        /// Config entries, `key=value`.
        #[arg(value_parser = key_value)]
        entries: Vec<(String, String)>,
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
}

/// Runs one `edgecart plugin` command; the error is the message to print.
pub async fn run(command: PluginCommand) -> Result<(), String> {
    match command {
        PluginCommand::New { name, dir } => new(&name, &dir),
        PluginCommand::Build { dir } => build(&dir).map(|wasm| println!("{}", wasm.display())),
        PluginCommand::Test { dir } => cargo(&dir, &["test"]),
        PluginCommand::Run {
            input,
            hook,
            config,
            wasm,
        } => run_locally(&input, hook, config, &wasm).await,
        PluginCommand::Deploy {
            name,
            hook,
            version,
            activate,
            wasm,
            admin,
        } => {
            let bytes = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
            let path = format!("/admin/v1/plugins/{name}/versions?hook={hook}&version={version}");
            let request = client(&admin, Method::POST, &path)?
                .header("Content-Type", "application/wasm")
                .body(bytes);
            print_answer(request).await?;
            if activate {
                let path = format!("/admin/v1/plugins/{name}/activate");
                let request =
                    client(&admin, Method::POST, &path)?.json(&json!({"version": version}));
                print_answer(request).await?;
            }
            Ok(())
        }
        PluginCommand::List { admin } => {
            print_answer(client(&admin, Method::GET, "/admin/v1/plugins")?).await
        }
        PluginCommand::Activate {
            name,
            version,
            admin,
        } => {
            let path = format!("/admin/v1/plugins/{name}/activate");
            print_answer(client(&admin, Method::POST, &path)?.json(&json!({"version": version})))
                .await
        }
        PluginCommand::Rollback { name, admin } => {
            let path = format!("/admin/v1/plugins/{name}/rollback");
            print_answer(client(&admin, Method::POST, &path)?).await
        }
        PluginCommand::Config {
            name,
            entries,
            priority,
            admin,
        } => {
            let config: serde_json::Map<String, Value> = entries
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let path = format!("/admin/v1/plugins/{name}/config");
            let body = json!({"config": config, "priority": priority});
            print_answer(client(&admin, Method::PUT, &path)?.json(&body)).await
        }
        PluginCommand::Shadow {
            name,
            version,
            stop,
            admin,
        } => {
            if version.is_none() && !stop {
                return Err("give a version to shadow, or --stop".into());
            }
            let path = format!("/admin/v1/plugins/{name}/shadow");
            print_answer(client(&admin, Method::POST, &path)?.json(&json!({"version": version})))
                .await
        }
    }
}

/// `key=value` on the command line.
fn key_value(entry: &str) -> Result<(String, String), String> {
    entry
        .split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{entry}` is not key=value"))
}

/// The template, embedded so that `new` works from the binary alone.
const TEMPLATE_LIB: &str = include_str!("../../plugins/template/src/lib.rs");
const TEMPLATE_COMPONENT: &str = include_str!("../../plugins/template/src/component.rs");
const WIT: &str = include_str!("../../wit/rules.wit");
const CARGO_CONFIG: &str = include_str!("../../plugins/.cargo/config.toml");

fn new(name: &str, dir: &Path) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err("a plugin name is 1 to 64 of a-z, 0-9 and -".into());
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(format!("{} exists already", root.display()));
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
    let component = TEMPLATE_COMPONENT.replace("../../wit/rules.wit", "wit/rules.wit");
    let files = [
        ("Cargo.toml", manifest.as_str()),
        ("src/lib.rs", TEMPLATE_LIB),
        ("src/component.rs", component.as_str()),
        ("wit/rules.wit", WIT),
        (".cargo/config.toml", CARGO_CONFIG),
    ];
    for (path, text) in files {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "created {}: edit src/lib.rs, then `edgecart plugin test {0}` and `edgecart plugin build {0}`",
        root.display()
    );
    Ok(())
}

/// Builds the component and returns its path.
fn build(dir: &Path) -> Result<PathBuf, String> {
    cargo(dir, &["build", "--release", "--target", "wasm32-wasip2"])?;
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .ok_or("no package name in Cargo.toml")?;
    let metadata = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
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
        Err(format!("built, but {} is missing", wasm.display()))
    }
}

fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("cargo")
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed", args.join(" ")))
    }
}

async fn run_locally(
    input: &Path,
    hook: Option<Hook>,
    config: Vec<(String, String)>,
    wasm: &Path,
) -> Result<(), String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let input: Value = std::fs::read(input)
        .map_err(|e| format!("{}: {e}", input.display()))
        .and_then(|text| serde_json::from_slice(&text).map_err(|e| format!("input: {e}")))?;
    let runtime = Runtime::new(Limits::default(), None).map_err(|e| crate::telemetry::chain(&e))?;
    let hooks = match hook {
        Some(hook) => vec![hook],
        None => Hook::ALL.to_vec(),
    };
    let mut errors = Vec::new();
    for hook in hooks {
        match runtime.compile(hook, &bytes) {
            Ok(compiled) => {
                let input = HookInput::parse(hook, &input).map_err(|e| e.to_string())?;
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
            Err(e) => errors.push(format!("{hook}: {e}")),
        }
    }
    Err(format!("not a plugin for any hook: {}", errors.join("; ")))
}

fn client(admin: &Admin, method: Method, path: &str) -> Result<reqwest::RequestBuilder, String> {
    let token = admin
        .token
        .as_deref()
        .ok_or("the admin token is missing: --token or EDGECART_ADMIN_TOKEN")?;
    let url = format!("{}{path}", admin.url.trim_end_matches('/'));
    Ok(reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token))
}

/// Sends a request and prints the JSON answer; a non-2xx answer is an error (its problem
/// printed).
async fn print_answer(request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| format!("answer: {e}"))?;
    let pretty = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(body);
    if status.is_success() {
        println!("{pretty}");
        Ok(())
    } else {
        Err(format!("{status}: {pretty}"))
    }
}
