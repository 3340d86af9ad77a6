//! The cost of one rule-plugin call as the server makes it: a fresh store and instance from
//! the version's `InstancePre`, the call, and the drop, with the production limits (fuel,
//! epoch deadline, memory cap, pooling allocator). Criterion measures the mean; the
//! percentiles the performance table reports (p50, p99) are measured over 20,000 single calls
//! and printed first. The default plugins are contract 0.2 (config as JSON text, parsed by the
//! guest); a 0.1 component of the same size of rule (the `fx-disagree` fixture: one
//! comparison, string-map config) is measured beside them, and so is the JavaScript template's
//! `order.price` rule (`js-order-price`, componentize-js: the JS engine is instantiated from
//! its copy-on-write memory image on every call) beside the Rust `bulk-discount` it mirrors.
//!
//! `scripts/build-plugins && cargo bench -p edgecart --bench plugin_call`

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use edgecart::{
    plugins::{Compiled, Hook, HookInput, Limits, PluginConfig, Runtime},
    rules::{ChargeInput, OrderInput, OrderLineInput},
};

/// A built component: `plugins/dist/NAME.wasm`, or a test fixture's when `dir` says so.
fn component(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/../{dir}/{name}.wasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run scripts/build-plugins)"))
}

fn compiled(runtime: &Runtime, dir: &str, name: &str, hook: Hook) -> Compiled {
    runtime
        .compile(hook, &component(dir, name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

const DEFAULTS: &str = "plugins/dist";
const FIXTURES: &str = "tests/fixtures/plugins/dist";

/// Prints p50 and p99 of `call` over `runs` single runs, after a tenth as many to warm up.
fn percentiles(label: &str, runs: usize, fuel: u64, mut call: impl FnMut()) {
    for _ in 0..runs / 10 {
        call();
    }
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "RESULT {label}: p50_us={:.1} p99_us={:.1} fuel={fuel}",
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6
    );
}

fn plugin_call(c: &mut Criterion) {
    let executor = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let runtime = Runtime::new(Limits::default(), None).expect("engine");
    let limits = compiled(&runtime, DEFAULTS, "charge-limits", Hook::ChargeValidate);
    let checks = compiled(&runtime, DEFAULTS, "order-checks", Hook::OrderValidate);
    let promotions = compiled(&runtime, DEFAULTS, "promotions", Hook::OrderPrice);
    let v01 = compiled(&runtime, FIXTURES, "fx-disagree", Hook::ChargeValidate);
    let bulk = compiled(&runtime, DEFAULTS, "bulk-discount", Hook::OrderPrice);
    let js_bulk = compiled(&runtime, FIXTURES, "js-order-price", Hook::OrderPrice);
    let charge = HookInput::Charge(ChargeInput {
        user_id: 1,
        amount: 10_000,
        balance: 0,
        user_attributes: Default::default(),
        now_ms: 0,
    });
    let order = OrderInput {
        user_id: 1,
        balance: 100_000,
        lines: vec![OrderLineInput {
            product_id: 1,
            quantity: 1,
            unit_price: 1_000,
            name: "상품".into(),
            attributes: Default::default(),
        }],
        coupon: None,
        user_attributes: Default::default(),
        paid_orders: 3,
        now_ms: 1_767_225_600_000,
    };
    let priced = HookInput::OrderPrice(OrderInput {
        coupon: Some("SPRING25".into()),
        ..order.clone()
    });
    let bulk_order = HookInput::OrderPrice(OrderInput {
        lines: vec![OrderLineInput {
            quantity: 12,
            ..order.lines[0].clone()
        }],
        ..order.clone()
    });
    let order = HookInput::OrderValidate(order);
    // Every kind of promotion, one of them applying (the coupon).
    let offers = PluginConfig::new(&serde_json::json!({
        "productAttributes": [{"key": "category", "value": "salad", "percent": 10}],
        "coupons": [{"code": "SPRING25", "percent": 25, "validUntil": 1_806_505_200_000_i64}],
        "userAttributes": [{"key": "tier", "value": "gold", "percent": 5}],
        "firstOrder": {"percent": 20},
    }));
    let config = PluginConfig::new(&serde_json::json!({"max": "500000"}));
    let none = PluginConfig::default();

    let measure = |label: &str,
                   runs: usize,
                   compiled: &Compiled,
                   input: &HookInput,
                   config: &PluginConfig| {
        let called = executor.block_on(runtime.call(compiled, input, config));
        assert!(called.outcome.is_ok(), "{label}: {:?}", called.outcome);
        percentiles(label, runs, called.fuel, || {
            black_box(executor.block_on(runtime.call(compiled, input, config)));
        });
    };
    let once = |label: &str, compiled: &Compiled, input: &HookInput, config: &PluginConfig| {
        measure(label, 20_000, compiled, input, config)
    };
    once("charge-limits (0.2)", &limits, &charge, &config);
    once("order-checks (0.2)", &checks, &order, &none);
    once("promotions (0.2)", &promotions, &priced, &offers);
    once("fx-disagree (0.1)", &v01, &charge, &none);
    once("bulk-discount (0.2, Rust)", &bulk, &bulk_order, &none);
    measure(
        "js-order-price (0.2, JavaScript)",
        2_000,
        &js_bulk,
        &bulk_order,
        &none,
    );

    c.bench_function(
        "plugin call: charge-limits (fresh instance, call, drop)",
        |b| b.iter(|| black_box(executor.block_on(runtime.call(&limits, &charge, &config)))),
    );
    c.bench_function(
        "plugin call: order-checks (fresh instance, call, drop)",
        |b| b.iter(|| black_box(executor.block_on(runtime.call(&checks, &order, &none)))),
    );
    c.bench_function(
        "plugin call: js-order-price (fresh instance, call, drop)",
        |b| b.iter(|| black_box(executor.block_on(runtime.call(&js_bulk, &bulk_order, &none)))),
    );
}

criterion_group!(benches, plugin_call);
criterion_main!(benches);
