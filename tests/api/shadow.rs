//! Shadow versions: a disagreeing shadow is counted and never changes an answer; making the
//! shadow version active promotes it, so it runs once per call, as the active version, not a
//! second time as its own shadow (activation and rollback both do it, in the same transaction
//! as the switch, and the audit log shows it).

use edgecart_tests::{eventually, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn activating_or_rolling_back_to_the_shadow_version_stops_it_running_as_shadow() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.shadow_strict_charge_rule("0.3.0").await;

    // Activate the shadow version: it becomes active and stops being the shadow.
    let activated = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/activate",
            &json!({"version": "0.3.0"}),
        )
        .await;
    assert_eq!(activated.status(), 200);
    let entry = app.plugin_entry("charge-limits").await;
    assert_eq!(
        (&entry["activeVersion"], &entry["shadowVersion"]),
        (&json!("0.3.0"), &Value::Null)
    );
    let entries = app.audit(Some("plugin:charge-limits")).await;
    let activation = &entries[0];
    assert_eq!(activation["action"], "plugin.activate", "{activation}");
    assert_eq!(activation["before"]["shadowVersion"], "0.3.0");
    assert_eq!(activation["after"]["shadowVersion"], Value::Null);

    // Shadow the version a rollback goes back to, then roll back: the same.
    let shadowed = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/shadow",
            &json!({"version": "0.2.0"}),
        )
        .await;
    assert_eq!(shadowed.status(), 200);
    let rolled_back = app
        .admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert_eq!(rolled_back.status(), 200);
    let entry = app.plugin_entry("charge-limits").await;
    assert_eq!(
        (&entry["activeVersion"], &entry["shadowVersion"]),
        (&json!("0.2.0"), &Value::Null)
    );

    // Calls now run 0.2.0 once: no shadow run is counted for it.
    assert_eq!(app.charge_amount(user, 5_000).await.status(), 200);
    let calls = |version: &'static str| {
        let app = &app;
        async move {
            let labels = [("plugin", "charge-limits"), ("version", version)];
            app.metric("edgecart_plugin_calls_total", &labels).await
        }
    };
    assert!(
        eventually(Duration::from_secs(5), || async {
            calls("0.2.0").await >= 1.0
        })
        .await
    );
    let shadow_runs = app
        .metric(
            "edgecart_plugin_shadow_runs_total",
            &[("plugin", "charge-limits"), ("version", "0.2.0")],
        )
        .await;
    assert_eq!(shadow_runs, 0.0);
}

#[tokio::test]
async fn a_disagreeing_shadow_is_counted_and_never_changes_an_answer() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    // 0.3.0 refuses everything over 2,000; the default charge-limits stays active.
    app.shadow_strict_charge_rule("0.3.0").await;
    assert_eq!(
        app.plugin_entry("charge-limits").await["shadowVersion"],
        "0.3.0"
    );

    for _ in 0..3 {
        assert_eq!(app.charge_amount(user, 5_000).await.status(), 200);
    }
    assert_eq!(app.charge_amount(user, 1_500).await.status(), 200);
    let labels = |result| {
        [
            ("plugin", "charge-limits"),
            ("version", "0.3.0"),
            ("result", result),
        ]
    };
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.metric("edgecart_plugin_shadow_runs_total", &labels("disagree"))
                .await
                == 3.0
                && app
                    .metric("edgecart_plugin_shadow_runs_total", &labels("agree"))
                    .await
                    == 1.0
        })
        .await,
        "3 disagreements and 1 agreement counted"
    );
    assert_eq!(app.balance(user).await, 16_500);

    let stopped = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/shadow",
            &json!({"version": null}),
        )
        .await;
    assert_eq!(stopped.status(), 200);
    assert_eq!(
        app.plugin_entry("charge-limits").await["shadowVersion"],
        Value::Null
    );
}
