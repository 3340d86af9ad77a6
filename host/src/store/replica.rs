//! A streaming replica for reads that may be a moment old: its pool, and a watch that keeps
//! measuring how far it lags the primary (`pg_last_xact_replay_timestamp`) and marks it
//! usable only while that is within the bound. A replica that is down, or lags more, is left
//! aside until it catches up. Which reads may use it is the service layer's choice.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use super::PgPool;

/// How often the watch measures the lag.
pub const CHECK_EVERY: Duration = Duration::from_millis(100);

/// The lag in milliseconds: 0 while the replica has replayed everything it received (an idle
/// primary sends nothing, however old its last transaction), otherwise the age of the last
/// transaction it replayed; 0 on a server that is not a replica at all.
const LAG_MS: &str = "
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0::float8
  WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8
  ELSE COALESCE(
    extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 * 1000,
    'Infinity')
END";

/// Why the replica's lag could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum LagError {
    /// No connection to the replica.
    #[error("no connection to the replica")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The replica failed the query.
    #[error("the replica failed the lag query")]
    Query(#[from] tokio_postgres::Error),
}

/// A replica's pool and whether it may be read now; cheap to clone.
#[derive(Clone)]
pub struct Replica {
    pool: PgPool,
    max_lag: Duration,
    usable: Arc<AtomicBool>,
}

impl Replica {
    /// A replica reached through `pool`, left aside while it lags more than `max_lag`. It
    /// starts unusable: the first check lets it in.
    pub fn new(pool: PgPool, max_lag: Duration) -> Self {
        Self {
            pool,
            max_lag,
            usable: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Its pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the last check found it up and within the lag bound.
    pub fn is_usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }

    /// Leaves it aside until the next check finds it usable (a read on it just failed).
    pub fn set_aside(&self) {
        self.usable.store(false, Ordering::Relaxed);
    }

    /// Its lag now, one round trip; an error when it cannot be reached.
    pub async fn lag(&self) -> Result<Duration, LagError> {
        let client = self.pool.get().await?;
        let lag_ms: f64 = client.query_one(LAG_MS, &[]).await?.get(0);
        Ok(Duration::try_from_secs_f64(lag_ms.max(0.0) / 1000.0).unwrap_or(Duration::MAX))
    }

    /// Checks the lag every [`CHECK_EVERY`] until `stop` is cancelled, calling `observe`
    /// with each result (`None`: unreachable), and logs when the replica is set aside or
    /// taken back.
    pub async fn watch(self, observe: impl Fn(Option<Duration>) + Send, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let lag = match tokio::time::timeout(self.max_lag.max(CHECK_EVERY), self.lag()).await {
                Ok(Ok(lag)) => Some(lag),
                Ok(Err(error)) => {
                    tracing::debug!(error = %crate::telemetry::chain(&error), "replica unreachable");
                    None
                }
                Err(_) => None,
            };
            observe(lag);
            let usable = lag.is_some_and(|lag| lag <= self.max_lag);
            let was = self.usable.swap(usable, Ordering::Relaxed);
            match (was, usable) {
                (true, false) => tracing::warn!(
                    lag_ms = lag.map(|lag| lag.as_millis()),
                    "replica left aside: catalog reads go to the primary"
                ),
                (false, true) => tracing::info!("replica in use for catalog reads"),
                _ => {}
            }
        }
    }
}
