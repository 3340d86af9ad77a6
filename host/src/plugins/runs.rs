//! Recorded runs: a sample of the accepted live calls (`EDGECART_PLUGIN_RUN_SAMPLE`) and
//! every rejection and failure, with input, config, decision, fuel, duration and logs, for
//! `GET …/runs` and replay. Off the request path: a call is queued on a bounded queue (a
//! full queue drops it, counted) and one task writes what queued in batches, each batch one
//! statement, pruning each plugin to the newest [`KEPT_PER_PLUGIN`].

use std::{collections::HashMap, sync::Arc};

use tokio::sync::mpsc;

use super::{Called, HookInput, json, registry::Active};
use crate::{
    domain::RunOutcome,
    metrics::{Metrics, RunRecording},
    rules::Decision,
    store::{
        PgPool,
        runs::{self as store, NewRun},
    },
};

pub use store::KEPT_PER_PLUGIN;

/// How many runs may wait to be written; more are dropped (and counted).
const RUN_QUEUE: usize = 4096;
/// Most runs one statement writes.
const WRITE_BATCH: usize = 256;

/// A live call to record: the plugin as it ran, its input and what came of it.
#[derive(Debug)]
pub(super) struct LiveRun {
    pub(super) plugin: Arc<Active>,
    pub(super) input: HookInput,
    pub(super) called: Called,
}

/// How a call ended, as a recorded run says it.
pub(super) fn outcome_of(called: &Called) -> RunOutcome {
    match &called.outcome {
        Ok(Decision::Reject(_)) => RunOutcome::Rejected,
        Ok(_) => RunOutcome::Accepted,
        Err(_) => RunOutcome::Failed,
    }
}

/// The queue of runs to record and the share of accepted calls that go on it.
pub(super) struct Recorder {
    queue: mpsc::Sender<LiveRun>,
    sample: f64,
    metrics: Metrics,
}

impl Recorder {
    /// Starts the writer over `pool`; it runs until the recorder is dropped.
    pub(super) fn start(pool: PgPool, sample: f64, metrics: Metrics) -> Self {
        let (queue, runs) = mpsc::channel(RUN_QUEUE);
        tokio::spawn(write_off(pool, runs, metrics.clone()));
        Self {
            queue,
            sample,
            metrics,
        }
    }

    /// Whether a call that came to `outcome` is recorded: every rejection and failure, and
    /// accepted calls at the sample rate.
    pub(super) fn wants(&self, outcome: RunOutcome) -> bool {
        outcome != RunOutcome::Accepted || (self.sample > 0.0 && fastrand::f64() < self.sample)
    }

    /// Queues a run, or drops it (counted) when the queue is full.
    pub(super) fn queue(&self, run: LiveRun) {
        if let Err(mpsc::error::TrySendError::Full(run) | mpsc::error::TrySendError::Closed(run)) =
            self.queue.try_send(run)
        {
            self.metrics
                .plugin_runs(&run.plugin.name, RunRecording::Dropped, 1);
        }
    }
}

/// Writes queued runs in batches of what waited, until the queue closes. A batch that
/// cannot be written is dropped (counted, logged): runs are evidence, never a reason to hold
/// memory while PostgreSQL is away.
async fn write_off(pool: PgPool, mut queue: mpsc::Receiver<LiveRun>, metrics: Metrics) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while queue.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        let rows: Vec<NewRun> = batch.drain(..).map(NewRun::from).collect();
        let written = write_batch(&pool, &rows).await;
        let result = match written {
            Ok(()) => RunRecording::Recorded,
            Err(error) => {
                tracing::warn!(runs = rows.len(), %error, "recording plugin runs failed; they are dropped");
                RunRecording::Failed
            }
        };
        let mut by_plugin: HashMap<&str, usize> = HashMap::new();
        for run in &rows {
            *by_plugin.entry(&run.plugin).or_default() += 1;
        }
        for (plugin, runs) in by_plugin {
            metrics.plugin_runs(plugin, result, runs);
        }
    }
}

/// Writes one batch and its pruning in one transaction: a reader sees both or neither.
async fn write_batch(pool: &PgPool, rows: &[NewRun]) -> Result<(), String> {
    let mut client = pool.get().await.map_err(|e| e.to_string())?;
    let written = async {
        let tx = client.transaction().await?;
        store::insert(&tx, rows).await?;
        tx.commit().await
    };
    written.await.map_err(|e| e.to_string())
}

impl From<LiveRun> for NewRun {
    fn from(run: LiveRun) -> Self {
        let LiveRun {
            plugin,
            input,
            called,
        } = run;
        let config = serde_json::from_str(plugin.config.json())
            .unwrap_or_else(|_| serde_json::Value::Object(serde_json::Map::new()));
        NewRun {
            plugin: plugin.name.clone(),
            version: plugin.version.clone(),
            hook: input.hook().as_str(),
            outcome: outcome_of(&called),
            input: input.to_json(),
            config,
            decision: json::outcome_json(&called.outcome),
            fuel: i64::try_from(called.fuel).unwrap_or(i64::MAX),
            duration_micros: i64::try_from(called.duration.as_micros()).unwrap_or(i64::MAX),
            logs: serde_json::to_value(&called.logs).unwrap_or_default(),
        }
    }
}
