//! The dead-letter stream `<prefix>events:dead`, where the consumer puts an event that failed
//! every delivery attempt (its fields, the last error and its entry id). [`DeadLetters`]
//! moves those events back to the event stream for the consumer to notify
//! (`edgecart events redrive`) and keeps the `edgecart_events_dead_letters` gauge at the
//! stream's length. It notifies nothing itself and never touches the consumer group.

use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::{DEAD_STREAM, Event, STREAM};
use crate::{metrics::Metrics, redis::Redis, telemetry::chain};

/// How often a node reads the dead-letter stream's length for the gauge (one `XLEN`).
const OBSERVE_EVERY: Duration = Duration::from_secs(1);

/// Entries read, appended and deleted per round trip of a redrive.
const BATCH: u64 = 100;

/// Redis failed; what a redrive moved before it stays moved.
#[derive(Debug, thiserror::Error)]
#[error("Redis failed")]
pub struct DeadLetterError(#[from] fred::error::Error);

/// What a redrive did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redriven {
    /// Events moved back to the event stream.
    pub moved: u64,
    /// Entries left in the dead-letter stream because they hold no event (no id, type or
    /// payload): on the event stream they would only be dead-lettered again.
    pub unreadable: u64,
}

/// The dead-letter stream of one Redis prefix, and the event stream its events go back to.
#[derive(Clone)]
pub struct DeadLetters {
    redis: Redis,
    dead: String,
    stream: String,
    /// The event stream's approximate length cap, which the relay appends with too.
    max_len: i64,
}

impl DeadLetters {
    /// The streams under `redis`'s prefix; events go back capped at about `max_len` entries
    /// (`EDGECART_EVENTS_MAX_LEN`).
    pub fn new(redis: &Redis, max_len: i64) -> Self {
        Self {
            redis: redis.clone(),
            dead: redis.key(DEAD_STREAM),
            stream: redis.key(STREAM),
            max_len,
        }
    }

    /// The dead-letter stream's name.
    pub fn dead_stream(&self) -> &str {
        &self.dead
    }

    /// The event stream's name.
    pub fn event_stream(&self) -> &str {
        &self.stream
    }

    /// How many entries the dead-letter stream holds.
    pub async fn waiting(&self) -> Result<u64, DeadLetterError> {
        Ok(self.redis.stream_len(&self.dead).await?)
    }

    /// Moves dead-lettered events back to the event stream, oldest first, at most `limit`
    /// of them (all when `None`), with the fields the relay writes. Each batch is appended
    /// before it is deleted here, so a redrive that stops midway may leave an event in both
    /// streams (the consumer notifies it once) but never loses one. It reads no more entries
    /// than the stream held when it started: an event dead-lettered again meanwhile waits for
    /// the next redrive instead of going round for ever.
    pub async fn redrive(&self, limit: Option<u64>) -> Result<Redriven, DeadLetterError> {
        let limit = limit.unwrap_or(u64::MAX);
        let mut unread = self.waiting().await?;
        let mut done = Redriven::default();
        let mut after: Option<String> = None;
        while unread > 0 && done.moved < limit {
            let count = BATCH.min(unread).min(limit - done.moved);
            let entries = self
                .redis
                .stream_range(&self.dead, after.as_deref(), count)
                .await?;
            let Some((last, _)) = entries.last() else {
                break;
            };
            after = Some(last.clone());
            unread = unread.saturating_sub(entries.len() as u64);
            let mut events = Vec::with_capacity(entries.len());
            let mut ids = Vec::with_capacity(entries.len());
            for (entry, fields) in entries {
                match Event::from_fields(&fields) {
                    Some(event) => {
                        events.push(event);
                        ids.push(entry);
                    }
                    None => {
                        tracing::warn!(entry, "a dead letter holds no event; leaving it");
                        done.unreadable += 1;
                    }
                }
            }
            if events.is_empty() {
                continue;
            }
            self.redis
                .append_to_stream(
                    &self.stream,
                    events.iter().map(Event::stream_fields),
                    self.max_len,
                )
                .await?;
            self.redis.delete_from_stream(&self.dead, ids).await?;
            done.moved += events.len() as u64;
        }
        Ok(done)
    }

    /// Sets the gauge to the stream's length at once and then every second until `stop` is
    /// cancelled; while Redis does not answer, the gauge keeps its last value.
    pub async fn keep_observing(self, metrics: Metrics, stop: CancellationToken) {
        let mut tick = tokio::time::interval(OBSERVE_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match self.waiting().await {
                Ok(count) => metrics.set_dead_letters(count),
                Err(e) => {
                    tracing::debug!(error = %chain(&e), "dead-letter stream length not read");
                }
            }
        }
    }
}
