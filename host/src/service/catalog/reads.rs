//! Where the catalog's queries go: to the read replica while it is usable (up, and within
//! `EDGECART_REPLICA_MAX_LAG_MS` of the primary), to the primary otherwise. A query the
//! replica fails is asked of the primary at once, and the replica is left aside until its
//! next check, so a replica that stops costs no request an error. Nothing else reads here:
//! writes, reads inside writes and a user's own data always use the primary.

use deadpool_postgres::Client;
use futures_util::future::BoxFuture;

use super::Error;
use crate::{
    metrics::Metrics,
    store::{PgPool, Replica},
};

/// The servers catalog queries may go to; cheap to clone.
#[derive(Clone)]
pub(super) struct CatalogReads {
    primary: PgPool,
    replica: Option<Replica>,
    metrics: Metrics,
}

impl CatalogReads {
    /// Reads on `primary`, and on `replica` while it is usable.
    pub(super) fn new(primary: PgPool, replica: Option<Replica>, metrics: Metrics) -> Self {
        Self {
            primary,
            replica,
            metrics,
        }
    }

    /// Runs `query` on the replica when it is usable, else (or when it fails there) on the
    /// primary.
    pub(super) async fn run<T>(
        &self,
        query: impl for<'c> Fn(&'c Client) -> BoxFuture<'c, Result<T, Error>>,
    ) -> Result<T, Error> {
        if let Some(replica) = self.replica.as_ref().filter(|replica| replica.is_usable()) {
            let on_replica = async {
                let client = replica.pool().get().await?;
                query(&client).await
            };
            match on_replica.await {
                Ok(answer) => {
                    self.metrics.catalog_read(true);
                    return Ok(answer);
                }
                // The primary says whether the product exists.
                Err(Error::ProductNotFound) => {}
                Err(error) => {
                    tracing::warn!(error = %crate::telemetry::chain(&error), "a catalog read failed on the replica; asking the primary");
                    replica.set_aside();
                }
            }
        }
        let client = self.primary.get().await?;
        let answer = query(&client).await;
        self.metrics.catalog_read(false);
        answer
    }
}
