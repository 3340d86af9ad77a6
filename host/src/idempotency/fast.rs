//! The Redis half of idempotency: an in-flight marker and a cache of finished responses.
//! Redis being slow or down never fails a request here: the caller goes on to PostgreSQL,
//! which alone decides whether a key was already used.
//!
//! A marker names the node and the request that set it. Meeting a marker of the same
//! fingerprint, [`FastStore::begin`] answers 409 only while that node is alive (its
//! [`liveness`] key exists); a marker of a node that is gone is taken over atomically (the
//! take-over script) and the request goes on, so PostgreSQL decides: it replays a finished
//! record, runs a key it never saw, or waits for a transaction that really holds the key.
//! A marker without a node (written before nodes had ids) is taken over likewise: at worst a
//! duplicate of a request still in flight on an old node waits for it in PostgreSQL and gets
//! its replay instead of a 409, and a key is still applied once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use fred::types::Value;
use serde::{Deserialize, Serialize};

use super::{
    Conflict, IdempotentRequest, StoredResponse,
    in_flight::InFlight,
    liveness::{self, NodeId},
};
use crate::{
    metrics::{IdempotencyOutcome, MarkerOutcome, Metrics},
    redis::Redis,
};

/// How many markers `begin` looks at before it answers 409: a take-over that finds the key
/// changed looks again at what it holds now.
const MAX_LOOKS: usize = 3;

/// Sets `ARGV[2]` (this request's marker) for `ARGV[3]` ms when the key `KEYS[1]` is free, or
/// still holds `ARGV[1]` (the marker seen before) and `ARGV[4]` is `dead` (that marker's node
/// was found gone just before, or it named none). Answers 1 when it took a marker over, 0 when
/// the key was free, and otherwise what the key holds now. The node's liveness key is read by
/// its own command, not here: in a Redis Cluster it lives in another slot, and a script may
/// only touch keys of one. Node ids are new at every start, so a node seen dead stays dead.
const TAKE_OVER: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 0
end
if current == ARGV[1] and ARGV[4] == 'dead' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return current
";

/// Deletes `KEYS[1]` if it still holds `ARGV[1]`; answers how many keys went (0 or 1).
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// What the fast path says about a request.
#[derive(Debug)]
pub enum FastPath {
    /// Process it; PostgreSQL has the last word. The key is marked in flight for this request
    /// (unless Redis is unavailable or holds something unreadable); end with
    /// [`InFlight::complete`] or [`InFlight::abandon`], or drop it to free the key.
    Proceed(InFlight),
    /// Finished before with the same fingerprint: send this again.
    Replay(StoredResponse),
}

/// What the take-over script found.
enum TakeOver {
    /// The key holds this request's marker now.
    Ours,
    /// The key holds this (another request's live marker, or what replaced the one seen).
    Held(String),
    /// No telling (Redis failed or answered oddly): PostgreSQL decides.
    Unknown,
}

/// The value kept under a key: the fingerprint, who set it while in flight, and the response
/// once there is one.
#[derive(Serialize, Deserialize)]
struct Entry {
    fp: String,
    /// The node whose request set this marker (none in finished entries and in markers of
    /// versions before node ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    /// Which request of that node: no two markers are the same text, so a request removes
    /// its own marker only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<StoredResponse>,
}

/// The Redis side of idempotency; a cheap-to-clone handle.
#[derive(Clone)]
pub struct FastStore(Arc<Inner>);

struct Inner {
    redis: Redis,
    metrics: Metrics,
    retention: Duration,
    in_flight: Duration,
    node: NodeId,
    /// Numbers this node's markers.
    requests: AtomicU64,
}

impl FastStore {
    /// Keeps finished responses for `retention`; an in-flight marker lives `in_flight` at
    /// most: longer than any request may run (a marker of a node that is gone stops blocking
    /// long before). Picks this node's random id.
    pub fn new(redis: Redis, metrics: Metrics, retention: Duration, in_flight: Duration) -> Self {
        Self(Arc::new(Inner {
            redis,
            metrics,
            retention,
            in_flight,
            node: NodeId::random(),
            requests: AtomicU64::new(0),
        }))
    }

    /// Keeps this node's liveness key until `stop` is cancelled (see [`liveness`]): the
    /// node's background task while it serves.
    pub fn keep_alive(
        &self,
        stop: tokio_util::sync::CancellationToken,
    ) -> impl Future<Output = ()> + use<> {
        liveness::keep_alive(self.0.redis.clone(), self.0.node.clone(), stop)
    }

    fn key(&self, req: &IdempotentRequest) -> String {
        self.0
            .redis
            .key(&format!("idem:{}:{}", req.user, req.key.as_str()))
    }

