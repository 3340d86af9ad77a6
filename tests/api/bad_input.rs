//! The bad-input battery: whatever a client sends, the answer is a 4xx problem+json, never a
//! 5xx or a dropped connection, and nothing changes.

use edgecart_tests::{assert_client_error, assert_problem, spawn_app};
use reqwest::header::HeaderValue;
use serde_json::json;

#[tokio::test]
async fn malformed_charge_bodies_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let url = app.url(&format!("/api/v1/users/{user}/charge"));
    let bodies = [
        "",
        "{",
        "not json",
        "[]",
        "null",
        "{}",
        r#"{"chargeAmount": "5000"}"#,
        r#"{"chargeAmount": 5000.5}"#,
        r#"{"chargeAmount": 9223372036854775808}"#,
        r#"{"chargeAmount": -9223372036854775809}"#,
        r#"{"chargeAmount": null}"#,
        r#"{"chargeAmount": true}"#,
        r#"{"chargeAmount": 1e400}"#,
        "\u{0}\u{1}\u{2}",
    ];
    for (i, body) in bodies.into_iter().enumerate() {
        let response = app
            .http
            .post(&url)
            .header("Idempotency-Key", format!("bad-{i}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(
            response,
            400,
            "INVALID_REQUEST_BODY",
            "요청 본문이 올바르지 않습니다.",
        )
        .await;
    }
    assert_eq!(app.balance(user).await, 0);
    assert_eq!(app.history_rows(user).await, 0);
}

#[tokio::test]
async fn a_body_without_the_json_media_type_is_415() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .http
            .post(app.url(&format!("/api/v1/users/{user}/charge")))
            .header("Idempotency-Key", "k")
            .body(r#"{"chargeAmount": 5000}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_problem(
            response,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "요청 본문은 Content-Type: application/json 이어야 합니다.",
        )
        .await;
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_on_every_json_route() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let huge = format!(
        r#"{{"chargeAmount": 5000, "pad": "{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    for path in [
        format!("/api/v1/users/{user}/charge"),
        "/admin/v1/users".into(),
        "/admin/v1/products".into(),
    ] {
        let response = app
            .http
            .post(app.url(&path))
            .bearer_auth(edgecart_tests::ADMIN_TOKEN)
            .header("Idempotency-Key", "big")
            .header("content-type", "application/json")
            .body(huge.clone())
            .send()
            .await
            .unwrap();
        assert_problem(
            response,
            413,
            "PAYLOAD_TOO_LARGE",
            "요청 본문이 너무 큽니다.",
        )
        .await;
    }
    assert_eq!(app.balance(user).await, 0);
}

#[tokio::test]
async fn bad_idempotency_keys_are_400() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let long = "k".repeat(256);
    let keys: Vec<HeaderValue> = vec![
        HeaderValue::from_str(&long).unwrap(),
        HeaderValue::from_static("has space"),
        HeaderValue::from_bytes(b"tab\there").unwrap(),
        HeaderValue::from_bytes("한글키".as_bytes()).unwrap(),
        HeaderValue::from_bytes(&[0x80, 0xff]).unwrap(),
    ];
    for key in keys {
        let response = app
            .http
            .post(app.url(&format!("/api/v1/users/{user}/charge")))
            .header("Idempotency-Key", key)
            .json(&json!({"chargeAmount": 5000}))
            .send()
            .await
            .unwrap();
        assert_problem(
            response,
            400,
            "IDEMPOTENCY_KEY_INVALID",
            "멱등성 키는 1~255자의 출력 가능한 ASCII 문자여야 합니다.",
        )
        .await;
    }
    let ok = app
        .http
        .post(app.url(&format!("/api/v1/users/{user}/charge")))
        .header("Idempotency-Key", "k".repeat(255))
        .json(&json!({"chargeAmount": 5000}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "255 characters is still a key");
    assert_eq!(app.balance(user).await, 5_000);
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/api",
        "/api/v1/nothing",
        "/api/v1/users/1/nothing",
        "/admin/v1/nothing",
    ] {
        assert_problem(
            app.get(path).await,
            404,
            "NOT_FOUND",
            "요청한 경로를 찾을 수 없습니다.",
        )
        .await;
    }
    let response = app
        .http
        .delete(app.url("/api/v1/users/1"))
        .send()
        .await
        .unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "{allow}");
    assert_problem(
        response,
        405,
        "METHOD_NOT_ALLOWED",
        "허용되지 않는 메서드입니다.",
    )
    .await;
    let response = app
        .http
        .get(app.url("/api/v1/users/1/charge"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_problem(
        response,
        405,
        "METHOD_NOT_ALLOWED",
        "허용되지 않는 메서드입니다.",
    )
    .await;
}

#[tokio::test]
async fn a_battery_of_odd_requests_never_gets_a_5xx() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let requests = vec![
        app.http.get(app.url("/api/v1/users/9223372036854775807")),
        app.http.get(app.url("/api/v1/users/%F0%9F%92%A9")),
        app.http.get(app.url("/api/v1/users/%ff")),
        app.http.get(app.url("/api/v1/products?limit=1&limit=2")),
        app.http.get(app.url("/api/v1/products?cursor=!!")),
        app.http
            .get(app.url(&format!("/api/v1/users/{user}/points/history?limit=%ff"))),
        app.http.post(app.url("/api/v1/users/1/charge")),
        app.http.put(app.url("/api/v1/products")),
        app.http
            .patch(app.url("/admin/v1/products/1"))
            .bearer_auth(edgecart_tests::ADMIN_TOKEN)
            .body("{}"),
        app.http
            .post(app.url("/admin/v1/users"))
            .bearer_auth(edgecart_tests::ADMIN_TOKEN)
            .json(&json!({"name": 1})),
        app.http.request(
            reqwest::Method::from_bytes(b"BREW").unwrap(),
            app.url("/api/v1/products"),
        ),
    ];
    for (i, request) in requests.into_iter().enumerate() {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i} dropped: {e}"));
        assert_client_error(response, &format!("request {i}")).await;
    }
}
