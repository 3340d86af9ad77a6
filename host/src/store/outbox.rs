//! The `outbox` table: events written in the transaction that causes them, delivered later
//! by the relay (at least once).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

/// The channel the outbox trigger notifies (migration V5).
pub const CHANNEL: &str = "edgecart_outbox";

/// An event waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The outbox row's id: the event id consumers deduplicate by.
    pub id: i64,
    /// `order.paid`, `order.cancelled`, …
    pub event_type: String,
    /// The payload as JSON text.
    pub payload: String,
    /// When the causing transaction stored it.
    pub created_at: DateTime<Utc>,
    /// The trace the causing transaction ran in, when traces are exported.
    pub traceparent: Option<String>,
}

/// Stores one event: bind the type, the payload as JSON text and the `traceparent` (or
/// `None`). Its `created_at` is the statement's clock time (migration V7), so a transaction
/// that stores its event last stamps it close to its commit.
pub const INSERT: &str =
    "INSERT INTO outbox (type, payload, traceparent) VALUES ($1, $2::text::jsonb, $3)";

/// The events of a batch, in the order their changes applied: bind [`Events::params`] to
/// [`Events::SQL`]. Each stores as [`INSERT`] would.
#[derive(Debug, Default)]
pub struct Events {
    types: Vec<&'static str>,
    payloads: Vec<String>,
    traceparents: Vec<Option<String>>,
}

impl Events {
    /// One `INSERT` for every event, ids in the order given.
    pub const SQL: &'static str = "INSERT INTO outbox (type, payload, traceparent) \
         SELECT e.type, e.payload::jsonb, e.traceparent \
         FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(type, payload, traceparent, n) \
         ORDER BY e.n";

    /// Adds an event: its type, its payload as JSON text, and the trace it belongs to.
    pub fn push(&mut self, event_type: &'static str, payload: String, traceparent: Option<String>) {
        self.types.push(event_type);
        self.payloads.push(payload);
        self.traceparents.push(traceparent);
    }

    /// Whether there is no event.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The parameters of [`Events::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 3] {
        [&self.types, &self.payloads, &self.traceparents]
    }
}

impl super::BatchRows for Events {
    fn statements(&self) -> Vec<super::Bound<'_>> {
        super::one_statement(self.is_empty(), Self::SQL, self.params())
    }
}

/// Locks up to `limit` unsent events, oldest first, skipping those another relay holds; they
/// stay locked until the transaction ends.
#[tracing::instrument(name = "store.outbox.lock_unsent", level = "debug", skip_all)]
pub async fn lock_unsent(
    db: &impl GenericClient,
    limit: i64,
) -> Result<Vec<Pending>, tokio_postgres::Error> {
    const SQL: &str = "SELECT id, type, payload::text, created_at, traceparent FROM outbox \
                       WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query(&stmt, &[&limit])
        .await?
        .iter()
        .map(|row| Pending {
            id: row.get(0),
            event_type: row.get(1),
            payload: row.get(2),
            created_at: row.get(3),
            traceparent: row.get(4),
        })
        .collect())
}

/// Marks events sent.
#[tracing::instrument(name = "store.outbox.mark_sent", level = "debug", skip_all)]
pub async fn mark_sent(db: &impl GenericClient, ids: &[i64]) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "UPDATE outbox SET sent_at = now() WHERE id = ANY($1)";
    let stmt = db.prepare_cached(SQL).await?;
    db.execute(&stmt, &[&ids]).await?;
    Ok(())
}

/// How many events wait, and how long the oldest has waited (zero when none).
#[tracing::instrument(name = "store.outbox.backlog", level = "debug", skip_all)]
pub async fn backlog(db: &impl GenericClient) -> Result<(i64, f64), tokio_postgres::Error> {
    const SQL: &str = "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 \
                       FROM outbox WHERE sent_at IS NULL";
    let stmt = db.prepare_cached(SQL).await?;
    let row = db.query_one(&stmt, &[]).await?;
    Ok((row.get(0), row.get(1)))
}

/// Deletes up to `limit` events sent before `retention` ago; returns how many.
#[tracing::instrument(name = "store.outbox.purge_sent", level = "debug", skip_all)]
pub async fn purge_sent(
    db: &impl GenericClient,
    retention: std::time::Duration,
    limit: i64,
) -> Result<u64, tokio_postgres::Error> {
    const SQL: &str = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                       WHERE sent_at < now() - make_interval(secs => $1) LIMIT $2)";
    let stmt = db.prepare_cached(SQL).await?;
    db.execute(&stmt, &[&retention.as_secs_f64(), &limit]).await
}
