//! Dead letters: an event whose webhook failed every attempt waits in `<prefix>events:dead`,
//! the node's `edgecart_events_dead_letters` gauge counts it, and the real
//! `edgecart events redrive` moves it back to the event stream, where the consumer notifies it
//! once the webhook answers again.

use std::{collections::BTreeSet, time::Duration};

use edgecart_tests::{
    PrivateRedis, TestApp, Webhook, edgecart_command, eventually, free_port, spawn_notifying,
};

const GAUGE: &str = "edgecart_events_dead_letters";

/// What a run of the command gave: whether it exited 0, its stdout and its stderr.
pub(crate) struct Run {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `edgecart events redrive ARGS` on the Redis at `url` under `prefix`, its log off
/// (log lines go to stdout, beside what the command prints).
pub(crate) async fn redrive(url: &str, prefix: &str, args: &[&str]) -> Run {
    let output = tokio::process::Command::from(edgecart_command())
        .args(["events", "redrive"])
        .args(args)
        .env("EDGECART_REDIS_URL", url)
        .env("EDGECART_REDIS_PREFIX", prefix)
        .env("RUST_LOG", "off")
        .output()
        .await
        .expect("edgecart events redrive runs (cargo test --workspace builds it)");
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `edgecart events redrive ARGS` on the app's Redis and prefix, asserting it succeeded.
async fn redrive_app(app: &TestApp, args: &[&str]) -> String {
    let run = redrive(
        app.settings.redis_url.expose(),
        &app.settings.redis_prefix,
        args,
    )
    .await;
    assert!(run.success, "events redrive {args:?}: {}", run.stderr);
    run.stdout
}

/// The field names and values of a stream entry as `redis-cli` prints an `XRANGE` of one
/// entry (its id, then a line per name and per value).
fn entry_fields(printed: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = printed.lines().skip(1).collect();
    lines
        .chunks(2)
        .map(|pair| {
            (
                pair[0].to_owned(),
                pair.get(1).copied().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Waits until `count` entries are dead-lettered and the gauge says so.
async fn await_dead_letters(app: &TestApp, redis: &PrivateRedis, count: usize) {
    let dead = app.dead_stream();
    assert!(
        eventually(Duration::from_secs(5), || async {
            redis.cli(&["XLEN", &dead]).await == count.to_string()
        })
        .await,
        "{count} dead-lettered"
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.metric(GAUGE, &[]).await == count as f64
        })
        .await,
        "the gauge shows {count}"
    );
}

/// A server whose webhook fails every attempt, with `count` orders' events dead-lettered
/// (and counted by the gauge).
async fn dead_lettered(count: usize) -> (PrivateRedis, Webhook, TestApp) {
    let redis = PrivateRedis::start().await;
    let webhook = Webhook::start(usize::MAX).await;
    let app = spawn_notifying(&redis, &webhook, 200).await;
    app.place_orders(count).await;
    await_dead_letters(&app, &redis, count).await;
    (redis, webhook, app)
}

#[tokio::test]
async fn a_redriven_dead_letter_is_notified_once_the_webhook_answers_and_the_gauge_returns_to_zero()
{
    // Arrange: the webhook fails every attempt, so the order's event is dead-lettered.
    let (redis, webhook, app) = dead_lettered(1).await;
    let event_id = app.scalar("SELECT max(id) FROM outbox").await.to_string();
    assert!(webhook.accepted().is_empty());
    webhook.recover();

    // Act
    let printed = redrive_app(&app, &[]).await;

    // Assert: moved, with the fields the relay writes, and notified once under its id.
    assert_eq!(
        printed,
        format!(
            "moved 1 dead-lettered events to {}\n0 remain in {}",
            app.event_stream(),
            app.dead_stream()
        )
    );
    assert_eq!(redis.cli(&["XLEN", &app.dead_stream()]).await, "0");
    let newest = redis
        .cli(&["XREVRANGE", &app.event_stream(), "+", "-", "COUNT", "1"])
        .await;
    let fields = entry_fields(&newest);
    let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["id", "type", "payload", "at"], "{newest}");
    assert_eq!(fields[0].1, event_id);
    assert!(
        eventually(Duration::from_secs(5), || async {
            !webhook.accepted().is_empty()
        })
        .await,
        "the redriven event is notified"
    );
    let pending = || async {
        redis
            .cli(&["XPENDING", &app.event_stream(), "notifications"])
            .await
            .starts_with('0')
    };
    assert!(
        eventually(Duration::from_secs(5), pending).await,
        "acknowledged"
    );
    // Every entry of the stream is acknowledged now: nothing more can be delivered.
    let accepted = webhook.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].0, event_id, "Idempotency-Key is the event id");
    assert_eq!(accepted[0].1["eventId"].to_string(), event_id);
    assert_eq!(
        app.metric("edgecart_consumer_events_total", &[("result", "duplicate")])
            .await,
        0.0,
        "a dead letter is never remembered as notified"
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.metric(GAUGE, &[]).await == 0.0
        })
        .await,
        "the gauge returns to 0"
    );
}

#[tokio::test]
async fn redrive_moves_the_oldest_first_up_to_its_limit_and_leaves_entries_without_an_event() {
    // Arrange: two dead-lettered events, then an entry that holds no event.
    let (redis, webhook, app) = dead_lettered(2).await;
    let dead = app.dead_stream();
    let oldest = redis.cli(&["XRANGE", &dead, "-", "+", "COUNT", "1"]).await;
    let oldest_id = entry_fields(&oldest)
        .into_iter()
        .find(|(name, _)| name == "id")
        .map(|(_, value)| value)
        .expect("a dead letter keeps its event id");
    redis.cli(&["XADD", &dead, "*", "junk", "1"]).await;
    webhook.recover();

    // Act and assert: one at a time, oldest first.
    let printed = redrive_app(&app, &["--limit", "1"]).await;
    assert!(printed.starts_with("moved 1 "), "{printed}");
    assert!(
        printed.ends_with(&format!("\n2 remain in {dead}")),
        "{printed}"
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            !webhook.accepted().is_empty()
        })
        .await,
        "the moved event is notified"
    );
    assert_eq!(webhook.accepted()[0].0, oldest_id);

    // Then the rest: the entry without an event stays, and still counts.
    let printed = redrive_app(&app, &[]).await;
    assert!(printed.starts_with("moved 1 "), "{printed}");
    assert!(
        printed.ends_with(&format!(
            "\n1 remain in {dead} (1 hold no event and were left)"
        )),
        "{printed}"
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            webhook.accepted().len() == 2
        })
        .await,
        "both events are notified"
    );
    let notified: BTreeSet<String> = webhook.accepted().into_iter().map(|(key, _)| key).collect();
    let ids: BTreeSet<String> = [
        app.scalar("SELECT min(id) FROM outbox").await,
        app.scalar("SELECT max(id) FROM outbox").await,
    ]
    .iter()
    .map(i64::to_string)
    .collect();
    assert_eq!(notified, ids);
    let left = redis.cli(&["XRANGE", &dead, "-", "+"]).await;
    assert_eq!(entry_fields(&left), [("junk".to_owned(), "1".to_owned())]);
    await_dead_letters(&app, &redis, 1).await;
}

#[tokio::test]
async fn redrive_fails_with_its_cause_when_redis_does_not_answer() {
    let url = format!("redis://127.0.0.1:{}", free_port());

    let run = redrive(&url, "test:nothing-here:", &[]).await;

    assert!(!run.success, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("edgecart: the redrive failed: Redis failed: "),
        "{}",
        run.stderr
    );
}
