//! How a use case runs against PostgreSQL: a transaction retried on serialization failures and
//! deadlocks, and the idempotent variant that claims the key and records the response in the
//! same transaction as the work (with the Redis fast path in front).

use deadpool_postgres::Transaction;
use futures_util::future::BoxFuture;
use tokio_postgres::types::ToSql;
use tracing::Instrument;

use super::Error;
use crate::{
    idempotency::{
        FastPath, IdempotentRequest, StoredResponse,
        durable::{self, Claim},
        fast::FastStore,
    },
    metrics::Metrics,
    store::{self, PgPool},
};

/// How many times a transaction is tried when PostgreSQL asks for a retry.
const MAX_ATTEMPTS: usize = 5;

/// Turns a use case's outcome into the bytes a client gets; supplied by the HTTP layer so the
/// response can be recorded inside the transaction without this layer knowing HTTP.
pub type Render<'a, T> = &'a (dyn Fn(&Result<T, Error>) -> StoredResponse + Sync);

/// The future of one unit of work inside a transaction. Boxed because the work borrows the
/// transaction, which plain async closures cannot yet express with a `Send` future.
pub type Work<'t, T> = BoxFuture<'t, Result<T, Error>>;

/// The answer to an idempotent request: the response, and whether it is a replay.
#[derive(Debug)]
pub struct Replayable {
    /// What to send.
    pub response: StoredResponse,
    /// True when an earlier request's response is sent again.
    pub replayed: bool,
}

/// The database plus the idempotency fast path: everything a service needs to run work.
#[derive(Clone)]
pub struct Database {
    pool: PgPool,
    fast: FastStore,
    metrics: Metrics,
}

impl Database {
    /// Wraps the pool and the fast path.
    pub fn new(pool: PgPool, fast: FastStore, metrics: Metrics) -> Self {
        Self {
            pool,
            fast,
            metrics,
        }
    }

    /// The pool, for reads that need no transaction.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `work(tx, ctx)` in a transaction and commits when it succeeds; retries the whole
    /// transaction on serialization failures and deadlocks. `ctx` carries what the work
    /// borrows, so its future can borrow both it and the transaction.
    pub async fn transaction<C: Sync, T: Send>(
        &self,
        ctx: &C,
        work: impl for<'t> Fn(&'t Transaction<'t>, &'t C) -> Work<'t, T> + Sync,
    ) -> Result<T, Error> {
        let work = &work;
        self.retried(move || async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let value = work(&tx, ctx).await?;
            tx.commit().await?;
            Ok(value)
        })
        .await
    }

    /// Like [`Database::transaction`], for work that commits itself with [`commit_after`]
    /// (which the [`Committed`] it must return proves), so that its last statement's row
    /// locks are never held across a client round trip.
    pub async fn self_committing_transaction<C: Sync, T: Send>(
        &self,
        ctx: &C,
        work: impl for<'t> Fn(&'t Transaction<'t>, &'t C) -> Work<'t, (T, Committed)> + Sync,
    ) -> Result<T, Error> {
        let work = &work;
        self.retried(move || async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let (value, Committed(())) = work(&tx, ctx).await?;
            // What is left open is the empty transaction `commit_after` began; dropping
            // it rolls it back without waiting for the answer.
            drop(tx);
            Ok(value)
        })
        .await
    }

    /// Runs one try of a transaction after another while PostgreSQL asks for a retry
    /// (serialization failures, deadlocks), at most [`MAX_ATTEMPTS`] times, recording each
    /// try's latency and how it ended.
    async fn retried<T, F>(&self, try_once: impl Fn() -> F) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let mut attempt = 1;
        loop {
            let started = std::time::Instant::now();
            let result = try_once()
                .instrument(tracing::debug_span!("sql.transaction", attempt))
                .await;
            let retry = matches!(&result, Err(Error::Database(e)) if store::is_retryable(e))
                && attempt < MAX_ATTEMPTS;
            let label = match &result {
                Ok(_) => "commit",
                Err(_) if retry => "retry",
                Err(_) => "error",
            };
            self.metrics.observe_transaction(label, started.elapsed());
            if !retry {
                return result;
            }
            attempt += 1;
        }
    }

    /// Runs `work` at most once per idempotency key: replays the first response to a repeat,
    /// refuses a key in flight (409) or reused for another request (422). Business errors are
    /// rendered and remembered like successes; server errors (5xx) are not.
    pub async fn idempotent<C: Sync, T: Send>(
        &self,
        req: &IdempotentRequest,
        render: Render<'_, T>,
        ctx: &C,
        work: impl for<'t> Fn(&'t Transaction<'t>, &'t C) -> Work<'t, T> + Sync,
    ) -> Result<Replayable, Error> {
        match self.fast.begin(req).await? {
            FastPath::Replay(response) => {
                return Ok(Replayable {
                    response,
                    replayed: true,
                });
            }
            FastPath::Proceed => {}
        }
        let result = self
            .transaction(&(self, req, render, ctx, &work), claim_work_record)
            .await;
        // Our in-flight marker carries this request's fingerprint: replace it with the answer,
        // or remove it, so that it never speaks for the key's real owner (a reuse found only
        // in PostgreSQL must not make the original request's replays look like reuses).
        match &result {
            Ok(done) => self.fast.complete(req, &done.response).await,
            Err(_) => self.fast.abandon(req).await,
        }
        result
    }
}

