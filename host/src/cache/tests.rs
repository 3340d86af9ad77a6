//! Unit tests of the answer cache: shared loads, resets racing a load, stale answers and
//! their bound, memory bounds.

use std::sync::atomic::AtomicUsize;

use super::*;

#[derive(Debug, PartialEq)]
enum Failure {
    Unreachable,
    Other,
}

fn bounds(fresh: u64, stale: u64) -> Bounds {
    Bounds {
        fresh: Duration::from_secs(fresh),
        stale_if_error: Duration::from_secs(stale),
        max_entries: 1_000,
        max_bytes: 1 << 20,
    }
}

fn unreachable(error: &Failure) -> bool {
    *error == Failure::Unreachable
}

async fn ok(body: &'static str) -> Result<Rendered, Failure> {
    Ok(Rendered::new(body))
}

async fn not_loaded() -> Result<Rendered, Failure> {
    panic!("no load within the retry pause")
}

#[test]
fn equal_bodies_have_equal_tags() {
    assert_eq!(Rendered::new("[1]").tag(), Rendered::new("[1]").tag());
    assert_ne!(Rendered::new("[1]").tag(), Rendered::new("[2]").tag());
    assert_eq!(Rendered::new("[1]").tag().len(), 24);
}

#[tokio::test]
async fn concurrent_misses_share_one_load_and_fresh_answers_load_nothing() {
    let cache = AnswerCache::new(bounds(60, 60));
    let loads = AtomicUsize::new(0);
    let lookups = (0..50).map(|_| {
        cache.get(
            1,
            async {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                ok("a").await
            },
            unreachable,
        )
    });
    for served in futures_util::future::join_all(lookups).await {
        assert_eq!(served.unwrap().rendered().body(), "a");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let again = cache.get(1, ok("b"), unreachable).await.unwrap();
    assert_eq!(again.rendered().body(), "a");
    assert_eq!(again.stale_age(), None);
}

#[tokio::test]
async fn a_reset_forgets_and_a_load_in_flight_during_it_is_not_kept() {
    let cache = AnswerCache::new(bounds(60, 60));
    cache.get(1, ok("old"), unreachable).await.unwrap();
    cache.reset();
    assert_eq!(
        cache
            .get(1, ok("new"), unreachable)
            .await
            .unwrap()
            .rendered()
            .body(),
        "new"
    );
    let racing = cache.get(
        2,
        async {
            cache.reset();
            ok("loaded before the reset").await
        },
        unreachable,
    );
    assert_eq!(
        racing.await.unwrap().rendered().body(),
        "loaded before the reset"
    );
    assert_eq!(
        cache
            .get(2, ok("after"), unreachable)
            .await
            .unwrap()
            .rendered()
            .body(),
        "after"
    );
}

#[tokio::test]
async fn an_unreachable_database_serves_the_held_answer_with_its_age() {
    // Fresh for 0 s: every lookup loads again.
    let cache = AnswerCache::new(bounds(0, 60));
    cache.get(1, ok("held"), unreachable).await.unwrap();
    // Other failures are errors.
    let other = cache
        .get(1, async { Err(Failure::Other) }, unreachable)
        .await;
    assert_eq!(*other.unwrap_err(), Failure::Other);
    let stale = cache
        .get(1, async { Err(Failure::Unreachable) }, unreachable)
        .await
        .unwrap();
    assert_eq!(stale.rendered().body(), "held");
    assert!(stale.stale_age().is_some());
    // Right after the failure the held answer comes without another load.
    let quick = cache.get(1, not_loaded(), unreachable).await.unwrap();
    assert_eq!(quick.rendered().body(), "held");
    // A key with nothing held has no answer.
    let none = cache
        .get(2, async { Err(Failure::Unreachable) }, unreachable)
        .await;
    assert_eq!(*none.unwrap_err(), Failure::Unreachable);
}

#[tokio::test]
async fn nothing_is_served_stale_past_the_bound() {
    let cache = AnswerCache::new(bounds(0, 0));
    cache.get(1, ok("held"), unreachable).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let failed = cache
        .get(1, async { Err(Failure::Unreachable) }, unreachable)
        .await;
    assert_eq!(*failed.unwrap_err(), Failure::Unreachable);
}

#[tokio::test]
async fn entries_and_bytes_stay_within_their_bounds() {
    let by_bytes = AnswerCache::new(Bounds {
        max_bytes: 4_096,
        ..bounds(60, 60)
    });
    let by_entries = AnswerCache::new(Bounds {
        max_entries: 10,
        ..bounds(60, 60)
    });
    for key in 0..200 {
        by_bytes
            .get(key, ok("0123456789"), unreachable)
            .await
            .unwrap();
        by_entries.get(key, ok("x"), unreachable).await.unwrap();
    }
    let (entries, bytes) = by_bytes.size().await;
    assert!(
        entries > 0 && bytes <= 4_096,
        "{entries} entries, {bytes} bytes"
    );
    let (entries, _) = by_entries.size().await;
    assert!(entries > 0 && entries <= 10, "{entries} entries");
}
