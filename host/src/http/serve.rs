//! Serving a router over HTTP/1.1 with hyper: the accept loop, the limits that keep slow or
//! hostile clients from holding this node's sockets, and the graceful drain at shutdown.
//!
//! - At most [`ConnectionLimits::max_connections`] connections are open at once. The loop
//!   takes a slot *before* it accepts, so connections past the cap wait, unaccepted, in the
//!   kernel's listen backlog until one closes (past the backlog the kernel drops them).
//! - A connection that waits for a request head longer than
//!   [`ConnectionLimits::header_timeout`] is closed. hyper starts that clock whenever the
//!   connection waits for a head: a new connection, and a kept-alive one after each response,
//!   so the same bound closes idle keep-alive connections and clients that trickle headers.
//! - Bodies have their own deadline, enforced by [`super::body`] before the concurrency limit.
//!
//! It knows nothing of routes or state: it serves whatever [`Router`] it is given. It must not
//! decide when to stop: the caller's `shutdown` future does.

use std::{io, sync::Arc, time::Duration};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use prometheus::IntGauge;
use tokio::{
    net::TcpListener,
    sync::{OwnedSemaphorePermit, Semaphore},
};

use crate::config::Settings;

/// How long the loop pauses after an accept error that is not the peer's doing (such as
/// `EMFILE`), so that it does not spin while the node is out of descriptors.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The per-node connection limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once; the next one is accepted when one closes.
    pub max_connections: usize,
    /// How long a connection may wait for a complete request head (headers included).
    pub header_timeout: Duration,
}

impl From<&Settings> for ConnectionLimits {
    fn from(settings: &Settings) -> Self {
        Self {
            max_connections: settings.max_connections,
            header_timeout: Duration::from_secs(settings.header_timeout_secs),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, counting its open connections
/// in `open`. Then it stops accepting (the listener is closed, so new connections are
/// refused), lets each connection finish the request it is serving, closes the idle ones at
/// once, and returns when all have closed. Bounding that drain is the caller's business.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    open: IntGauge,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first, then the connection: past the cap, clients wait in the backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed; an error would only mean there is nothing to serve.
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match stream {
            Ok((stream, _peer)) => stream,
            Err(error) if is_peer_error(&error) => continue,
            Err(error) => {
                tracing::error!(%error, "could not accept a connection; pausing");
                tokio::select! {
                    () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                    () = &mut shutdown => break,
                }
            }
        };
        let open = Open::new(slot, open.clone());
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A header timeout, a reset or a broken body ends the connection; that is the
            // client's doing and worth a debug line, no more.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(open);
        });
    }
    drop(listener);
    tracing::debug!(
        connections = graceful.count(),
        "not accepting; draining connections"
    );
    graceful.shutdown().await;
}

/// An accepted connection's slot under the cap and its place in the gauge, both given back
/// when the connection's task ends, however it ends.
struct Open {
    _slot: OwnedSemaphorePermit,
    gauge: IntGauge,
}

impl Open {
    fn new(slot: OwnedSemaphorePermit, gauge: IntGauge) -> Self {
        gauge.inc();
        Self { _slot: slot, gauge }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

/// An accept error caused by a peer that went away before it was accepted: try the next one.
fn is_peer_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
