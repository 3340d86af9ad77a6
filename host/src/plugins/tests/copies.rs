//! What the host copies out of a plugin: a 4 MiB reason logged 1,000 times costs the log
//! budget and no more, and the reason is refused by the contract; an answer whose prices all
//! point at one long string is copied only up to the plugin's memory cap.

use std::time::Duration;

use super::{HOSTILE, failure_kind, fixture, wat_fixture};
use crate::{
    plugins::{Called, FailureKind, Hook, HookInput, Limits, Runtime},
    rules::{Decision, OrderInput, OrderLineInput},
};

/// The `order.price` input of one line of `quantity` units.
fn order(quantity: i64) -> HookInput {
    HookInput::OrderPrice(OrderInput {
        user_id: 1,
        balance: 0,
        lines: vec![OrderLineInput {
            product_id: 1,
            quantity,
            unit_price: 1_000,
            ..Default::default()
        }],
        ..Default::default()
    })
}

/// Calls the `order.price` component `wasm` once per quantity, under the default limits.
async fn price(wasm: &[u8], quantities: &[i64]) -> Vec<Called> {
    let runtime = Runtime::new(Limits::default(), None).expect("the sandbox builds");
    let plugin = runtime
        .compile(Hook::OrderPrice, wasm)
        .expect("the component compiles for order.price");
    let mut calls = Vec::new();
    for &quantity in quantities {
        calls.push(runtime.call(&plugin, &order(quantity), &Vec::new()).await);
    }
    calls
}

#[tokio::test]
async fn a_huge_reason_logged_a_thousand_times_costs_the_log_budget_and_fails_as_contract() {
    let limits = Limits::default();
    let calls = price(&fixture("fx-huge-reason"), &[1, HOSTILE]).await;
    assert!(
        matches!(calls[0].outcome, Ok(Decision::Prices(_))),
        "{:?}",
        calls[0]
    );
    let hostile = &calls[1];
    // Copying 4 GiB of log text would take seconds: the call would end at its deadline.
    assert_eq!(failure_kind(hostile), FailureKind::Contract, "{hostile:?}");
    assert!(hostile.duration < Duration::from_secs(1), "{hostile:?}");
    let logged: usize = hostile.logs.iter().map(|line| line.message.len()).sum();
    assert_eq!(logged, limits.log_bytes);
}

#[tokio::test]
async fn an_answer_of_aliased_strings_is_copied_only_up_to_the_memory_cap() {
    let wasm = wat::parse_str(wat_fixture("aliased-reasons")).expect("valid WAT");
    // 5 prices of one 1 MiB reason: 5 MiB, under the 10 MiB memory cap, so wasmtime copies
    // the answer and the host refuses the reasons; 20 prices: 20 MiB, refused by wasmtime
    // before it copies past 10 MiB. wasmtime's error for that is not a public type, so the
    // call is classified as a trap.
    let calls = price(&wasm, &[5, 20]).await;
    assert_eq!(
        failure_kind(&calls[0]),
        FailureKind::Contract,
        "{:?}",
        calls[0]
    );
    assert_eq!(failure_kind(&calls[1]), FailureKind::Trap, "{:?}", calls[1]);
    assert!(calls[1].duration < Duration::from_secs(1));
}
