//! Idempotency of state-changing requests, in two layers.
//!
//! - [`fast`]: Redis marks a key in flight (`SET NX PX … GET`, one round trip) and caches the
//!   finished response, so a concurrent duplicate gets 409 and a replay costs one Redis call.
//!   A marker names its node ([`liveness`]); one whose node is gone no longer blocks, and
//!   [`InFlight`] removes a request's marker when the request ends without an answer.
//! - [`durable`]: PostgreSQL claims the key and records the response in the *same transaction*
//!   as the change it guards (`PRIMARY KEY (user_id, idempotency_key)`), so a lost or flushed
//!   Redis can never let a request apply twice; Redis being down only costs the fast path.
//!
//! The fingerprint (method, path and canonical body) tells a replay from a reuse. This module
//! decides nothing about HTTP: a response is status, content type and body bytes.

pub mod durable;
pub mod fast;
mod in_flight;
pub mod liveness;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::domain::{IdempotencyKey, UserId};

pub use fast::FastPath;
pub use in_flight::InFlight;

/// A response as it was first sent, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header value.
    pub content_type: String,
    /// The body, exactly as sent.
    #[serde(with = "body_text")]
    pub body: Bytes,
}

/// A SHA-256 over what makes two requests "the same": method, path and canonical body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Hashes a request. `canonical_body` is the parsed body serialized again, so whitespace
    /// and key order in what the client sent do not matter.
    pub fn of(method: &str, path: &str, canonical_body: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        for part in [method.as_bytes(), path.as_bytes(), canonical_body] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    /// Hex form, for Redis values.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

/// One idempotent request: whose key, which key, and what it asks for.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    /// The user the key belongs to (keys are scoped per user).
    pub user: UserId,
    /// The client's key.
    pub key: IdempotencyKey,
    /// What the request asks for.
    pub fingerprint: Fingerprint,
}

impl IdempotentRequest {
    /// `user`'s request with `key` for `method path` and `body`: the one way a fingerprint
    /// is made. The body is serialized again, so whitespace and key order in what the client
    /// sent do not matter.
    pub fn new(
        user: UserId,
        key: IdempotencyKey,
        method: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Self {
        let canonical = serde_json::to_vec(body).unwrap_or_default();
        Self {
            user,
            key,
            fingerprint: Fingerprint::of(method, path, &canonical),
        }
    }
}

/// Why an idempotent request cannot run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another request with this key is still being processed (409).
    #[error("idempotency key in use")]
    InUse,
    /// The key was used for a different request (422).
    #[error("idempotency key reused with another request")]
    Reused,
}

/// Serializes a body as text when it is UTF-8 (our bodies are JSON), base64 otherwise.
mod body_text {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(body: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(body) {
            Ok(text) => s.serialize_str(&format!("t{text}")),
            Err(_) => s.serialize_str(&format!("b{}", STANDARD.encode(body))),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let text = String::deserialize(d)?;
        match text.split_at_checked(1) {
            Some(("t", rest)) => Ok(Bytes::from(rest.to_owned())),
            Some(("b", rest)) => STANDARD
                .decode(rest)
                .map(Bytes::from)
                .map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom("unknown body encoding")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_method_path_and_body() {
        let a = Fingerprint::of("POST", "/x", b"{}");
        assert_eq!(a, Fingerprint::of("POST", "/x", b"{}"));
        assert_ne!(a, Fingerprint::of("POST", "/x", b"{ }"));
        assert_ne!(a, Fingerprint::of("PUT", "/x", b"{}"));
        // Length prefixes keep "ab"+"c" apart from "a"+"bc".
        assert_ne!(
            Fingerprint::of("P", "ab", b"c"),
            Fingerprint::of("P", "a", b"bc")
        );
    }

    #[test]
    fn stored_responses_round_trip_through_json() {
        for body in [
            Bytes::from_static(b"{\"a\":1}"),
            Bytes::from_static(&[0xff, 0x00, 0x7f]),
        ] {
            let stored = StoredResponse {
                status: 200,
                content_type: "application/json".into(),
                body,
            };
            let json = serde_json::to_string(&stored).unwrap();
            assert_eq!(
                serde_json::from_str::<StoredResponse>(&json).unwrap(),
                stored
            );
        }
    }
}
