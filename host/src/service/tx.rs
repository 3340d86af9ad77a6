//! How a use case runs against PostgreSQL. There is one runner, [`Database::transaction`]: a
//! unit of work in a transaction, tried again on serialization failures and deadlocks, that
//! ends by committing itself with [`commit`] (its last statements travel with the COMMIT, so
//! the rows they lock are held for their execution and the flush only).
//!
//! [`Database::answer`] frames requests whose answer is rendered and may be idempotent: the
//! Redis fast path first, then the work prepared outside any transaction (reads, rules) and
//! run (by a batch, which claims the key and records the answer in its transaction); a
//! refusal while preparing is recorded by a transaction of its own, and inputs that changed
//! under the work are prepared once more.

use deadpool_postgres::Transaction;
use futures_util::future::BoxFuture;
use tokio_postgres::types::ToSql;
use tracing::Instrument;

use super::{
    Error,
    batch::keys::{Keys, Outcome},
};
use crate::{
    idempotency::{FastPath, IdempotentRequest, StoredResponse, fast::FastStore},
    metrics::{Metrics, TxResult},
    store::{self, BatchRows, Bound, PgPool},
};

/// How many times a transaction is tried when PostgreSQL asks for a retry.
const MAX_ATTEMPTS: usize = 5;

/// How many times a request's work is prepared when its inputs change under it.
const MAX_PREPARES: usize = 2;

/// Turns a use case's outcome into the bytes a client gets; supplied by the HTTP layer so the
/// answer can be recorded inside the transaction without this layer knowing HTTP.
pub type Render<'a, T> = &'a (dyn Fn(Result<&T, &Error>) -> StoredResponse + Sync);

/// A [`Render`] a batch worker can hold: owned, and sendable to another task.
pub type SharedRender<T> =
    std::sync::Arc<dyn Fn(Result<&T, &Error>) -> StoredResponse + Send + Sync>;

/// The future of one unit of work inside a transaction. Boxed because the work borrows the
/// transaction, which plain async closures cannot yet express with a `Send` future.
pub type Work<'t, T> = BoxFuture<'t, Result<T, Error>>;

/// A statement and its parameters.
pub type Statement<'a> = (&'a str, &'a [&'a (dyn ToSql + Sync)]);

/// Where an answer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The work ran now and committed.
    Applied,
    /// The request was refused now (a business error); nothing changed.
    Refused,
    /// An earlier request's answer, sent again.
    Replayed,
}

/// A rendered answer and where it comes from.
#[derive(Debug)]
pub struct Answer {
    /// What to send.
    pub response: StoredResponse,
    /// Whether it was applied, refused or replayed.
    pub origin: Origin,
}

impl Answer {
    /// An earlier answer sent again.
    pub fn replayed(response: StoredResponse) -> Self {
        Self {
            response,
            origin: Origin::Replayed,
        }
    }
}

/// Proof that a unit of work committed itself with [`commit`].
#[derive(Debug)]
pub struct Committed(());

