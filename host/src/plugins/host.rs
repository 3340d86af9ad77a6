//! What the host gives a plugin, and the state of one call: the `edgecart:rules/host`
//! interface (a capped `log`, defined here by hand so that the guest's text is read in place
//! and only the budgeted part is copied), the store limiter, and the lines logged so far.
//! Nothing here outlives one call.

use wasmtime::{
    StoreContextMut,
    component::{HasSelf, Linker, WasmStr},
};

use super::{
    bindings::{host, types, v2},
    error::StoreLimiter,
};

/// The instance names of the host interface, as `wit/rules.wit` (0.1) and
/// `wit/v0.2/rules.wit` declare it: the same `log` in both.
const HOST_INTERFACES: [&str; 2] = ["edgecart:rules/host@0.1.0", "edgecart:rules/host@0.2.0"];

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
    /// budget lines are dropped. A line costs at least one byte, so empty lines cannot pile up.
    fn push_log(&mut self, level: &'static str, message: &str) {
        if self.log_budget == 0 {
            return;
        }
        let kept = &message[..message.floor_char_boundary(self.log_budget)];
        self.log_budget -= kept.len().max(1);
        self.logs.push(LogLine {
            level,
            message: kept.to_owned(),
        });
    }
}

/// Defines the host interface for a plugin's linker: the types (nothing to define) and `log`,
/// which takes the guest's text as a [`WasmStr`] (bounds-checked in guest memory, not copied)
/// and copies only what the call's log budget keeps; once the budget is spent a line is not
/// even read.
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    types::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    v2::types::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    for interface in HOST_INTERFACES {
        // The two versions' `level` enums have the same cases, so one Rust type checks
        // against both.
        linker.instance(interface)?.func_wrap(
            "log",
            |mut store: StoreContextMut<'_, CallState>,
             (level, message): (host::Level, WasmStr)| {
                let budget = store.data().log_budget;
                if budget == 0 {
                    return Ok(());
                }
                let text = message.to_str(&store)?;
                let kept = text[..text.floor_char_boundary(budget)].to_owned();
                store.data_mut().push_log(level_name(level), &kept);
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// A level's name in logs and answers.
fn level_name(level: host::Level) -> &'static str {
    match level {
        host::Level::Debug => "debug",
        host::Level::Info => "info",
        host::Level::Warn => "warn",
        host::Level::Error => "error",
    }
}

impl types::Host for CallState {}
impl v2::types::Host for CallState {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_cut_at_the_budget_on_a_character_boundary() {
        let mut state = CallState::new(0, 4);
        state.push_log("info", "가나");
        state.push_log("warn", "x");
        state.push_log("error", "dropped");
        let logs: Vec<_> = state.take_logs().into_iter().map(|l| l.message).collect();
        assert_eq!(logs, ["가", "x"]);
    }
}
