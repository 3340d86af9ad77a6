//! The one-row revision tables: `plugin_revision` (what plugins run) and `catalog_revision`
//! (the operators' product changes). A change bumps its row in its own transaction, which
//! also serializes concurrent changes, so a node that reads a newer revision knows it is
//! behind ([`crate::revisions`]).

use deadpool_postgres::GenericClient;

/// Which revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    /// What plugins run (`plugin_revision`).
    Plugins,
    /// The operators' product changes (`catalog_revision`).
    Catalog,
}

impl Revision {
    fn read_sql(self) -> &'static str {
        match self {
            Revision::Plugins => "SELECT revision FROM plugin_revision",
            Revision::Catalog => "SELECT revision FROM catalog_revision",
        }
    }

    fn bump_sql(self) -> &'static str {
        match self {
            Revision::Plugins => {
                "UPDATE plugin_revision SET revision = revision + 1 RETURNING revision"
            }
            Revision::Catalog => {
                "UPDATE catalog_revision SET revision = revision + 1 RETURNING revision"
            }
        }
    }
}

/// The current revision.
#[tracing::instrument(name = "store.revisions.current", level = "debug", skip(db))]
pub async fn current(
    db: &impl GenericClient,
    which: Revision,
) -> Result<i64, tokio_postgres::Error> {
    let stmt = db.prepare_cached(which.read_sql()).await?;
    Ok(db.query_one(&stmt, &[]).await?.get(0))
}

/// Bumps the revision (its row stays locked until the transaction ends) and returns the new
/// one.
#[tracing::instrument(name = "store.revisions.bump", level = "debug", skip(db))]
pub async fn bump(db: &impl GenericClient, which: Revision) -> Result<i64, tokio_postgres::Error> {
    let stmt = db.prepare_cached(which.bump_sql()).await?;
    Ok(db.query_one(&stmt, &[]).await?.get(0))
}
