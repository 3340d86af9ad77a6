//! Rule contract 0.2 through the HTTP API: a version's config schema taken at upload and
//! shown with it, configs and activations checked against it (400 `PLUGIN_CONFIG_INVALID`
//! with each field's path, nothing changed; the default charge-limits refuses `max: "lots"`
//! and takes 500000 as a number or as text), a 0.1 plugin taking only strings, seen as pairs,
//! a 0.2 plugin seeing its typed config, the failure policy (`reject` fails the request,
//! `skip` lets it through and is counted), and snapshots: a rollback restores the one before
//! whole, the history keeps every one.

use edgecart_tests::{
    DEFAULT_VERSION, TestApp, assert_client_error, fixture_wasm, plugin_wasm, spawn_app,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn put_config(app: &TestApp, name: &str, body: Value) -> reqwest::Response {
    app.admin(Method::PUT, &format!("/admin/v1/plugins/{name}/config"))
        .json(&body)
        .send()
        .await
        .expect("request sent")
}

/// The field errors of a refused config.
async fn refused(response: reqwest::Response, what: &str) -> Vec<(String, String)> {
    let body = assert_client_error(response, what).await;
    assert_eq!(body["code"], "PLUGIN_CONFIG_INVALID", "{what}: {body}");
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no errors in {body}"))
        .iter()
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap_or_default().to_owned();
            (text("path"), text("message"))
        })
        .collect()
}

