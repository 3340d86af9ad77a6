//! PostgreSQL stopped under cached reads: product and popular reads answer from the last
//! answer held, with `Age`, until `stale-if-error` has passed, then 503; writes and reads of
//! anything not cached get 503 quickly; once PostgreSQL is back, fresh answers again.

use std::time::{Duration, Instant};

use edgecart_tests::{PrivatePostgres, assert_problem, eventually, spawn_app_with};
use serde_json::json;

/// The freshness bound and the stale-if-error bound of the test's node.
const FRESH_SECS: u64 = 1;
const STALE_SECS: u64 = 2;

/// Asserts a 503 `SERVICE_UNAVAILABLE` problem.
async fn assert_unavailable(response: reqwest::Response) {
    let detail = "일시적으로 서비스를 이용할 수 없습니다.";
    assert_problem(response, 503, "SERVICE_UNAVAILABLE", detail).await;
}

#[tokio::test]
async fn while_postgres_is_down_cached_reads_answer_with_age_until_the_bound_then_503() {
    let postgres = PrivatePostgres::start().await;
    let database = format!("postgres://postgres@127.0.0.1:{}/edgecart", postgres.port);
    let app = spawn_app_with(move |s| {
        s.database_url = database.into();
        s.db_timeout_ms = 1_000;
        s.product_ttl_secs = FRESH_SECS;
        s.popular_ttl_secs = FRESH_SECS;
        s.stale_if_error_secs = STALE_SECS;
    })
    .await;
    let cached = app.create_product("cached", 1_000, 5).await;
    let never_read = app.create_product("never read", 1_000, 5).await;
    let paths = [
        format!("/api/v1/products/{cached}"),
        "/api/v1/products/popular".to_owned(),
    ];
    // Each answer's load starts after `loaded` and ends before `loaded + primed`.
    let loaded = Instant::now();
    for path in &paths {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    let primed = loaded.elapsed();
    postgres.stop();

    // Writes, and reads with nothing cached, fail at once.
    let started = Instant::now();
    assert_eq!(app.patch_product(cached, &json!({"stock": 1})).await, 503);
    let response = app.get(&format!("/api/v1/products/{never_read}")).await;
    assert_unavailable(response).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // Cached reads: 200 (with Age once past their freshness) until the bound, then 503.
    let bound = Duration::from_secs(FRESH_SECS + STALE_SECS);
    let mut stale_seen = [false; 2];
    let mut first_503: [Option<Duration>; 2] = [None; 2];
    let deadline = loaded + bound + Duration::from_secs(4);
    while first_503.iter().any(Option::is_none) && Instant::now() < deadline {
        for (i, path) in paths.iter().enumerate() {
            if first_503[i].is_some() {
                continue;
            }
            let asked = loaded.elapsed();
            let response = app.get(path).await;
            let answered = loaded.elapsed();
            match response.status().as_u16() {
                200 => {
                    assert!(
                        asked <= bound + primed,
                        "{path}: 200 at {asked:?}, past the bound"
                    );
                    if let Some(age) = response.headers().get("age") {
                        let age: u64 = age.to_str().unwrap().parse().unwrap();
                        assert!(age <= FRESH_SECS + STALE_SECS, "{path}: Age {age}");
                        stale_seen[i] = true;
                    } else {
                        assert!(
                            asked <= Duration::from_secs(FRESH_SECS) + primed,
                            "{path}: a stale answer without Age at {asked:?}"
                        );
                    }
                }
                503 => {
                    assert!(
                        answered >= bound,
                        "{path}: 503 at {answered:?}, before the bound"
                    );
                    assert_unavailable(response).await;
                    first_503[i] = Some(answered);
                }
                other => panic!("{path}: {other}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stale_seen,
        [true, true],
        "answers with Age while PostgreSQL was down"
    );
    assert!(
        first_503.iter().all(Option::is_some),
        "503 past the bound: {first_503:?}"
    );

    // PostgreSQL back: fresh answers (no Age), and writes again.
    postgres.start_again();
    for path in &paths {
        let fresh = eventually(Duration::from_secs(10), || async {
            let response = app.get(path).await;
            response.status() == 200 && response.headers().get("age").is_none()
        })
        .await;
        assert!(fresh, "{path} answers fresh once PostgreSQL is back");
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            app.patch_product(cached, &json!({"stock": 1})).await == 200
        })
        .await
    );
    let product: serde_json::Value = app.get(&paths[0]).await.json().await.unwrap();
    assert_eq!(product["stock"], 1, "the change is read back at once");
}
