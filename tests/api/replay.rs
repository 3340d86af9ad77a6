//! Replay: a version run again on recorded runs, with their own config or a given one; a
//! stricter version disagrees on exactly the runs it changes, a trapping one fails on each,
//! the recorded `now` is the one replayed, a local component replays through the CLI, and
//! live traffic keeps being served during a 10,000-run replay.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use edgecart_tests::{
    ADMIN_TOKEN, TestApp, assert_problem, edgecart_command, fixture_wasm, repo_path, spawn_app_with,
};
use serde_json::{Value, json};

use super::plugin_runs::wait_for_runs;

/// `POST …/versions/{version}/replay` with `body`.
async fn replay(app: &TestApp, plugin: &str, version: &str, body: Value) -> reqwest::Response {
    app.admin_post(
        &format!("/admin/v1/plugins/{plugin}/versions/{version}/replay"),
        &body,
    )
    .await
}

/// The ids of the recorded runs of `plugin` whose input amount satisfies `pick`.
async fn run_ids(app: &TestApp, plugin: &str, pick: impl Fn(i64) -> bool) -> BTreeSet<i64> {
    app.db
        .query(
            "SELECT id, (input->>'amount')::bigint FROM plugin_runs WHERE plugin = $1",
            &[&plugin],
        )
        .await
        .unwrap()
        .iter()
        .filter(|row| pick(row.get(1)))
        .map(|row| row.get(0))
        .collect()
}

