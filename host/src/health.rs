//! Whether this node can serve: PostgreSQL and Redis answer and the plugins are loaded
//! (readiness), and the gauges that are read rather than counted (pool state, Redis link).

use crate::{
    metrics::{Dependency, Metrics},
    plugins::Registry,
    redis::Redis,
    store::PgPool,
};

/// What readiness looks at; cheap to clone.
#[derive(Clone)]
pub struct Health {
    pool: PgPool,
    redis: Redis,
    registry: Registry,
    metrics: Metrics,
}

impl Health {
    /// Watches these dependencies.
    pub fn new(pool: PgPool, redis: Redis, registry: Registry, metrics: Metrics) -> Self {
        Self {
            pool,
            redis,
            registry,
            metrics,
        }
    }

    /// The dependencies that do not answer right now (empty when ready).
    pub async fn down(&self) -> Vec<Dependency> {
        let postgres = async {
            let client = self.pool.get().await.ok()?;
            client.simple_query("SELECT 1").await.ok()
        };
        let (postgres, redis) = tokio::join!(postgres, self.redis.ping());
        let mut down = Vec::new();
        if postgres.is_none() {
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
