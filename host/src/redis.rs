//! The Redis client: a small connection pool that reconnects forever in the background, so a
//! node starts and serves while Redis is down, and every command with a short timeout that fails
//! at once while disconnected (callers fall back to PostgreSQL). Also owns key naming: every
//! key and channel starts with the configured prefix. It knows no caller's data: what is
//! published or appended, and on which channel or stream, belongs to the callers.

use std::time::{Duration, Instant};

use fred::{clients::SubscriberClient, prelude::*};
use tracing::Instrument;

use crate::{config::Settings, metrics::Metrics};

/// How long start-up waits for Redis before serving without it.
pub const STARTUP_WAIT: Duration = Duration::from_secs(2);

/// A cheap-to-clone handle to this node's Redis pool.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    /// Builds the extra clients that need a connection of their own.
    builder: Builder,
    /// A dedicated connection for subscriptions (a subscribed connection runs no commands).
    subscriber: SubscriberClient,
    prefix: String,
    options: Options,
    metrics: Metrics,
}

impl Redis {
    /// Builds the pool and starts connecting in the background. Waits at most
    /// [`STARTUP_WAIT`] for a first connection, so a node that starts beside a healthy Redis
    /// serves with its fast path from the first request, and one that starts while Redis is
    /// down still comes up (and keeps reconnecting).
    pub async fn connect(settings: &Settings, metrics: Metrics) -> Result<Self, Error> {
        let mut config = Config::from_url(settings.redis_url.expose())?;
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
        let pool = builder.build_pool(settings.redis_pool_size.max(1))?;
        let subscriber = builder.build_subscriber_client()?;
        let _task = pool.connect();
        if tokio::time::timeout(STARTUP_WAIT, pool.wait_for_connect())
            .await
            .is_err()
        {
            tracing::warn!(url = %settings.redis_url, "Redis does not answer; serving without the fast path until it does");
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

    /// `DEL key`.
    pub async fn del(&self, key: &str) -> Result<(), Error> {
        let client = self.pool.with_options(&self.options);
        self.timed("del", client.del::<(), _>(key)).await
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

    /// Calls `on_message` for every message on `channel` (and once after missed ones) until
    /// `stop` is cancelled; reconnects and resubscribes by itself.
    pub fn watch_channel(
        &self,
        channel: String,
        stop: tokio_util::sync::CancellationToken,
        on_message: impl Fn() + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let subscriber = self.subscriber.clone();
        let watch = async move {
            let mut messages = subscriber.message_rx();
            let _connection = subscriber.connect();
            let _resubscribe = subscriber.manage_subscriptions();
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
                    Ok(message) if *message.channel == *channel => on_message(),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => on_message(),
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
