//! The admin API: bearer-token auth, users and products.

use edgecart_tests::{ADMIN_TOKEN, assert_problem, spawn_app, spawn_app_with};
use serde_json::{Value, json};

#[tokio::test]
async fn admin_calls_need_the_right_bearer_token() {
    let app = spawn_app().await;
    let body = json!({"name": "x", "hpNo": "010", "amount": 0});
    let url = app.url("/admin/v1/users");

    let none = app.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert_problem(none, 401, "UNAUTHORIZED", "인증이 필요합니다.").await;

    let wrong = app
        .http
        .post(&url)
        .bearer_auth("not-the-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(wrong, 403, "FORBIDDEN", "권한이 없습니다.").await;

    let right = app
        .http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 201);
}

#[tokio::test]
async fn without_a_configured_token_the_admin_api_answers_404() {
    let app = spawn_app_with(|s| s.admin_token = None).await;
    for token in [None, Some("anything"), Some(ADMIN_TOKEN)] {
        let mut request = app
            .http
            .post(app.url("/admin/v1/products"))
            .json(&json!({"name": "p", "price": 1, "stock": 1}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_problem(
            request.send().await.unwrap(),
            404,
            "NOT_FOUND",
            "요청한 경로를 찾을 수 없습니다.",
        )
        .await;
    }
    let count = app.scalar("SELECT count(*) FROM products").await;
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_new_users_opening_balance_is_recorded_as_a_charge() {
    let app = spawn_app().await;
    let response = app
        .admin_post(
            "/admin/v1/users",
            &json!({"name": "김테스트", "hpNo": "010-1234-4112", "amount": 30_000}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["amount"], 30_000);
    assert_eq!(user["hpNo"], "010-1234-4112");
    let id = user["userId"].as_i64().unwrap();
    let history: Value = app
        .get(&format!("/api/v1/users/{id}/points/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"][0]["kind"], "CHARGE");
    assert_eq!(history["items"][0]["amount"], 30_000);
}

#[tokio::test]
async fn invalid_users_and_products_are_400() {
    let app = spawn_app().await;
    for body in [
        json!({"name": "", "hpNo": "010", "amount": 0}),
        json!({"name": "a", "hpNo": "", "amount": 0}),
        json!({"name": "가".repeat(101), "hpNo": "010", "amount": 0}),
        json!({"name": "a", "hpNo": "010", "amount": -1}),
    ] {
        let response = app.admin_post("/admin/v1/users", &body).await;
        assert_problem(
            response,
            400,
            "INVALID_USER",
            "유저 정보가 올바르지 않습니다.",
        )
        .await;
    }
    for body in [
        json!({"name": "", "price": 1, "stock": 1}),
        json!({"name": "p", "price": -1, "stock": 1}),
        json!({"name": "p", "price": 1, "stock": -1}),
    ] {
        let response = app.admin_post("/admin/v1/products", &body).await;
        assert_problem(
            response,
            400,
            "INVALID_PRODUCT",
            "상품 정보가 올바르지 않습니다.",
        )
        .await;
    }
    let response = app
        .admin_post(
            "/admin/v1/products",
            &json!({"name": "p", "price": "1", "stock": 1}),
        )
        .await;
    assert_problem(
        response,
        400,
        "INVALID_REQUEST_BODY",
        "요청 본문이 올바르지 않습니다.",
    )
    .await;
}

#[tokio::test]
async fn products_are_created_and_patched_field_by_field() {
    let app = spawn_app().await;
    let id = app.create_product("양배추 샐러드", 2_500, 10).await;
    let patch = |body: Value| {
        app.http
            .patch(app.url(&format!("/admin/v1/products/{id}")))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
    };

    let response = patch(json!({"stock": 3})).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"id": id, "name": "양배추 샐러드", "price": 2_500, "stock": 3})
    );
    let response = patch(json!({"name": "단호박 샐러드", "price": 3_000}))
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"id": id, "name": "단호박 샐러드", "price": 3_000, "stock": 3})
    );
    assert_problem(
        patch(json!({"stock": -1})).await.unwrap(),
        400,
        "INVALID_PRODUCT",
        "상품 정보가 올바르지 않습니다.",
    )
    .await;

    let missing = app
        .http
        .patch(app.url("/admin/v1/products/999999"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"stock": 1}))
        .send()
        .await
        .unwrap();
    assert_problem(
        missing,
        404,
        "PRODUCT_NOT_FOUND",
        "해당 상품이 존재하지 않습니다.",
    )
    .await;
    let bad_id = app
        .http
        .patch(app.url("/admin/v1/products/0"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(bad_id, 400, "INVALID_PRODUCT_ID", "잘못된 상품 번호입니다.").await;
}
