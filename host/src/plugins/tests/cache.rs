//! The artifact cache through [`Runtime::compile`]: an artifact replaced by another plugin's
//! (both genuine, both written by this server) is not loaded under the wrong name, and a
//! directory others may write is not used at all.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use super::{charge, component};
use crate::{
    plugins::{Hook, Limits, Runtime, sha256_hex},
    rules::Decision,
};

/// The artifact of `wasm` in the cache `dir`.
fn artifact(dir: &Path, wasm: &[u8]) -> PathBuf {
    let prefix = sha256_hex(wasm);
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".cwasm")
        })
        .unwrap_or_else(|| panic!("no artifact for {prefix} in {}", dir.display()))
}

#[tokio::test]
async fn an_artifact_replaced_by_another_plugins_is_recompiled_and_the_rule_still_decides() {
    // Arrange: a cache with charge-limits and two other plugins, all written by the server.
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_owned();
    let charge_limits = component("plugins/dist/charge-limits.wasm");
    // The template has no minimum: loaded in charge-limits' place it would accept 999.
    let template = component("plugins/dist/template.wasm");
    // order-checks is of another world: loaded in its place, compiling would fail.
    let order_checks = component("plugins/dist/order-checks.wasm");
    let writer = Runtime::new(Limits::default(), Some(dir.clone())).unwrap();
    writer
        .compile(Hook::ChargeValidate, &charge_limits)
        .unwrap();
    writer.compile(Hook::ChargeValidate, &template).unwrap();
    writer.compile(Hook::OrderValidate, &order_checks).unwrap();
    drop(writer);

    for impostor in [&template, &order_checks] {
        // Act: the impostor's artifact under charge-limits' name, and a fresh runtime.
        fs::copy(artifact(&dir, impostor), artifact(&dir, &charge_limits)).unwrap();
        let swapped = fs::read(artifact(&dir, &charge_limits)).unwrap();
        let runtime = Runtime::new(Limits::default(), Some(dir.clone())).unwrap();
        let plugin = runtime
            .compile(Hook::ChargeValidate, &charge_limits)
            .expect("charge-limits compiles from its own bytes");
        let called = runtime
            .call(
                &plugin,
                &charge(999),
                &crate::plugins::PluginConfig::default(),
            )
            .await;

        // Assert: charge-limits' rule decided, and its artifact was rewritten.
        match &called.outcome {
            Ok(Decision::Reject(rejection)) => {
                assert_eq!(rejection.code, "CHARGE_AMOUNT_TOO_SMALL")
            }
            other => panic!("expected charge-limits' rejection, got {other:?}"),
        }
        let rewritten = fs::read(artifact(&dir, &charge_limits)).unwrap();
        assert_ne!(rewritten, swapped, "the artifact is rewritten");
    }
}

#[tokio::test]
async fn a_cache_directory_others_may_write_is_not_used() {
    let cache = tempfile::tempdir().unwrap();
    fs::set_permissions(cache.path(), fs::Permissions::from_mode(0o775)).unwrap();
    let runtime = Runtime::new(Limits::default(), Some(cache.path().to_owned())).unwrap();
    let plugin = runtime
        .compile(
            Hook::ChargeValidate,
            &component("plugins/dist/charge-limits.wasm"),
        )
        .expect("compiles without the cache");
    let called = runtime
        .call(
            &plugin,
            &charge(5_000),
            &crate::plugins::PluginConfig::default(),
        )
        .await;
    assert_eq!(called.outcome, Ok(Decision::Accept));
    let written: Vec<_> = fs::read_dir(cache.path()).unwrap().collect();
    assert!(written.is_empty(), "nothing written: {written:?}");
}
