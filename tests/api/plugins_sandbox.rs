//! The plugin sandbox through the HTTP API, where the unit tests beside the runtime cannot
//! reach: artifacts shared by nodes on one cache directory.

use edgecart_tests::{assert_client_error, plugin_wasm, spawn_app_with};

#[tokio::test]
async fn a_cached_artifact_replaced_by_another_plugins_is_not_loaded() {
    // Arrange: node a caches charge-limits and the template (no minimum), both genuine.
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_owned();
    let app = spawn_app_with(|s| s.plugin_cache_dir = dir.clone()).await;
    let uploaded = app
        .upload_plugin(
            "charge-limits",
            "charge.validate",
            "0.2.0",
            plugin_wasm("template"),
        )
        .await;
    assert_eq!(uploaded.status(), 201);
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

    // Assert: charge-limits 0.1.0 (minimum 1,000) decides on b, from a rewritten artifact.
    let user = b.create_user("a", 0).await;
    assert_eq!(
        assert_client_error(b.charge_amount(user, 999).await, "swapped artifact").await["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );
    assert_ne!(std::fs::read(artifact("charge-limits")).unwrap(), swapped);
}