/// The run ids a replay's samples name.
fn sampled(report: &Value) -> BTreeSet<i64> {
    report["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["runId"].as_i64().unwrap())
        .collect()
}

/// An app that records every call, with the charges of `amounts` recorded by the default
/// charge rule.
async fn recorded_charges(amounts: &[i64]) -> (TestApp, i64) {
    let app = spawn_app_with(|s| s.plugins.run_sample = 1.0).await;
    let user = app.create_user("a", 0).await;
    for &amount in amounts {
        app.charge_amount(user, amount).await;
    }
    let total = amounts.len() as i64;
    let all = edgecart_tests::eventually(Duration::from_secs(20), || async {
        let n: i64 = app
            .db
            .query_one("SELECT count(*) FROM plugin_runs", &[])
            .await
            .unwrap()
            .get(0);
        n >= total
    })
    .await;
    assert!(all, "every charge recorded");
    (app, user)
}

#[tokio::test]
async fn a_stricter_version_disagrees_on_exactly_the_runs_it_changes() {
    // Recorded by the default rule (1,000 to 1,000,000): 500 refused, the rest accepted.
    let (app, _) = recorded_charges(&[1_500, 3_000, 500, 1_800, 5_000]).await;
    // fx-disagree accepts up to 2,000 and refuses above; it accepts 500 too.
    app.add_version(
        "charge-limits",
        "charge.validate",
        "9.0.0",
        fixture_wasm("fx-disagree"),
    )
    .await;

    let answer = replay(&app, "charge-limits", "9.0.0", json!({})).await;
    assert_eq!(answer.status(), 200);
    let report: Value = answer.json().await.unwrap();
    assert_eq!(report["runs"], 5);
    assert_eq!(report["agreed"], 2, "{report}");
    assert_eq!(report["disagreed"], 3);
    assert_eq!(report["failed"], 0);
    let changed = run_ids(&app, "charge-limits", |a| !(1_000..=2_000).contains(&a)).await;
    assert_eq!(sampled(&report), changed);
    let sample = report["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["replayed"].get("reject").is_some())
        .unwrap();
    assert_eq!(sample["recorded"], json!({"accept": true}));
    assert_eq!(sample["replayed"]["reject"]["code"], "SHADOW_STRICT");

    // The active version with a given config instead of each run's own: max 2,000.
    let active = app.plugin_entry("charge-limits").await;
    let version = active["activeVersion"].as_str().unwrap().to_owned();
    let with_config = replay(
        &app,
        "charge-limits",
        &version,
        json!({"config": {"max": "2000"}, "limit": 10}),
    )
    .await;
    let report: Value = with_config.json().await.unwrap();
    assert_eq!(
        (report["runs"].as_i64(), report["disagreed"].as_i64()),
        (Some(5), Some(2))
    );
    let above = run_ids(&app, "charge-limits", |a| a > 2_000).await;
    assert_eq!(sampled(&report), above);

    // Nothing was stored: the runs and the active version are as they were.
    let after: Value = app.plugin_entry("charge-limits").await;
    assert_eq!(after["activeVersion"], active["activeVersion"]);
    assert_eq!(after["config"], active["config"]);
}

#[tokio::test]
async fn a_trapping_version_is_reported_failed_on_each_run_and_bad_requests_are_refused() {
    let (app, _) = recorded_charges(&[13, 13, 2_000]).await;
    app.add_version(
        "charge-limits",
        "charge.validate",
        "6.6.6",
        fixture_wasm("fx-panic"),
    )
    .await;
    let report: Value = replay(&app, "charge-limits", "6.6.6", json!({}))
        .await
        .json()
        .await
        .unwrap();
    // fx-panic traps on 13 and accepts the rest: the two 13s (refused as too small when
    // recorded) fail, the 2,000 agrees.
    assert_eq!(
        (&report["runs"], &report["failed"], &report["agreed"]),
        (&json!(3), &json!(2), &json!(1)),
        "{report}"
    );
    assert_eq!(report["samples"][0]["replayed"]["failure"]["kind"], "trap");

    let too_many = replay(&app, "charge-limits", "6.6.6", json!({"limit": 10_001})).await;
    assert_eq!(too_many.status(), 400);
    let unknown = replay(&app, "charge-limits", "7.7.7", json!({})).await;
    assert_eq!(unknown.status(), 404);
    let not_strings = replay(
        &app,
        "charge-limits",
        "6.6.6",
        json!({"config": {"max": 5}}),
    )
    .await;
    assert_problem(
        not_strings,
        400,
        "PLUGIN_CONFIG_INVALID",
        "플러그인 설정이 스키마에 맞지 않습니다.",
    )
    .await;
}

#[tokio::test]
async fn a_replay_sees_the_now_its_run_was_recorded_with() {
    // The echo fixture refuses every charge with a message naming `now`: a replay agrees
    // only when it gets the same `now`, long after the recording.
    let app = spawn_app_with(|s| s.plugins.run_sample = 1.0).await;
    let user = app.create_user("a", 0).await;
    app.deploy_charge_rule_alone("echo", "1.0.0", "fx-echo-charge")
        .await;
    app.charge_amount(user, 1_000).await;
    wait_for_runs(&app, "echo", "rejected", 1).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let report: Value = replay(&app, "echo", "1.0.0", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&report["runs"], &report["agreed"]),
        (&json!(1), &json!(1)),
        "{report}"
    );
}

#[tokio::test]
async fn the_cli_replays_a_local_component_on_the_servers_runs() {
    let (app, _) = recorded_charges(&[1_500, 3_000]).await;
    let output = tokio::process::Command::from(edgecart_command())
        .args(["plugin", "replay", "charge-limits", "--wasm"])
        .arg(repo_path("tests/fixtures/plugins/dist/fx-disagree.wasm"))
        .args(["--url", &app.url(""), "--token", ADMIN_TOKEN])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("edgecart runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(
        (&report["runs"], &report["agreed"], &report["disagreed"]),
        (&json!(2), &json!(1), &json!(1)),
        "{report}"
    );
    let strict = run_ids(&app, "charge-limits", |a| a == 3_000).await;
    assert_eq!(sampled(&report), strict);
}

#[tokio::test]
async fn live_traffic_keeps_being_served_during_a_10000_run_replay() {
    // Arrange: one real recorded run (a refusal: recorded whatever the sample), copied to
    // 10,000; the accepted charges made during the replay are not recorded (sample 0), so
    // pruning leaves the 10,000 alone.
    let app = spawn_app_with(|s| s.plugins.run_sample = 0.0).await;
    let user = app.create_user("a", 0).await;
    assert_eq!(app.charge_amount(user, 500).await.status(), 400);
    wait_for_runs(&app, "charge-limits", "rejected", 1).await;
    app.db
        .batch_execute(
            "INSERT INTO plugin_runs (plugin, version, hook, outcome, input, config, decision, fuel, duration_micros, logs) \
             SELECT plugin, version, hook, outcome, input, config, decision, fuel, duration_micros, logs \
             FROM plugin_runs, generate_series(1, 9999)",
        )
        .await
        .unwrap();
    let app = Arc::new(app);
    let active: Value = app.plugin_entry("charge-limits").await;
    let version = active["activeVersion"].as_str().unwrap().to_owned();

    // Act: the replay, and charges while it runs.
    let replaying = {
        let app = app.clone();
        tokio::spawn(async move {
            replay(&app, "charge-limits", &version, json!({"limit": 10_000}))
                .await
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let mut served_during = 0;
    while !replaying.is_finished() {
        assert_eq!(app.charge_amount(user, 1_000).await.status(), 200);
        served_during += 1;
    }
    let report = replaying.await.unwrap();

    // Assert: all 10,000 agreed, and charges were answered while they ran.
    assert_eq!(
        (&report["runs"], &report["agreed"]),
        (&json!(10_000), &json!(10_000)),
        "{report}"
    );
    assert!(
        served_during >= 3,
        "{served_during} charges during the replay"
    );
}
