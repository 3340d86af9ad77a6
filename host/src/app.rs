//! The composition root: [`App`], the shared state built once (pool, Redis, services, metrics),
//! and [`Application`], a bound server that runs until a shutdown signal and then drains.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;

use crate::{
    config::{Secret, Settings},
    events::{
        consumer::{Consumer, ConsumerSettings},
        relay::{Relay, RelaySettings},
        signal::OutboxSignal,
        sink::Sink,
    },
    http,
    idempotency::{durable, fast::FastStore},
    metrics::Metrics,
    plugins::{self, Registry, Runtime},
    redis::Redis,
    rules::Rules,
    service::{Catalog, Database, Orders, Plugins, Points},
    store::{self, PgPool},
};

/// Why the server could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be created or migrated.
    #[error(transparent)]
    Database(#[from] store::SetupError),
    /// The Redis client could not be built (a bad URL).
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),
    /// The plugin runtime could not start, or the default plugins could not be registered.
    #[error("plugins: {0}")]
    Plugins(String),
    /// The notification consumer could not be built.
    #[error("events: {0}")]
    Events(String),
    /// The listener could not bind or serve.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
}

/// The shared state every handler sees; cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    settings: Settings,
    pool: PgPool,
    redis: Redis,
    metrics: Metrics,
    points: Points,
    orders: Orders,
    catalog: Catalog,
    plugins: Plugins,
    outbox: OutboxSignal,
}

impl App {
    /// Prepares the database (create, migrate), connects Redis in the background and builds
    /// the services.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let pool = store::prepare_database(&settings).await?;
        let metrics = Metrics::new();
        let redis = Redis::connect(&settings, metrics.clone()).await?;
        let fast = FastStore::new(
            redis.clone(),
            metrics.clone(),
            settings.idempotency_retention(),
            Duration::from_secs(settings.idempotency_in_flight_secs),
        );
        let db = Database::new(pool.clone(), fast, metrics.clone());
        let cache_dir =
            Some(settings.plugin_cache_dir.clone()).filter(|d| !d.as_os_str().is_empty());
        let runtime = Runtime::new(settings.plugin_limits(), cache_dir)
            .map_err(|e| StartError::Plugins(format!("{e:#}")))?;
        let registry = Registry::new(runtime, metrics.clone());
        let plugins = Plugins::new(db.clone(), registry.clone(), redis.clone());
        plugins
            .register_defaults(&settings.plugin_dir)
            .await
            .map_err(|e| StartError::Plugins(e.to_string()))?;
        if let Err(e) = registry.sync(&pool).await {
            tracing::error!(error = %e, "could not load the plugins; not ready until they load");
        }
        let rules: Arc<dyn Rules> = Arc::new(registry);
        let points = Points::new(db.clone(), rules.clone(), metrics.clone());
        let outbox = OutboxSignal::default();
        let orders = Orders::new(db.clone(), rules, metrics.clone(), outbox.clone());
        let catalog = Catalog::new(db, settings.popular_ttl(), metrics.clone());
        Ok(Self(Arc::new(Inner {
            settings,
            pool,
            redis,
            metrics,
            points,
            orders,
            catalog,
            plugins,
            outbox,
        })))
    }

    /// The settings this node runs with.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The points service.
    pub fn points(&self) -> &Points {
        &self.0.points
    }

    /// The orders service.
    pub fn orders(&self) -> &Orders {
        &self.0.orders
    }

    /// The catalog service.
    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }

    /// The plugin admin service.
    pub fn plugins(&self) -> &Plugins {
        &self.0.plugins
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The admin token, when the admin API is open.
    pub fn admin_token(&self) -> Option<&Secret> {
        self.0
            .settings
            .admin_token
            .as_ref()
            .filter(|t| !t.expose().is_empty())
    }

    /// This node's outbox relay.
    pub fn relay(&self) -> Relay {
        Relay::new(
            self.0.pool.clone(),
            self.0.redis.clone(),
            self.0.settings.database_url.clone(),
            RelaySettings::from(&self.0.settings),
            self.0.metrics.clone(),
        )
    }

    /// A notification consumer with a name unique to this process.
    pub fn consumer(&self) -> Result<Consumer, StartError> {
        let settings = &self.0.settings;
        let sink = Sink::new(
            settings.webhook_url.as_deref(),
            Duration::from_millis(settings.webhook_timeout_ms),
        )
        .map_err(|e| StartError::Events(e.to_string()))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("consumer-{}-{nanos:x}", std::process::id());
        Consumer::new(
            &self.0.redis,
            name,
            sink,
            ConsumerSettings::from(settings),
            self.0.metrics.clone(),
        )
        .map_err(StartError::Redis)
    }

    /// Names the dependencies that do not answer right now (empty when ready).
    pub async fn unready_dependencies(&self) -> Vec<&'static str> {
        let postgres = async {
            let client = self.0.pool.get().await.ok()?;
            client.simple_query("SELECT 1").await.ok()
        };
        let (postgres, redis) = tokio::join!(postgres, self.0.redis.ping());
        let mut down = Vec::new();
        if postgres.is_none() {
            down.push("postgres");
        }
        if redis.is_err() {
            down.push("redis");
        }
        if !self.0.plugins.registry().is_loaded() {
            down.push("plugins");
        }
        down
    }

    /// Updates the gauges that are read rather than counted.
    pub fn refresh_gauges(&self) {
        let status = self.0.pool.status();
        self.0.metrics.set_pool_state(
            status.size,
            status.available,
            status.waiting,
            self.0.redis.is_connected(),
        );
    }

    /// Deletes expired idempotency records every minute, in batches.
    async fn purge_idempotency_records(self) {
        let retention = self.0.settings.idempotency_retention();
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Ok(client) = self.0.pool.get().await else {
                continue;
            };
            loop {
                match durable::purge(&client, retention, 10_000).await {
                    Ok(10_000) => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "idempotency purge failed");
                        break;
                    }
                }
            }
        }
    }
}

