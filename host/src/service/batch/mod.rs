//! Group commit. Orders (and charges) that arrive while a batch of their kind is being
//! committed wait for the next one, so one transaction, one hold of a hot row's lock and one
//! WAL flush serve many requests. There is no timer: a request alone goes at once, and a
//! batch is whatever queued while the previous one ran, up to `EDGECART_BATCH_MAX`. At most
//! [`WORKERS`] batches of a kind run at a time on a node, so that while one commits the next
//! already waits behind its locks. With `EDGECART_BATCH=off` every request is a batch of one,
//! written by the same code in the request's own task.
//!
//! A batch that fails as a whole is retried by [`Database::transaction`] when PostgreSQL asks
//! for it (deadlock, serialization); one that fails otherwise is split in halves and each half
//! tried alone, so one job that makes PostgreSQL fail never fails the others.

pub mod keys;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Instant,
};

use deadpool_postgres::Transaction;
use futures_util::future::BoxFuture;
use tokio::sync::oneshot;
use tracing::Instrument;

use super::{Answer, Committed, Database, Error, Unavailable, Work};
use crate::{config::Batching, metrics::Metrics};

/// How many batches of one kind a node commits at a time.
pub const WORKERS: usize = 2;

/// One kind of batched work: how a batch of its jobs is written.
pub trait Batch: Send + Sync + 'static {
    /// One request's prepared work.
    type Job: Send + Sync + 'static;

    /// The kind's name in metrics and traces: `orders`, `charges`.
    const KIND: &'static str;

    /// Writes `jobs` in `tx` and commits; one answer per job, in order. A job's error is its
    /// own (a stale job, to be prepared again); an `Err` of the whole fails every job.
    fn write<'t>(
        &'t self,
        tx: &'t Transaction<'t>,
        jobs: &'t [Self::Job],
    ) -> Work<'t, (Vec<Result<Answer, Error>>, Committed)>;

    /// Called once a batch committed, with how many of its jobs were applied.
    fn committed(&self, _applied: usize) {}
}

/// A queue of jobs of one kind and the workers that commit them in batches; cheap to clone.
pub struct Batcher<B: Batch>(Arc<Shared<B>>);

impl<B: Batch> Clone for Batcher<B> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

struct Shared<B: Batch> {
    batch: B,
    db: Database,
    settings: Batching,
    metrics: Metrics,
    state: Mutex<State<B::Job>>,
}

struct State<J> {
    queue: VecDeque<Queued<J>>,
    running: usize,
}

/// A job waiting for its batch, and where its answer goes.
struct Queued<J> {
    job: J,
    queued_at: Instant,
    reply: oneshot::Sender<Result<Answer, Error>>,
    /// The request's span: the batch's span is a child of its first job's and follows from
    /// the others' (links, in OpenTelemetry).
    span: tracing::Span,
}

impl<B: Batch> Batcher<B> {
    /// A batcher of `batch`'s jobs over `db`.
    pub fn new(batch: B, db: Database, settings: &Batching, metrics: Metrics) -> Self {
        Self(Arc::new(Shared {
            batch,
            db,
            settings: settings.clone(),
            metrics,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                running: 0,
            }),
        }))
    }

    /// Commits `job` in the next batch and returns its answer. A job is applied only by a
    /// committed batch; when the caller stops waiting before it was taken, it is dropped.
    pub async fn submit(&self, job: B::Job) -> Result<Answer, Error> {
        let (reply, answer) = oneshot::channel();
        let queued = Queued {
            job,
            queued_at: Instant::now(),
            reply,
            span: tracing::Span::current(),
        };
        if !self.0.settings.enabled {
            self.0.clone().run(vec![queued]).await;
        } else if self.0.enqueue(queued) {
            tokio::spawn(self.0.clone().drain());
        }
        answer.await.unwrap_or_else(|_| {
            Err(Error::DatabaseUnavailable(Unavailable::Batch(
                "the batch worker stopped",
            )))
        })
    }
}

impl<B: Batch> Shared<B> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<B::Job>> {
        // A worker that panicked while holding the lock left the queue consistent (every
        // change under it is one push or one drain), so the poison is ignored.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a job; `true` when a worker must be started for it.
    fn enqueue(&self, queued: Queued<B::Job>) -> bool {
        let mut state = self.lock();
        state.queue.push_back(queued);
        let start = state.running < WORKERS;
        if start {
            state.running += 1;
        }
        start
    }

