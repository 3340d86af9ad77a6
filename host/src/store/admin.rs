//! The `admin_tokens` and `audit_log` tables: named admin tokens, looked up by the SHA-256 of
//! their value (never stored), and the audit log every admin change writes in its own
//! transaction.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::domain::{AuditEntry, NamedToken, Operator, PageRequest};

/// The operator an active token's hash belongs to.
#[tracing::instrument(name = "store.admin.find_token", level = "debug", skip_all)]
pub async fn find_token(
    db: &impl GenericClient,
    sha256: &[u8],
) -> Result<Option<Operator>, tokio_postgres::Error> {
    const SQL: &str =
        "SELECT name, role FROM admin_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db.query_opt(&stmt, &[&sha256]).await?.and_then(|row| {
        Some(Operator {
            name: row.get(0),
            role: row.get::<_, &str>(1).parse().ok()?,
        })
    }))
}

/// Whether any named token is active.
#[tracing::instrument(name = "store.admin.any_token", level = "debug", skip_all)]
pub async fn any_token(db: &impl GenericClient) -> Result<bool, tokio_postgres::Error> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM admin_tokens WHERE revoked_at IS NULL)";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db.query_one(&stmt, &[]).await?.get(0))
}

/// Stores a new token's hash; `false` when the name is taken (even by a revoked token).
#[tracing::instrument(name = "store.admin.insert_token", level = "debug", skip_all)]
pub async fn insert_token(
    db: &impl GenericClient,
    name: &str,
    role: &str,
    sha256: &[u8],
) -> Result<bool, tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO admin_tokens (name, role, token_sha256) VALUES ($1, $2, $3) \
                       ON CONFLICT (name) DO NOTHING";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db.execute(&stmt, &[&name, &role, &sha256]).await? == 1)
}

/// Revokes an active token; `false` when there is none of that name.
#[tracing::instrument(name = "store.admin.revoke_token", level = "debug", skip_all)]
pub async fn revoke_token(
    db: &impl GenericClient,
    name: &str,
) -> Result<bool, tokio_postgres::Error> {
    const SQL: &str = "UPDATE admin_tokens SET revoked_at = now() \
                       WHERE name = $1 AND revoked_at IS NULL";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db.execute(&stmt, &[&name]).await? == 1)
}

/// Every named token, by name.
#[tracing::instrument(name = "store.admin.tokens", level = "debug", skip_all)]
pub async fn tokens(db: &impl GenericClient) -> Result<Vec<NamedToken>, tokio_postgres::Error> {
    const SQL: &str = "SELECT name, role, created_at, revoked_at FROM admin_tokens ORDER BY name";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query(&stmt, &[])
        .await?
        .iter()
        .filter_map(|row| {
            Some(NamedToken {
                name: row.get(0),
                role: row.get::<_, &str>(1).parse().ok()?,
                created_at: row.get(2),
                revoked_at: row.get(3),
            })
        })
        .collect())
}

/// One admin change to record.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// Who made it.
    pub actor: &'a str,
    /// What was done (`product.update`).
    pub action: &'a str,
    /// What it was done to (`product:25`).
    pub target: &'a str,
    /// The state before, if there was one.
    pub before: Option<&'a serde_json::Value>,
    /// The state after, if there is one.
    pub after: Option<&'a serde_json::Value>,
}

/// Appends a change to the audit log, in the transaction that makes it.
#[tracing::instrument(name = "store.admin.record", level = "debug", skip_all)]
pub async fn record(
    db: &impl GenericClient,
    change: Change<'_>,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO audit_log (actor, action, target, before, after) \
                       VALUES ($1, $2, $3, $4, $5)";
    let stmt = db.prepare_cached(SQL).await?;
    db.execute(
        &stmt,
        &[
            &change.actor,
            &change.action,
            &change.target,
            &change.before,
            &change.after,
        ],
    )
    .await?;
    Ok(())
}

/// A page of the audit log, newest first, of one target or all.
#[tracing::instrument(name = "store.admin.audit", level = "debug", skip_all)]
pub async fn audit(
    db: &impl GenericClient,
    target: Option<&str>,
    page: PageRequest,
) -> Result<Vec<AuditEntry>, tokio_postgres::Error> {
    const SQL: &str = "SELECT id, at, actor, action, target, before, after FROM audit_log \
                       WHERE id < $1 AND ($2::text IS NULL OR target = $2) \
                       ORDER BY id DESC LIMIT $3";
    let stmt = db.prepare_cached(SQL).await?;
    let before = page.after.unwrap_or(i64::MAX);
    let rows = db
        .query(&stmt, &[&before, &target, &(page.limit + 1)])
        .await?;
    Ok(rows.iter().map(entry).collect())
}

fn entry(row: &Row) -> AuditEntry {
    AuditEntry {
        id: row.get(0),
        at: row.get(1),
        actor: row.get(2),
        action: row.get(3),
        target: row.get(4),
        before: row.get(5),
        after: row.get(6),
    }
}
