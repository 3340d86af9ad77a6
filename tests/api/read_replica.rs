//! Catalog reads on a streaming replica the test starts itself (`pg_basebackup` from a
//! private primary): they come from the replica while it lags less than
//! `EDGECART_REPLICA_MAX_LAG_MS` (a product created on the primary stays out of them while
//! replay is paused), and from the primary once the lag is past the bound; a user's own data
//! always comes from the primary; a stopped replica costs no request an error.

use std::{sync::Arc, time::Duration};

use edgecart_tests::{PrivatePostgres, TestApp, eventually, spawn_app_with};
use futures_util::future::join_all;
use serde_json::Value;

/// The lag bound of these tests: long enough to read from a paused replica for a while.
const MAX_LAG_MS: u64 = 4_000;

/// A primary, its replica, and a node reading the catalog from the replica.
async fn node_with_replica() -> (PrivatePostgres, PrivatePostgres, TestApp) {
    let primary = PrivatePostgres::start().await;
    let replica = PrivatePostgres::start_replica_of(&primary).await;
    let url = |port: u16| format!("postgres://postgres@127.0.0.1:{port}/edgecart");
    let (primary_url, replica_url) = (url(primary.port), url(replica.port));
    let app = spawn_app_with(move |s| {
        s.database_url = primary_url.into();
        s.database_replica_url = Some(replica_url.into());
        s.replica_max_lag_ms = MAX_LAG_MS;
        s.db_timeout_ms = 1_000;
    })
    .await;
    (primary, replica, app)
}

/// Catalog queries the node sent to `server` (`primary` or `replica`).
async fn reads_on(app: &TestApp, server: &str) -> f64 {
    app.metric("edgecart_catalog_reads_total", &[("server", server)])
        .await
}

/// The ids in the first page of the product list.
async fn listed(app: &TestApp) -> Vec<i64> {
    let page: Value = app
        .get("/api/v1/products?limit=100")
        .await
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|product| product["id"].as_i64())
        .collect()
}

/// Waits until the node reads `product` in its list from the replica.
async fn await_on_replica(app: &TestApp, product: i64) {
    let seen = eventually(Duration::from_secs(10), || async {
        let before = reads_on(app, "replica").await;
        listed(app).await.contains(&product) && reads_on(app, "replica").await > before
    })
    .await;
    assert!(seen, "the replica serves the list with product {product}");
}

#[tokio::test]
async fn a_paused_replica_serves_the_catalog_until_its_lag_passes_the_bound() {
    let (_primary, replica, app) = node_with_replica().await;
    // The replica's last replayed commit is this one or a later one, so its lag can pass the
    // bound no sooner than MAX_LAG_MS after this instant.
    let before_first = std::time::Instant::now();
    let first = app.create_product("replicated", 1_000, 5).await;
    await_on_replica(&app, first).await;
    let user = app.create_user("a", 0).await;

    // Replay stops: what the primary commits from now on stays off the replica.
    replica.execute("SELECT pg_wal_replay_pause()").await;
    let second = app.create_product("not yet replicated", 1_000, 5).await;

    // While the lag is under the bound, the list comes from the replica, without it.
    let list = listed(&app).await;
    assert!(
        before_first.elapsed() < Duration::from_millis(MAX_LAG_MS),
        "the check ran within the bound"
    );
    assert!(list.contains(&first), "{list:?}");
    assert!(!list.contains(&second), "read on the replica: {list:?}");
    // A user's own data comes from the primary: the charge shows at once.
    assert_eq!(app.charge_amount(user, 5_000).await.status(), 200);
    let balance: Value = app
        .get(&format!("/api/v1/users/{user}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(balance["amount"], 5_000);

    // Past the bound, the replica is left aside and the primary answers.
    let appeared = eventually(Duration::from_millis(MAX_LAG_MS + 5_000), || async {
        listed(&app).await.contains(&second)
    })
    .await;
    assert!(appeared, "the lagging replica is left aside");
    // (Less 100 ms: PostgreSQL's commit times are wall-clock, the test's are monotonic.)
    assert!(
        before_first.elapsed() >= Duration::from_millis(MAX_LAG_MS - 100),
        "not before the bound: {:?}",
        before_first.elapsed()
    );
    assert!(app.metric("edgecart_replica_lag_seconds", &[]).await * 1_000.0 > MAX_LAG_MS as f64);

    // Replay resumes: the replica catches up and is read again.
    replica.execute("SELECT pg_wal_replay_resume()").await;
    let third = app.create_product("replicated again", 1_000, 5).await;
    await_on_replica(&app, third).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_replica_costs_no_request_an_error() {
    let (_primary, replica, app) = node_with_replica().await;
    let product = app.create_product("p", 1_000, 5).await;
    await_on_replica(&app, product).await;
    let app = Arc::new(app);

    // Pages of every size are distinct cache entries, so each read is a query.
    let reads = (1..=60).map(|limit| {
        let app = app.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(limit * 20)).await;
            app.get(&format!("/api/v1/products?limit={limit}"))
                .await
                .status()
        }
    });
    let stop = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        // pg_ctl waits for the stop: off the workers that serve the reads.
        tokio::task::block_in_place(|| replica.stop());
    };
    let (statuses, ()) = tokio::join!(join_all(reads), stop);

    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    assert!(
        reads_on(&app, "primary").await > 0.0,
        "the primary took over"
    );
}