    /// Takes the next batch, or retires the worker when nothing waits. Jobs whose caller is
    /// gone are dropped; jobs that waited too long are answered 503, unapplied.
    fn next_batch(&self) -> Option<Vec<Queued<B::Job>>> {
        let max_wait = self.settings.max_wait();
        let mut state = self.lock();
        let mut batch = Vec::new();
        while batch.len() < self.settings.max as usize {
            let Some(queued) = state.queue.pop_front() else {
                break;
            };
            if queued.reply.is_closed() {
                continue;
            }
            if queued.queued_at.elapsed() > max_wait {
                let _ = queued
                    .reply
                    .send(Err(Error::DatabaseUnavailable(Unavailable::Batch(
                        "the request waited too long for its batch",
                    ))));
                continue;
            }
            batch.push(queued);
        }
        if batch.is_empty() && state.queue.is_empty() {
            state.running -= 1;
            return None;
        }
        Some(batch)
    }

    /// A worker: commits batches until the queue is empty.
    async fn drain(self: Arc<Self>) {
        let mut panicked = Retire(Some(self.clone()));
        while let Some(batch) = self.next_batch() {
            if !batch.is_empty() {
                self.clone().run(batch).await;
            }
        }
        panicked.0 = None;
    }

    /// Commits one batch and answers its jobs; a batch that fails for another reason than
    /// PostgreSQL being unavailable is split in halves, each tried alone.
    fn run(self: Arc<Self>, mut batch: Vec<Queued<B::Job>>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let now = Instant::now();
            let span = match batch.first() {
                Some(first) => {
                    tracing::info_span!(parent: &first.span, "batch", kind = B::KIND, size = batch.len())
                }
                None => return,
            };
            for queued in &batch {
                self.metrics
                    .batch_wait(B::KIND, now.duration_since(queued.queued_at));
                span.follows_from(&queued.span);
            }
            let mut jobs = Vec::with_capacity(batch.len());
            let mut replies = Vec::with_capacity(batch.len());
            for queued in batch.drain(..) {
                jobs.push(queued.job);
                replies.push((queued.reply, queued.queued_at, queued.span));
            }
            let attempts = std::sync::atomic::AtomicU32::new(0);
            let ctx = (&self.batch, jobs.as_slice(), &attempts);
            let result = self
                .db
                .transaction(&ctx, write_batch::<B>)
                .instrument(span)
                .await;
            let retries = attempts.into_inner().saturating_sub(1);
            self.metrics
                .batch_done(B::KIND, jobs.len(), retries, result.is_ok());
            match result {
                Ok(answers) => {
                    let applied = answers
                        .iter()
                        .filter(|a| matches!(a, Ok(a) if a.origin == super::Origin::Applied))
                        .count();
                    self.batch.committed(applied);
                    for ((reply, ..), answer) in replies.into_iter().zip(answers) {
                        let _ = reply.send(answer);
                    }
                }
                Err(error) if jobs.len() > 1 && !matches!(error, Error::DatabaseUnavailable(_)) => {
                    tracing::warn!(%error, size = jobs.len(), kind = B::KIND, "batch failed; trying its halves alone");
                    let mut requeued: Vec<Queued<B::Job>> = jobs
                        .into_iter()
                        .zip(replies)
                        .map(|(job, (reply, queued_at, span))| Queued {
                            job,
                            queued_at,
                            reply,
                            span,
                        })
                        .collect();
                    let second = requeued.split_off(requeued.len() / 2);
                    self.clone().run(requeued).await;
                    self.run(second).await;
                }
                Err(error) => {
                    let shared = Arc::new(error);
                    for (reply, ..) in replies {
                        let _ = reply.send(Err(Error::Shared(shared.clone())));
                    }
                }
            }
        })
    }
}

/// Retires a worker that panicked, starting another if jobs wait (a worker that returns
/// normally has retired itself in [`Shared::next_batch`]).
struct Retire<B: Batch>(Option<Arc<Shared<B>>>);

impl<B: Batch> Drop for Retire<B> {
    fn drop(&mut self) {
        let Some(shared) = self.0.take() else {
            return;
        };
        let restart = {
            let mut state = shared.lock();
            state.running -= 1;
            let restart = !state.queue.is_empty() && state.running < WORKERS;
            if restart {
                state.running += 1;
            }
            restart
        };
        if restart {
            tokio::spawn(shared.drain());
        }
    }
}

type BatchCtx<'a, B> = (
    &'a B,
    &'a [<B as Batch>::Job],
    &'a std::sync::atomic::AtomicU32,
);

/// One attempt at a batch's transaction.
fn write_batch<'t, B: Batch>(
    tx: &'t Transaction<'t>,
    &(batch, jobs, attempts): &'t BatchCtx<'_, B>,
) -> Work<'t, (Vec<Result<Answer, Error>>, Committed)> {
    attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    batch.write(tx, jobs)
}