/// Runs `statements` as the transaction's last ones and commits in the same round trip: all
/// are sent before any answer is awaited. When one fails, the commit rolls the transaction
/// back instead (and the first failure is returned). Either way `tx` is left in a fresh,
/// empty transaction, which the runner drops.
pub async fn commit(
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

/// Commits the statements that write `rows` as the transaction's last ones (see [`commit`]).
pub async fn commit_rows(
    tx: &Transaction<'_>,
    rows: &[&(dyn BatchRows + Sync)],
) -> Result<Committed, tokio_postgres::Error> {
    let bound: Vec<Bound<'_>> = rows.iter().flat_map(|rows| rows.statements()).collect();
    let statements: Vec<Statement<'_>> = bound
        .iter()
        .map(|(sql, params)| (*sql, params.as_slice()))
        .collect();
    commit(tx, &statements).await
}

/// The database plus the idempotency fast path: everything a service needs to run work. The
/// command line's short-lived uses run without the fast path (PostgreSQL alone decides).
#[derive(Clone)]
pub struct Database {
    pool: PgPool,
    fast: Option<FastStore>,
    metrics: Metrics,
}

impl Database {
    /// Wraps the pool and the fast path.
    pub fn new(pool: PgPool, fast: FastStore, metrics: Metrics) -> Self {
        Self {
            pool,
            fast: Some(fast),
            metrics,
        }
    }

    /// The pool alone, without the Redis fast path (for the command line).
    pub fn without_fast_path(pool: PgPool) -> Self {
        Self {
            pool,
            fast: None,
            metrics: Metrics::new(),
        }
    }

    /// The pool, for reads that need no transaction.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `work(tx, ctx)` in a transaction the work commits with [`commit`] (which the
    /// [`Committed`] it returns proves); tries the whole transaction again on serialization
    /// failures and deadlocks, at most [`MAX_ATTEMPTS`] times, recording each try's latency
    /// and how it ended. `ctx` carries what the work borrows.
    pub async fn transaction<C: Sync + ?Sized, T: Send>(
        &self,
        ctx: &C,
        work: impl for<'t> Fn(&'t Transaction<'t>, &'t C) -> Work<'t, (T, Committed)> + Sync,
    ) -> Result<T, Error> {
        let mut attempt = 1;
        loop {
            let started = std::time::Instant::now();
            let result = async {
                let mut client = self.pool.get().await?;
                let tx = client.transaction().await?;
                let (value, Committed(_)) = work(&tx, ctx).await?;
                // What is left open is the empty transaction `commit` began; dropping it
                // rolls it back without waiting for the answer.
                drop(tx);
                Ok(value)
            }
            .instrument(tracing::debug_span!("sql.transaction", attempt))
            .await;
            let retry = matches!(&result, Err(Error::Database(e)) if store::is_retryable(e))
                && attempt < MAX_ATTEMPTS;
            let label = match &result {
                Ok(_) => TxResult::Commit,
                Err(_) if retry => TxResult::Retry,
                Err(_) => TxResult::Error,
            };
            self.metrics.observe_transaction(label, started.elapsed());
            if !retry {
                return result;
            }
            attempt += 1;
        }
    }

    /// Answers a request: `prepare` runs outside any transaction (reads, rules), `run` applies
    /// what it prepared (a batch claims the key and records the answer with its writes). With
    /// an idempotency key the work runs at most once per key: a repeat gets the first answer,
    /// a key in flight 409, a key reused for another request 422. A business error is an
    /// answer too (rendered, and recorded for the key); a server error (5xx) is returned and
    /// never recorded, so the client may retry with the same key. Inputs that changed under
    /// the work ([`Error::is_stale`]) are prepared once more, then refused.
    pub async fn answer<P, T, F, R>(
        &self,
        idempotency: Option<&IdempotentRequest>,
        render: Render<'_, T>,
        prepare: impl Fn() -> F,
        run: impl Fn(P) -> R,
    ) -> Result<Answer, Error>
    where
        F: Future<Output = Result<P, Error>>,
        R: Future<Output = Result<Answer, Error>>,
    {
        // Held until the answer: dropping the request before then frees its key in Redis.
        let in_flight = match self.fast.as_ref().zip(idempotency) {
            Some((fast, req)) => match fast.begin(req).await? {
                FastPath::Replay(response) => return Ok(Answer::replayed(response)),
                FastPath::Proceed(in_flight) => Some(in_flight),
            },
            None => None,
        };
        let result = async {
            let mut prepares = 1;
            let refusal = loop {
                let prepared = match prepare().await {
                    Ok(prepared) => prepared,
                    Err(error) => break error,
                };
                match run(prepared).await {
                    Ok(done) => return Ok(done),
                    Err(error) if error.is_stale() && prepares < MAX_PREPARES => prepares += 1,
                    Err(error) => break error,
                }
            };
            self.refuse(idempotency, render, refusal).await
        }
        .await;
        // Our in-flight marker carries this request's fingerprint: replace it with the answer,
        // or remove it, so that it never speaks for the key's real owner (a reuse found only
        // in PostgreSQL must not make the original request's replays look like reuses).
        if let Some(in_flight) = in_flight {
            match &result {
                Ok(done) => in_flight.complete(&done.response).await,
                Err(_) => in_flight.abandon().await,
            }
        }
        result
    }

    /// The answer to a refused request: a server error is returned as is; a business error
    /// is rendered, and recorded for the key in a transaction of its own.
    async fn refuse<T>(
        &self,
        idempotency: Option<&IdempotentRequest>,
        render: Render<'_, T>,
        refusal: Error,
    ) -> Result<Answer, Error> {
        if refusal.is_server_error() {
            return Err(refusal);
        }
        let Some(req) = idempotency else {
            return Ok(Answer {
                response: render(Err(&refusal)),
                origin: Origin::Refused,
            });
        };
        self.transaction(&(req, render, &refusal, &self.metrics), record_refusal)
            .await
    }
}

/// Records a refusal as the key's answer, in a transaction of its own: the key is claimed
/// and settled as a batch of one refused request would be (an earlier answer wins).
fn record_refusal<'t, T>(
    tx: &'t Transaction<'t>,
    &(req, render, refusal, metrics): &'t (&IdempotentRequest, Render<'_, T>, &Error, &Metrics),
) -> Work<'t, (Answer, Committed)> {
    Box::pin(async move {
        let keys = Keys::claim(tx, vec![Some(req)], metrics).await?;
        let outcome = keys
            .is_fresh(0)
            .then(|| Outcome::Refused(render(Err(refusal))));
        let (answers, records) = keys.settle(vec![outcome], metrics);
        let committed = commit_rows(tx, &[&records]).await?;
        let answer = answers
            .into_iter()
            .next()
            .unwrap_or(Err(Error::DatabaseUnavailable(super::Unavailable::Batch(
                "the refusal gave no answer",
            ))))?;
        Ok((answer, committed))
    })
}
