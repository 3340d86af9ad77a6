//! Verifying end users' bearer tokens with `jsonwebtoken`: RS256, ES256 and EdDSA against the
//! key set ([`super::jwks`]), HS256 only with its own secret, `alg: none` and every other
//! algorithm never. `exp` is required; `nbf` and `iat` are honoured with 60 s of leeway; `iss`
//! and `aud` must match when configured; the user is a positive integer claim (`sub` unless
//! `EDGECART_JWT_USER_CLAIM` names another), as a number or a decimal string.

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::{
    AuthSetupError, Unauthenticated,
    jwks::{KeyStore, KeysError},
    verified::{self, VerifiedTokens},
};
use crate::{config::Settings, domain::UserId};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// The asymmetric algorithms a key set may verify.
const KEY_SET_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// Verifies tokens; built once at start.
pub struct Verifier {
    keys: Option<KeyStore>,
    hs256: Option<DecodingKey>,
    /// The checks of each accepted algorithm, built once: a request only looks its one up.
    validations: Vec<(Algorithm, Validation)>,
    user_claim: String,
    /// Tokens that passed recently: their signature is not checked again.
    verified: VerifiedTokens,
}

impl Verifier {
    /// Loads the keys the settings name (a JWKS file, a JWKS URL, an HS256 secret).
    pub async fn from_settings(settings: &Settings) -> Result<Self, AuthSetupError> {
        // An empty setting is an unset one (compose files pass `${VAR:-}`).
        let file = settings
            .jwt_jwks_file
            .as_ref()
            .filter(|f| !f.as_os_str().is_empty());
        let url = settings.jwt_jwks_url.as_ref().filter(|u| !u.is_empty());
        let keys = match (file, url) {
            (Some(file), _) => Some(KeyStore::from_file(file)?),
            (None, Some(url)) => Some(
                KeyStore::from_url(
                    url,
                    std::time::Duration::from_secs(settings.jwt_jwks_refetch_secs),
                )
                .await?,
            ),
            (None, None) => None,
        };
        let hs256 = match &settings.jwt_hs256_secret {
            Some(secret) if !secret.expose().is_empty() => Some(
                DecodingKey::from_secret(secret.expose().as_bytes())
                    .map_err(|_| AuthSetupError::Keys(KeysError::NoUsableKey))?,
            ),
            _ => None,
        };
        if keys.is_none() && hs256.is_none() {
            return Err(AuthSetupError::NoKeys);
        }
        let issuer = settings.jwt_issuer.as_deref().filter(|s| !s.is_empty());
        let audience = settings.jwt_audience.as_deref().filter(|s| !s.is_empty());
        let validations = std::iter::once(Algorithm::HS256)
            .chain(KEY_SET_ALGORITHMS)
            .map(|alg| (alg, validation(alg, issuer, audience)))
            .collect();
        Ok(Self {
            keys,
            hs256,
            validations,
            user_claim: settings.jwt_user_claim.clone(),
            verified: VerifiedTokens::default(),
        })
    }

    /// The user `token` names, if it is valid (a token verified within the last minutes and
    /// still inside its validity window is taken from [`VerifiedTokens`]).
    pub async fn verify(&self, token: &str) -> Result<UserId, Unauthenticated> {
        let digest = verified::digest(token);
        if let Some(user) = self.verified.user(&digest).await {
            return Ok(user);
        }
        let header = decode_header(token)
            .map_err(|e| Unauthenticated::because(format!("unreadable token header: {e}")))?;
        let alg = header.alg;
        let claims = if alg == Algorithm::HS256 {
            let key = self
                .hs256
                .as_ref()
                .ok_or_else(|| Unauthenticated::because("HS256 is not accepted"))?;
            self.decode(token, key, alg)?
        } else if KEY_SET_ALGORITHMS.contains(&alg) {
            self.decode_with_key_set(token, alg, header.kid.as_deref())
                .await?
        } else {
            return Err(Unauthenticated::because(format!("{alg:?} is not accepted")));
        };
        let user = self.user(&claims)?;
        self.verified.remember(digest, user, &claims).await;
        Ok(user)
    }

    /// Verifies against the key named by `kid` (fetched again once if unknown), or against
    /// each key that allows `alg` when the token names none.
    async fn decode_with_key_set(
        &self,
        token: &str,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<Map<String, Value>, Unauthenticated> {
        let store = self
            .keys
            .as_ref()
            .ok_or_else(|| Unauthenticated::because("no key set is configured"))?;
        let mut keys = store.keys();
        if let Some(kid) = kid
            && !keys.iter().any(|k| k.kid.as_deref() == Some(kid))
            && store.refetch().await
        {
            keys = store.keys();
        }
        let mut last = Unauthenticated::because("no key allows this token");
        for key in keys
            .iter()
            .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))
            .filter(|k| k.allows(alg))
        {
            match self.decode(token, &key.key, alg) {
                Ok(claims) => return Ok(claims),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// Checks the signature and the registered claims.
    fn decode(
        &self,
        token: &str,
        key: &DecodingKey,
        alg: Algorithm,
    ) -> Result<Map<String, Value>, Unauthenticated> {
        let validation = self
            .validations
            .iter()
            .find_map(|(own, validation)| (*own == alg).then_some(validation))
            .ok_or_else(|| Unauthenticated::because(format!("{alg:?} is not accepted")))?;
        let data = decode::<Map<String, Value>>(token, key, validation)
            .map_err(|e| Unauthenticated::because(format!("invalid token: {e}")))?;
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(iat) = data.claims.get("iat").and_then(Value::as_u64)
            && iat > now + LEEWAY_SECS
        {
            return Err(Unauthenticated::because("issued in the future"));
        }
        Ok(data.claims)
    }

    /// The user claim as a user id.
    fn user(&self, claims: &Map<String, Value>) -> Result<UserId, Unauthenticated> {
        let id = match claims.get(&self.user_claim) {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()
            }
            _ => None,
        };
        id.and_then(|id| UserId::new(id).ok()).ok_or_else(|| {
            Unauthenticated::because(format!("claim {} is not a user id", self.user_claim))
        })
    }
}

/// The checks of a token signed with `alg`: `exp` required, `nbf` honoured, 60 s of leeway,
/// and `iss` and `aud` required and matched when configured.
fn validation(alg: Algorithm, issuer: Option<&str>, audience: Option<&str>) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    let mut required: HashSet<String> = HashSet::from(["exp".to_owned()]);
    if let Some(issuer) = issuer {
        validation.set_issuer(&[issuer]);
        required.insert("iss".to_owned());
    }
    match audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.insert("aud".to_owned());
        }
        None => validation.validate_aud = false,
    }
    validation.required_spec_claims = required;
    validation
}
