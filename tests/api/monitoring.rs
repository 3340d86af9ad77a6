//! Monitoring: the live /metrics passes `promtool check metrics`, the shipped Prometheus
//! config and alert rules pass promtool (and the rules their unit tests), a real Prometheus
//! scrapes a running node, and every metric the dashboard and the alerts query is one the
//! server exports.

use std::{collections::BTreeSet, process::Stdio, time::Duration};

use edgecart_tests::{
    PrivateRedis, TestApp, eventually, fixture_wasm, free_port, repo_path, spawn_app_with,
};
use serde_json::{Value, json};

/// Runs promtool with `args`, feeding `stdin`; returns (success, output).
async fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/test installs the prometheus package)");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let output = child.wait_with_output().await.expect("promtool finishes");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Exercises every kind of event a metric counts: orders paid and refused, a stock-out, a
/// cancel, idempotent charges and a replay, the popular cache, a plugin failure and a shadow
/// run, relayed and notified events, and Redis errors.
async fn exercise(app: &TestApp, redis: &mut PrivateRedis) {
    let user = app.create_user("a", 1_000_000).await;
    let product = app.create_product("p", 1_000, 1).await;
    let order = |quantity: i64| json!({"user_id": user, "paymentAmount": 1_000 * quantity, "products": [{"id": product, "quantity": quantity}]});
    assert_eq!(app.order(&order(1), None).await.status(), 201);
    assert_eq!(app.order(&order(1), None).await.status(), 409);
    let cancelled = app.cancel(1).await;
    assert_eq!(cancelled.status(), 200);
    for _ in 0..2 {
        let charged = app
            .charge(user, &json!({"chargeAmount": 5_000}), Some("k"))
            .await;
        assert_eq!(charged.status(), 200);
    }
    assert_eq!(app.get("/api/v1/products/popular").await.status(), 200);
    app.upload_plugin(
        "charge-limits",
        "charge.validate",
        "0.2.0",
        fixture_wasm("fx-disagree"),
    )
    .await;
    app.admin_post(
        "/admin/v1/plugins/charge-limits/shadow",
        &json!({"version": "0.2.0"}),
    )
    .await;
    app.deploy_plugin(
        "fx-panic",
        "charge.validate",
        "1.0.0",
        fixture_wasm("fx-panic"),
    )
    .await;
    // Ahead of charge-limits, which would refuse 13 won first.
    app.configure_plugin("fx-panic", json!({}), Some(1)).await;
    let failed = app
        .charge(user, &json!({"chargeAmount": 13}), Some("panic"))
        .await;
    assert_eq!(failed.status(), 503);
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.metric("edgecart_consumer_events_total", &[("result", "processed")])
                .await
                >= 2.0
        })
        .await,
        "events relayed and notified"
    );
    redis.stop().await;
    let without_redis = app
        .charge(user, &json!({"chargeAmount": 5_000}), Some("no-redis"))
        .await;
    assert_eq!(without_redis.status(), 200);
    assert_eq!(app.order(&order(0), None).await.status(), 400);
}

#[tokio::test]
async fn metrics_pass_promtool_and_cover_every_dashboard_and_alert_query() {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let app = spawn_app_with(|s| {
        s.redis_url = url.into();
        s.outbox_poll_ms = 100;
    })
    .await;
    exercise(&app, &mut redis).await;
    let text = app.get("/metrics").await.text().await.unwrap();

    let (ok, report) = promtool(&["check", "metrics"], Some(&text)).await;
    assert!(ok, "promtool check metrics:\n{report}");

    let exported: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect();
    let mut queried = BTreeSet::new();
    for file in [
        "deploy/grafana/dashboards/edgecart.json",
        "deploy/prometheus/alerts.yml",
    ] {
        let source = std::fs::read_to_string(repo_path(file)).unwrap();
        queried.extend(
            source
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|token| token.starts_with("edgecart_") || token.starts_with("process_"))
                .map(str::to_owned),
        );
    }
    assert!(queried.len() > 20, "{queried:?}");
    let missing: Vec<&String> = queried
        .iter()
        .filter(|name| !exported.contains(*name))
        .collect();
    assert!(missing.is_empty(), "queried but not exported: {missing:?}");
}

#[tokio::test]
async fn the_shipped_prometheus_config_and_alert_rules_are_valid() {
    let config = repo_path("deploy/prometheus/prometheus.yml");
    let (ok, report) = promtool(&["check", "config", config.to_str().unwrap()], None).await;
    assert!(ok, "{report}");
    let rules = repo_path("deploy/prometheus/alerts.yml");
    let (ok, report) = promtool(&["check", "rules", rules.to_str().unwrap()], None).await;
    assert!(ok, "{report}");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("deploy/grafana/dashboards/edgecart.json")).unwrap(),
    )
    .unwrap();
    let rows: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "row")
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            "Traffic",
            "Latency",
            "Errors",
            "Orders",
            "Stock-outs",
            "Idempotency",
            "Cache",
            "Outbox and consumer",
            "Plugins",
            "Process"
        ]
    );
}

#[tokio::test]
async fn the_alert_rules_pass_their_promtool_unit_tests() {
    // deploy/prometheus/alerts.test.yml: the dead-letter alert fires while the stream holds
    // an event and stops once a redrive empties it.
    let tests = repo_path("deploy/prometheus/alerts.test.yml");
    let (ok, report) = promtool(&["test", "rules", tests.to_str().unwrap()], None).await;
    assert!(ok, "{report}");
}

#[tokio::test]
async fn a_real_prometheus_scrapes_the_order_counter() {
    let app = spawn_app_with(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: edgecart\n    static_configs:\n      - targets: [\"{}\"]\n",
            app.addr
        ),
    )
    .unwrap();
    let port = free_port();
    let mut prometheus = tokio::process::Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus starts (scripts/test installs it)");

    let user = app.create_user("a", 100_000).await;
    let product = app.create_product("p", 1_000, 10).await;
    let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&body, None).await.status(), 201);

    let query = format!(
        "http://127.0.0.1:{port}/api/v1/query?query=sum(edgecart_orders_total%7Bresult%3D%22paid%22%7D)"
    );
    let scraped = eventually(Duration::from_secs(20), || async {
        let Ok(response) = app.http.get(&query).send().await else {
            return false;
        };
        let Ok(answer) = response.json::<Value>().await else {
            return false;
        };
        answer["data"]["result"][0]["value"][1].as_str() == Some("1")
    })
    .await;
    let _ = prometheus.kill().await;
    assert!(scraped, "Prometheus reported one paid order");
}
