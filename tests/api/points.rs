//! Balance, charge rules and history.

use edgecart_tests::{assert_problem, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn balance_returns_the_user_with_the_amount() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user("김테스트", 100_000).await;

    // Act
    let response = app.get(&format!("/api/v1/users/{user}")).await;

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"userId": user, "name": "김테스트", "hpNo": "010-0000-0000", "amount": 100_000})
    );
}

#[tokio::test]
async fn balance_of_an_unknown_user_is_404() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/users/987654").await;
    assert_problem(response, 404, "USER_NOT_FOUND", "존재하지 않는 유저입니다.").await;
}

#[tokio::test]
async fn non_numeric_or_non_positive_user_ids_are_400() {
    let app = spawn_app().await;
    for id in ["abc", "0", "-1", "1.5", "9223372036854775808", "%20"] {
        let response = app.get(&format!("/api/v1/users/{id}")).await;
        assert_problem(response, 400, "INVALID_USER_ID", "잘못된 유저 번호입니다.").await;
        let response = app
            .charge(id, &json!({"chargeAmount": 5000}), Some("k"))
            .await;
        assert_problem(response, 400, "INVALID_USER_ID", "잘못된 유저 번호입니다.").await;
    }
}

#[tokio::test]
async fn a_charge_adds_points_and_records_one_history_row() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user("a", 10_000).await;

    // Act
    let response = app
        .charge(user, &json!({"chargeAmount": 50_000}), Some("c-1"))
        .await;

    // Assert
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["amount"], 60_000);
    assert_eq!(body["userId"], user);
    assert_eq!(app.balance(user).await, 60_000);
    let row = app
        .db
        .query_one(
            "SELECT kind, amount, balance_after FROM point_history WHERE user_id = $1 ORDER BY id DESC LIMIT 1",
            &[&user],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2)
        ),
        ("CHARGE".into(), 50_000, 60_000)
    );
}

#[tokio::test]
async fn charge_limits_accept_the_edges_and_reject_beyond_them_changing_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;

    for (i, amount) in [999_i64, 0, -1_000].into_iter().enumerate() {
        let response = app
            .charge(
                user,
                &json!({"chargeAmount": amount}),
                Some(&format!("small-{i}")),
            )
            .await;
        assert_problem(
            response,
            400,
            "CHARGE_AMOUNT_TOO_SMALL",
            "최소 충전 금액은 1,000원 입니다.",
        )
        .await;
    }
    let response = app
        .charge(user, &json!({"chargeAmount": 1_000_001}), Some("large"))
        .await;
    assert_problem(
        response,
        400,
        "CHARGE_AMOUNT_TOO_LARGE",
        "최대 충전 금액은 1,000,000원 입니다.",
    )
    .await;
    assert_eq!(
        app.balance(user).await,
        0,
        "a rejected charge changes no balance"
    );
    assert_eq!(
        app.history_rows(user).await,
        0,
        "a rejected charge writes no history"
    );

    assert_eq!(
        app.charge(user, &json!({"chargeAmount": 1_000}), Some("min"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.charge(user, &json!({"chargeAmount": 1_000_000}), Some("max"))
            .await
            .status(),
        200
    );
    assert_eq!(app.balance(user).await, 1_001_000);
    assert_eq!(app.history_rows(user).await, 2);
}

#[tokio::test]
async fn a_charge_for_an_unknown_user_is_404_and_changes_nothing() {
    let app = spawn_app().await;
    let response = app
        .charge(424_242, &json!({"chargeAmount": 5_000}), Some("k"))
        .await;
    assert_problem(response, 404, "USER_NOT_FOUND", "존재하지 않는 유저입니다.").await;
    let rows = app.scalar("SELECT count(*) FROM point_history").await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn a_charge_without_an_idempotency_key_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    let response = app
        .charge(user, &json!({"chargeAmount": 5_000}), None)
        .await;
    assert_problem(
        response,
        400,
        "IDEMPOTENCY_KEY_MISSING",
        "멱등성 키가 누락되었습니다.",
    )
    .await;
    let response = app
        .charge(user, &json!({"chargeAmount": 5_000}), Some(""))
        .await;
    assert_problem(
        response,
        400,
        "IDEMPOTENCY_KEY_MISSING",
        "멱등성 키가 누락되었습니다.",
    )
    .await;
    assert_eq!(app.balance(user).await, 0);
}

#[tokio::test]
async fn history_is_newest_first_and_paginates_with_a_cursor() {
    // Arrange: an opening balance and four charges.
    let app = spawn_app().await;
    let user = app.create_user("a", 1_000).await;
    for i in 1..=4 {
        let response = app
            .charge(
                user,
                &json!({"chargeAmount": i * 1_000}),
                Some(&format!("h-{i}")),
            )
            .await;
        assert_eq!(response.status(), 200);
    }

    // Act: walk pages of two.
    let mut amounts = Vec::new();
    let mut path = format!("/api/v1/users/{user}/points/history?limit=2");
    let mut pages = 0;
    loop {
        let page: Value = app.get(&path).await.json().await.unwrap();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["kind"], "CHARGE");
            assert!(item["orderId"].is_null());
            assert!(item["createdAt"].as_str().unwrap().ends_with('Z'));
            amounts.push((
                item["amount"].as_i64().unwrap(),
                item["balanceAfter"].as_i64().unwrap(),
            ));
        }
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/users/{user}/points/history?limit=2&cursor={cursor}")
            }
            None => break,
        }
    }

    // Assert
    assert_eq!(pages, 3);
    assert_eq!(
        amounts,
        vec![
            (4_000, 11_000),
            (3_000, 7_000),
            (2_000, 4_000),
            (1_000, 2_000),
            (1_000, 1_000)
        ]
    );
}

#[tokio::test]
async fn history_rejects_bad_page_parameters_and_unknown_users() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    for limit in ["0", "101", "x", "-1"] {
        let response = app
            .get(&format!(
                "/api/v1/users/{user}/points/history?limit={limit}"
            ))
            .await;
        assert_problem(
            response,
            400,
            "INVALID_LIMIT",
            "limit은 1 이상 100 이하의 정수여야 합니다.",
        )
        .await;
    }
    let response = app
        .get(&format!(
            "/api/v1/users/{user}/points/history?cursor=nonsense"
        ))
        .await;
    assert_problem(response, 400, "INVALID_CURSOR", "잘못된 커서입니다.").await;
    let response = app.get("/api/v1/users/99999/points/history").await;
    assert_problem(response, 404, "USER_NOT_FOUND", "존재하지 않는 유저입니다.").await;
    let response = app
        .get(&format!("/api/v1/users/{user}/points/history"))
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"items": [], "nextCursor": null})
    );
}
