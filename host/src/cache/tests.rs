//! Unit tests of the answer cache: shared loads, resets racing a load, stale answers and
//! their bound, memory bounds, refresh ahead.

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

type Load = std::future::Ready<Result<Rendered, Failure>>;

fn ok(body: &'static str) -> impl FnOnce() -> Load {
    move || std::future::ready(Ok(Rendered::new(body)))
}

fn not_loaded() -> impl FnOnce() -> Load {
    || panic!("no load within the retry pause")
}

/// The body `cache` answers for `key`, loading it with `load` on a miss.
async fn body_of(cache: &AnswerCache<i32>, key: i32, load: impl FnOnce() -> Load) -> Bytes {
    cache
        .get(key, load, unreachable)
        .await
        .unwrap()
        .rendered()
        .body()
        .clone()
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
            || async {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                ok("a")().await
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
    assert_eq!(body_of(&cache, 1, ok("new")).await, "new");
    let racing = cache.get(
        2,
        || async {
            cache.reset();
            ok("loaded before the reset")().await
        },
        unreachable,
    );
    assert_eq!(
        racing.await.unwrap().rendered().body(),
        "loaded before the reset"
    );
    assert_eq!(body_of(&cache, 2, ok("after")).await, "after");
}

#[tokio::test]
async fn an_unreachable_database_serves_the_held_answer_with_its_age() {
    // Fresh for 0 s: every lookup loads again.
    let cache = AnswerCache::new(bounds(0, 60));
    cache.get(1, ok("held"), unreachable).await.unwrap();
    // Other failures are errors.
    let other = cache
        .get(1, || async { Err(Failure::Other) }, unreachable)
        .await;
    assert_eq!(*other.unwrap_err(), Failure::Other);
    let stale = cache
        .get(1, || async { Err(Failure::Unreachable) }, unreachable)
        .await
        .unwrap();
    assert_eq!(stale.rendered().body(), "held");
    assert!(stale.stale_age().is_some());
    // Right after the failure the held answer comes without another load.
    let quick = cache.get(1, not_loaded(), unreachable).await.unwrap();
    assert_eq!(quick.rendered().body(), "held");
    // A key with nothing held has no answer.
    let none = cache
        .get(2, || async { Err(Failure::Unreachable) }, unreachable)
        .await;
    assert_eq!(*none.unwrap_err(), Failure::Unreachable);
}

#[tokio::test]
async fn nothing_is_served_stale_past_the_bound() {
    let cache = AnswerCache::new(bounds(0, 0));
    cache.get(1, ok("held"), unreachable).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let failed = cache
        .get(1, || async { Err(Failure::Unreachable) }, unreachable)
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

#[tokio::test]
async fn refresh_ahead_loads_again_only_the_answers_read_since_their_load() {
    let cache = AnswerCache::new(bounds(60, 60));
    cache.get(1, ok("read"), unreachable).await.unwrap();
    cache.get(2, ok("not read"), unreachable).await.unwrap();
    cache.get(1, not_loaded(), unreachable).await.unwrap();
    let round = cache.due(100);
    assert_eq!(round.keys(), [1]);
    cache
        .refreshed(round, [(1, Rendered::new("refreshed"))])
        .await;
    let served = cache.get(1, not_loaded(), unreachable).await.unwrap();
    assert_eq!(served.rendered().body(), "refreshed");
    assert_eq!(served.stale_age(), None);
    assert_eq!(body_of(&cache, 2, not_loaded()).await, "not read");
    // Both were read since they were kept: both are due now.
    let mut due = cache.due(100).keys().to_vec();
    due.sort_unstable();
    assert_eq!(due, [1, 2]);
    assert_eq!(cache.due(0).keys(), [] as [i32; 0]);
}

#[tokio::test]
async fn a_refresh_begun_before_a_reset_keeps_nothing() {
    let cache = AnswerCache::new(bounds(60, 60));
    cache.get(1, ok("old"), unreachable).await.unwrap();
    cache.get(1, not_loaded(), unreachable).await.unwrap();
    let round = cache.due(100);
    cache.reset();
    cache
        .refreshed(round, [(1, Rendered::new("loaded before the reset"))])
        .await;
    assert_eq!(body_of(&cache, 1, ok("new")).await, "new");
}

#[tokio::test]
async fn refreshed_answers_are_fresh_from_the_start_of_their_round() {
    let cache = AnswerCache::new(Bounds {
        fresh: Duration::from_millis(100),
        ..bounds(60, 60)
    });
    cache.get(1, ok("first"), unreachable).await.unwrap();
    cache.get(1, not_loaded(), unreachable).await.unwrap();
    let round = cache.due(100);
    // A round that took longer than the bound keeps an answer already past it.
    tokio::time::sleep(Duration::from_millis(150)).await;
    cache.refreshed(round, [(1, Rendered::new("late"))]).await;
    assert_eq!(body_of(&cache, 1, ok("loaded")).await, "loaded");
}