#[tokio::test]
async fn a_typed_config_is_checked_against_the_versions_schema_and_reaches_the_plugin() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.deploy_charge_rule_alone("echo", "2.0.0", "fx-echo-charge")
        .await;
    let shown = app.plugin_entry("echo").await;
    assert_eq!(
        shown["versions"][0]["configSchema"]["properties"]["max"]["type"], "integer",
        "{shown}"
    );
    assert_eq!(shown["onFailure"], "reject");

    let wrong_type = refused(
        put_config(&app, "echo", json!({"config": {"max": "lots"}})).await,
        "a string max",
    )
    .await;
    assert_eq!(wrong_type.len(), 1, "{wrong_type:?}");
    assert_eq!(wrong_type[0].0, "/max");
    let unknown = refused(
        put_config(&app, "echo", json!({"config": {"mx": 5}})).await,
        "a typo",
    )
    .await;
    assert!(unknown[0].1.contains("mx"), "{unknown:?}");
    let below = refused(
        put_config(&app, "echo", json!({"config": {"max": 0}})).await,
        "max 0",
    )
    .await;
    assert_eq!(below[0].0, "/max");
    assert_eq!(
        app.plugin_entry("echo").await["config"],
        json!({}),
        "nothing changed"
    );

    let saved = put_config(&app, "echo", json!({"config": {"max": 500}})).await;
    assert_eq!(saved.status(), 200);
    let charged = assert_client_error(app.charge_amount(user, 7).await, "the echo").await;
    let message = charged["detail"].as_str().unwrap_or_default();
    assert!(message.contains("amount=7"), "{charged}");
    assert!(
        message.contains(r#"config={"max":500}"#),
        "typed, as JSON: {charged}"
    );
    let now: i64 = message
        .split_whitespace()
        .find_map(|word| word.strip_prefix("now="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no now in {message}"));
    let wall = chrono::Utc::now().timestamp_millis();
    assert!(
        (wall - now).abs() < 60_000,
        "now {now} is the request's time ({wall})"
    );
}

#[tokio::test]
async fn the_charge_limits_plugin_with_a_config_typo_can_no_longer_be_saved() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let before = app.plugin_entry("charge-limits").await;
    let typo = refused(
        put_config(&app, "charge-limits", json!({"config": {"max": "lots"}})).await,
        "max lots",
    )
    .await;
    assert_eq!(typo.len(), 1, "{typo:?}");
    assert_eq!(typo[0].0, "/max", "{typo:?}");
    let unknown = refused(
        put_config(&app, "charge-limits", json!({"config": {"maximum": 5}})).await,
        "an unknown key",
    )
    .await;
    assert!(unknown[0].1.contains("maximum"), "{unknown:?}");
    assert_eq!(
        app.plugin_entry("charge-limits").await,
        before,
        "nothing changed"
    );
    assert_eq!(
        app.charge_amount(user, 1_000_000).await.status(),
        200,
        "charges go on"
    );

    // The same max as a number or as the text of one: both saved, both in force.
    for max in [json!(500000), json!("500000")] {
        let saved = put_config(&app, "charge-limits", json!({"config": {"max": max}})).await;
        assert_eq!(saved.status(), 200, "{max}");
        assert_eq!(
            app.plugin_entry("charge-limits").await["config"]["max"],
            max
        );
        let over = assert_client_error(app.charge_amount(user, 500_001).await, "over").await;
        assert_eq!(over["code"], "CHARGE_AMOUNT_TOO_LARGE", "{max}: {over}");
        assert_eq!(over["detail"], "최대 충전 금액은 500,000원 입니다.");
        assert_eq!(
            app.charge_amount(user, 500_000).await.status(),
            200,
            "{max}"
        );
    }
    assert_eq!(app.balance(user).await, 2_000_000);
}

#[tokio::test]
async fn an_activation_whose_schema_refuses_the_config_in_force_changes_nothing() {
    let app = spawn_app().await;
    // The default charge-limits (0.2) takes a digit string; the echo's schema wants an integer.
    let saved = put_config(&app, "charge-limits", json!({"config": {"max": "500000"}})).await;
    assert_eq!(saved.status(), 200);
    app.add_version(
        "charge-limits",
        "charge.validate",
        "2.0.0",
        fixture_wasm("fx-echo-charge"),
    )
    .await;
    let before = app.plugin_entry("charge-limits").await;
    for (path, body) in [
        ("activate", json!({"version": "2.0.0"})),
        ("shadow", json!({"version": "2.0.0"})),
    ] {
        let response = app
            .admin_post(&format!("/admin/v1/plugins/charge-limits/{path}"), &body)
            .await;
        let errors = refused(response, path).await;
        assert_eq!(errors[0].0, "/max", "{path}: the string max does not fit");
    }
    assert_eq!(
        app.plugin_entry("charge-limits").await,
        before,
        "nothing changed"
    );
    assert_eq!(
        app.charge_amount(app.create_user("b", 0).await, 5_000)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_0_1_plugin_takes_only_strings_and_sees_them_as_pairs() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.deploy_charge_rule_alone("pairs", "1.0.0", "fx-echo-pairs")
        .await;
    assert_eq!(
        app.plugin_entry("pairs").await["versions"][0]["configSchema"],
        Value::Null
    );
    let typed = refused(
        put_config(&app, "pairs", json!({"config": {"max": 500000}})).await,
        "a number for a 0.1 plugin",
    )
    .await;
    assert_eq!(typed[0].0, "/max");
    let saved = put_config(&app, "pairs", json!({"config": {"max": "500000"}})).await;
    assert_eq!(saved.status(), 200);
    let charged = assert_client_error(app.charge_amount(user, 7).await, "the echo").await;
    assert_eq!(charged["detail"], "amount=7 config=max=500000", "{charged}");
}

#[tokio::test]
async fn a_failing_plugin_set_to_skip_lets_the_request_through_and_is_counted() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.deploy_charge_rule_alone("panics", "1.0.0", "fx-panic")
        .await;
    // amount 13 makes the fixture trap.
    assert_eq!(
        app.charge_amount(user, 13).await.status(),
        503,
        "reject by default"
    );
    let skip = put_config(&app, "panics", json!({"config": {}, "onFailure": "skip"})).await;
    assert_eq!(skip.status(), 200);
    assert_eq!(app.plugin_entry("panics").await["onFailure"], "skip");
    assert_eq!(app.charge_amount(user, 13).await.status(), 200, "skipped");
    assert_eq!(app.balance(user).await, 13);
    let skipped = app
        .metric("edgecart_plugin_skipped_total", &[("plugin", "panics")])
        .await;
    assert_eq!(skipped, 1.0);
    let back = put_config(&app, "panics", json!({"config": {}, "onFailure": "reject"})).await;
    assert_eq!(back.status(), 200);
    assert_eq!(
        app.charge_amount(user, 13).await.status(),
        503,
        "reject again"
    );
    assert_eq!(
        app.balance(user).await,
        13,
        "nothing charged by the failed call"
    );
}

#[tokio::test]
async fn a_rollback_restores_the_previous_snapshot_whole_and_the_history_keeps_every_one() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let saved = put_config(&app, "charge-limits", json!({"config": {"max": "5000"}})).await;
    assert_eq!(saved.status(), 200);
    app.deploy_plugin(
        "charge-limits",
        "charge.validate",
        "0.2.1",
        plugin_wasm("charge-limits"),
    )
    .await;
    let later = put_config(
        &app,
        "charge-limits",
        json!({"config": {"max": "9000"}, "priority": 7, "onFailure": "skip"}),
    )
    .await;
    assert_eq!(later.status(), 200);
    assert_eq!(
        app.charge_amount(user, 9_500).await.status(),
        400,
        "over 9,000"
    );

    let rolled = app
        .admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert_eq!(rolled.status(), 200);
    let rolled: Value = rolled.json().await.expect("JSON");
    assert_eq!(rolled["activeVersion"], DEFAULT_VERSION);
    assert_eq!(
        rolled["config"],
        json!({}),
        "the default version ran with the default config"
    );
    assert_eq!(rolled["priority"], 100);
    assert_eq!(rolled["onFailure"], "reject");
    assert_eq!(
        app.charge_amount(user, 9_500).await.status(),
        200,
        "the default max again"
    );

    let history = app
        .admin(Method::GET, "/admin/v1/plugins/charge-limits/history")
        .send()
        .await
        .expect("request sent");
    assert_eq!(history.status(), 200);
    let history: Value = history.json().await.expect("JSON");
    let versions: Vec<(&str, bool)> = history
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| (s["version"].as_str().unwrap_or(""), s["rolledBack"] == true))
        .collect();
    assert_eq!(
        versions,
        [("0.2.1", true), (DEFAULT_VERSION, false)],
        "{history}"
    );
    assert_eq!(
        history[0]["config"],
        json!({"max": "5000"}),
        "what 0.2.1 ran with"
    );
    assert_eq!(history[0]["actor"], "admin");
    let again = app
        .admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert_eq!(
        assert_client_error(again, "nothing earlier").await["code"],
        "NO_PREVIOUS_VERSION"
    );
    let missing = app
        .admin(Method::GET, "/admin/v1/plugins/nope/history")
        .send()
        .await
        .expect("request sent");
    assert_eq!(missing.status(), 404);
}
