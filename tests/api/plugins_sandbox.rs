//! The plugin sandbox through the HTTP API, where the unit tests beside the runtime cannot
//! reach: artifacts shared by nodes on one cache directory, and components over their share
//! of the pool (WAT fixtures) at upload and at request time.

use edgecart_tests::{assert_client_error, plugin_wasm, spawn_app, spawn_app_with, wat_fixture};
use serde_json::{Value, json};

#[tokio::test]
async fn a_cached_artifact_replaced_by_another_plugins_is_not_loaded() {
    // Arrange: node a caches charge-limits and the template (no minimum), both genuine.
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_owned();
    let app = spawn_app_with(|s| s.plugins.cache_dir = dir.clone()).await;
    app.add_version(
        "charge-limits",
        "charge.validate",
        "0.3.0",
        plugin_wasm("template"),
    )
    .await;
    let artifact = |plugin: &str| {
        let prefix = edgecart::plugins::sha256_hex(&plugin_wasm(plugin));
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains(&prefix))
            .unwrap()
    };

    // Act: the template's artifact under charge-limits' name; a node starts on that cache.
    std::fs::copy(artifact("template"), artifact("charge-limits")).unwrap();
    let swapped = std::fs::read(artifact("charge-limits")).unwrap();
    let b = app.spawn_node().await;

    // Assert: the default charge-limits (minimum 1,000) decides on b, from a rewritten artifact.
    let user = b.create_user("a", 0).await;
    assert_eq!(
        assert_client_error(b.charge_amount(user, 999).await, "swapped artifact").await["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );
    assert_ne!(std::fs::read(artifact("charge-limits")).unwrap(), swapped);
}

#[tokio::test]
async fn a_component_over_its_share_of_the_pool_is_refused_and_within_it_fails_only_its_call() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    // charge-limits stays active, and lets the fixture's amount 13 through.
    app.configure_plugin("charge-limits", json!({"min": "1"}), None)
        .await;

    // Two memories more than the template's one: over the two a plugin may have.
    let memories = "(core instance (instantiate $one-memory))\n".repeat(2);
    let refused = app
        .upload_plugin(
            "wat",
            "charge.validate",
            "1.0.0",
            wat_fixture("accept-charges", &memories),
        )
        .await;
    assert_eq!(
        assert_client_error(refused, "three memories").await["code"],
        "PLUGIN_INVALID"
    );

    // Within its share it is a plugin; growing its table past the cap fails only that call.
    app.deploy_plugin(
        "wat",
        "charge.validate",
        "1.0.0",
        wat_fixture("accept-charges", ""),
    )
    .await;
    let failed = app.charge_amount(user, 13).await;
    assert_eq!(failed.status(), 503);
    assert_eq!(
        failed.json::<Value>().await.unwrap()["code"],
        "PLUGIN_FAILED"
    );
    assert_eq!(
        app.metric(
            "edgecart_plugin_failures_total",
            &[("plugin", "wat"), ("kind", "memory")]
        )
        .await,
        1.0
    );
    assert_eq!(app.charge_amount(user, 5_000).await.status(), 200);
    assert_eq!(
        assert_client_error(app.charge_amount(user, 1_000_001).await, "over the max").await["code"],
        "CHARGE_AMOUNT_TOO_LARGE"
    );
    assert_eq!(app.balance(user).await, 5_000);
}
