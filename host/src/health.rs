//! Whether this node can serve: PostgreSQL and Redis answer and the plugins are loaded
//! (readiness), and the gauges that are read rather than counted (pool state, Redis link).
//!
//! Readiness is checked at most once per [`READINESS_TTL`]: the first caller after the last
//! answer has aged checks again, callers meanwhile wait for that check and share it, and the
//! rest get the last answer. PostgreSQL is asked over a connection of its own (the probe
//! pool), never one of the requests' pool, so a flood of `/readyz` or `/metrics` neither
//! takes a connection from an order nor waits behind them, and it reaches PostgreSQL and
//! Redis at most once a second.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::Mutex;

use crate::{
    metrics::{Dependency, Metrics},
    plugins::Registry,
    redis::Redis,
    store::PgPool,
};

/// How long a readiness answer is reused before the next caller checks again.
pub const READINESS_TTL: Duration = Duration::from_secs(1);

/// What readiness looks at; cheap to clone.
#[derive(Clone)]
pub struct Health {
    /// The requests' pool, whose state the gauges show.
    pool: PgPool,
    /// The readiness check's own connection.
    probe: PgPool,
    /// How long the PostgreSQL check may take before PostgreSQL counts as down.
    probe_timeout: Duration,
    redis: Redis,
    registry: Registry,
    metrics: Metrics,
    /// The last answer and when it was made. An async mutex, held across the check, so that
    /// concurrent callers wait for one check instead of each making their own.
    last: Arc<Mutex<Option<Checked>>>,
}

/// A readiness answer and its time.
struct Checked {
    at: Instant,
    down: Vec<Dependency>,
}

impl Health {
    /// Watches these dependencies; PostgreSQL through `probe`, within `probe_timeout`.
    pub fn new(
        pool: PgPool,
        probe: PgPool,
        probe_timeout: Duration,
        redis: Redis,
        registry: Registry,
        metrics: Metrics,
    ) -> Self {
        Self {
            pool,
            probe,
            probe_timeout,
            redis,
            registry,
            metrics,
            last: Arc::default(),
        }
    }

    /// The dependencies that did not answer at the last check, at most [`READINESS_TTL`] ago
    /// (empty when ready).
    pub async fn down(&self) -> Vec<Dependency> {
        let mut last = self.last.lock().await;
        if let Some(checked) = last.as_ref().filter(|c| c.at.elapsed() < READINESS_TTL) {
            return checked.down.clone();
        }
        let down = self.check().await;
        *last = Some(Checked {
            at: Instant::now(),
            down: down.clone(),
        });
        down
    }

    /// Asks every dependency now.
    async fn check(&self) -> Vec<Dependency> {
        let postgres = tokio::time::timeout(self.probe_timeout, async {
            let client = self.probe.get().await.ok()?;
            client.simple_query("SELECT 1").await.ok()
        });
        let (postgres, redis) = tokio::join!(postgres, self.redis.ping());
        let mut down = Vec::new();
        if !matches!(postgres, Ok(Some(_))) {
            down.push(Dependency::Postgres);
        }
        if redis.is_err() {
            down.push(Dependency::Redis);
        }
        if !self.registry.is_loaded() {
            down.push(Dependency::Plugins);
        }
        down
    }

    /// Updates the gauges that are read rather than counted, and which dependencies are up.
    pub async fn refresh_gauges(&self) {
        let status = self.pool.status();
        self.metrics.set_pool_state(
            status.size,
            status.available,
            status.waiting,
            self.redis.is_connected(),
        );
        let down = self.down().await;
        self.metrics.set_dependencies(&down);
    }
}
