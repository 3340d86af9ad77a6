//! The Redis client: a small connection pool that reconnects forever in the background, so a
//! node starts and serves while Redis is down, and every command with a short timeout that fails
//! at once while disconnected (callers fall back to PostgreSQL). A `rediss://` URL connects
//! with TLS, the certificate verified against `EDGECART_REDIS_CA_FILE` or Mozilla's roots; a
//! certificate refused at start-up fails the start (a configuration error, not an outage).
//! Also owns key naming: every key and channel starts with the configured prefix. It knows no
//! caller's data: what is published or appended, and on which channel or stream, belongs to
//! the callers.

use std::{
    collections::HashMap,
    sync::{Arc, Once},
    time::{Duration, Instant},
};

use fred::{
    clients::SubscriberClient,
    prelude::*,
    types::{ClusterHash, CustomCommand, config::TlsConnector},
};
use tracing::Instrument;

mod url;

use crate::{
    config::Settings,
    metrics::Metrics,
    tls::{self, Refusals, TlsError, Verification},
};

/// How long start-up waits for Redis before serving without it.
pub const STARTUP_WAIT: Duration = Duration::from_secs(2);

/// Why the Redis client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `EDGECART_REDIS_URL` does not parse.
    #[error("invalid Redis URL")]
    Url(#[source] Error),
    /// A CA file is set for a URL without TLS.
    #[error("EDGECART_REDIS_CA_FILE is set but the Redis URL is not rediss://")]
    CaFileWithoutTls,
    /// The TLS configuration cannot be built (an unreadable CA file).
    #[error("the Redis TLS settings cannot be used")]
    Tls(#[from] TlsError),
    /// The pool or a client could not be built.
    #[error("the Redis client could not be built")]
    Client(#[source] Error),
    /// The server's certificate was refused during the start-up wait.
    #[error("the Redis server's certificate was refused")]
    CertificateRefused(#[source] rustls::Error),
}

/// The first certificate refused, or never without TLS.
async fn first_refusal(refusals: Option<Refusals>) -> rustls::Error {
    match refusals {
        Some(mut refusals) => refusals.next().await,
        None => std::future::pending().await,
    }
}

/// A cheap-to-clone handle to this node's Redis pool.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    /// Builds the extra clients that need a connection of their own.
    builder: Builder,
    /// A dedicated connection for subscriptions (a subscribed connection runs no commands).
    subscriber: SubscriberClient,
    /// Connects `subscriber` once, at the first watch: connecting it again would drop the
    /// subscriptions of the watches before.
    subscriber_started: Arc<Once>,
    prefix: String,
    options: Options,
    metrics: Metrics,
}

impl Redis {
    /// Builds the pool and starts connecting in the background. Waits at most
    /// [`STARTUP_WAIT`] for a first connection, so a node that starts beside a healthy Redis
    /// serves with its fast path from the first request, and one that starts while Redis is
    /// down still comes up (and keeps reconnecting).
    pub async fn connect(settings: &Settings, metrics: Metrics) -> Result<Self, SetupError> {
        let (url, uses_tls) = url::for_fred(settings.redis_url.expose());
        let mut config = Config::from_url(&url).map_err(SetupError::Url)?;
        let refusals = match (uses_tls, &settings.redis_ca_file) {
            (false, Some(_)) => return Err(SetupError::CaFileWithoutTls),
            (false, None) => None,
            (true, ca_file) => {
                let tls = tls::client_config(Verification::Full, ca_file.as_deref())?;
                config.tls = Some(TlsConnector::from(tls.config).into());
                Some(tls.refusals)
            }
        };
        // Let the reconnect policy cover the first connection too, instead of giving up.
        config.fail_fast = false;
        let timeout = settings.redis_timeout();
        let mut builder = Builder::from_config(config);
        builder
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(2);
                c.internal_command_timeout = Duration::from_secs(2);
                // No automatic re-send: our writes are not all idempotent.
                c.max_command_attempts = 1;
                c.unresponsive.max_timeout = Some(Duration::from_secs(10));
            })
            .with_performance_config(|p| p.default_command_timeout = timeout)
            // Retry forever, 100 ms doubling up to 2 s.
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2));
        let pool = builder
            .build_pool(settings.redis_pool_size.max(1))
            .map_err(SetupError::Client)?;
        let subscriber = builder
            .build_subscriber_client()
            .map_err(SetupError::Client)?;
        let _task = pool.connect();
        tokio::select! {
            connected = tokio::time::timeout(STARTUP_WAIT, pool.wait_for_connect()) => {
                if connected.is_err() {
                    tracing::warn!(url = %settings.redis_url, "Redis does not answer; serving without the fast path until it does");
                }
            }
            refused = first_refusal(refusals) => {
                // Retrying cannot help: stop the reconnect loops, then fail the start.
                let _ = tokio::time::timeout(Duration::from_secs(1), pool.quit()).await;
                return Err(SetupError::CertificateRefused(refused));
            }
        }
        let options = Options {
            fail_fast: true,
            timeout: Some(timeout),
            ..Default::default()
        };
        Ok(Self {
            pool,
            builder,
            subscriber,
            subscriber_started: Arc::new(Once::new()),
            prefix: settings.redis_prefix.clone(),
            options,
            metrics,
        })
    }

    /// The prefixed name of a key or channel.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    /// Whether at least one pooled connection is up (cheap: no round trip).
    pub fn is_connected(&self) -> bool {
        self.pool.is_connected()
    }

    /// One round trip, for readiness.
    pub async fn ping(&self) -> Result<(), Error> {
        let client = self.pool.next().with_options(&self.options);
        self.timed("ping", client.ping::<()>(None)).await
    }

    /// `SET key value NX PX ttl GET`: sets the key when absent and returns the previous value
    /// when present (then nothing is written).
    pub async fn set_nx_get(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<Option<String>, Error> {
        let px = Expiration::PX(ttl.as_millis().try_into().unwrap_or(i64::MAX));
        let client = self.pool.with_options(&self.options);
        self.timed(
            "set_nx_get",
            client.set(key, value, Some(px), Some(SetOptions::NX), true),
        )
        .await
    }

    /// `SET key value PX ttl`.
    pub async fn set_px(&self, key: &str, value: &str, ttl: Duration) -> Result<(), Error> {
        let px = Expiration::PX(ttl.as_millis().try_into().unwrap_or(i64::MAX));
        let client = self.pool.with_options(&self.options);
        self.timed(
            "set",
            client.set::<(), _, _>(key, value, Some(px), None, false),
        )
        .await
    }

    /// `EXISTS key`.
    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        let client = self.pool.next().with_options(&self.options);
        let found: i64 = self.timed("exists", client.exists(key)).await?;
        Ok(found > 0)
    }

    /// `DEL key`.
    pub async fn del(&self, key: &str) -> Result<(), Error> {
        let client = self.pool.with_options(&self.options);
        self.timed("del", client.del::<(), _>(key)).await
    }

    /// `EVAL script` over `keys` and `args`, with the command timeout. The script travels as
    /// text each time (Redis caches it compiled): ours are short and run on rare paths only.
    /// Every key the script touches must be in `keys`.
    pub async fn eval<R: FromValue>(
        &self,
        operation: &'static str,
        script: &'static str,
        keys: &[&str],
        args: &[&str],
    ) -> Result<R, Error> {
        let mut all = Vec::with_capacity(2 + keys.len() + args.len());
        all.push(Value::from(script));
        all.push(Value::from(keys.len() as i64));
        all.extend(keys.iter().chain(args).map(|&text| Value::from(text)));
        // Routed by the first key's slot. (fred applies a custom command's `ClusterHash` only
        // when it is a slot: any other policy hashes the first argument, here the script.)
        let slot = keys.first().map_or(ClusterHash::Random, |key| {
            ClusterHash::Custom(fred::util::redis_keyslot(key.as_bytes()))
        });
        let command = CustomCommand::new_static("EVAL", slot, false);
        let client = self.pool.next().with_options(&self.options);
        self.timed(operation, client.custom(command, all)).await
    }

    /// `PUBLISH channel message`.
    pub async fn publish(
        &self,
        channel: &str,
        message: impl Into<Value> + Send,
    ) -> Result<(), Error> {
        let client = self.pool.next().with_options(&self.options);
        self.timed(
            "publish",
            client.publish::<(), _, _>(channel, message.into()),
        )
        .await
    }

    /// Calls `on_message` with the text of every message on `channel` (and once with `None`
    /// after missed ones) until `stop` is cancelled; reconnects and resubscribes by itself.
    pub fn watch_channel(
        &self,
        channel: String,
        stop: tokio_util::sync::CancellationToken,
        on_message: impl Fn(Option<String>) + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let subscriber = self.subscriber.clone();
        let messages = subscriber.message_rx();
        // The tasks run as long as the client: its connection, and resubscribing every
        // channel after a reconnection.
        self.subscriber_started.call_once(|| {
            drop(subscriber.connect());
            drop(subscriber.manage_subscriptions());
        });
        let watch = async move {
            let mut messages = messages;
            loop {
                if subscriber.wait_for_connect().await.is_ok()
                    && subscriber.subscribe(channel.as_str()).await.is_ok()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            loop {
                match messages.recv().await {
                    Ok(message) if *message.channel == *channel => {
                        on_message(message.value.as_string());
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => on_message(None),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        };
        tokio::spawn(
            async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = watch => {}
                }
            }
            .in_current_span(),
        )
    }

    /// A client with a connection of its own and no command timeout, for blocking reads
    /// (`XREADGROUP … BLOCK`); it reconnects like the pool. Call `connect` on it.
    pub fn dedicated_client(&self) -> Result<Client, Error> {
        let mut builder = self.builder.clone();
        builder.with_performance_config(|p| p.default_command_timeout = Duration::ZERO);
        builder.build()
    }

    /// Appends entries (each a list of field/value pairs) to a stream capped at about
    /// `max_len` entries (`XADD … MAXLEN ~`), all sent before any answer is awaited.
    pub async fn append_to_stream(
        &self,
        stream: &str,
        entries: impl IntoIterator<Item = Vec<(&'static str, String)>>,
        max_len: i64,
    ) -> Result<(), Error> {
        let client = self.pool.next().with_options(&self.options);
        let appends = entries.into_iter().map(|fields| {
            client.xadd::<(), _, _, _, _>(stream, false, ("MAXLEN", "~", max_len), "*", fields)
        });
        self.timed("xadd", async {
            futures_util::future::try_join_all(appends)
                .await
                .map(|_| ())
        })
        .await
    }

    /// `XLEN stream`: how many entries it holds (0 when it does not exist).
    pub async fn stream_len(&self, stream: &str) -> Result<u64, Error> {
        let client = self.pool.next().with_options(&self.options);
        self.timed("xlen", client.xlen(stream)).await
    }

    /// `XRANGE stream (after + COUNT count`: up to `count` entries, oldest first, each with
    /// its fields; from the start of the stream when `after` is `None`.
    pub async fn stream_range(
        &self,
        stream: &str,
        after: Option<&str>,
        count: u64,
    ) -> Result<Vec<(String, HashMap<String, String>)>, Error> {
        let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        let client = self.pool.next().with_options(&self.options);
        self.timed(
            "xrange",
            client.xrange_values(stream, start, "+", Some(count)),
        )
        .await
    }

    /// `XDEL stream id…`.
    pub async fn delete_from_stream(&self, stream: &str, ids: Vec<String>) -> Result<(), Error> {
        let client = self.pool.next().with_options(&self.options);
        self.timed("xdel", client.xdel::<(), _, _>(stream, ids))
            .await
    }

    /// Runs one command, recording its latency and counting its failure.
    async fn timed<T>(
        &self,
        operation: &'static str,
        command: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let started = Instant::now();
        let result = command
            .instrument(tracing::debug_span!("redis", operation))
            .await;
        self.metrics
            .observe_redis(operation, started.elapsed(), result.is_ok());
        result
    }
}
