//! The cost of one rule-plugin call as the server makes it: a fresh store and instance from
//! the version's `InstancePre`, the call, and the drop, with the production limits (fuel,
//! epoch deadline, memory cap, pooling allocator). Criterion measures the mean; the
//! percentiles the performance table reports (p50, p99) are measured over 20,000 single calls
//! and printed first.
//!
//! `scripts/build-plugins && cargo bench -p edgecart --bench plugin_call`

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use edgecart::{
    plugins::{Compiled, Hook, HookInput, Limits, Runtime},
    rules::{ChargeInput, OrderInput, OrderLineInput},
};

fn component(name: &str) -> Vec<u8> {
    let path = format!("{}/../plugins/dist/{name}.wasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run scripts/build-plugins)"))
}

fn compiled(runtime: &Runtime, name: &str, hook: Hook) -> Compiled {
    runtime
        .compile(hook, &component(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Prints p50 and p99 of `call` over many single runs.
fn percentiles(label: &str, mut call: impl FnMut()) {
    for _ in 0..2_000 {
        call();
    }
    let mut samples: Vec<Duration> = (0..20_000)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "RESULT {label}: p50_us={:.1} p99_us={:.1}",
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6
    );
}

fn plugin_call(c: &mut Criterion) {
    let executor = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let runtime = Runtime::new(Limits::default(), None).expect("engine");
    let limits = compiled(&runtime, "charge-limits", Hook::ChargeValidate);
    let checks = compiled(&runtime, "order-checks", Hook::OrderValidate);
    let charge = HookInput::Charge(ChargeInput {
        user_id: 1,
        amount: 10_000,
        balance: 0,
        ..Default::default()
    });
    let order = HookInput::OrderValidate(OrderInput {
        user_id: 1,
        balance: 100_000,
        lines: vec![OrderLineInput {
            product_id: 1,
            quantity: 1,
            unit_price: 1_000,
            ..Default::default()
        }],
        ..Default::default()
    });
    let config = vec![("max".to_owned(), "500000".to_owned())];

    percentiles("charge-limits", || {
        black_box(executor.block_on(runtime.call(&limits, &charge, &config)));
    });
    percentiles("order-checks", || {
        black_box(executor.block_on(runtime.call(&checks, &order, &Vec::new())));
    });

    c.bench_function(
        "plugin call: charge-limits (fresh instance, call, drop)",
        |b| b.iter(|| black_box(executor.block_on(runtime.call(&limits, &charge, &config)))),
    );
    c.bench_function(
        "plugin call: order-checks (fresh instance, call, drop)",
        |b| b.iter(|| black_box(executor.block_on(runtime.call(&checks, &order, &Vec::new())))),
    );
}

criterion_group!(benches, plugin_call);
criterion_main!(benches);
