//! Who is calling the user-facing API. [`Authenticator`] turns an `Authorization` header into
//! a [`Caller`]: with `EDGECART_AUTH=none` anyone may act for any user (the seed's behaviour,
//! allowed by default only on a loopback listener); with `jwt` a bearer token verified by
//! [`jwt::Verifier`] names the user. It knows no HTTP beyond the header's text, and decides
//! nothing about ownership: the services do.

pub mod jwks;
pub mod jwt;
pub mod verified;

use std::sync::Arc;

use crate::{
    config::{AuthMode, Settings},
    domain::Caller,
};

/// Why the server refuses to start with the authentication settings it was given.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// `EDGECART_AUTH` is unset and the listen address is not a loopback one.
    #[error(
        "EDGECART_AUTH must be set on a non-loopback listen address ({0}): jwt, or none to let any client act for any user"
    )]
    ModeRequired(std::net::SocketAddr),
    /// `jwt` without any key source.
    #[error(
        "EDGECART_AUTH=jwt needs EDGECART_JWT_JWKS_FILE, EDGECART_JWT_JWKS_URL or EDGECART_JWT_HS256_SECRET"
    )]
    NoKeys,
    /// The keys could not be loaded.
    #[error("the JWT keys could not be loaded")]
    Keys(#[from] jwks::KeysError),
}

/// A request without acceptable credentials (401 `UNAUTHENTICATED`).
#[derive(Debug, thiserror::Error)]
#[error("unauthenticated: {reason}")]
pub struct Unauthenticated {
    /// Why, for logs (never sent to the client).
    pub reason: String,
}

impl Unauthenticated {
    pub(crate) fn because(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// How this node knows who calls; cheap to clone.
#[derive(Clone)]
pub enum Authenticator {
    /// No end-user identity: every caller is [`Caller::Anyone`].
    None,
    /// Bearer JWTs.
    Jwt(Arc<jwt::Verifier>),
}

impl Authenticator {
    /// The authenticator `settings` ask for: refuses `none` left implicit on a non-loopback
    /// address, and loads the keys of `jwt`.
    pub async fn from_settings(settings: &Settings) -> Result<Self, AuthSetupError> {
        check_mode(settings)?;
        match settings.auth {
            None => Ok(Authenticator::None),
            Some(AuthMode::None) => {
                if !settings.listen.ip().is_loopback() {
                    tracing::warn!(listen = %settings.listen, "EDGECART_AUTH=none on a non-loopback address: any client may act for any user");
                }
                Ok(Authenticator::None)
            }
            Some(AuthMode::Jwt) => Ok(Authenticator::Jwt(Arc::new(
                jwt::Verifier::from_settings(settings).await?,
            ))),
        }
    }

    /// Whether end users must present a token.
    pub fn requires_token(&self) -> bool {
        matches!(self, Authenticator::Jwt(_))
    }

    /// The caller an `Authorization` header value names.
    pub async fn caller(&self, authorization: Option<&str>) -> Result<Caller, Unauthenticated> {
        let Authenticator::Jwt(verifier) = self else {
            return Ok(Caller::Anyone);
        };
        let token = authorization
            .and_then(bearer_token)
            .ok_or_else(|| Unauthenticated::because("no bearer token"))?;
        verifier.verify(token).await.map(Caller::User)
    }
}

/// Refuses an `EDGECART_AUTH` left unset on a non-loopback listen address, before anything
/// binds or connects.
pub fn check_mode(settings: &Settings) -> Result<(), AuthSetupError> {
    if settings.auth.is_none() && !settings.listen.ip().is_loopback() {
        return Err(AuthSetupError::ModeRequired(settings.listen));
    }
    Ok(())
}

/// The token of an `Authorization: Bearer …` value (the scheme in any case).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
