//! Every setting of the server, read from command-line flags or `EDGECART_*` environment
//! variables (flags win), each with its default. Nothing here connects to anything.
//! Credentials never show: the admin token is a [`Secret`], and the service URLs are
//! [`ServiceUrl`]s whose `Display` and `Debug` hide the password; `--help` hides their
//! variables' values.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

mod batch;
mod plugins;
mod secrets;

pub use batch::Batching;
pub use plugins::PluginSettings;
pub use secrets::{Secret, ServiceUrl};

/// Settings shared by `serve`, `migrate` and `seed`.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(long, env = "EDGECART_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// PostgreSQL URL; the database is created when it does not exist.
    #[arg(
        long,
        env = "EDGECART_DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://edgecart:edgecart@127.0.0.1:5432/edgecart"
    )]
    pub database_url: ServiceUrl,

    /// A streaming replica of the database, for catalog reads that may be a moment old
    /// (product cache misses, product lists, the popular query); unset: every read goes to
    /// the primary.
    #[arg(long, env = "EDGECART_DATABASE_REPLICA_URL", hide_env_values = true)]
    pub database_replica_url: Option<ServiceUrl>,

    /// The replica is left aside (its reads go to the primary) while it lags the primary by
    /// more than this, in milliseconds.
    #[arg(long, env = "EDGECART_REPLICA_MAX_LAG_MS", default_value_t = 1000)]
    pub replica_max_lag_ms: u64,

    /// Redis URL.
    #[arg(
        long,
        env = "EDGECART_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: ServiceUrl,

    /// PEM file of the certificate authorities a `rediss://` Redis is trusted by (a private
    /// CA), instead of Mozilla's roots; an error with a plain `redis://` URL. The certificate
    /// is always verified, host name (or IP address) included. PostgreSQL's counterpart is
    /// the database URL's `sslrootcert` (with `sslmode=verify-full` or `verify-ca`).
    #[arg(long, env = "EDGECART_REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// Prefix of every Redis key and channel this node uses (lets several deployments or test
    /// runs share one Redis).
    #[arg(long, env = "EDGECART_REDIS_PREFIX", default_value = "edgecart:")]
    pub redis_prefix: String,

    /// Bearer token of the admin API; unset closes the admin API (every call answers 404).
    #[arg(long, env = "EDGECART_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<Secret>,

    /// How end users are known: `none` (anyone may act for any user; the default only on a
    /// loopback listen address) or `jwt` (a bearer token names the user).
    #[arg(long, env = "EDGECART_AUTH")]
    pub auth: Option<AuthMode>,

    /// A JWKS document with the identity provider's public keys.
    #[arg(long, env = "EDGECART_JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,

    /// The identity provider's JWKS URL: fetched at start, again (at most every 30 s) when a
    /// token names a key id this node does not hold.
    #[arg(long, env = "EDGECART_JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,

    /// A shared secret that lets HS256 tokens in (for `edgecart token issue` and tests).
    #[arg(long, env = "EDGECART_JWT_HS256_SECRET", hide_env_values = true)]
    pub jwt_hs256_secret: Option<Secret>,

    /// The issuer (`iss`) tokens must carry, when set.
    #[arg(long, env = "EDGECART_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// An audience (`aud`) tokens must name, when set.
    #[arg(long, env = "EDGECART_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// The claim holding the user id.
    #[arg(long, env = "EDGECART_JWT_USER_CLAIM", default_value = "sub")]
    pub jwt_user_claim: String,

    /// The shortest time between two fetches of the JWKS URL, in seconds.
    #[arg(long, env = "EDGECART_JWT_JWKS_REFETCH_SECS", default_value_t = 30)]
    pub jwt_jwks_refetch_secs: u64,

    /// Staleness bound of the popular-products cache, in seconds.
    #[arg(long, env = "EDGECART_POPULAR_TTL_SECS", default_value_t = 10)]
    pub popular_ttl_secs: u64,

    /// Staleness bound of product reads (details and list pages), in seconds: `stock` in a
    /// read lags orders by at most this much. Also their `Cache-Control: max-age`.
    #[arg(long, env = "EDGECART_PRODUCT_TTL_SECS", default_value_t = 1)]
    pub product_ttl_secs: u64,

    /// How long past its staleness bound a cached product or popular answer may still be
    /// served while PostgreSQL is unreachable, in seconds (`stale-if-error`).
    #[arg(long, env = "EDGECART_STALE_IF_ERROR_SECS", default_value_t = 300)]
    pub stale_if_error_secs: u64,

    /// Answers each product cache (details, list pages) holds at most.
    #[arg(
        long,
        env = "EDGECART_PRODUCT_CACHE_ENTRIES",
        default_value_t = 100_000
    )]
    pub product_cache_entries: u64,

    /// Bytes each product cache (details, list pages) holds at most, bodies and bookkeeping.
    #[arg(long, env = "EDGECART_PRODUCT_CACHE_BYTES", default_value_t = 64 << 20)]
    pub product_cache_bytes: u64,

    /// How often a node checks PostgreSQL for product changes it was not told about, in
    /// milliseconds (changes are also announced on Redis).
    #[arg(long, env = "EDGECART_PRODUCT_SYNC_MS", default_value_t = 500)]
    pub product_sync_ms: u64,

    /// Maximum PostgreSQL connections of this node.
    #[arg(long, env = "EDGECART_DB_POOL_SIZE", default_value_t = 32)]
    pub db_pool_size: usize,

    /// How long a request waits for a PostgreSQL connection (or to open one) before it
    /// answers 503, in milliseconds.
    #[arg(long, env = "EDGECART_DB_TIMEOUT_MS", default_value_t = 3000)]
    pub db_timeout_ms: u64,

    /// Redis connections of this node.
    #[arg(long, env = "EDGECART_REDIS_POOL_SIZE", default_value_t = 4)]
    pub redis_pool_size: usize,

    /// Timeout of one Redis command, in milliseconds; past it the request goes on without the
    /// fast path (PostgreSQL stays the source of truth).
    #[arg(long, env = "EDGECART_REDIS_TIMEOUT_MS", default_value_t = 250)]
    pub redis_timeout_ms: u64,

    /// Deadline of one HTTP request, in seconds (408 past it).
    #[arg(long, env = "EDGECART_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub request_timeout_secs: u64,

    /// Largest accepted body of an API request, in bytes (413 past it).
    #[arg(long, env = "EDGECART_BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,

    /// API requests served at once by this node; past it a request gets 503 with
    /// `Retry-After` at once (the operations endpoints are not limited).
    #[arg(long, env = "EDGECART_MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
    pub max_concurrent_requests: usize,

    /// How long a connection may wait for a complete request head, in seconds, counted from
    /// when it starts waiting: a new connection, or a kept-alive one after its last response.
    /// Past it the connection is closed, so this also bounds how long an idle keep-alive
    /// connection stays open.
    #[arg(long, env = "EDGECART_HEADER_TIMEOUT_SECS", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,

    /// How long a request's whole body may take to arrive once its head is in, in seconds;
    /// past it the answer is 408 and the connection is closed. Bodies are read before a
    /// request counts against `max_concurrent_requests`.
    #[arg(long, env = "EDGECART_BODY_TIMEOUT_SECS", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,

    /// HTTP connections this node keeps open at once; further ones wait, unaccepted, in the
    /// listen backlog until one closes.
    #[arg(long, env = "EDGECART_MAX_CONNECTIONS", default_value_t = 10_000,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,

    /// Address of a listener of its own for `/metrics` (then not served on `listen`); unset
    /// serves `/metrics` on the main listener.
    #[arg(long, env = "EDGECART_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// How long shutdown waits for in-flight requests, in seconds.
    #[arg(long, env = "EDGECART_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// How long idempotency records are kept (at least 24 h by contract), in seconds.
    #[arg(
        long,
        env = "EDGECART_IDEMPOTENCY_RETENTION_SECS",
        default_value_t = 86_400
    )]
    pub idempotency_retention_secs: u64,

    /// Run the outbox relay in this process.
    #[arg(long, env = "EDGECART_RELAY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay_enabled: bool,

    /// Run the notification consumer in this process (`edgecart consume` runs it alone).
    #[arg(long, env = "EDGECART_CONSUMER_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub consumer_enabled: bool,

    /// Outbox rows the relay publishes per batch.
    #[arg(long, env = "EDGECART_OUTBOX_BATCH", default_value_t = 256)]
    pub outbox_batch: i64,

    /// The relay's fallback poll when no notification arrives, in milliseconds.
    #[arg(long, env = "EDGECART_OUTBOX_POLL_MS", default_value_t = 1000)]
    pub outbox_poll_ms: u64,

    /// How long published outbox rows are kept before they are purged, in seconds.
    #[arg(long, env = "EDGECART_OUTBOX_RETENTION_SECS", default_value_t = 86_400)]
    pub outbox_retention_secs: u64,

    /// Approximate length cap of the event stream (`XADD MAXLEN ~`).
    #[arg(long, env = "EDGECART_EVENTS_MAX_LEN", default_value_t = 1_000_000)]
    pub events_max_len: i64,

    /// Where notifications are POSTed; unset writes them to the log.
    #[arg(long, env = "EDGECART_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// Timeout of one webhook attempt, in milliseconds.
    #[arg(long, env = "EDGECART_WEBHOOK_TIMEOUT_MS", default_value_t = 2000)]
    pub webhook_timeout_ms: u64,

    /// Attempts per notification before the event is dead-lettered.
    #[arg(long, env = "EDGECART_CONSUMER_MAX_ATTEMPTS", default_value_t = 5)]
    pub consumer_max_attempts: u32,

    /// Backoff before the second attempt, doubling for each further one, in milliseconds.
    #[arg(long, env = "EDGECART_CONSUMER_BACKOFF_MS", default_value_t = 200)]
    pub consumer_backoff_ms: u64,

    /// How long an event stays with a consumer that does not acknowledge it before another
    /// consumer takes it over, in milliseconds.
    #[arg(
        long,
        env = "EDGECART_CONSUMER_CLAIM_IDLE_MS",
        default_value_t = 30_000
    )]
    pub consumer_claim_idle_ms: u64,

    /// How long a request's in-flight marker may live in Redis, in seconds: longer than any
    /// request runs. Only a backstop: a marker stops blocking as soon as its request ends, or
    /// about 3 s after its node dies (the node's liveness key lapses), and PostgreSQL decides.
    #[arg(
        long,
        env = "EDGECART_IDEMPOTENCY_IN_FLIGHT_SECS",
        default_value_t = 60
    )]
    pub idempotency_in_flight_secs: u64,

    /// Log format: `text` (readable) or `json`.
    #[arg(long, env = "EDGECART_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Group commit of orders and charges.
    #[command(flatten)]
    pub batch: Batching,

    /// The rule-plugin sandbox and its bookkeeping.
    #[command(flatten)]
    pub plugins: PluginSettings,
}

