//! Popular products: the rolling 72-hour window, ties, cancels, the cache's staleness bound,
//! coalesced misses and HTTP revalidation.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use edgecart::{
    domain::{Line, UserId},
    store::{self, sales},
};
use edgecart_tests::{TestApp, spawn_app, spawn_app_with};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// Records a paid order of `quantity` units `hours_ago`, through the store as an order placed
/// then would have been.
async fn sold_hours_ago(app: &TestApp, user: i64, product: i64, quantity: i64, hours_ago: i64) {
    let pool = store::pool(&app.settings).unwrap();
    let client = pool.get().await.unwrap();
    let at = Utc::now() - chrono::Duration::hours(hours_ago);
    let line = Line {
        product_id: product,
        quantity,
        unit_price: 0,
    };
    store::orders::insert(&client, UserId::new(user).unwrap(), 0, &[line], Some(at))
        .await
        .unwrap();
    sales::record(&client, at, product, quantity).await.unwrap();
}

async fn popular(app: &TestApp) -> Value {
    app.get("/api/v1/products/popular")
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_window_is_72_hours_and_ties_go_by_id() {
    let app = spawn_app_with(|s| s.popular_ttl_secs = 0).await;
    let user = app.create_user("a", 0).await;
    let mut products = Vec::new();
    for i in 0..7 {
        products.push(app.create_product(&format!("p{i}"), 100, 100).await);
    }
    sold_hours_ago(&app, user, products[0], 5, 71).await; // inside the window
    sold_hours_ago(&app, user, products[1], 50, 73).await; // outside
    sold_hours_ago(&app, user, products[2], 5, 1).await; // ties with products[0]
    sold_hours_ago(&app, user, products[3], 9, 0).await;
    sold_hours_ago(&app, user, products[4], 2, 30).await;
    sold_hours_ago(&app, user, products[5], 1, 10).await;
    sold_hours_ago(&app, user, products[6], 1, 20).await;

    let list = popular(&app).await;
    let expected: Vec<Value> = [(3, 9), (0, 5), (2, 5), (4, 2), (5, 1)]
        .iter()
        .map(|&(i, n)| json!({"id": products[i], "name": format!("p{i}"), "sale_count": n}))
        .collect();
    assert_eq!(list, json!(expected));
}

#[tokio::test]
async fn fewer_than_five_sold_gives_a_shorter_list_and_cancelled_orders_do_not_count() {
    let app = spawn_app_with(|s| s.popular_ttl_secs = 0).await;
    let user = app.create_user("a", 100_000).await;
    let a = app.create_product("a", 1_000, 10).await;
    let b = app.create_product("b", 1_000, 10).await;
    assert_eq!(popular(&app).await, json!([]));
    let buy = |id: i64, q: i64| json!({"user_id": user, "paymentAmount": 1_000 * q, "products": [{"id": id, "quantity": q}]});
    app.order(&buy(a, 2), None).await;
    let cancelled: Value = app.order(&buy(b, 3), None).await.json().await.unwrap();
    app.cancel(&cancelled["orderId"]).await;
    assert_eq!(
        popular(&app).await,
        json!([{"id": a, "name": "a", "sale_count": 2}])
    );
}

#[tokio::test]
async fn the_cache_is_stale_for_at_most_its_bound_and_says_so() {
    let app = spawn_app_with(|s| s.popular_ttl_secs = 1).await;
    let user = app.create_user("a", 100_000).await;
    let product = app.create_product("p", 1_000, 10).await;
    let response = app.get("/api/v1/products/popular").await;
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=1, stale-if-error=300"
    );
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));

    let body = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&body, None).await.status(), 201);
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    assert_eq!(
        popular(&app).await,
        json!([{"id": product, "name": "p", "sale_count": 1}])
    );
}

#[tokio::test]
async fn a_hundred_concurrent_misses_run_one_query() {
    let app = Arc::new(spawn_app_with(|s| s.popular_ttl_secs = 60).await);
    let answers = join_all((0..100).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { app.get("/products/popular").await.status().as_u16() })
    }))
    .await;
    assert!(answers.into_iter().all(|s| s.unwrap() == 200));
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"edgecart_cache_misses_total{cache="popular"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"edgecart_cache_requests_total{cache="popular"} 100"#));
}

#[tokio::test]
async fn an_unchanged_list_revalidates_with_304() {
    let app = spawn_app().await;
    let first = app.get("/api/v1/products/popular").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    let again = app
        .http
        .get(app.url("/api/v1/products/popular"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    let other = app
        .http
        .get(app.url("/api/v1/products/popular"))
        .header("If-None-Match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}
