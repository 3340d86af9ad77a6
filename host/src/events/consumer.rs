//! The notification consumer: reads the event stream in the consumer group `notifications`,
//! sends each event's notification through the sink (retrying with backoff), acknowledges only
//! after the sink succeeded, reclaims entries a dead consumer left pending (`XAUTOCLAIM`),
//! remembers which event ids were notified so the effect happens once, and moves an event that
//! failed every attempt to the dead-letter stream.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use fred::{clients::Client, prelude::*, types::streams::XReadResponse};
use tracing::Instrument;

use super::{DEAD_STREAM, Event, GROUP, STREAM, sink::Sink};
use crate::{
    config::Settings,
    metrics::{ConsumerResult, Metrics},
    redis::Redis,
    telemetry::{chain, context},
};

/// How long a notified event id is remembered.
const REMEMBER: Duration = Duration::from_secs(7 * 24 * 3600);
/// A stream entry: its id and its fields.
type Entry = (String, HashMap<String, String>);

/// Entries read per round.
const BATCH: u64 = 64;

/// How the consumer runs.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Attempts per event before it is dead-lettered.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles for each further one.
    pub backoff: Duration,
    /// How long an entry stays pending with a consumer before another may claim it.
    pub claim_idle: Duration,
}

impl ConsumerSettings {
    /// From the server settings.
    pub fn from(settings: &Settings) -> Self {
        Self {
            max_attempts: settings.consumer_max_attempts.max(1),
            backoff: Duration::from_millis(settings.consumer_backoff_ms),
            claim_idle: Duration::from_millis(settings.consumer_claim_idle_ms),
        }
    }
}

/// One consumer of the group.
pub struct Consumer {
    client: Client,
    stream: String,
    dead: String,
    seen_prefix: String,
    name: String,
    sink: Sink,
    settings: ConsumerSettings,
    metrics: Metrics,
}

impl Consumer {
    /// A consumer named `name` (unique per process) on `redis`'s event stream.
    pub fn new(
        redis: &Redis,
        name: String,
        sink: Sink,
        settings: ConsumerSettings,
        metrics: Metrics,
    ) -> Result<Self, fred::error::Error> {
        Ok(Self {
            client: redis.dedicated_client()?,
            stream: redis.key(STREAM),
            dead: redis.key(DEAD_STREAM),
            seen_prefix: redis.key("notified:"),
            name,
            sink,
            settings,
            metrics,
        })
    }

    /// Consumes until `stop` is cancelled; waits out Redis outages. An entry being handled
    /// when it stops stays pending and is taken over later (at least once).
    pub async fn run(self, stop: tokio_util::sync::CancellationToken) {
        tokio::select! {
            () = stop.cancelled() => {}
            () = self.consume() => {}
        }
    }