/// A bound server: build it, read its address, run it.
pub struct Application {
    listener: TcpListener,
    app: App,
}

impl Application {
    /// Builds the state and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let listener = TcpListener::bind(settings.listen).await?;
        let app = App::build(settings).await?;
        Ok(Self { listener, app })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.app.settings().listen)
    }

    /// The shared state (tests use it to reach the same services).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until `shutdown` completes, then stops accepting and waits up to the grace
    /// period for in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let grace = self.app.settings().shutdown_grace();
        let purge = tokio::spawn(self.app.clone().purge_idempotency_records());
        let (stop_events, events_stop) = tokio::sync::watch::channel(false);
        let signal = tokio::spawn(self.app.0.outbox.clone().forward(self.app.0.pool.clone()));
        let relay = self.app.settings().relay_enabled.then(|| {
            tokio::spawn(
                self.app
                    .relay()
                    .run(self.app.0.outbox.local(), events_stop.clone()),
            )
        });
        let consumer = if self.app.settings().consumer_enabled {
            Some(tokio::spawn(self.app.consumer()?.run()))
        } else {
            None
        };
        let sync = tokio::spawn(plugins::keep_in_sync(
            self.app.plugins().registry().clone(),
            self.app.0.pool.clone(),
            self.app.0.redis.clone(),
            Duration::from_millis(self.app.settings().plugin_sync_ms),
        ));
        let router = http::router(self.app.clone());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server = axum::serve(self.listener, router).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let mut stopping = stop_rx.clone();
        let deadline = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        };
        let result = tokio::select! {
            result = server => result.map_err(StartError::from),
            () = deadline => {
                tracing::warn!("shutdown grace period over; dropping remaining connections");
                Ok(())
            }
        };
        purge.abort();
        sync.abort();
        signal.abort();
        let _ = stop_events.send(true);
        if let Some(relay) = relay {
            // The batch in flight commits (or rolls back) before the relay stops.
            let _ = tokio::time::timeout(Duration::from_secs(5), relay).await;
        }
        if let Some(consumer) = consumer {
            consumer.abort();
        }
        tracing::info!("edgecart stopped");
        result
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining");
}
