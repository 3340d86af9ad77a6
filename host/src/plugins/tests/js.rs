//! JavaScript rules share their engine's compiled code: the second componentize-js component
//! a process compiles finds nearly every function in the [`FunctionCache`] (the rules differ
//! in data, not code), where the first compiled tens of thousands.

use super::{Hook, Limits, Runtime, component};
use crate::plugins::function_cache::{FunctionCache, Lookups};

/// Lookups made while `hook`'s component at `path` compiled in a fresh runtime with no
/// artifact cache (other tests of this process may compile at the same time; none compiles
/// JavaScript).
fn compile(path: &str, hook: Hook) -> Lookups {
    let runtime = Runtime::new(Limits::default(), None).expect("engine");
    let before = FunctionCache::shared().lookups();
    runtime
        .compile(hook, &component(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let after = FunctionCache::shared().lookups();
    Lookups {
        hits: after.hits - before.hits,
        misses: after.misses - before.misses,
    }
}

#[test]
fn a_second_javascript_rule_reuses_the_first_ones_compiled_engine() {
    let first = compile(
        "tests/fixtures/plugins/dist/js-order-price.wasm",
        Hook::OrderPrice,
    );
    let second = compile(
        "tests/fixtures/plugins/dist/fx-js-throw.wasm",
        Hook::ChargeValidate,
    );
    let looked_up = first.hits + first.misses;
    assert!(looked_up > 10_000, "every function is looked up: {first:?}");
    assert!(
        first.misses > looked_up / 2,
        "the first compiles the engine: {first:?}"
    );
    // Over 90% found: the engine is the same, the bindings of another world are not (seen:
    // 18,008 found, 1,065 compiled).
    assert!(
        second.misses * 10 < second.hits,
        "the second finds the engine compiled: {second:?}"
    );
}
