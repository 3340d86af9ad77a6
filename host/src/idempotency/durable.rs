//! The PostgreSQL half of idempotency: claim a key inside the transaction that does the work,
//! record the response in that same transaction, purge old records.

use std::collections::HashMap;

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

const CLAIM: &str = "INSERT INTO idempotency_records (user_id, idempotency_key, fingerprint) \
                     SELECT k.user_id, k.idempotency_key, k.fingerprint \
                     FROM unnest($1::bigint[], $2::text[], $3::bytea[]) \
                          WITH ORDINALITY AS k(user_id, idempotency_key, fingerprint, n) \
                     ORDER BY k.n ON CONFLICT DO NOTHING RETURNING user_id, idempotency_key";
const READ_CLAIMED: &str = "SELECT r.user_id, r.idempotency_key, r.fingerprint, r.status, \
                     r.content_type, r.body FROM idempotency_records r \
                     JOIN unnest($1::bigint[], $2::text[]) AS k(user_id, idempotency_key) \
                       ON r.user_id = k.user_id AND r.idempotency_key = k.idempotency_key";

/// The statements [`claim_all`] runs, to prepare ahead with [`crate::store::prepare_all`].
pub const CLAIM_STATEMENTS: [&str; 2] = [CLAIM, READ_CLAIMED];

/// Claims every key of a batch at once, in ascending (user, key) order so that batches never
/// wait for each other's claims in a cycle; one claim per request, in the order given. No two
/// requests may share a key (the caller answers a repeat within a batch itself). A key
/// another transaction holds makes this wait until that one ends; then its committed record
/// is returned (or the key is free again after a rollback).
pub async fn claim_all(
    db: &impl GenericClient,
    reqs: &[&IdempotentRequest],
) -> Result<Vec<Claim>, tokio_postgres::Error> {
    let mut claims: Vec<Option<Claim>> = reqs.iter().map(|_| None).collect();
    let mut pending: Vec<usize> = (0..reqs.len()).collect();
    pending.sort_by(|&a, &b| {
        (reqs[a].user, reqs[a].key.as_str()).cmp(&(reqs[b].user, reqs[b].key.as_str()))
    });
    let index: HashMap<(i64, &str), usize> = reqs
        .iter()
        .enumerate()
        .map(|(i, req)| ((req.user.get(), req.key.as_str()), i))
        .collect();
    let (insert, select) = (
        db.prepare_cached(CLAIM).await?,
        db.prepare_cached(READ_CLAIMED).await?,
    );
    while !pending.is_empty() {
        let users: Vec<i64> = pending.iter().map(|&i| reqs[i].user.get()).collect();
        let keys: Vec<&str> = pending.iter().map(|&i| reqs[i].key.as_str()).collect();
        let fingerprints: Vec<&[u8]> = pending
            .iter()
            .map(|&i| reqs[i].fingerprint.0.as_slice())
            .collect();
        for row in db.query(&insert, &[&users, &keys, &fingerprints]).await? {
            if let Some(&i) = index.get(&(row.get(0), row.get(1))) {
                claims[i] = Some(Claim::New);
            }
        }
        pending.retain(|&i| claims[i].is_none());
        if pending.is_empty() {
            break;
        }
        // The conflicting rows committed (the insert waited for them); read them. One can
        // vanish only if the purge removed it in between: that key is free, claimed next turn.
        let users: Vec<i64> = pending.iter().map(|&i| reqs[i].user.get()).collect();
        let keys: Vec<&str> = pending.iter().map(|&i| reqs[i].key.as_str()).collect();
        for row in db.query(&select, &[&users, &keys]).await? {
            if let Some(&i) = index.get(&(row.get(0), row.get(1))) {
                claims[i] = Some(done(&row));
            }
        }
        pending.retain(|&i| claims[i].is_none());
    }
    Ok(claims
        .into_iter()
        .map(|c| c.unwrap_or(Claim::New))
        .collect())
}

/// A committed record as a claim: its fingerprint and response (columns 2 to 5).
fn done(row: &tokio_postgres::Row) -> Claim {
    let fingerprint: &[u8] = row.get(2);
    let status: Option<i16> = row.get(3);
    let content_type: Option<String> = row.get(4);
    let body: Option<Vec<u8>> = row.get(5);
    let fingerprint = Fingerprint(fingerprint.try_into().unwrap_or([0; 32]));
    let response = StoredResponse {
        status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
        content_type: content_type.unwrap_or_default(),
        body: Bytes::from(body.unwrap_or_default()),
    };
    Claim::Done(fingerprint, response)
}

/// The answers of claimed keys, recorded in the claiming transaction: bind
/// [`Completions::params`] to [`Completions::SQL`].
#[derive(Debug, Default)]
pub struct Completions {
    users: Vec<i64>,
    keys: Vec<String>,
    statuses: Vec<i16>,
    content_types: Vec<String>,
    bodies: Vec<Vec<u8>>,
}

impl Completions {
    /// One `UPDATE` for every record.
    pub const SQL: &'static str = "UPDATE idempotency_records r SET status = c.status, \
         content_type = c.content_type, body = c.body \
         FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::text[], $5::bytea[]) \
              AS c(user_id, idempotency_key, status, content_type, body) \
         WHERE r.user_id = c.user_id AND r.idempotency_key = c.idempotency_key";

    /// Records `response` as `req`'s answer.
    pub fn push(&mut self, req: &IdempotentRequest, response: &StoredResponse) {
        self.users.push(req.user.get());
        self.keys.push(req.key.as_str().to_owned());
        self.statuses
            .push(i16::try_from(response.status).unwrap_or(i16::MAX));
        self.content_types.push(response.content_type.clone());
        self.bodies.push(response.body.to_vec());
    }

    /// Whether there is nothing to record.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The parameters of [`Completions::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [
            &self.users,
            &self.keys,
            &self.statuses,
            &self.content_types,
            &self.bodies,
        ]
    }
}

impl crate::store::BatchRows for Completions {
    fn statements(&self) -> Vec<crate::store::Bound<'_>> {
        crate::store::one_statement(self.is_empty(), Self::SQL, self.params())
    }
}

/// Claims given up in the claiming transaction (the request will be prepared again and claim
/// its key anew): bind [`Releases::params`] to [`Releases::SQL`].
#[derive(Debug, Default)]
pub struct Releases {
    users: Vec<i64>,
    keys: Vec<String>,
}

impl Releases {
    /// One `DELETE` for every claim.
    pub const SQL: &'static str = "DELETE FROM idempotency_records r \
         USING unnest($1::bigint[], $2::text[]) AS c(user_id, idempotency_key) \
         WHERE r.user_id = c.user_id AND r.idempotency_key = c.idempotency_key";

    /// Gives up `req`'s claim.
    pub fn push(&mut self, req: &IdempotentRequest) {
        self.users.push(req.user.get());
        self.keys.push(req.key.as_str().to_owned());
    }

    /// Whether there is nothing to give up.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The parameters of [`Releases::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 2] {
        [&self.users, &self.keys]
    }
}

impl crate::store::BatchRows for Releases {
    fn statements(&self) -> Vec<crate::store::Bound<'_>> {
        crate::store::one_statement(self.is_empty(), Self::SQL, self.params())
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
