//! Recorded runs: every rejection and failure, a sample of acceptances at the configured
//! rate, what each run holds, the runs list with its paging and filter, and pruning to the
//! newest 10,000 per plugin.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{TestApp, assert_problem, eventually, spawn_app_with};
use futures_util::{StreamExt, stream};
use reqwest::Method;
use serde_json::{Value, json};

/// How many of `plugin`'s runs with `outcome` PostgreSQL holds.
pub async fn count_runs(app: &TestApp, plugin: &str, outcome: &str) -> i64 {
    app.db
        .query_one(
            "SELECT count(*) FROM plugin_runs WHERE plugin = $1 AND outcome = $2",
            &[&plugin, &outcome],
        )
        .await
        .unwrap()
        .get(0)
}

/// Waits until `plugin` has `n` runs with `outcome` recorded.
pub async fn wait_for_runs(app: &TestApp, plugin: &str, outcome: &str, n: i64) {
    let recorded = eventually(Duration::from_secs(20), || async {
        count_runs(app, plugin, outcome).await >= n
    })
    .await;
    assert!(
        recorded,
        "{plugin}: {} {outcome} runs recorded, {n} expected",
        count_runs(app, plugin, outcome).await
    );
}

/// `GET /admin/v1/plugins/{plugin}/runs?{query}`.
async fn runs(app: &TestApp, plugin: &str, query: &str) -> reqwest::Response {
    app.admin(
        Method::GET,
        &format!("/admin/v1/plugins/{plugin}/runs?{query}"),
    )
    .send()
    .await
    .expect("request sent")
}

