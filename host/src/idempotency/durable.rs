//! The PostgreSQL half of idempotency: claim a key inside the transaction that does the work,
//! record the response in that same transaction, purge old records.

use bytes::Bytes;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::{Fingerprint, IdempotentRequest, StoredResponse};

/// What the database says about a key at the start of a transaction.
#[derive(Debug)]
pub enum Claim {
    /// The key is new; this transaction owns it until it commits or rolls back.
    New,
    /// The key was used by a committed request: its fingerprint and response.
    Done(Fingerprint, StoredResponse),
}

/// Claims the key. A concurrent transaction holding the same key makes this wait until that
/// one ends; then the committed record is returned (or the key is free again after a rollback).
pub async fn claim(
    db: &impl GenericClient,
    req: &IdempotentRequest,
) -> Result<Claim, tokio_postgres::Error> {
    const INSERT: &str = "INSERT INTO idempotency_records (user_id, idempotency_key, fingerprint) \
                          VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
    const SELECT: &str = "SELECT fingerprint, status, content_type, body FROM idempotency_records \
                          WHERE user_id = $1 AND idempotency_key = $2";
    let insert = db.prepare_cached(INSERT).await?;
    let select = db.prepare_cached(SELECT).await?;
    let (user, key) = (req.user.get(), req.key.as_str());
    loop {
        if db
            .execute(&insert, &[&user, &key, &req.fingerprint.0.as_slice()])
            .await?
            == 1
        {
            return Ok(Claim::New);
        }
        // The conflicting row committed (we waited for it); read it. It can vanish only if
        // the purge removed it in between, in which case the key is free: claim again.
        if let Some(row) = db.query_opt(&select, &[&user, &key]).await? {
            let fingerprint: &[u8] = row.get(0);
            let status: Option<i16> = row.get(1);
            let content_type: Option<String> = row.get(2);
            let body: Option<Vec<u8>> = row.get(3);
            let fingerprint = Fingerprint(fingerprint.try_into().unwrap_or([0; 32]));
            let response = StoredResponse {
                status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
                content_type: content_type.unwrap_or_default(),
                body: Bytes::from(body.unwrap_or_default()),
            };
            return Ok(Claim::Done(fingerprint, response));
        }
    }
}

/// Records the response of a claimed key, in the claiming transaction: bind
/// [`Completion::params`].
pub const COMPLETE: &str = "UPDATE idempotency_records SET status = $3, content_type = $4, \
                            body = $5 WHERE user_id = $1 AND idempotency_key = $2";

/// The parameters of [`COMPLETE`] for one key and response.
#[derive(Debug)]
pub struct Completion<'a> {
    user: i64,
    key: &'a str,
    status: i16,
    content_type: &'a str,
    body: &'a [u8],
}

impl<'a> Completion<'a> {
    /// The record of `response` as `req`'s answer.
    pub fn new(req: &'a IdempotentRequest, response: &'a StoredResponse) -> Self {
        Self {
            user: req.user.get(),
            key: req.key.as_str(),
            status: i16::try_from(response.status).unwrap_or(i16::MAX),
            content_type: &response.content_type,
            body: &response.body,
        }
    }

    /// The statement's parameters, in order.
    pub fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [
            &self.user,
            &self.key,
            &self.status,
            &self.content_type,
            &self.body,
        ]
    }
}

/// Deletes up to `batch` records older than `retention`; returns how many went.
pub async fn purge(
    db: &impl GenericClient,
    retention: std::time::Duration,
    batch: i64,
) -> Result<u64, tokio_postgres::Error> {
    const SQL: &str = "DELETE FROM idempotency_records WHERE ctid IN ( \
                         SELECT ctid FROM idempotency_records \
                         WHERE created_at < now() - make_interval(secs => $1) LIMIT $2)";
    let stmt = db.prepare_cached(SQL).await?;
    let secs = retention.as_secs_f64();
    db.execute(&stmt, &[&secs, &batch]).await
}

/// Deletes expired records every minute, in batches of 10,000, until `stop` is cancelled:
/// the node's background purge.
pub async fn keep_purging(
    pool: crate::store::PgPool,
    retention: std::time::Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    const BATCH: i64 = 10_000;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Ok(client) = pool.get().await else {
            continue;
        };
        loop {
            match purge(&client, retention, BATCH).await {
                Ok(n) if n == BATCH as u64 => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "idempotency purge failed");
                    break;
                }
            }
        }
    }
}
