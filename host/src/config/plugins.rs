//! The rule-plugin settings (`EDGECART_PLUGIN_*`): where the default plugins and compiled
//! artifacts live, the limits of one call, how often a node looks for changes, and how many
//! live calls are recorded as runs.

use std::{path::PathBuf, time::Duration};

/// How rule plugins are loaded, limited and recorded.
#[derive(clap::Args, Clone, Debug)]
pub struct PluginSettings {
    /// Folder with the default plugins' components (`<name>.wasm`), registered into an empty
    /// plugin table at first start; `scripts/build-plugins` fills it.
    #[arg(
        long = "plugin-dir",
        env = "EDGECART_PLUGIN_DIR",
        default_value = "plugins/dist"
    )]
    pub dir: PathBuf,

    /// Folder of compiled plugin artifacts, kept across restarts; empty disables the cache.
    /// Artifacts are native code: a folder another user owns or group or others may write is
    /// not used (a warning says so), a missing one is made with mode 0700, and an artifact
    /// whose MAC (key in the folder) does not check out is recompiled.
    #[arg(
        long = "plugin-cache-dir",
        env = "EDGECART_PLUGIN_CACHE_DIR",
        default_value = "target/plugin-cache"
    )]
    pub cache_dir: PathBuf,

    /// Largest plugin upload, in bytes (a JavaScript rule is about 12 MB, the engine inside).
    #[arg(
        long = "plugin-max-bytes",
        env = "EDGECART_PLUGIN_MAX_BYTES",
        default_value_t = 16 << 20
    )]
    pub max_bytes: usize,

    /// Deadline of a plugin upload, in seconds: it compiles the component before it answers
    /// (a JavaScript rule's first upload on a node compiles its engine). Never shorter than
    /// the request deadline.
    #[arg(
        long = "plugin-upload-timeout-secs",
        env = "EDGECART_PLUGIN_UPLOAD_TIMEOUT_SECS",
        default_value_t = 120
    )]
    pub upload_timeout_secs: u64,

    /// Fuel per plugin call (about one wasm instruction each).
    #[arg(
        long = "plugin-fuel",
        env = "EDGECART_PLUGIN_FUEL",
        default_value_t = 11_000_000
    )]
    pub fuel: u64,

    /// Linear memory per plugin instance, in bytes.
    #[arg(
        long = "plugin-memory-bytes",
        env = "EDGECART_PLUGIN_MEMORY_BYTES",
        default_value_t = 10 << 20
    )]
    pub memory_bytes: usize,

    /// Wall-clock deadline of one plugin call, in milliseconds.
    #[arg(
        long = "plugin-timeout-ms",
        env = "EDGECART_PLUGIN_TIMEOUT_MS",
        default_value_t = 50
    )]
    pub timeout_ms: u64,

    /// Largest input of one plugin call (records plus config), in bytes.
    #[arg(
        long = "plugin-input-bytes",
        env = "EDGECART_PLUGIN_INPUT_BYTES",
        default_value_t = 128 << 10
    )]
    pub input_bytes: usize,

    /// Plugin instances that may run at once on this node.
    #[arg(
        long = "plugin-concurrency",
        env = "EDGECART_PLUGIN_CONCURRENCY",
        default_value_t = 64
    )]
    pub concurrency: u32,

    /// Plugin calls that run at once on this node (unset: its CPU count). A call beyond them
    /// waits its turn, and its deadline starts when it runs: calls are pure CPU work, so more
    /// at once would only share the cores and each would look slower. At most
    /// `EDGECART_PLUGIN_CONCURRENCY`.
    #[arg(long = "plugin-running-calls", env = "EDGECART_PLUGIN_RUNNING_CALLS")]
    pub running_calls: Option<u32>,

    /// How often a node checks PostgreSQL for plugin changes it was not told about, in
    /// milliseconds (changes are also announced on Redis).
    #[arg(
        long = "plugin-sync-ms",
        env = "EDGECART_PLUGIN_SYNC_MS",
        default_value_t = 500
    )]
    pub sync_ms: u64,

    /// The share of accepted live plugin calls recorded as runs (0 to 1); every rejection
    /// and failure is recorded whatever it is. `0` records only rejections and failures.
    #[arg(
        long = "plugin-run-sample",
        env = "EDGECART_PLUGIN_RUN_SAMPLE",
        default_value_t = 0.01,
        value_parser = run_share
    )]
    pub run_sample: f64,
}

impl PluginSettings {
    /// The limits of one plugin call.
    pub fn limits(&self) -> crate::plugins::Limits {
        crate::plugins::Limits {
            fuel: self.fuel,
            memory_bytes: self.memory_bytes,
            deadline: Duration::from_millis(self.timeout_ms),
            input_bytes: self.input_bytes,
            log_bytes: 1024,
            concurrency: self.concurrency,
            running: self
                .running_calls
                .unwrap_or_else(crate::plugins::engine::cpu_count),
        }
    }

    /// The poll interval for plugin changes.
    pub fn sync_interval(&self) -> Duration {
        Duration::from_millis(self.sync_ms)
    }
}

/// A share between 0 and 1.
fn run_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share between 0 and 1")),
    }
}
