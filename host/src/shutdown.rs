//! Stopping a node: the signal that starts it ([`shutdown_signal`]) and the [`Background`]
//! tasks a node runs beside its requests, all stopped by one `CancellationToken` and joined
//! through one `JoinSet`, so no task outlives the node and none is aborted mid-batch.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The background tasks of a node and the token that stops them.
#[derive(Default)]
pub struct Background {
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Background {
    /// The token tasks watch; cancelled by [`Background::stop`].
    pub fn token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Runs `task` until it returns; it is expected to return soon after the token is
    /// cancelled. It keeps the tracing span it was started from.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task.in_current_span());
    }

    /// Cancels the token and waits up to `deadline` for every task to return (a relay
    /// finishes the batch it has in flight); tasks still running then are aborted.
    pub async fn stop(mut self, deadline: Duration) {
        self.stop.cancel();
        let joined = tokio::time::timeout(deadline, async {
            while let Some(result) = self.tasks.join_next().await {
                if let Err(error) = result
                    && error.is_panic()
                {
                    tracing::error!(%error, "a background task panicked");
                }
            }
        })
        .await;
        if joined.is_err() {
            tracing::warn!(
                running = self.tasks.len(),
                "background tasks did not stop in time; aborting them"
            );
            self.tasks.shutdown().await;
        }
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
