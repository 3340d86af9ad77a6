//! Which node set an in-flight marker, and whether that node still runs. Every node picks a
//! random [`NodeId`] at start and keeps a liveness key (`<prefix>node:<id>`) in Redis while it
//! runs: set for [`TTL`], refreshed every [`REFRESH`], deleted at a clean stop. A marker whose
//! node has no liveness key speaks for no request (its node crashed or stopped), so the fast
//! path takes it over and PostgreSQL decides. The id is new at every start, so a restarted
//! node never takes its previous life's markers for its own.
//!
//! A live node whose key lapses (Redis unreachable for longer than [`TTL`]) only has its
//! markers taken over early: PostgreSQL still applies each key once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::redis::Redis;

/// How long a liveness key lives without a refresh; past it, the node counts as gone, and a
/// retry of its in-flight keys goes on to PostgreSQL.
pub const TTL: Duration = Duration::from_secs(3);

/// How often a running node refreshes its key: two refreshes in a row may fail (each bounded
/// by the Redis command timeout) before it looks gone.
pub const REFRESH: Duration = Duration::from_secs(1);

/// A node's random id, as markers and liveness keys name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeId(String);

impl NodeId {
    /// A fresh id: 64 random bits in hex (the clock and the process id if the system has no
    /// randomness to give; ids need to be unique, not secret).
    pub fn random() -> Self {
        let bits = getrandom::u64().unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            nanos ^ (u64::from(std::process::id()) << 40)
        });
        Self(format!("{bits:016x}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of `node`'s liveness key, before the Redis prefix.
pub fn key(node: &str) -> String {
    format!("node:{node}")
}

/// Keeps `node`'s liveness key in Redis until `stop` is cancelled, then deletes it, so that
/// whatever a stopped node left in flight is free at once. A failed refresh is retried at the
/// next tick (and logged once until one succeeds).
pub async fn keep_alive(redis: Redis, node: NodeId, stop: CancellationToken) {
    let key = redis.key(&key(node.as_str()));
    tracing::info!(%node, "idempotency node id");
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        match redis.set_px(&key, "1", TTL).await {
            Ok(()) => failing = false,
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "could not refresh this node's liveness key; other nodes may take over its in-flight keys");
            }
            Err(_) => {}
        }
    }
    if let Err(error) = redis.del(&key).await {
        tracing::warn!(%error, "could not delete this node's liveness key; it expires by itself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_sixteen_hex_digits_and_differ() {
        let (a, b) = (NodeId::random(), NodeId::random());
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.as_str().len(), 16);
            assert!(id.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        }
        assert_eq!(key(a.as_str()), format!("node:{a}"));
    }
}
