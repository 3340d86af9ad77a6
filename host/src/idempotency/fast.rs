//! The Redis half of idempotency: an in-flight marker and a cache of finished responses.
//! Redis being slow or down never fails a request here: the caller goes on to PostgreSQL,
//! which alone decides whether a key was already used.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Conflict, IdempotentRequest, StoredResponse};
use crate::{
    metrics::{IdempotencyOutcome, Metrics},
    redis::Redis,
};

/// What the fast path says about a request.
#[derive(Debug)]
pub enum FastPath {
    /// Not seen (or Redis unavailable): process it; PostgreSQL has the last word.
    Proceed,
    /// Finished before with the same fingerprint: send this again.
    Replay(StoredResponse),
}

/// The value kept under a key: the fingerprint, and the response once there is one.
#[derive(Serialize, Deserialize)]
struct Entry {
    fp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<StoredResponse>,
}

/// The Redis side of idempotency.
#[derive(Clone)]
pub struct FastStore {
    redis: Redis,
    metrics: Metrics,
    retention: Duration,
    in_flight: Duration,
}

impl FastStore {
    /// Keeps finished responses for `retention`; an in-flight marker lives `in_flight`:
    /// longer than any request may run, short enough that a crashed node's keys free
    /// themselves soon.
    pub fn new(redis: Redis, metrics: Metrics, retention: Duration, in_flight: Duration) -> Self {
        Self {
            redis,
            metrics,
            retention,
            in_flight,
        }
    }

    fn key(&self, req: &IdempotentRequest) -> String {
        self.redis
            .key(&format!("idem:{}:{}", req.user, req.key.as_str()))
    }

    /// Marks the key in flight in one round trip, or reports what an earlier request left.
    pub async fn begin(&self, req: &IdempotentRequest) -> Result<FastPath, Conflict> {
        let fp = req.fingerprint.to_hex();
        let marker = serde_json::to_string(&Entry {
            fp: fp.clone(),
            response: None,
        })
        .unwrap_or_default();
        let previous = match self
            .redis
            .set_nx_get(&self.key(req), &marker, self.in_flight)
            .await
        {
            Ok(previous) => previous,
            Err(error) => {
                tracing::warn!(%error, "idempotency fast path unavailable; using PostgreSQL only");
                return Ok(FastPath::Proceed);
            }
        };
        let Some(previous) = previous else {
            return Ok(FastPath::Proceed);
        };
        let Ok(entry) = serde_json::from_str::<Entry>(&previous) else {
            // Unreadable (another version's format): let PostgreSQL decide.
            return Ok(FastPath::Proceed);
        };
        let outcome = match (entry.fp == fp, entry.response) {
            (false, _) => Err(Conflict::Reused),
            (true, None) => Err(Conflict::InUse),
            (true, Some(response)) => Ok(FastPath::Replay(response)),
        };
        self.metrics.idempotency(match &outcome {
            Err(Conflict::Reused) => IdempotencyOutcome::Reused,
            Err(Conflict::InUse) => IdempotencyOutcome::InUse,
            Ok(_) => IdempotencyOutcome::Replayed,
        });
        outcome
    }

    /// Caches the finished response for the retention period.
    pub async fn complete(&self, req: &IdempotentRequest, response: &StoredResponse) {
        let entry = Entry {
            fp: req.fingerprint.to_hex(),
            response: Some(response.clone()),
        };
        let Ok(value) = serde_json::to_string(&entry) else {
            return;
        };
        if let Err(error) = self
            .redis
            .set_px(&self.key(req), &value, self.retention)
            .await
        {
            tracing::warn!(%error, "could not cache idempotent response");
        }
    }

    /// Frees the key after a failure that is not remembered (5xx), so a retry may run.
    pub async fn abandon(&self, req: &IdempotentRequest) {
        if let Err(error) = self.redis.del(&self.key(req)).await {
            tracing::warn!(%error, "could not release idempotency key; it expires by itself");
        }
    }
}