#[tokio::test]
async fn every_rejection_and_failure_and_a_sample_of_acceptances_are_recorded() {
    // Arrange: one accepted call in ten recorded; a second charge rule that always fails,
    // let through by its `skip` policy, after the default one.
    let app = Arc::new(spawn_app_with(|s| s.plugins.run_sample = 0.1).await);
    let user = app.create_user("a", 0).await;
    app.deploy_skipped_failing_rule("fails", 200).await;

    // Act: 100 charges the default rule refuses (so `fails` never runs for them), then
    // 2,000 it accepts, each of which then traps in `fails` (amount 13).
    let refused = stream::iter(0..100)
        .map(|_| {
            let app = app.clone();
            async move { app.charge_amount(user, 500).await.status().as_u16() }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    assert!(refused.iter().all(|s| *s == 400), "{refused:?}");
    // fx-panic traps on 13 only; the default rule's minimum is 1,000, so lower it.
    app.configure_plugin("charge-limits", json!({"min": "0"}), None)
        .await;
    let accepted = stream::iter(0..2_000)
        .map(|_| {
            let app = app.clone();
            async move { app.charge_amount(user, 13).await.status().as_u16() }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    assert!(accepted.iter().all(|s| *s == 200), "all skipped through");

    // Assert: every failure and rejection, and about a tenth of the acceptances. The writer
    // keeps queue order, so once the last failure is in, everything before it is too.
    wait_for_runs(&app, "fails", "failed", 2_000).await;
    assert_eq!(count_runs(&app, "charge-limits", "rejected").await, 100);
    let sampled = count_runs(&app, "charge-limits", "accepted").await;
    // 2,000 draws at p = 0.1: mean 200, standard deviation 13.4; ±5 deviations.
    assert!(
        (133..=267).contains(&sampled),
        "{sampled} of 2,000 acceptances recorded at a 0.1 sample"
    );
    assert_eq!(count_runs(&app, "fails", "accepted").await, 0);
    let recorded = app
        .metric(
            "edgecart_plugin_runs_total",
            &[("plugin", "fails"), ("result", "recorded")],
        )
        .await;
    assert_eq!(recorded, 2_000.0);
}

#[tokio::test]
async fn a_run_holds_input_config_decision_cost_and_logs_and_the_list_pages_and_filters() {
    let app = spawn_app_with(|s| s.plugins.run_sample = 1.0).await;
    let user = app.create_user("a", 0).await;
    app.configure_plugin("charge-limits", json!({"max": "5000"}), None)
        .await;
    for amount in [2_000, 9_000, 3_000] {
        app.charge_amount(user, amount).await;
    }
    wait_for_runs(&app, "charge-limits", "accepted", 2).await;
    wait_for_runs(&app, "charge-limits", "rejected", 1).await;

    // Newest first, two to a page, with a cursor to the third.
    let first = runs(&app, "charge-limits", "limit=2").await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["input"]["amount"], 3_000);
    assert_eq!(items[1]["input"]["amount"], 9_000);
    let refused = &items[1];
    assert_eq!(refused["outcome"], "rejected");
    assert_eq!(refused["hook"], "charge.validate");
    assert_eq!(refused["input"]["userId"], user);
    assert!(refused["input"]["now"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(refused["config"], json!({"max": "5000"}));
    assert_eq!(
        refused["decision"]["reject"]["code"],
        "CHARGE_AMOUNT_TOO_LARGE"
    );
    assert!(refused["fuel"].as_i64().unwrap() > 0);
    assert!(refused["durationMicros"].as_i64().unwrap() > 0);
    assert!(refused["logs"].is_array());
    assert!(refused["version"].is_string());
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let second: Value = runs(&app, "charge-limits", &format!("limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["input"]["amount"], 2_000);
    assert_eq!(second["items"][0]["decision"], json!({"accept": true}));
    assert!(second["nextCursor"].is_null());

    // Filtered by outcome.
    let rejected: Value = runs(&app, "charge-limits", "outcome=rejected")
        .await
        .json()
        .await
        .unwrap();
    let amounts: Vec<&Value> = rejected["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["input"]["amount"])
        .collect();
    assert_eq!(amounts, [&json!(9_000)]);

    // Bad queries and unknown plugins.
    let bad = runs(&app, "charge-limits", "outcome=maybe").await;
    assert_problem(bad, 400, "INVALID_QUERY", "잘못된 쿼리 파라미터입니다.").await;
    let bad = runs(&app, "charge-limits", "limit=0").await;
    assert_problem(
        bad,
        400,
        "INVALID_LIMIT",
        "limit은 1 이상 100 이하의 정수여야 합니다.",
    )
    .await;
    let missing = runs(&app, "no-such-plugin", "").await;
    assert_problem(
        missing,
        404,
        "PLUGIN_NOT_FOUND",
        "플러그인을 찾을 수 없습니다.",
    )
    .await;
}

#[tokio::test]
async fn pruning_keeps_the_newest_10000_runs_of_a_plugin() {
    // Arrange: 10,000 old runs of the default charge rule, and one of another plugin.
    let app = spawn_app_with(|s| s.plugins.run_sample = 0.0).await;
    let user = app.create_user("a", 0).await;
    app.db
        .batch_execute(
            "INSERT INTO plugin_runs (plugin, version, hook, outcome, input, config, decision, fuel, duration_micros, logs) \
             SELECT name, 'old', hook, 'accepted', jsonb_build_object('i', g), '{}', '{\"accept\": true}', 1, 1, '[]' \
             FROM plugins, generate_series(1, 10000) AS g WHERE name = 'charge-limits'; \
             INSERT INTO plugin_runs (plugin, version, hook, outcome, input, config, decision, fuel, duration_micros, logs) \
             SELECT name, 'old', hook, 'accepted', '{}', '{}', '{\"accept\": true}', 1, 1, '[]' \
             FROM plugins WHERE name = 'order-checks'",
        )
        .await
        .unwrap();

    // Act: five rejections recorded live.
    for _ in 0..5 {
        assert_eq!(app.charge_amount(user, 1).await.status(), 400);
    }
    wait_for_runs(&app, "charge-limits", "rejected", 5).await;

    // Assert: 10,000 kept, the five oldest gone, the other plugin untouched.
    let counted = |sql: &'static str| {
        let app = &app;
        async move { app.db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let kept = counted("SELECT count(*) FROM plugin_runs WHERE plugin = 'charge-limits'").await;
    assert_eq!(kept, 10_000);
    let oldest = counted(
        "SELECT min((input->>'i')::bigint) FROM plugin_runs WHERE plugin = 'charge-limits' AND version = 'old'",
    )
    .await;
    assert_eq!(oldest, 6, "the five oldest were pruned");
    let other = counted("SELECT count(*) FROM plugin_runs WHERE plugin = 'order-checks'").await;
    assert_eq!(other, 1);
}

#[tokio::test]
async fn with_a_zero_sample_only_rejections_and_failures_are_recorded() {
    let app = spawn_app_with(|s| s.plugins.run_sample = 0.0).await;
    let user = app.create_user("a", 0).await;
    for amount in [5_000, 6_000, 1] {
        app.charge_amount(user, amount).await;
    }
    wait_for_runs(&app, "charge-limits", "rejected", 1).await;
    assert_eq!(count_runs(&app, "charge-limits", "accepted").await, 0);
}
