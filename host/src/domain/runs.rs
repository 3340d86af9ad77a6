//! Recorded runs of live plugin calls: what a replay runs again and compares with.

use chrono::{DateTime, Utc};

/// How a recorded call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    /// A validation accepted, or a pricing plugin set prices.
    Accepted,
    /// A validation refused.
    Rejected,
    /// The call trapped, ran out of budget or broke the contract.
    Failed,
}

impl RunOutcome {
    /// Every outcome.
    pub const ALL: [RunOutcome; 3] = [Self::Accepted, Self::Rejected, Self::Failed];

    /// The stored, listed and queried name: `accepted`, `rejected` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Accepted => "accepted",
            RunOutcome::Rejected => "rejected",
            RunOutcome::Failed => "failed",
        }
    }

    /// The outcome `text` names, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// One recorded live call of a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its row's id (ascending in time).
    pub id: i64,
    /// The plugin.
    pub plugin: String,
    /// The version that ran.
    pub version: String,
    /// The hook it ran on.
    pub hook: String,
    /// How it ended.
    pub outcome: RunOutcome,
    /// The input, as JSON, with the `now` the host stamped.
    pub input: serde_json::Value,
    /// The config it ran with.
    pub config: serde_json::Value,
    /// What it decided, as JSON (`{"accept": true}`, `{"reject": …}`, `{"prices": …}`,
    /// `{"failure": …}`).
    pub decision: serde_json::Value,
    /// Fuel burnt.
    pub fuel: i64,
    /// Time of instantiate + call, in microseconds.
    pub duration_micros: i64,
    /// What the plugin logged: `[{"level", "message"}]`.
    pub logs: serde_json::Value,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}
