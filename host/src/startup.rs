//! Starting a node: [`App::build`] is the composition root (database prepared, Redis
//! connected, plugins loaded, services wired), and [`Application`] binds the listeners,
//! starts the background tasks and serves until a shutdown signal, then drains.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    app::{App, Inner},
    auth::{AuthSetupError, Authenticator},
    config::Settings,
    events::{
        consumer::{Consumer, ConsumerSettings},
        dead_letters::DeadLetters,
        relay::{Relay, RelaySettings},
        signal::OutboxSignal,
        sink::{Sink, SinkError},
    },
    health::Health,
    http,
    idempotency::{durable, fast::FastStore},
    metrics::Metrics,
    plugins::{self, Registry, Runtime, RuntimeError},
    redis::Redis,
    rules::Rules,
    service::{self, Catalog, Database, Operators, Orders, Plugins, Points},
    shutdown::Background,
    store::{self, PgPool, PgTarget},
};

/// How long a relay may take to finish its batch in flight at shutdown.
const BACKGROUND_STOP: Duration = Duration::from_secs(5);

/// Why the server could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be created or migrated.
    #[error("the database could not be prepared")]
    Database(#[from] store::SetupError),
    /// Redis could not be set up: a bad URL or TLS setting, or its certificate refused.
    #[error("Redis could not be set up")]
    RedisSetup(#[from] crate::redis::SetupError),
    /// A Redis client could not be built.
    #[error("the Redis client could not be built")]
    Redis(#[from] fred::error::Error),
    /// The plugin sandbox could not start.
    #[error("the plugin runtime could not start")]
    Runtime(#[from] RuntimeError),
    /// The default plugins could not be registered.
    #[error("the default plugins could not be registered")]
    Plugins(#[source] service::Error),
    /// The authentication settings are refused, or the JWT keys could not be loaded.
    #[error("end-user authentication could not be set up")]
    Auth(#[from] AuthSetupError),
    /// The notification sink could not be built.
    #[error("the notification sink could not be built")]
    Sink(#[from] SinkError),
    /// The listener could not bind or serve.
    #[error("the HTTP listener failed")]
    Io(#[from] std::io::Error),
}

/// The parts the background tasks need beside the [`App`].
struct Parts {
    pool: PgPool,
    /// The pool's server and database, for the sessions of their own (the relay's `LISTEN`).
    database: PgTarget,
    redis: Redis,
    /// The idempotency fast path, whose node liveness key a serving node keeps.
    fast: FastStore,
    registry: Registry,
    outbox: OutboxSignal,
    /// The read replica, whose lag a serving node keeps checking.
    replica: Option<store::Replica>,
}

impl App {
    /// Prepares the database (create, migrate), connects Redis in the background, loads the
    /// plugins and builds the services.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        Ok(Self::assemble(settings).await?.0)
    }

    async fn assemble(settings: Settings) -> Result<(Self, Parts), StartError> {
        let auth = Authenticator::from_settings(&settings).await?;
        let database =
            PgTarget::from_url(settings.database_url.expose()).map_err(store::SetupError::from)?;
        let pool = store::prepare(&database, &settings).await?;
        let metrics = Metrics::new();
        let redis = Redis::connect(&settings, metrics.clone()).await?;
        let fast = FastStore::new(
            redis.clone(),
            metrics.clone(),
            settings.idempotency_retention(),
            Duration::from_secs(settings.idempotency_in_flight_secs),
        );
        let db = Database::new(pool.clone(), fast.clone(), metrics.clone());
        let replica = store::replica(&settings)?;
        let cache_dir =
            Some(settings.plugins.cache_dir.clone()).filter(|d| !d.as_os_str().is_empty());
        let runtime = Runtime::new(settings.plugins.limits(), cache_dir)?;
        let registry = Registry::new(runtime, metrics.clone());
        registry.record_runs(pool.clone(), settings.plugins.run_sample);
        let plugins = Plugins::new(
            db.clone(),
            registry.clone(),
            redis.clone(),
            metrics.clone(),
            settings.plugins.max_bytes,
        );
        plugins
            .register_defaults(&settings.plugins.dir)
            .await
            .map_err(StartError::Plugins)?;
        if let Err(e) = registry.sync(&pool).await {
            tracing::error!(error = %crate::telemetry::chain(&e), "could not load the plugins; not ready until they load");
        }
        let rules: Arc<dyn Rules> = Arc::new(registry.clone());
        let outbox = OutboxSignal::default();
        let app = App::new(Inner {
            points: Points::new(db.clone(), rules.clone(), metrics.clone(), &settings.batch),
            orders: Orders::new(
                db.clone(),
                rules,
                metrics.clone(),
                outbox.clone(),
                &settings.batch,
            ),
            operators: Operators::new(db.clone(), settings.admin_token.clone()),
            catalog: Catalog::new(
                db,
                replica.clone(),
                redis.clone(),
                settings.product_cache(),
                settings.popular_cache(),
                metrics.clone(),
            ),
            health: Health::new(
                pool.clone(),
                store::probe_pool(&database, &settings)?,
                settings.db_timeout(),
                redis.clone(),
                registry.clone(),
                metrics.clone(),
            ),
            plugins,
            metrics,
            settings,
            auth,
        });
        let parts = Parts {
            pool,
            database,
            redis,
            fast,
            registry,
            outbox,
            replica,
        };
        Ok((app, parts))
    }
}

/// A notification consumer with a name unique to this process.
fn consumer(settings: &Settings, redis: &Redis, metrics: &Metrics) -> Result<Consumer, StartError> {
    let sink = Sink::new(
        settings.webhook_url.as_deref(),
        Duration::from_millis(settings.webhook_timeout_ms),
    )?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("consumer-{}-{nanos:x}", std::process::id());
    Ok(Consumer::new(
        redis,
        name,
        sink,
        ConsumerSettings::from(settings),
        metrics.clone(),
    )?)
}

/// A bound server: build it, read its address, run it.
pub struct Application {
    listener: TcpListener,
    /// The listener of `/metrics` when it has one of its own.
    metrics_listener: Option<TcpListener>,
    app: App,
    parts: Parts,
}

impl Application {
    /// Builds the state and binds the listeners (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        crate::auth::check_mode(&settings)?;
        let listener = TcpListener::bind(settings.listen).await?;
        let metrics_listener = match settings.metrics_listen {
            Some(address) => Some(TcpListener::bind(address).await?),
            None => None,
        };
        let (app, parts) = App::assemble(settings).await?;
        Ok(Self {
            listener,
            metrics_listener,
            app,
            parts,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.app.settings().listen)
    }

    /// Serves until `shutdown` completes, then stops accepting, waits up to the grace period
    /// for in-flight requests, and stops the background tasks.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let Self {
            listener,
            metrics_listener,
            app,
            parts,
        } = self;
        let background = start_background(&app, &parts)?;
        let grace = app.settings().shutdown_grace();
        let limits = http::serve::ConnectionLimits::from(app.settings());
        let stopping = CancellationToken::new();
        let open = app.metrics().http_connections().clone();
        let serve = |listener, router| {
            let stop = stopping.clone().cancelled_owned();
            http::serve::serve(listener, router, limits, open.clone(), stop)
        };
        let main = serve(listener, http::router(app.clone()));
        let metrics = async {
            if let Some(listener) = metrics_listener {
                serve(listener, http::metrics_router(app.clone())).await;
            }
        };
        let deadline = async {
            shutdown.await;
            stopping.cancel();
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            ((), ()) = async { tokio::join!(main, metrics) } => {},
            () = deadline => {
                tracing::warn!("shutdown grace period over; dropping remaining connections");
            }
        };
        background.stop(BACKGROUND_STOP).await;
        tracing::info!("edgecart stopped");
        Ok(())
    }
}

/// Starts what a serving node runs beside its requests: the idempotency purge and the node's
/// liveness key, the outbox signal, the relay and the consumer (when enabled), the
/// dead-letter gauge, keeping the plugins and the catalog caches in step with the other
/// nodes, and refreshing read product answers ahead of their bound.
fn start_background(app: &App, parts: &Parts) -> Result<Background, StartError> {
    let settings = app.settings();
    let mut background = Background::default();
    background.spawn(parts.fast.keep_alive(background.token()));
    background.spawn(durable::keep_purging(
        parts.pool.clone(),
        settings.idempotency_retention(),
        background.token(),
    ));
    background.spawn(
        parts
            .outbox
            .clone()
            .forward(parts.pool.clone(), background.token()),
    );
    if settings.relay_enabled {
        let relay = Relay::new(
            parts.pool.clone(),
            parts.redis.clone(),
            parts.database.clone(),
            RelaySettings::from(settings),
            app.metrics().clone(),
        );
        background.spawn(relay.run(parts.outbox.local(), background.token()));
    }
    if settings.consumer_enabled {
        let consumer = consumer(settings, &parts.redis, app.metrics())?;
        background.spawn(consumer.run(background.token()));
    }
    // On every node that serves /metrics, consumer or not.
    let dead_letters = DeadLetters::new(&parts.redis, settings.events_max_len);
    background.spawn(dead_letters.keep_observing(app.metrics().clone(), background.token()));
    background.spawn(plugins::sync::keep_in_sync(
        parts.registry.clone(),
        parts.pool.clone(),
        parts.redis.clone(),
        settings.plugins.sync_interval(),
        background.token(),
    ));
    if let Some(replica) = parts.replica.clone() {
        let metrics = app.metrics().clone();
        let observe = move |lag| metrics.observe_replica_lag(lag);
        background.spawn(replica.watch(observe, background.token()));
    }
    background.spawn(
        app.catalog()
            .clone()
            .keep_products_fresh(crate::http::products::render_detail, background.token()),
    );
    background.spawn(crate::revisions::keep_in_sync(
        app.catalog().clone(),
        service::catalog::CHANNEL,
        parts.pool.clone(),
        parts.redis.clone(),
        Duration::from_millis(settings.product_sync_ms),
        background.token(),
    ));
    Ok(background)
}

/// Runs only the notification consumer until `shutdown` completes (`edgecart consume`).
pub async fn consume_until_stopped(
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    let (app, parts) = App::assemble(settings).await?;
    let mut background = Background::default();
    let consumer = consumer(app.settings(), &parts.redis, app.metrics())?;
    background.spawn(consumer.run(background.token()));
    tracing::info!("notification consumer running");
    shutdown.await;
    background.stop(BACKGROUND_STOP).await;
    Ok(())
}
