//! JavaScript rule projects through the CLI, without a server: `plugin new --lang js --hook H`
//! writes a project for each hook whose own `node --test` suite passes through `plugin test`;
//! the `order.price` one builds with `plugin build` (npm, componentize-js) into a component
//! that `plugin run` executes in the server's sandbox, pricing as the rule says.

use std::{path::Path, process::Command};

use serde_json::Value;

fn edgecart(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_edgecart"))
        .args(args)
        .output()
        .expect("edgecart runs")
}

/// Runs `edgecart args…`, asserting it succeeds; its standard output, and its standard error
/// (where npm's output goes).
fn succeeds_with_log(args: &[&str]) -> (String, String) {
    let output = edgecart(args);
    assert!(
        output.status.success(),
        "edgecart {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (text(&output.stdout), text(&output.stderr))
}

/// Runs `edgecart args…`, asserting it succeeds; its standard output.
fn succeeds(args: &[&str]) -> String {
    succeeds_with_log(args).0
}

/// `plugin new NAME --lang js --hook HOOK` in `dir`; the project's folder.
fn new_js(dir: &Path, name: &str, hook: &str) -> std::path::PathBuf {
    let dir_arg = dir.to_str().expect("UTF-8 temp path");
    succeeds(&[
        "plugin", "new", name, "--lang", "js", "--hook", hook, "--dir", dir_arg,
    ]);
    dir.join(name)
}

#[test]
fn a_new_js_project_of_each_hook_passes_its_own_tests() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, hook, world) in [
        ("charge-js", "charge.validate", "charge-validate"),
        ("order-js", "order.validate", "order-validate"),
        ("price-js", "order.price", "order-price"),
    ] {
        let root = new_js(dir.path(), name, hook);
        for file in [
            "src/rule.js",
            "src/component.js",
            "src/guard.js",
            "test/rule.test.js",
            "wit/rules.wit",
            "README.md",
            "package-lock.json",
        ] {
            assert!(root.join(file).is_file(), "{name}: {file}");
        }
        let package: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("package.json")).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(package["name"], name);
        let build = package["scripts"]["build"].as_str().unwrap_or_default();
        assert!(build.contains(&format!("--world-name {world} ")), "{build}");
        assert!(
            build.contains("--disable stdio random clocks http"),
            "{build}"
        );
        let pinned = &package["devDependencies"]["@bytecodealliance/componentize-js"];
        assert!(
            pinned
                .as_str()
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.')),
            "exact: {pinned}"
        );
        let (_, tested) = succeeds_with_log(&["plugin", "test", root.to_str().unwrap_or_default()]);
        assert!(tested.contains("# fail 0"), "{name}: {tested}");
        assert!(
            !tested.contains("# pass 0"),
            "{name} ran its tests: {tested}"
        );
    }
}

#[test]
fn a_new_js_pricing_rule_builds_and_runs_as_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = new_js(dir.path(), "price-js", "order.price");
    let wasm = succeeds(&["plugin", "build", root.to_str().unwrap_or_default()]);
    let wasm = wasm.trim();
    assert!(wasm.ends_with("dist/rule.wasm"), "{wasm}");
    let input = dir.path().join("order.json");
    let order = r#"{"userId": 1, "balance": 100000, "now": 1764000000000, "paidOrders": 0, "userAttributes": {},
        "lines": [{"productId": 1, "quantity": 12, "unitPrice": 2501, "name": "salad", "attributes": {}},
                  {"productId": 2, "quantity": 1, "unitPrice": 900, "name": "tea", "attributes": {}}]}"#;
    std::fs::write(&input, order).expect("input written");
    let report = succeeds(&[
        "plugin",
        "run",
        "--input",
        input.to_str().unwrap_or_default(),
        wasm,
    ]);
    let report: Value = serde_json::from_str(&report).unwrap_or_default();
    assert_eq!(report["hook"], "order.price", "{report}");
    let prices = &report["decision"]["prices"];
    assert_eq!(
        prices[0]["unitPrice"], 2250,
        "12 units: 10% off 2,501, rounded down: {report}"
    );
    assert_eq!(prices[0]["reason"], "10% off from 10 units");
    assert_eq!(
        prices[1]["unitPrice"], 900,
        "one unit, no discount: {report}"
    );
    let fuel = report["fuel"].as_u64().unwrap_or_default();
    assert!(
        fuel > 0 && fuel < 11_000_000,
        "within the default fuel: {fuel}"
    );
}