    async fn consume(&self) {
        let _connection = self.client.connect();
        let mut failing = false;
        loop {
            match self.round().await {
                Ok(()) => failing = false,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %chain(&e), "notification consumer failed; retrying");
                    }
                    failing = true;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// One round: make sure the group exists, take over stale entries, read new ones, handle
    /// them all.
    async fn round(&self) -> Result<(), fred::error::Error> {
        self.ensure_group().await?;
        let (_, claimed): (String, Vec<Entry>) = self
            .client
            .xautoclaim_values(
                &self.stream,
                GROUP,
                &self.name,
                self.settings.claim_idle.as_millis() as u64,
                "0-0",
                Some(BATCH),
                false,
            )
            .await?;
        if !claimed.is_empty() {
            tracing::debug!(count = claimed.len(), "took over pending events");
        }
        self.handle_all(&claimed).await?;
        let read: HashMap<String, Vec<Entry>> = self
            .client
            .xreadgroup_map(
                GROUP,
                &self.name,
                Some(BATCH),
                Some(1_000),
                false,
                &self.stream,
                ">",
            )
            .await
            .map(|r: XReadResponse<String, String, String, String>| r)
            .or_else(|e| {
                // An empty read answers nil, which fred reports as a parse error.
                if matches!(e.kind(), ErrorKind::Parse) {
                    Ok(HashMap::new())
                } else {
                    Err(e)
                }
            })?;
        let read: Vec<Entry> = read.into_values().flatten().collect();
        self.handle_all(&read).await
    }

    /// Handles entries concurrently: events are independent, and one slow webhook call
    /// must not hold up the others.
    async fn handle_all(&self, entries: &[Entry]) -> Result<(), fred::error::Error> {
        let handled = futures_util::future::join_all(
            entries
                .iter()
                .map(|(entry, fields)| self.handle(entry, fields)),
        )
        .await;
        handled.into_iter().collect()
    }

    async fn ensure_group(&self) -> Result<(), fred::error::Error> {
        // From the start of the stream: events published before the group existed count too.
        match self
            .client
            .xgroup_create::<(), _, _, _>(&self.stream, GROUP, "0", true)
            .await
        {
            Err(e) if e.details().starts_with("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Handles one entry in an `events.notify` span that continues the event's trace.
    async fn handle(
        &self,
        entry: &str,
        fields: &HashMap<String, String>,
    ) -> Result<(), fred::error::Error> {
        let Some(event) = Event::from_fields(fields) else {
            tracing::warn!(entry, "unreadable event entry; dead-lettering it");
            self.dead_letter(entry, fields, "unreadable entry").await?;
            return Ok(());
        };
        let span = tracing::info_span!("events.notify", event_id = event.id);
        context::continue_from(&span, event.traceparent.as_deref());
        self.notify(entry, fields, &event).instrument(span).await
    }

    /// Notifies one event (unless it was notified already), then acknowledges its entry;
    /// after every attempt failed, dead-letters it.
    async fn notify(
        &self,
        entry: &str,
        fields: &HashMap<String, String>,
        event: &Event,
    ) -> Result<(), fred::error::Error> {
        tracing::debug!(entry, "notifying");
        let seen = format!("{}{}", self.seen_prefix, event.id);
        if self.client.exists::<i64, _>(&seen).await? > 0 {
            self.metrics.consumer_event(ConsumerResult::Duplicate);
            return self.ack(entry).await;
        }
        let mut last_error = String::new();
        for attempt in 1..=self.settings.max_attempts {
            match self.sink.send(event).await {
                Ok(()) => {
                    self.client
                        .set::<(), _, _>(
                            &seen,
                            1,
                            Some(Expiration::EX(REMEMBER.as_secs() as i64)),
                            None,
                            false,
                        )
                        .await?;
                    self.ack(entry).await?;
                    self.metrics.consumer_event(ConsumerResult::Processed);
                    if let Ok(at) = DateTime::parse_from_rfc3339(&event.at) {
                        let delay = Utc::now().signed_duration_since(at.with_timezone(&Utc));
                        self.metrics
                            .observe_notification_delay(delay.to_std().unwrap_or_default());
                    }
                    return Ok(());
                }
                Err(e) => {
                    last_error = chain(&e);
                    if attempt < self.settings.max_attempts {
                        self.metrics.consumer_event(ConsumerResult::Retried);
                        tokio::time::sleep(self.settings.backoff * 2u32.pow(attempt - 1)).await;
                    }
                }
            }
        }
        tracing::warn!(event_id = event.id, error = %last_error, "notification failed every attempt; dead-lettering it");
        self.dead_letter(entry, fields, &last_error).await
    }

    async fn ack(&self, entry: &str) -> Result<(), fred::error::Error> {
        self.client
            .xack::<(), _, _, _>(&self.stream, GROUP, entry)
            .await
    }

    /// Moves an entry to the dead-letter stream (its fields, the last error and its entry id)
    /// and acknowledges it. Its event is not remembered as notified, so once redriven
    /// ([`super::dead_letters`]) it is notified like a new one.
    async fn dead_letter(
        &self,
        entry: &str,
        fields: &HashMap<String, String>,
        error: &str,
    ) -> Result<(), fred::error::Error> {
        let mut dead: Vec<(String, String)> =
            fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        dead.sort();
        dead.push(("error".into(), error.to_owned()));
        dead.push(("entry".into(), entry.to_owned()));
        self.client
            .xadd::<(), _, _, _, _>(&self.dead, false, None, "*", dead)
            .await?;
        self.metrics.consumer_event(ConsumerResult::DeadLettered);
        self.ack(entry).await
    }
}
