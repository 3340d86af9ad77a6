//! How a plugin call can fail, classified from wasmtime's typed errors (a [`Trap`] code, or
//! the store limiter's own error types), never from message text, and the limiter that
//! raises them. A failed call fails its request closed (503 `PLUGIN_FAILED`) and is counted by
//! kind.

use std::fmt;

use wasmtime::{ResourceLimiter, Trap, WasmBacktrace};

use super::engine::{
    CORE_INSTANCES_PER_COMPONENT, MEMORIES_PER_COMPONENT, TABLE_ELEMENTS, TABLES_PER_COMPONENT,
};

/// Why a call produced no decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CallFailure {
    /// The metric label.
    pub kind: FailureKind,
    /// What happened, for logs.
    pub message: String,
}

impl CallFailure {
    /// A failure of the contract between host and plugin (an input over the limit, an
    /// answer the contract does not allow).
    pub(crate) fn contract(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Contract,
            message: message.into(),
        }
    }

    /// Classifies an error wasmtime returned from instantiating or calling a plugin.
    pub(crate) fn from_wasmtime(error: &wasmtime::Error) -> Self {
        let kind = if error.downcast_ref::<MemoryCapExceeded>().is_some()
            || error.downcast_ref::<TableCapExceeded>().is_some()
        {
            FailureKind::Memory
        } else {
            match error.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => FailureKind::Fuel,
                Some(Trap::Interrupt) => FailureKind::Time,
                _ => FailureKind::Trap,
            }
        };
        Self {
            kind,
            message: describe(error),
        }
    }
}

/// Frames of a trap's wasm backtrace kept in its message: a JavaScript rule's trace is twenty
/// frames and more of the engine's own functions, logged at every failure.
pub(crate) const BACKTRACE_FRAMES: usize = 4;

/// `error`'s chain on one line, with its wasm backtrace (if any) cut to the innermost
/// [`BACKTRACE_FRAMES`] function names.
fn describe(error: &wasmtime::Error) -> String {
    let backtrace = error.downcast_ref::<WasmBacktrace>();
    let trace_text = backtrace.map(ToString::to_string);
    let mut text = error
        .chain()
        .map(ToString::to_string)
        .filter(|cause| Some(cause) != trace_text.as_ref())
        .collect::<Vec<_>>()
        .join(": ");
    if let Some(frames) = backtrace
        .map(WasmBacktrace::frames)
        .filter(|f| !f.is_empty())
    {
        let names: Vec<&str> = frames
            .iter()
            .take(BACKTRACE_FRAMES)
            .map(|frame| frame.func_name().unwrap_or("?"))
            .collect();
        text.push_str(&format!(" (in {}", names.join(" ← ")));
        if frames.len() > BACKTRACE_FRAMES {
            text.push_str(&format!(
                ", {} frames more",
                frames.len() - BACKTRACE_FRAMES
            ));
        }
        text.push(')');
    }
    text
}

/// How a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The guest trapped: a panic, `unreachable`, a stack overflow, a forbidden import.
    Trap,
    /// The fuel budget ran out.
    Fuel,
    /// The wall-clock deadline passed.
    Time,
    /// The memory cap (or the table cap) was hit.
    Memory,
    /// The input was over the size limit, or the answer broke the contract.
    Contract,
}

impl FailureKind {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::Fuel => "fuel",
            FailureKind::Time => "time",
            FailureKind::Memory => "memory",
            FailureKind::Contract => "contract",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plugin asked for more linear memory than its cap: the error the store's limiter raises,
/// so that the failure is known by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("memory growth to {desired} bytes is over the {cap} byte cap")]
pub struct MemoryCapExceeded {
    /// Bytes the guest asked for.
    pub desired: usize,
    /// Bytes it may have.
    pub cap: usize,
}

/// A plugin asked for a table larger than the host allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("table growth to {desired} elements is over the {cap} element cap")]
pub struct TableCapExceeded {
    /// Elements the guest asked for.
    pub desired: usize,
    /// Elements it may have.
    pub cap: usize,
}

/// The store limiter of one call (a store holds one component instance): memory past `cap`
/// (or past the memory's own maximum) ends the call with [`MemoryCapExceeded`] instead of
/// failing `memory.grow` quietly, a table past [`TABLE_ELEMENTS`] likewise with
/// [`TableCapExceeded`], and the store takes no more core instances, memories and tables
/// than one component may have (the pool refuses a component with more when it is
/// compiled; this holds for what the pool cannot count ahead).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoreLimiter {
    memory_bytes: usize,
}

impl StoreLimiter {
    /// A limiter capping each linear memory at `memory_bytes`.
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Self { memory_bytes }
    }
}

impl ResourceLimiter for StoreLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes || maximum.is_some_and(|max| desired > max) {
            return Err(MemoryCapExceeded {
                desired,
                cap: self.memory_bytes,
            }
            .into());
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error.context(MemoryCapExceeded {
            desired: 0,
            cap: self.memory_bytes,
        }))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let cap = maximum.map_or(TABLE_ELEMENTS, |max| max.min(TABLE_ELEMENTS));
        if desired > cap {
            return Err(TableCapExceeded { desired, cap }.into());
        }
        Ok(true)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error.context(TableCapExceeded {
            desired: 0,
            cap: TABLE_ELEMENTS,
        }))
    }

    fn instances(&self) -> usize {
        CORE_INSTANCES_PER_COMPONENT as usize
    }

    fn memories(&self) -> usize {
        MEMORIES_PER_COMPONENT as usize
    }

    fn tables(&self) -> usize {
        TABLES_PER_COMPONENT as usize
    }
}