impl Settings {
    /// Settings with every default and the given URLs: the starting point of tests.
    pub fn with_urls(database_url: &str, redis_url: &str) -> Self {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Defaults {
            #[command(flatten)]
            settings: Settings,
        }
        let mut settings = Defaults::parse_from(["edgecart"]).settings;
        settings.database_url = database_url.into();
        settings.redis_url = redis_url.into();
        settings.admin_token = None;
        settings
    }

    /// The popular-products staleness bound.
    pub fn popular_ttl(&self) -> Duration {
        Duration::from_secs(self.popular_ttl_secs)
    }

    /// The product caches' bounds.
    pub fn product_cache(&self) -> crate::cache::Bounds {
        let fresh = Duration::from_secs(self.product_ttl_secs);
        self.cache_bounds(fresh, self.product_cache_entries, self.product_cache_bytes)
    }

    /// The popular list's cache bounds (one list; a few generations of it at most).
    pub fn popular_cache(&self) -> crate::cache::Bounds {
        self.cache_bounds(self.popular_ttl(), 8, 1 << 20)
    }

    fn cache_bounds(&self, fresh: Duration, entries: u64, bytes: u64) -> crate::cache::Bounds {
        crate::cache::Bounds {
            fresh,
            stale_if_error: Duration::from_secs(self.stale_if_error_secs),
            max_entries: entries,
            max_bytes: bytes,
        }
    }

    /// How far the replica may lag before it is left aside.
    pub fn replica_max_lag(&self) -> Duration {
        Duration::from_millis(self.replica_max_lag_ms)
    }

    /// The PostgreSQL connection wait bound.
    pub fn db_timeout(&self) -> Duration {
        Duration::from_millis(self.db_timeout_ms)
    }

    /// The Redis command timeout.
    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }

    /// The HTTP request deadline.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// The deadlines of requests: every route's, and a plugin upload's.
    pub fn deadlines(&self) -> crate::http::deadline::Deadlines {
        crate::http::deadline::Deadlines {
            request: self.request_timeout(),
            upload: Duration::from_secs(self.plugins.upload_timeout_secs),
        }
    }

    /// The shutdown drain deadline.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The idempotency retention.
    pub fn idempotency_retention(&self) -> Duration {
        Duration::from_secs(self.idempotency_retention_secs)
    }
}

/// How end users are authenticated (`EDGECART_AUTH`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// No end-user identity: any client may act for any user.
    None,
    /// Bearer JWTs name the user.
    Jwt,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
