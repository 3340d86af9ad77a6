//! What the host gives a plugin, and the state of one call: the `edgecart:rules/host`
//! interface (a capped `log`), the store limiter, and the lines logged so far. Nothing here
//! outlives one call.

use super::{
    bindings::{host, types},
    error::StoreLimiter,
};

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The text (possibly cut at the per-call cap).
    pub message: String,
}

/// The store data of one call.
pub struct CallState {
    pub(crate) limiter: StoreLimiter,
    logs: Vec<LogLine>,
    log_budget: usize,
}

impl CallState {
    /// A call's state: memory capped at `memory_bytes`, at most `log_bytes` of log text.
    pub(crate) fn new(memory_bytes: usize, log_bytes: usize) -> Self {
        Self {
            limiter: StoreLimiter::new(memory_bytes),
            logs: Vec::new(),
            log_budget: log_bytes,
        }
    }

    /// The lines logged so far, leaving none behind.
    pub(crate) fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }

    /// Keeps a line, cut (at a character boundary) to what is left of the budget; past the
    /// budget lines are dropped.
    fn push_log(&mut self, level: &'static str, mut message: String) {
        if self.log_budget == 0 {
            return;
        }
        if message.len() > self.log_budget {
            let mut end = self.log_budget;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        self.log_budget -= message.len();
        self.logs.push(LogLine { level, message });
    }
}

impl host::Host for CallState {
    fn log(&mut self, level: host::Level, message: String) {
        let level = match level {
            host::Level::Debug => "debug",
            host::Level::Info => "info",
            host::Level::Warn => "warn",
            host::Level::Error => "error",
        };
        self.push_log(level, message);
    }
}

impl types::Host for CallState {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_cut_at_the_budget_on_a_character_boundary() {
        let mut state = CallState::new(0, 4);
        state.push_log("info", "가나".into());
        state.push_log("warn", "x".into());
        state.push_log("error", "dropped".into());
        let logs: Vec<_> = state.take_logs().into_iter().map(|l| l.message).collect();
        assert_eq!(logs, ["가", "x"]);
    }
}
