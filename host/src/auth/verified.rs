//! Tokens already verified, so a client that sends the same token on every call pays for its
//! signature once: an RS256 check costs about 140 µs of CPU with the pure-Rust backend, twice
//! what a whole balance read costs. Entries are keyed by the token's SHA-256 (the token
//! itself is not kept), hold the user and the token's validity window, and live at most
//! [`TTL`] (so a key withdrawn from the JWKS stops its tokens within that) and never past the
//! token's `exp`. Only tokens that passed every check are remembered.

use std::time::Duration;

use moka::future::Cache;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::jwt::LEEWAY_SECS;
use crate::domain::UserId;

/// The longest a verified token is taken on trust before it is checked again.
pub const TTL: Duration = Duration::from_secs(300);
/// Tokens remembered at most (about 100 bytes each).
const CAPACITY: u64 = 100_000;

/// A token's SHA-256.
pub type TokenDigest = [u8; 32];

/// The digest `token` is remembered by.
pub fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// What a verified token said, and when it says it.
#[derive(Clone, Copy)]
struct Verified {
    user: UserId,
    /// `nbf` less the leeway (0 without `nbf`).
    from: u64,
    /// `exp` plus the leeway.
    until: u64,
}

/// Recently verified tokens.
pub struct VerifiedTokens {
    cache: Cache<TokenDigest, Verified>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl VerifiedTokens {
    /// The user of a token verified within [`TTL`] whose validity window holds now.
    pub async fn user(&self, token: &TokenDigest) -> Option<UserId> {
        let verified = self.cache.get(token).await?;
        let now = jsonwebtoken::get_current_timestamp();
        (verified.from <= now && now <= verified.until).then_some(verified.user)
    }

    /// Remembers a token that passed every check, with its claims' `exp` and `nbf`.
    pub async fn remember(&self, token: TokenDigest, user: UserId, claims: &Map<String, Value>) {
        let Some(exp) = claims.get("exp").and_then(Value::as_u64) else {
            return;
        };
        let nbf = claims.get("nbf").and_then(Value::as_u64).unwrap_or(0);
        let verified = Verified {
            user,
            from: nbf.saturating_sub(LEEWAY_SECS),
            until: exp.saturating_add(LEEWAY_SECS),
        };
        self.cache.insert(token, verified).await;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: serde_json::Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_remembered_token_names_its_user_only_inside_its_window() {
        let tokens = VerifiedTokens::default();
        let now = jsonwebtoken::get_current_timestamp();
        let user = UserId::new(25).unwrap();
        let cases = [
            ("valid", json!({"exp": now + 600}), Some(user)),
            (
                "expired past the leeway",
                json!({"exp": now - LEEWAY_SECS - 1}),
                None,
            ),
            ("within the leeway", json!({"exp": now - 10}), Some(user)),
            (
                "not yet valid",
                json!({"exp": now + 600, "nbf": now + LEEWAY_SECS + 30}),
                None,
            ),
            ("no exp", json!({"sub": "25"}), None),
        ];
        for (what, claims_of, expected) in cases {
            let token = digest(what);
            tokens.remember(token, user, &claims(claims_of)).await;
            assert_eq!(tokens.user(&token).await, expected, "{what}");
        }
        assert_eq!(tokens.user(&digest("never seen")).await, None);
    }
}
