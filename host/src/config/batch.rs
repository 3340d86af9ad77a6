//! The group-commit settings (`EDGECART_BATCH*`): whether concurrent orders and charges share
//! transactions, how many one transaction takes, and how long a request may wait for one.

use std::time::Duration;

/// How orders and charges are committed.
#[derive(clap::Args, Clone, Debug)]
pub struct Batching {
    /// Group commit (`on`, the default): orders, and charges, that arrive while a batch of
    /// their kind commits share the next transaction. `off` gives every request a
    /// transaction of its own (for comparison).
    #[arg(
        long = "batch",
        env = "EDGECART_BATCH",
        default_value = "on",
        value_parser = clap::builder::BoolishValueParser::new(),
        action = clap::ArgAction::Set,
    )]
    pub enabled: bool,

    /// Most requests one batch commits.
    #[arg(long = "batch-max", env = "EDGECART_BATCH_MAX", default_value_t = 256,
        value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max: u32,

    /// Longest a request waits in the queue for its batch, in milliseconds; one that waited
    /// longer is answered 503 without being applied (PostgreSQL is too slow to keep up).
    #[arg(
        long = "batch-wait-ms",
        env = "EDGECART_BATCH_WAIT_MS",
        default_value_t = 5_000
    )]
    pub wait_ms: u64,
}

impl Batching {
    /// The queue wait bound.
    pub fn max_wait(&self) -> Duration {
        Duration::from_millis(self.wait_ms)
    }
}
