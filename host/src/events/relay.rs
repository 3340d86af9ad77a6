//! The outbox relay: moves committed outbox rows to the Redis stream in batches. Several
//! nodes run it at once: each batch is locked with `FOR UPDATE SKIP LOCKED`, published, marked
//! sent and committed, so a row is published by one relay (twice only if a relay dies between
//! publishing and committing; consumers deduplicate). Woken by `LISTEN/NOTIFY`, with a poll as
//! the fallback; sent rows are purged after a retention.

use std::{sync::Arc, time::Duration};

use chrono::SecondsFormat;
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::AsyncMessage;

use super::Event;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    config::Settings,
    metrics::Metrics,
    redis::Redis,
    store::{PgPool, PgTarget, outbox},
    telemetry::{chain, context},
};

/// How the relay runs.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Rows per batch.
    pub batch: i64,
    /// The stream's approximate length cap (`MAXLEN ~`).
    pub max_len: i64,
    /// The fallback poll.
    pub poll: Duration,
    /// How long sent rows are kept.
    pub retention: Duration,
}

impl RelaySettings {
    /// From the server settings.
    pub fn from(settings: &Settings) -> Self {
        Self {
            batch: settings.outbox_batch,
            max_len: settings.events_max_len,
            poll: Duration::from_millis(settings.outbox_poll_ms),
            retention: Duration::from_secs(settings.outbox_retention_secs),
        }
    }
}

/// Why a batch was not relayed (it stays unsent and is retried).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// PostgreSQL failed.
    #[error("postgres failed")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had.
    #[error("no postgres connection")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// Redis failed.
    #[error("redis failed")]
    Redis(#[from] fred::error::Error),
}

/// One node's relay.
#[derive(Clone)]
pub struct Relay {
    pool: PgPool,
    redis: Redis,
    /// Where the `LISTEN` session connects (the pool's server and database).
    database: PgTarget,
    settings: RelaySettings,
    metrics: Metrics,
}

impl Relay {
    /// A relay over these connections.
    pub fn new(
        pool: PgPool,
        redis: Redis,
        database: PgTarget,
        settings: RelaySettings,
        metrics: Metrics,
    ) -> Self {
        Self {
            pool,
            redis,
            database,
            settings,
            metrics,
        }
    }

    /// Relays until `stop` is cancelled (finishing the batch in flight): when `local` is
    /// notified (this node committed events), on another node's `NOTIFY`, every poll
    /// interval, and again at once while batches come back full.
    pub async fn run(self, local: Arc<Notify>, stop: CancellationToken) {
        let wake = local;
        let listening = tokio::spawn(
            listen(self.database.clone(), wake.clone(), stop.child_token()).in_current_span(),
        );
        let mut failures = 0u32;
        let mut last_purge = tokio::time::Instant::now();
        let mut last_observed = last_purge - Duration::from_secs(2);
        loop {
            match self.drain().await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(error = %chain(&e), "outbox relay failed; retrying");
                    }
                    self.metrics.relay_error();
                }
            }
            if last_observed.elapsed() > Duration::from_secs(1) {
                last_observed = tokio::time::Instant::now();
                self.observe_backlog().await;
            }
            if last_purge.elapsed() > Duration::from_secs(60) {
                last_purge = tokio::time::Instant::now();
                self.purge().await;
            }
            // Back off while failing (Redis or PostgreSQL down), up to the poll interval.
            let pause = if failures > 0 {
                Duration::from_millis(100 << failures.min(5)).min(self.settings.poll)
            } else {
                self.settings.poll
            };
            tokio::select! {
                () = wake.notified(), if failures == 0 => {}
                () = tokio::time::sleep(pause) => {}
                () = stop.cancelled() => break,
            }
        }
        let _ = listening.await;
    }

    /// Relays batches until one comes back short.
    pub async fn drain(&self) -> Result<(), RelayError> {
        while self.relay_batch().await? == self.settings.batch as usize {}
        Ok(())
    }

    /// Relays one batch; returns how many events it published.
    pub async fn relay_batch(&self) -> Result<usize, RelayError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let pending = outbox::lock_unsent(&tx, self.settings.batch).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut events: Vec<Event> = pending
            .into_iter()
            .map(|p| Event {
                id: p.id,
                event_type: p.event_type,
                payload: p.payload,
                at: p.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
                traceparent: p.traceparent,
            })
            .collect();
        let _spans = relay_spans(&mut events);
        self.redis
            .append_to_stream(
                &self.redis.key(super::STREAM),
                events.iter().map(Event::stream_fields),
                self.settings.max_len,
            )
            .await?;
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        outbox::mark_sent(&tx, &ids).await?;
        tx.commit().await?;
        self.metrics.events_relayed(events.len());
        Ok(events.len())
    }

    async fn observe_backlog(&self) {
        let Ok(client) = self.pool.get().await else {
            return;
        };
        if let Ok((count, lag)) = outbox::backlog(&client).await {
            self.metrics.set_outbox_backlog(count, lag);
        }
    }

    async fn purge(&self) {
        let Ok(client) = self.pool.get().await else {
            return;
        };
        while let Ok(10_000) = outbox::purge_sent(&client, self.settings.retention, 10_000).await {}
    }
}

/// One `events.relay` span per traced event, in the trace the event was stored in, open
/// until the batch is published; each event then carries its relay span's context, so the
/// consumer's span follows the relay's. Untraced events (tracing off) get none.
fn relay_spans(events: &mut [Event]) -> Vec<tracing::Span> {
    events
        .iter_mut()
        .filter_map(|event| {
            let stored = event.traceparent.take()?;
            let span = tracing::info_span!("events.relay", event_id = event.id);
            context::continue_from(&span, Some(&stored));
            event.traceparent = span.in_scope(context::current).or(Some(stored));
            Some(span)
        })
        .collect()
}

/// Listens for outbox notifications on a connection of its own and wakes the relay until
/// `stop` is cancelled; reconnects after a failure (the relay polls meanwhile).
async fn listen(database: PgTarget, wake: Arc<Notify>, stop: CancellationToken) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = listen_forever(&database, &wake) => {}
    }
}

async fn listen_forever(database: &PgTarget, wake: &Notify) {
    loop {
        match database.connect().await {
            Ok((client, mut connection)) => {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let listen = format!("LISTEN {}", outbox::CHANNEL);
                let listening = client.batch_execute(&listen);
                tokio::pin!(listening);
                // The connection must be driven for LISTEN to complete.
                let mut listening_done = false;
                loop {
                    tokio::select! {
                        result = &mut listening, if !listening_done => {
                            listening_done = true;
                            if result.is_err() { break; }
                        }
                        message = messages.next() => match message {
                            Some(Ok(AsyncMessage::Notification(_))) => wake.notify_one(),
                            Some(Ok(_)) => {}
                            Some(Err(_)) | None => break,
                        },
                    }
                }
            }
            Err(e) => tracing::debug!(error = %chain(&e), "outbox listener cannot connect"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
