//! What the console needs from the admin API and from the server: who a token stands for
//! (`/admin/v1/me`), a plugin's live figures per version (`/stats`), and the console's own
//! pages, served from the binary with a strict Content-Security-Policy and no admin token.

use std::time::Duration;

use edgecart_tests::{
    ADMIN_TOKEN, DEFAULT_VERSION, TestApp, assert_problem, eventually, spawn_app,
};
use serde_json::{Value, json};

async fn get_as(app: &TestApp, token: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

async fn stats(app: &TestApp, plugin: &str) -> Value {
    let response = get_as(
        app,
        Some(ADMIN_TOKEN),
        &format!("/admin/v1/plugins/{plugin}/stats"),
    )
    .await;
    assert_eq!(response.status(), 200, "stats of {plugin}");
    response.json().await.expect("json")
}

/// The figures of `version` in a stats answer.
fn of_version<'a>(stats: &'a Value, version: &str) -> &'a Value {
    stats["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["version"] == version))
        .unwrap_or_else(|| panic!("no figures for {version} in {stats}"))
}

#[tokio::test]
async fn me_names_the_tokens_operator_and_role() {
    let app = spawn_app().await;
    let vera = app.create_admin_token("vera", "viewer");
    let eddie = app.create_admin_token("eddie", "editor");

    for (token, name, role) in [
        (vera.as_str(), "vera", "viewer"),
        (eddie.as_str(), "eddie", "editor"),
        (ADMIN_TOKEN, "admin", "admin"),
    ] {
        let me = get_as(&app, Some(token), "/admin/v1/me").await;
        assert_eq!(me.status(), 200, "{name}");
        assert_eq!(
            me.json::<Value>().await.unwrap(),
            json!({"name": name, "role": role})
        );
    }
    let anonymous = get_as(&app, None, "/admin/v1/me").await;
    assert_eq!(anonymous.status(), 401);
    let wrong = get_as(&app, Some("not-a-token"), "/admin/v1/me").await;
    assert_eq!(wrong.status(), 403, "a wrong admin token is 403 (API.md)");
}

#[tokio::test]
async fn stats_count_each_versions_calls_rejections_failures_and_shadow_runs() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    // Before any call the plugin exists but no version has been called.
    let before = stats(&app, "charge-limits").await;
    let versions = before["versions"].as_array().expect("a list of versions");
    assert!(versions.iter().all(|v| v["calls"] == 0), "{before}");

    // 3 accepted and 2 refused (under the default minimum of 1,000) by the default version.
    for amount in [5_000, 5_000, 5_000, 500, 500] {
        app.charge_amount(user, amount).await;
    }
    // A second charge rule that traps on 13, let through by its `skip` policy.
    app.deploy_skipped_failing_rule("fails", 200).await;
    app.configure_plugin("charge-limits", json!({"min": "0"}), None)
        .await;
    assert_eq!(app.charge_amount(user, 13).await.status(), 200);

    let limits = stats(&app, "charge-limits").await;
    assert_eq!(limits["name"], "charge-limits");
    let default = of_version(&limits, DEFAULT_VERSION);
    assert_eq!(default["calls"], 6);
    assert_eq!(default["accepted"], 4);
    assert_eq!(default["rejected"], 2);
    assert_eq!(default["failed"], 0);
    let p99 = default["p99Micros"].as_u64().expect("a p99 after calls");
    assert!(p99 > 0, "{limits}");

    let fails = stats(&app, "fails").await;
    let failing = of_version(&fails, "1.0.0");
    assert_eq!(failing["calls"], 1);
    assert_eq!(failing["failed"], 1);
    assert_eq!(failing["failures"], json!({"trap": 1}));
    assert_eq!(failing["skipped"], 1);

    // A shadowed version's runs are counted under it, by result.
    app.shadow_strict_charge_rule("0.3.0").await;
    for amount in [5_000, 1_500] {
        assert_eq!(app.charge_amount(user, amount).await.status(), 200);
    }
    let counted = eventually(Duration::from_secs(5), || async {
        let limits = stats(&app, "charge-limits").await;
        of_version(&limits, "0.3.0")["shadow"] == json!({"agree": 1, "disagree": 1})
    })
    .await;
    assert!(counted, "{}", stats(&app, "charge-limits").await);
}

#[tokio::test]
async fn stats_of_a_plugin_that_does_not_exist_is_404() {
    let app = spawn_app().await;
    for name in ["nope", "BAD%20NAME"] {
        let response = get_as(
            &app,
            Some(ADMIN_TOKEN),
            &format!("/admin/v1/plugins/{name}/stats"),
        )
        .await;
        assert_problem(
            response,
            404,
            "PLUGIN_NOT_FOUND",
            "플러그인을 찾을 수 없습니다.",
        )
        .await;
    }
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/console", "text/html; charset=utf-8"),
        ("/console/app.js", "text/javascript; charset=utf-8"),
        ("/console/console.css", "text/css; charset=utf-8"),
    ] {
        // No admin token: the page is public, every call it makes is checked by the admin API.
        let response = get_as(&app, None, path).await;
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("content-type"), content_type, "{path}");
        let policy = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("x-content-type-options"), "nosniff");
    }
    let missing = get_as(&app, None, "/console/nope.js").await;
    assert_problem(missing, 404, "NOT_FOUND", "요청한 경로를 찾을 수 없습니다.").await;
}
