//! Admin identities: authenticating an admin token (the bootstrap `EDGECART_ADMIN_TOKEN`, or a
//! named token whose SHA-256 is in PostgreSQL, so a revocation holds on every node at once),
//! creating, listing and revoking named tokens, and reading the audit log every admin change
//! writes. [`record`] is how a change writes its audit row, inside its own transaction.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use deadpool_postgres::Transaction;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Committed, Database, Error, Work, commit};
use crate::{
    config::Secret,
    domain::{AuditEntry, NamedToken, Operator, Page, PageRequest, Role},
    store::admin::{self, Change},
};

/// The bootstrap token's identity.
pub const BOOTSTRAP_NAME: &str = "admin";

/// Why an admin request is not let in.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No bootstrap token is set and no named token exists: the admin API is closed (404).
    #[error("the admin API is closed")]
    Closed,
    /// No token was presented (401).
    #[error("no admin token")]
    Missing,
    /// The token is not one of ours, or is revoked (403).
    #[error("wrong admin token")]
    Wrong,
    /// The token store could not be read.
    #[error(transparent)]
    Service(#[from] Error),
}

/// The admin identity use cases.
#[derive(Clone)]
pub struct Operators {
    db: Database,
    bootstrap: Option<Secret>,
}

impl Operators {
    /// Over the database, with the bootstrap token if one is set.
    pub fn new(db: Database, bootstrap: Option<Secret>) -> Self {
        let bootstrap = bootstrap.filter(|t| !t.expose().is_empty());
        Self { db, bootstrap }
    }

    /// The operator `presented` (a bearer token) is.
    #[tracing::instrument(name = "operators.authenticate", skip_all)]
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Operator, Refusal> {
        if let (Some(bootstrap), Some(token)) = (&self.bootstrap, presented)
            && bool::from(token.as_bytes().ct_eq(bootstrap.expose().as_bytes()))
        {
            return Ok(Operator {
                name: BOOTSTRAP_NAME.into(),
                role: Role::Admin,
            });
        }
        let client = self.db.pool().get().await.map_err(Error::from)?;
        if let Some(token) = presented
            && let Some(operator) = admin::find_token(&client, &digest(token))
                .await
                .map_err(Error::from)?
        {
            return Ok(operator);
        }
        if self.bootstrap.is_none() && !admin::any_token(&client).await.map_err(Error::from)? {
            return Err(Refusal::Closed);
        }
        Err(if presented.is_some() {
            Refusal::Wrong
        } else {
            Refusal::Missing
        })
    }

    /// Creates a named token and returns its value (shown once; only its hash is kept).
    #[tracing::instrument(name = "operators.create_token", skip(self, actor))]
    pub async fn create_token(&self, actor: &str, name: &str, role: Role) -> Result<String, Error> {
        if !valid_token_name(name) {
            return Err(Error::InvalidTokenName);
        }
        let token = new_token()?;
        let ctx = (actor, name, role, digest(&token));
        self.db.transaction(&ctx, create_in).await?;
        Ok(token)
    }

    /// Revokes a named token; every node refuses it from its next request.
    #[tracing::instrument(name = "operators.revoke_token", skip(self, actor))]
    pub async fn revoke_token(&self, actor: &str, name: &str) -> Result<(), Error> {
        self.db.transaction(&(actor, name), revoke_in).await
    }

    /// Every named token (never their values).
    pub async fn tokens(&self) -> Result<Vec<NamedToken>, Error> {
        let client = self.db.pool().get().await?;
        Ok(admin::tokens(&client).await?)
    }

    /// A page of the audit log, newest first, of one target or all.
    #[tracing::instrument(name = "operators.audit", skip(self))]
    pub async fn audit(
        &self,
        target: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, Error> {
        let client = self.db.pool().get().await?;
        let rows = admin::audit(&client, target, page).await?;
        Ok(Page::from_rows(rows, page.limit, |entry| entry.id))
    }
}

/// Writes `operator`'s change to the audit log inside `tx`, the change's own transaction.
pub(crate) async fn record(
    tx: &Transaction<'_>,
    operator: &Operator,
    action: &str,
    target: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<(), Error> {
    let change = Change {
        actor: &operator.name,
        action,
        target,
        before,
        after,
    };
    Ok(admin::record(tx, change).await?)
}

fn create_in<'t>(
    tx: &'t Transaction<'t>,
    &(actor, name, role, ref sha256): &'t (&str, &str, Role, [u8; 32]),
) -> Work<'t, ((), Committed)> {
    Box::pin(async move {
        if !admin::insert_token(tx, name, role.as_str(), sha256).await? {
            return Err(Error::TokenNameTaken);
        }
        let after = serde_json::json!({"name": name, "role": role.as_str()});
        let operator = cli_operator(actor);
        record(
            tx,
            &operator,
            "token.create",
            &token_target(name),
            None,
            Some(&after),
        )
        .await?;
        Ok(((), commit(tx, &[]).await?))
    })
}

fn revoke_in<'t>(
    tx: &'t Transaction<'t>,
    &(actor, name): &'t (&str, &str),
) -> Work<'t, ((), Committed)> {
    Box::pin(async move {
        if !admin::revoke_token(tx, name).await? {
            return Err(Error::TokenNotFound);
        }
        let operator = cli_operator(actor);
        let before = serde_json::json!({"name": name});
        record(
            tx,
            &operator,
            "token.revoke",
            &token_target(name),
            Some(&before),
            None,
        )
        .await?;
        Ok(((), commit(tx, &[]).await?))
    })
}

/// The identity the command line acts as.
fn cli_operator(actor: &str) -> Operator {
    Operator {
        name: actor.to_owned(),
        role: Role::Admin,
    }
}

fn token_target(name: &str) -> String {
    format!("token:{name}")
}

/// A name as the table allows it: `[a-z0-9][a-z0-9._-]{0,63}`, and not the bootstrap's.
fn valid_token_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name != BOOTSTRAP_NAME
        && name.len() <= 64
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// A new token: 32 random bytes, URL-safe, with a recognisable prefix.
fn new_token() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Randomness(e.to_string()))?;
    Ok(format!("eca_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What is stored of a token.
fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_follow_the_table_and_never_take_the_bootstrap_name() {
        for ok in ["alice", "ci-deploy", "a.b_c", "0"] {
            assert!(valid_token_name(ok), "{ok}");
        }
        for bad in ["", "admin", "Alice", "-x", "a b", &"a".repeat(65)] {
            assert!(!valid_token_name(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_are_random_and_only_their_digest_is_kept() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("eca_") && a.len() == 4 + 43);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
    }
}
