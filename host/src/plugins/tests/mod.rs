//! The sandbox as behaviour: real components (the hostile fixtures and a default plugin, built
//! by `scripts/build-plugins`) called through [`Runtime::call`] under [`Limits`] that leave
//! exactly one way to fail, and the [`FailureKind`] each call is classified as.
//!
//! Every fixture misbehaves only on amount 13; each test first calls it with another amount
//! under the same limits and expects an accept, so a failure is the misbehaviour's and not
//! the limits'.

mod cache;
mod contract;
mod copies;
mod js;
mod pool;

use std::{path::Path, time::Duration};

use super::{Called, FailureKind, Hook, HookInput, Limits, PluginConfig, Runtime, engine::TICK};
use crate::rules::{ChargeInput, Decision};

/// The amount the fixtures misbehave on.
const HOSTILE: i64 = 13;
/// An amount every fixture accepts.
const HARMLESS: i64 = 10_000;

/// A deadline no well-behaved call comes near, and that still ends a test that would hang.
const LONG: Duration = Duration::from_secs(30);

/// Limits that only `kind` can break (for the others: fuel that does not run out in a test's
/// lifetime, the [`LONG`] deadline, the default memory cap).
fn only(kind: FailureKind) -> Limits {
    let unlimited = Limits {
        fuel: u64::MAX,
        deadline: LONG,
        concurrency: 2,
        ..Limits::default()
    };
    match kind {
        FailureKind::Time => Limits {
            deadline: Duration::from_millis(20),
            ..unlimited
        },
        FailureKind::Fuel => Limits {
            fuel: 1_000_000,
            ..unlimited
        },
        FailureKind::Memory => Limits {
            memory_bytes: 4 << 20,
            ..unlimited
        },
        FailureKind::Trap | FailureKind::Contract => unlimited,
    }
}

/// A component built by `scripts/build-plugins`, by its path from the repository root.
fn component(path: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/build-plugins first (CI runs it before cargo test)",
            path.display()
        )
    })
}

/// A hostile fixture of `tests/fixtures/plugins/`.
fn fixture(name: &str) -> Vec<u8> {
    component(&format!("tests/fixtures/plugins/dist/{name}.wasm"))
}

