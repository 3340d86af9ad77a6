//! Product reads from the node's cache: ETag and 304 revalidation, tags equal on every node,
//! an operator's change reaching another node within a second (announced on Redis, or found
//! in PostgreSQL when the announcement is missed), stock lagging orders by at most the TTL,
//! products read often refreshed ahead (no reader waits for their load), the hit ratio
//! metric, and the cache's memory bounds.

use std::time::Duration;

use edgecart_tests::{TestApp, eventually, free_port, spawn_app, spawn_app_with};
use reqwest::Response;
use serde_json::{Value, json};

/// The `ETag` of an answer.
fn etag(response: &Response) -> String {
    response.headers()["etag"]
        .to_str()
        .expect("ASCII tag")
        .to_owned()
}

/// The `name` a node answers for a product, and the one in the first page of the list.
async fn names(node: &TestApp, id: i64) -> (String, String) {
    let one = node.product(id).await;
    let page: Value = node.get("/api/v1/products").await.json().await.unwrap();
    let listed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .map(|p| p["name"].as_str().unwrap().to_owned());
    (
        one["name"].as_str().unwrap().to_owned(),
        listed.unwrap_or_default(),
    )
}

#[tokio::test]
async fn product_and_list_reads_carry_an_etag_and_revalidate_with_304() {
    let app = spawn_app().await;
    let id = app.create_product("p", 1_000, 5).await;
    for path in [
        format!("/api/v1/products/{id}"),
        format!("/products/{id}"),
        "/api/v1/products?limit=10".to_owned(),
    ] {
        let first = app.get(&path).await;
        assert_eq!(first.status(), 200, "{path}");
        let tag = etag(&first);
        assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=1, stale-if-error=300"
        );
        assert_eq!(first.headers()["vary"], "accept-encoding");
        assert!(
            first.headers().get("age").is_none(),
            "a fresh answer has no Age"
        );

        let again = app.get_with(&path, &[("If-None-Match", &tag)]).await;
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(etag(&again), tag);
        assert_eq!(
            again.headers()["cache-control"],
            "public, max-age=1, stale-if-error=300"
        );
        assert!(again.bytes().await.unwrap().is_empty(), "a 304 has no body");

        let other = app.get_with(&path, &[("If-None-Match", "\"other\"")]).await;
        assert_eq!(other.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn the_same_answer_has_the_same_etag_on_every_node() {
    let a = spawn_app().await;
    let b = a.spawn_node().await;
    let id = a.create_product("p", 1_000, 5).await;
    let paths = [
        format!("/api/v1/products/{id}"),
        "/api/v1/products".to_owned(),
        "/api/v1/products/popular".to_owned(),
    ];
    for path in &paths {
        let tag = etag(&a.get(path).await);
        assert_eq!(etag(&b.get(path).await), tag, "{path}");
        let revalidated = b.get_with(path, &[("If-None-Match", &tag)]).await;
        assert_eq!(
            revalidated.status(),
            304,
            "{path}: node B knows node A's tag"
        );
    }
    // Another answer, another tag.
    let before = etag(&a.get(&paths[0]).await);
    assert_eq!(a.patch_product(id, &json!({"price": 1_500})).await, 200);
    assert_ne!(etag(&a.get(&paths[0]).await), before);
}

#[tokio::test]
async fn an_operator_change_is_announced_and_visible_on_another_node_within_a_second() {
    announced_changes_reach_another_node(&spawn_app_with(|s| s.product_ttl_secs = 3_600).await)
        .await;
}

/// A product change on `a` (whose product TTL must be long) is visible on a second node,
/// which never checks PostgreSQL, within a second (the redis_cluster tests run it on a
/// cluster too).
pub(crate) async fn announced_changes_reach_another_node(a: &TestApp) {
    // Cached for an hour and no PostgreSQL check on node B: only the announcement can tell it.
    let b = a.spawn_node_with(|s| s.product_sync_ms = 3_600_000).await;
    let subscribed = eventually(Duration::from_secs(5), || async {
        a.subscribers("products").await >= 2
    })
    .await;
    assert!(subscribed, "both nodes listen for catalog changes");
    let id = a.create_product("before", 1_000, 5).await;
    assert_eq!(names(&b, id).await, ("before".into(), "before".into()));

    assert_eq!(a.patch_product(id, &json!({"name": "after"})).await, 200);
    assert_eq!(
        names(a, id).await,
        ("after".into(), "after".into()),
        "the changing node answers the change at once"
    );
    let seen = eventually(Duration::from_secs(1), || async {
        names(&b, id).await == ("after".into(), "after".into())
    })
    .await;
    assert!(seen, "node B answers the change within a second");
}

#[tokio::test]
async fn a_change_whose_announcement_is_missed_is_found_in_postgres_within_a_second() {
    let a = spawn_app_with(|s| s.product_ttl_secs = 3_600).await;
    // Node B's Redis does not answer: it never hears an announcement.
    let dead_redis = format!("redis://127.0.0.1:{}", free_port());
    let b = a
        .spawn_node_with(|s| {
            s.redis_url = dead_redis.into();
            s.product_sync_ms = 200;
        })
        .await;
    let id = a.create_product("before", 1_000, 5).await;
    assert_eq!(names(&b, id).await, ("before".into(), "before".into()));

    assert_eq!(a.patch_product(id, &json!({"name": "after"})).await, 200);
    let seen = eventually(Duration::from_secs(1), || async {
        names(&b, id).await == ("after".into(), "after".into())
    })
    .await;
    assert!(
        seen,
        "node B finds the change in PostgreSQL within a second"
    );
}

#[tokio::test]
async fn stock_in_a_read_lags_orders_by_at_most_the_ttl() {
    let app = spawn_app_with(|s| s.product_ttl_secs = 1).await;
    let user = app.create_user("a", 100_000).await;
    let id = app.create_product("p", 1_000, 10).await;
    let stock = || async { app.product(id).await["stock"].as_i64().unwrap() };
    assert_eq!(stock().await, 10);
    let order =
        json!({"user_id": user, "paymentAmount": 3_000, "products": [{"id": id, "quantity": 3}]});
    assert_eq!(app.order(&order, None).await.status(), 201);
    // The bound (1 s) plus a margin for a loaded machine.
    assert!(
        eventually(Duration::from_millis(1_500), || async {
            stock().await == 7
        })
        .await,
        "the order's stock change shows within the TTL"
    );
}

#[tokio::test]
async fn products_read_often_are_refreshed_ahead_and_the_rest_expire() {
    let app = spawn_app_with(|s| s.product_ttl_secs = 1).await;
    let hot = app.create_product("hot", 1_000, 10).await;
    let cold = app.create_product("cold", 1_000, 10).await;
    let stock = |id: i64| {
        let app = &app;
        async move { app.product(id).await["stock"].as_i64().unwrap() }
    };
    assert_eq!(stock(cold).await, 10);
    // The hot product is read every 100 ms for 3.5 s, three and a half of its bounds; a change
    // behind the API's back (no announcement) halfway shows within the bound.
    let mut changed_at = None;
    let mut seen_after = None;
    for read in 0..35 {
        if read == 15 {
            app.db
                .execute("UPDATE products SET stock = 4 WHERE id = $1", &[&hot])
                .await
                .unwrap();
            changed_at = Some(std::time::Instant::now());
        }
        if stock(hot).await == 4 && seen_after.is_none() {
            seen_after = changed_at.map(|at| at.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen_after = seen_after.expect("the stock change was never seen");
    assert!(
        seen_after <= Duration::from_millis(1_500),
        "seen after {seen_after:?}"
    );
    // Not read since its load, the cold product expired: this read loads it again.
    assert_eq!(stock(cold).await, 10);
    let misses = app
        .metric("edgecart_cache_misses_total", &[("cache", "product")])
        .await;
    // The cold product twice and the hot one once: a reader loading the hot product at each
    // bound would make at least 6.
    assert!((3.0..=4.0).contains(&misses), "{misses} loads by readers");
}

#[tokio::test]
async fn product_reads_are_served_from_the_cache_and_counted() {
    let app = spawn_app_with(|s| s.product_ttl_secs = 3_600).await;
    let id = app.create_product("cached", 1_000, 5).await;
    for _ in 0..20 {
        assert_eq!(
            app.get(&format!("/api/v1/products/{id}")).await.status(),
            200
        );
    }
    // A change behind the API's back is not seen: the answer comes from the cache.
    app.db
        .execute("UPDATE products SET name = 'changed' WHERE id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(names(&app, id).await.0, "cached");
    let product = [("cache", "product")];
    assert_eq!(
        app.metric("edgecart_cache_requests_total", &product).await,
        21.0
    );
    assert_eq!(
        app.metric("edgecart_cache_misses_total", &product).await,
        1.0
    );
}

#[tokio::test]
async fn the_cache_stays_within_its_byte_and_entry_bounds() {
    let by_bytes = spawn_app_with(|s| s.product_cache_bytes = 4_096).await;
    let by_entries = by_bytes
        .spawn_node_with(|s| s.product_cache_entries = 10)
        .await;
    by_bytes
        .db
        .batch_execute(
            "INSERT INTO products (name, price, stock) \
             SELECT 'product ' || g, 1000, 5 FROM generate_series(1, 100) g",
        )
        .await
        .unwrap();
    let first = by_bytes.scalar("SELECT min(id) FROM products").await;
    for id in first..first + 100 {
        for node in [&by_bytes, &by_entries] {
            assert_eq!(
                node.get(&format!("/api/v1/products/{id}")).await.status(),
                200
            );
        }
    }
    let product = [("cache", "product")];
    let bytes = by_bytes.metric("edgecart_cache_bytes", &product).await;
    let entries = by_bytes.metric("edgecart_cache_entries", &product).await;
    assert!(bytes > 0.0 && bytes <= 4_096.0, "{bytes} bytes held");
    assert!(entries > 0.0 && entries < 100.0, "{entries} entries held");
    let entries = by_entries.metric("edgecart_cache_entries", &product).await;
    assert!(entries > 0.0 && entries <= 10.0, "{entries} entries held");
}
