//! Product detail (both paths) and the list.

use edgecart_tests::{assert_problem, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn a_product_is_served_at_both_paths() {
    let app = spawn_app().await;
    let id = app.create_product("빽다방 아메리카노", 2_500, 9).await;
    for path in [format!("/api/v1/products/{id}"), format!("/products/{id}")] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"id": id, "name": "빽다방 아메리카노", "price": 2_500, "stock": 9})
        );
    }
}

#[tokio::test]
async fn unknown_and_invalid_product_ids_are_404_and_400() {
    let app = spawn_app().await;
    for prefix in ["/api/v1/products", "/products"] {
        let response = app.get(&format!("{prefix}/123456")).await;
        assert_problem(
            response,
            404,
            "PRODUCT_NOT_FOUND",
            "해당 상품이 존재하지 않습니다.",
        )
        .await;
        for id in ["0", "-3", "x", "99999999999999999999"] {
            let response = app.get(&format!("{prefix}/{id}")).await;
            assert_problem(
                response,
                400,
                "INVALID_PRODUCT_ID",
                "잘못된 상품 번호입니다.",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn the_list_is_ordered_by_id_and_paginates() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.create_product(&format!("p{i}"), 100 * (i + 1), i).await);
    }
    let first: Value = app
        .get("/api/v1/products?limit=3")
        .await
        .json()
        .await
        .unwrap();
    let seen: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, ids[..3]);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = app
        .get(&format!("/api/v1/products?limit=3&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    let rest: Vec<i64> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(rest, ids[3..]);
    assert!(second["nextCursor"].is_null());
    let default: Value = app.get("/api/v1/products").await.json().await.unwrap();
    assert_eq!(default["items"].as_array().unwrap().len(), 5);
}