/// The text of a WAT fixture of `tests/fixtures/plugins/wat/`.
fn wat_fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/plugins/wat")
        .join(format!("{name}.wat"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `charge.validate` input for `amount`.
fn charge(amount: i64) -> HookInput {
    HookInput::Charge(ChargeInput {
        user_id: 1,
        amount,
        balance: 0,
        user_attributes: Default::default(),
        now_ms: 0,
    })
}

/// Calls the `charge.validate` component `wasm` under `limits`: first with a harmless amount
/// (which must be accepted), then with `amount`, whose call is returned.
async fn call_after_an_accept(
    limits: Limits,
    wasm: &[u8],
    amount: i64,
    config: &PluginConfig,
) -> Called {
    let runtime = Runtime::new(limits, None).expect("the sandbox builds");
    let plugin = runtime
        .compile(Hook::ChargeValidate, wasm)
        .expect("the component compiles for charge.validate");
    let harmless = runtime.call(&plugin, &charge(HARMLESS), config).await;
    assert_eq!(
        harmless.outcome,
        Ok(Decision::Accept),
        "the harmless call under the same limits"
    );
    runtime.call(&plugin, &charge(amount), config).await
}

/// The kind `called` failed with; panics (showing the call) when it did not fail.
fn failure_kind(called: &Called) -> FailureKind {
    match &called.outcome {
        Ok(decision) => panic!("expected a failure, got {decision:?} ({called:?})"),
        Err(failure) => failure.kind,
    }
}

/// Calls the fixture `name` on the hostile amount under limits that only `kind` can break
/// (after a harmless call), checks that the call failed as `kind`, and returns it.
async fn fails_as(kind: FailureKind, name: &str) -> Called {
    let called = call_after_an_accept(
        only(kind),
        &fixture(name),
        HOSTILE,
        &PluginConfig::default(),
    )
    .await;
    assert_eq!(failure_kind(&called), kind, "{name}: {called:?}");
    called
}

#[tokio::test]
async fn a_call_past_its_deadline_fails_as_time() {
    let deadline = only(FailureKind::Time).deadline;
    let called = fails_as(FailureKind::Time, "fx-loop").await;
    assert!(
        called.duration + TICK >= deadline && called.duration < LONG,
        "stopped after {:?}, the deadline is {deadline:?}",
        called.duration
    );
}

#[tokio::test]
async fn a_call_that_burns_its_fuel_fails_as_fuel() {
    let called = fails_as(FailureKind::Fuel, "fx-loop").await;
    assert_eq!(
        called.fuel,
        only(FailureKind::Fuel).fuel,
        "the whole budget is burnt"
    );
}

#[tokio::test]
async fn a_call_that_grows_memory_past_the_cap_fails_as_memory() {
    // The limiter's `MemoryCapExceeded` must survive wasmtime's error chain to be classified.
    fails_as(FailureKind::Memory, "fx-alloc").await;
}

#[tokio::test]
async fn a_guest_panic_fails_as_a_trap_and_keeps_its_log() {
    let called = fails_as(FailureKind::Trap, "fx-panic").await;
    assert!(
        called
            .logs
            .iter()
            .any(|line| line.level == "error" && line.message.contains("fx-panic: refusing")),
        "the panic hook's line: {:?}",
        called.logs
    );
}

#[tokio::test]
async fn a_stack_overflow_fails_as_a_trap_logged_on_one_line_with_a_short_backtrace() {
    let called = fails_as(FailureKind::Trap, "fx-recursion").await;
    let Err(failure) = &called.outcome else {
        unreachable!("fails_as checked the failure")
    };
    let message = &failure.message;
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(
        message.contains("frames more)"),
        "the deep trace is cut: {message}"
    );
    let shown = message.matches(" ← ").count() + 1;
    assert_eq!(shown, crate::plugins::error::BACKTRACE_FRAMES, "{message}");
}

#[tokio::test]
async fn a_malformed_rejection_code_fails_as_contract() {
    fails_as(FailureKind::Contract, "fx-bad-code").await;
}

#[tokio::test]
async fn an_endless_loop_under_the_default_limits_runs_out_of_fuel() {
    // 11M fuel lasts a few milliseconds, far inside the 50 ms deadline.
    let limits = Limits::default();
    let budget = limits.fuel;
    let called = call_after_an_accept(
        limits,
        &fixture("fx-loop"),
        HOSTILE,
        &PluginConfig::default(),
    )
    .await;
    assert_eq!(failure_kind(&called), FailureKind::Fuel, "{called:?}");
    assert_eq!(called.fuel, budget);
}

#[tokio::test]
async fn the_default_charge_limits_plugin_rejects_over_its_max_and_accepts_within() {
    let config = PluginConfig::new(&serde_json::json!({"max": "500000"}));
    let wasm = component("plugins/dist/charge-limits.wasm");
    let over = call_after_an_accept(Limits::default(), &wasm, 600_000, &config).await;
    match &over.outcome {
        Ok(Decision::Reject(rejection)) => {
            assert_eq!(rejection.code, "CHARGE_AMOUNT_TOO_LARGE");
            assert_eq!(rejection.message, "최대 충전 금액은 500,000원 입니다.");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert!(over.fuel > 0, "{over:?}");
    let within = call_after_an_accept(Limits::default(), &wasm, 400_000, &config).await;
    assert_eq!(within.outcome, Ok(Decision::Accept));
}

#[tokio::test]
async fn a_plugin_called_with_another_hooks_input_is_refused_as_contract() {
    let runtime = Runtime::new(only(FailureKind::Contract), None).expect("the sandbox builds");
    let plugin = runtime
        .compile(Hook::ChargeValidate, &fixture("fx-loop"))
        .expect("the component compiles for charge.validate");
    let order = HookInput::OrderValidate(crate::rules::OrderInput {
        user_id: 1,
        balance: 0,
        lines: Vec::new(),
        coupon: None,
        user_attributes: Default::default(),
        paid_orders: 0,
        now_ms: 0,
    });
    let called = runtime
        .call(&plugin, &order, &PluginConfig::default())
        .await;
    assert_eq!(failure_kind(&called), FailureKind::Contract, "{called:?}");
    assert_eq!(called.fuel, 0, "it never ran");
}