/// Proof that a unit of work committed itself with [`commit_after`].
#[derive(Debug)]
pub struct Committed(());

/// A statement and its parameters.
pub type Statement<'a> = (&'a str, &'a [&'a (dyn ToSql + Sync)]);

/// Runs `statements` as the transaction's last ones and commits in the same round trip: all
/// are sent before any answer is awaited, so the rows they lock are held for their execution
/// and the commit's flush only. When one fails, the commit rolls the transaction back instead
/// (and the first failure is returned). Either way `tx` is left in a fresh, empty
/// transaction, so the caller may try again in it after a failure.
pub async fn commit_after(
    tx: &Transaction<'_>,
    statements: &[Statement<'_>],
) -> Result<Committed, tokio_postgres::Error> {
    // Prepared first: a prepared statement is sent on its future's first poll, and the joins
    // poll in order, so the statements are on the wire in order, before the COMMIT.
    let mut prepared = Vec::with_capacity(statements.len());
    for (sql, _) in statements {
        prepared.push(tx.prepare_cached(sql).await?);
    }
    let executions = prepared
        .iter()
        .zip(statements)
        .map(|(statement, (_, params))| tx.execute(statement, params));
    let (executed, committed) = futures_util::future::join(
        futures_util::future::join_all(executions),
        tx.batch_execute("COMMIT; BEGIN"),
    )
    .await;
    for result in executed {
        result?;
    }
    committed?;
    Ok(Committed(()))
}

/// The body of an idempotent transaction: claim the key, run the work in a savepoint, record
/// the rendered outcome. A business error undoes the work's writes but keeps the claim, so the
/// error itself becomes this key's recorded answer.
fn claim_work_record<'t, C: Sync, T: Send, F>(
    tx: &'t Transaction<'t>,
    &(db, req, render, ctx, work): &'t (&Database, &IdempotentRequest, Render<'_, T>, &C, &F),
) -> Work<'t, Replayable>
where
    F: for<'u> Fn(&'u Transaction<'u>, &'u C) -> Work<'u, T> + Sync,
{
    Box::pin(async move {
        match durable::claim(tx, req).await? {
            Claim::New => {}
            Claim::Done(fingerprint, _) if fingerprint != req.fingerprint => {
                db.metrics.idempotency("reused");
                return Err(Error::IdempotencyKeyReused);
            }
            Claim::Done(_, response) => {
                db.metrics.idempotency("replayed");
                return Ok(Replayable {
                    response,
                    replayed: true,
                });
            }
        }
        tx.batch_execute("SAVEPOINT work").await?;
        let outcome = match work(tx, ctx).await {
            Err(e) if e.is_server_error() => return Err(e),
            outcome => outcome,
        };
        let end = if outcome.is_ok() {
            "RELEASE SAVEPOINT work"
        } else {
            "ROLLBACK TO SAVEPOINT work"
        };
        tx.batch_execute(end).await?;
        let response = render(&outcome);
        durable::complete(tx, req, &response).await?;
        db.metrics.idempotency("fresh");
        Ok(Replayable {
            response,
            replayed: false,
        })
    })
}
