//! Health, readiness, metrics, the OpenAPI document, request ids and graceful shutdown.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{PrivateRedis, assert_problem, free_port, spawn_app, spawn_app_with};
use serde_json::{Value, json};

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_everything_is_up() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn readyz_names_redis_when_it_is_down() {
    let mut redis = PrivateRedis::start().await;
    let app = spawn_app_with(|s| s.redis_url = redis.url().into()).await;
    redis.stop().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["down"], json!(["redis"]));
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness does not depend on Redis"
    );
}

#[tokio::test]
async fn a_node_starts_while_redis_is_unreachable() {
    let port = free_port();
    let app = spawn_app_with(|s| s.redis_url = format!("redis://127.0.0.1:{port}").into()).await;
    let user = app.create_user("a", 0).await;
    assert_eq!(
        app.charge(user, &json!({"chargeAmount": 5_000}), Some("k"))
            .await
            .status(),
        200
    );
    assert_eq!(app.get("/readyz").await.status(), 503);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    app.get(&format!("/api/v1/users/{user}")).await;
    app.get("/api/v1/users/987654").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(r#"edgecart_http_requests_total{method="GET",route="/api/v1/users/{userId}",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"edgecart_http_requests_total{method="GET",route="/api/v1/users/{userId}",status="404"} 1"#));
    assert!(text.contains("edgecart_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"edgecart_db_pool_connections{state="size"}"#));
    assert!(text.contains("edgecart_redis_connected 1"));
    assert!(
        !text.contains(&format!("/api/v1/users/{user}\"")),
        "raw paths never become labels"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_clients() {
    let app = spawn_app().await;
    let generated = app.get("/healthz").await;
    assert!(
        generated
            .headers()
            .get("x-request-id")
            .is_some_and(|v| !v.is_empty())
    );
    let given = app
        .http
        .get(app.url("/api/v1/users/0"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_every_route() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/users/{userId}",
        "/api/v1/users/{userId}/charge",
        "/api/v1/users/{userId}/points/history",
        "/api/v1/products",
        "/api/v1/products/{productId}",
        "/products/{productId}",
        "/admin/v1/users",
        "/admin/v1/products",
        "/admin/v1/products/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    // Arrange: a charge held inside its transaction by a row lock.
    let mut app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let lock = app.lock_user_row(user).await;
    let request = app
        .http
        .post(app.url(&format!("/api/v1/users/{user}/charge")))
        .header("Idempotency-Key", "drain")
        .json(&json!({"chargeAmount": 5_000}));
    let in_flight = tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
    app.wait_for_lock_waiter().await;

    // Act: ask for shutdown, then let the charge go on.
    let url = app.url("/healthz");
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = reqwest::Client::new().get(&url).send().await;
    lock.release().await;

    // Assert: the in-flight charge completed and committed, new connections were refused,
    // and the server exited cleanly.
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    assert!(refused.is_err(), "no new connections after shutdown began");
    assert!(stopping.await.unwrap().is_ok());
    assert_eq!(app.balance(user).await, 5_000);
}

#[tokio::test]
async fn past_the_concurrency_limit_requests_are_shed_with_retry_after() {
    // One API request at a time; it waits on a row lock while the others arrive.
    let app = Arc::new(spawn_app_with(|s| s.max_concurrent_requests = 1).await);
    let user = app.create_user("a", 0).await;
    let lock = app.lock_user_row(user).await;
    let held = tokio::spawn({
        let app = app.clone();
        async move {
            app.charge(user, &json!({"chargeAmount": 5_000}), Some("held"))
                .await
                .status()
                .as_u16()
        }
    });
    app.wait_for_lock_waiter().await;

    let shed = app.get(&format!("/api/v1/users/{user}")).await;
    assert_eq!(shed.headers().get("retry-after").unwrap(), "1");
    assert_problem(
        shed,
        503,
        "OVERLOADED",
        "요청이 많아 잠시 후 다시 시도해 주세요.",
    )
    .await;
    // Operations endpoints and the API reference are not limited.
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/metrics").await.status(), 200);
    assert_eq!(app.get("/docs").await.status(), 200);

    lock.release().await;
    assert_eq!(held.await.unwrap(), 200);
    assert_eq!(
        app.get(&format!("/api/v1/users/{user}")).await.status(),
        200
    );
}

#[tokio::test]
async fn metrics_move_to_a_listener_of_their_own_when_one_is_configured() {
    let port = free_port();
    let app = spawn_app_with(|s| {
        s.metrics_listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);

    // The main listener no longer serves /metrics; the metrics listener serves only it.
    assert_problem(
        app.get("/metrics").await,
        404,
        "NOT_FOUND",
        "요청한 경로를 찾을 수 없습니다.",
    )
    .await;
    let metrics = format!("http://127.0.0.1:{port}");
    let scraped = reqwest::get(format!("{metrics}/metrics")).await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(
        text.contains(
            r#"edgecart_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    let elsewhere = reqwest::get(format!("{metrics}/healthz")).await.unwrap();
    assert_eq!(elsewhere.status(), 404);
}
