//! A plugin's share of the pool, with components a Rust guest cannot make (the WAT template
//! `tests/fixtures/plugins/wat/accept-charges.wat`): one asking for more core instances,
//! memories, tables or table elements than a plugin may have is refused when it is compiled,
//! while the same component within its share compiles and decides; growing a table past the
//! cap fails that call as memory.

use super::{HARMLESS, HOSTILE, call_after_an_accept, failure_kind, wat_fixture};
use crate::{
    plugins::{
        FailureKind, Hook, Invalid, Limits, Runtime,
        engine::{CORE_INSTANCES_PER_COMPONENT, MEMORIES_PER_COMPONENT, TABLES_PER_COMPONENT},
    },
    rules::Decision,
};

/// The template with `extra` at its marker, as a component.
fn accept_charges(extra: &str) -> Vec<u8> {
    let text = wat_fixture("accept-charges").replace(";; @extra-instances", extra);
    wat::parse_str(text).expect("the template is valid WAT")
}

/// `count` instances of the template's module `module`.
fn instances(module: &str, count: u32) -> String {
    (0..count)
        .map(|_| format!("(core instance (instantiate ${module}))\n"))
        .collect()
}

/// Compiles the template with `extra` for `charge.validate`.
fn compile(extra: &str) -> Result<(), Invalid> {
    let runtime = Runtime::new(Limits::default(), None).expect("the sandbox builds");
    runtime
        .compile(Hook::ChargeValidate, &accept_charges(extra))
        .map(drop)
}

/// Asserts that the template with `extra` is refused, for a reason that names `what`.
fn refused(extra: &str, what: &str) {
    match compile(extra) {
        Err(Invalid(reason)) => assert!(reason.contains(what), "{reason}"),
        Ok(()) => panic!("compiled, though over its share of {what}"),
    }
}

#[tokio::test]
async fn the_template_within_its_share_compiles_and_accepts() {
    let extras = instances("one-memory", MEMORIES_PER_COMPONENT - 1)
        + &instances(
            "nothing",
            CORE_INSTANCES_PER_COMPONENT - MEMORIES_PER_COMPONENT,
        );
    let wasm = accept_charges(&extras);
    let called = call_after_an_accept(
        Limits::default(),
        &wasm,
        HARMLESS + 1,
        &crate::plugins::PluginConfig::default(),
    )
    .await;
    assert_eq!(called.outcome, Ok(Decision::Accept));
}

#[test]
fn a_component_over_its_share_of_core_instances_memories_or_tables_is_refused() {
    // The module instantiated, how many instances of it fit beside the template's own one
    // (which has a memory and a table), and what the refusal names.
    let cases = [
        (
            "nothing",
            CORE_INSTANCES_PER_COMPONENT - 1,
            "core module instances",
        ),
        ("one-memory", MEMORIES_PER_COMPONENT - 1, "linear memories"),
        ("one-table", TABLES_PER_COMPONENT - 1, "tables"),
    ];
    for (module, fit, what) in cases {
        compile(&instances(module, fit)).unwrap_or_else(|e| panic!("{fit} x {module}: {e}"));
        refused(&instances(module, fit + 1), what);
    }
}

#[test]
fn a_module_with_two_memories_or_a_table_over_the_cap_is_refused() {
    refused(
        "(core module $two (memory 1) (memory 1)) (core instance (instantiate $two))",
        "defined memories count",
    );
    refused(
        "(core module $big (table 20001 funcref)) (core instance (instantiate $big))",
        "minimum element size",
    );
}

#[tokio::test]
async fn a_table_grown_past_the_cap_fails_that_call_as_memory() {
    let called = call_after_an_accept(
        Limits::default(),
        &accept_charges(""),
        HOSTILE,
        &crate::plugins::PluginConfig::default(),
    )
    .await;
    assert_eq!(failure_kind(&called), FailureKind::Memory, "{called:?}");
}