    /// Marks the key in flight in one round trip, or reports what an earlier request left;
    /// a marker of a node that is gone is taken over (one more round trip).
    pub async fn begin(&self, req: &IdempotentRequest) -> Result<FastPath, Conflict> {
        let key = self.key(req);
        let fp = req.fingerprint.to_hex();
        let marker = serde_json::to_string(&Entry {
            fp: fp.clone(),
            node: Some(self.0.node.to_string()),
            seq: Some(self.0.requests.fetch_add(1, Ordering::Relaxed)),
            response: None,
        })
        .unwrap_or_default();
        let set = self
            .0
            .redis
            .set_nx_get(&key, &marker, self.0.in_flight)
            .await;
        let mut found = match set {
            Ok(None) => return Ok(self.proceed(key, fp, Some(marker))),
            Ok(Some(previous)) => previous,
            Err(error) => {
                tracing::warn!(%error, "idempotency fast path unavailable; using PostgreSQL only");
                return Ok(self.proceed(key, fp, None));
            }
        };
        let mut looks = 1;
        let outcome = loop {
            let Ok(entry) = serde_json::from_str::<Entry>(&found) else {
                // Unreadable (another version's format): let PostgreSQL decide.
                return Ok(self.proceed(key, fp, None));
            };
            match (entry.fp == fp, entry.response) {
                (false, _) => break Err(Conflict::Reused),
                (true, Some(response)) => break Ok(FastPath::Replay(response)),
                (true, None) => {}
            }
            let node = entry.node.as_deref();
            match self.take_over(&key, &found, &marker, node).await {
                TakeOver::Ours => return Ok(self.proceed(key, fp, Some(marker))),
                TakeOver::Unknown => return Ok(self.proceed(key, fp, None)),
                // The same marker, and its node alive: really in flight.
                TakeOver::Held(now) if now == found || looks == MAX_LOOKS => {
                    break Err(Conflict::InUse);
                }
                // Finished, or abandoned and taken, meanwhile: look again.
                TakeOver::Held(now) => found = now,
            }
            looks += 1;
        };
        self.count(&outcome);
        outcome
    }

    /// Sets this request's marker over `found` if that one's node is gone (one script, so two
    /// retries racing cannot both take it over), or on the key if it is free by now.
    async fn take_over(
        &self,
        key: &str,
        found: &str,
        marker: &str,
        node: Option<&str>,
    ) -> TakeOver {
        let Some(node_state) = self.node_state(node).await else {
            return TakeOver::Unknown;
        };
        let ttl = self.0.in_flight.as_millis().to_string();
        let args = [found, marker, ttl.as_str(), node_state];
        let keys = [key];
        let answer = self
            .0
            .redis
            .eval("idempotency_take_over", TAKE_OVER, &keys, &args);
        match answer.await {
            Ok(Value::Integer(taken)) => {
                if taken == 1 {
                    self.0.metrics.idempotency_marker(MarkerOutcome::TakenOver);
                }
                TakeOver::Ours
            }
            Ok(now) => now.into_string().map_or(TakeOver::Unknown, TakeOver::Held),
            Err(error) => {
                tracing::warn!(%error, "could not check an in-flight marker; using PostgreSQL only");
                TakeOver::Unknown
            }
        }
    }

    /// `alive` or `dead` for [`TAKE_OVER`]'s `ARGV[4]`: whether the liveness key of the
    /// marker's node exists (`dead` when it named none); `None` when Redis cannot tell.
    async fn node_state(&self, node: Option<&str>) -> Option<&'static str> {
        let Some(node) = node else {
            return Some("dead");
        };
        let liveness = self.0.redis.key(&liveness::key(node));
        match self.0.redis.exists(&liveness).await {
            Ok(alive) => Some(if alive { "alive" } else { "dead" }),
            Err(error) => {
                tracing::warn!(%error, "could not check an in-flight marker's node; using PostgreSQL only");
                None
            }
        }
    }

    fn proceed(&self, key: String, fp: String, marker: Option<String>) -> FastPath {
        FastPath::Proceed(InFlight::new(self.clone(), key, fp, marker))
    }

    fn count(&self, outcome: &Result<FastPath, Conflict>) {
        self.0.metrics.idempotency(match outcome {
            Err(Conflict::Reused) => IdempotencyOutcome::Reused,
            Err(Conflict::InUse) => IdempotencyOutcome::InUse,
            Ok(_) => IdempotencyOutcome::Replayed,
        });
    }

    /// Caches the finished response under `key` for the retention period; whether it did.
    pub(super) async fn cache(&self, key: &str, fp: &str, response: &StoredResponse) -> bool {
        let entry = Entry {
            fp: fp.to_owned(),
            node: None,
            seq: None,
            response: Some(response.clone()),
        };
        let Ok(value) = serde_json::to_string(&entry) else {
            return false;
        };
        match self.0.redis.set_px(key, &value, self.0.retention).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "could not cache idempotent response");
                false
            }
        }
    }

    /// Deletes `marker` from `key` if it is still there; `dropped` says the request ended
    /// without an answer (counted).
    pub(super) async fn release(&self, key: &str, marker: &str, dropped: bool) {
        let released = self
            .0
            .redis
            .eval::<i64>("idempotency_release", RELEASE, &[key], &[marker])
            .await;
        match released {
            Ok(1) if dropped => self.0.metrics.idempotency_marker(MarkerOutcome::Released),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "could not release idempotency key; it expires by itself");
            }
        }
    }
}
