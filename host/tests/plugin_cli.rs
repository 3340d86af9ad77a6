//! `edgecart plugin` commands that work without a server: `run` executes a component in the
//! server's sandbox and prints decision, fuel and logs; `new` writes a plugin crate.

use std::process::Command;

use serde_json::Value;

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn edgecart(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_edgecart"))
        .args(args)
        .output()
        .expect("edgecart runs")
}

#[test]
fn run_prints_the_decision_fuel_and_logs_of_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("charge.json");
    std::fs::write(&input, r#"{"userId": 1, "amount": 600000, "balance": 0}"#).unwrap();
    let wasm = repo("plugins/dist/charge-limits.wasm");
    let output = edgecart(&[
        "plugin",
        "run",
        "--input",
        input.to_str().unwrap(),
        "--config",
        "max=500000",
        wasm.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["hook"], "charge.validate");
    assert_eq!(
        report["decision"]["reject"]["code"],
        "CHARGE_AMOUNT_TOO_LARGE"
    );
    assert_eq!(
        report["decision"]["reject"]["message"],
        "최대 충전 금액은 500,000원 입니다."
    );
    assert!(report["fuel"].as_u64().unwrap() > 0);
    assert!(!report["logs"].as_array().unwrap().is_empty());

    // Within the limit, accepted.
    std::fs::write(&input, r#"{"userId": 1, "amount": 400000, "balance": 0}"#).unwrap();
    let output = edgecart(&[
        "plugin",
        "run",
        "--input",
        input.to_str().unwrap(),
        "--config",
        "max=500000",
        wasm.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["decision"], serde_json::json!({"accept": true}));
}

#[test]
fn run_reports_a_trap_and_refuses_what_is_not_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("charge.json");
    std::fs::write(&input, r#"{"userId": 1, "amount": 13, "balance": 0}"#).unwrap();
    let looping = repo("tests/fixtures/plugins/dist/fx-loop.wasm");
    let output = edgecart(&[
        "plugin",
        "run",
        "--input",
        input.to_str().unwrap(),
        looping.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        matches!(
            report["decision"]["failure"]["kind"].as_str(),
            Some("fuel" | "time")
        ),
        "{report}"
    );

    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let output = edgecart(&[
        "plugin",
        "run",
        "--input",
        input.to_str().unwrap(),
        junk.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a plugin for any hook"));
}

#[test]
fn new_writes_a_standalone_plugin_crate() {
    let dir = tempfile::tempdir().unwrap();
    let output = edgecart(&[
        "plugin",
        "new",
        "my-rule",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let root = dir.path().join("my-rule");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"my-rule\""));
    assert!(manifest.contains("[workspace]"));
    let component = std::fs::read_to_string(root.join("src/component.rs")).unwrap();
    assert!(component.contains("path: \"wit/rules.wit\""));
    let wit = std::fs::read_to_string(root.join("wit/rules.wit")).unwrap();
    assert!(
        wit.contains("package edgecart:rules@0.2.0;"),
        "contract 0.2"
    );
    assert!(manifest.contains("serde_json"), "reads its JSON config");
    assert!(
        std::fs::read_to_string(root.join(".cargo/config.toml"))
            .unwrap()
            .contains("stack-size")
    );
    assert!(root.join("src/lib.rs").exists());
    // Not over an existing folder, and not with a bad name.
    assert!(
        !edgecart(&[
            "plugin",
            "new",
            "my-rule",
            "--dir",
            dir.path().to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(
        !edgecart(&[
            "plugin",
            "new",
            "My Rule",
            "--dir",
            dir.path().to_str().unwrap()
        ])
        .status
        .success()
    );
}

#[test]
fn a_new_plugin_builds_and_runs_as_created() {
    let dir = tempfile::tempdir().unwrap();
    let created = edgecart(&[
        "plugin",
        "new",
        "fresh-rule",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(created.status.success());
    let root = dir.path().join("fresh-rule");
    let built = edgecart(&["plugin", "build", root.to_str().unwrap()]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let wasm = String::from_utf8(built.stdout).unwrap().trim().to_owned();
    assert!(wasm.ends_with("fresh_rule.wasm"), "{wasm}");
    let input = dir.path().join("charge.json");
    std::fs::write(&input, r#"{"userId": 1, "amount": 2000000, "balance": 0}"#).unwrap();
    let ran = edgecart(&["plugin", "run", "--input", input.to_str().unwrap(), &wasm]);
    let report: Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(
        report["decision"]["reject"]["code"],
        "CHARGE_REFUSED_BY_TEMPLATE"
    );
}
