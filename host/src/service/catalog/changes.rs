//! The operator's changes to the catalog (create, update) and how every node forgets the
//! answers they made stale. Each change bumps the catalog revision in its own transaction;
//! once it commits, this node resets its caches and announces the revision on the Redis
//! channel [`CHANNEL`]; every node that hears it resets its caches, and a node that missed
//! it finds the revision moved at its next check of PostgreSQL ([`crate::revisions`]).

use std::sync::atomic::Ordering;

use deadpool_postgres::Transaction;

use super::Catalog;
use crate::{
    domain::{Attributes, Operator, Patch, Product, ProductId},
    revisions::{self as sync, Follower},
    service::{Committed, Error, Work, commit, operators, valid_text},
    store::{
        PgPool, products,
        revisions::{self, Revision},
    },
};

/// The channel (after the prefix) catalog changes are announced on.
pub const CHANNEL: &str = "products";

/// Longest accepted product name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// A new product as an operator submits it.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Unit price in won, at least 0.
    pub price: i64,
    /// Units in stock, at least 0.
    pub stock: i64,
    /// Attributes (empty when none).
    pub attributes: Attributes,
}

impl Catalog {
    /// Adds a product.
    #[tracing::instrument(name = "catalog.create", skip_all)]
    pub async fn create(&self, operator: &Operator, new: &NewProduct) -> Result<Product, Error> {
        valid_name(&new.name)?;
        valid_amounts(Some(new.price), Some(new.stock))?;
        let (product, revision) = self.db.transaction(&(operator, new), create_in).await?;
        self.changed(revision).await;
        Ok(product)
    }

    /// Changes any of name, price, stock and attributes.
    #[tracing::instrument(name = "catalog.update", skip_all, fields(product = %id))]
    pub async fn update(
        &self,
        operator: &Operator,
        id: ProductId,
        mut patch: Patch,
    ) -> Result<Product, Error> {
        if let Some(name) = &patch.name {
            patch.name = Some(valid_name(name)?.to_owned());
        }
        valid_amounts(patch.price, patch.stock)?;
        let (product, revision) = self
            .db
            .transaction(&(operator, id, &patch), update_in)
            .await?;
        self.changed(revision).await;
        Ok(product)
    }

    /// A committed change: forgotten here before the operator is answered, then announced.
    async fn changed(&self, revision: i64) {
        self.apply(revision);
        sync::announce(&self.redis, CHANNEL, revision).await;
    }

    /// Resets the caches when `revision` is newer than the one applied.
    fn apply(&self, revision: i64) {
        if self.applied.fetch_max(revision, Ordering::AcqRel) < revision {
            self.caches.reset();
        }
    }
}

impl Follower for Catalog {
    type Error = Error;

    async fn heard(&self, _pool: &PgPool, revision: i64) -> Result<(), Error> {
        self.apply(revision);
        Ok(())
    }

    async fn catch_up(&self, pool: &PgPool) -> Result<(), Error> {
        let client = pool.get().await?;
        self.apply(revisions::current(&client, Revision::Catalog).await?);
        Ok(())
    }
}

fn create_in<'t>(
    tx: &'t Transaction<'t>,
    &(operator, new): &'t (&Operator, &NewProduct),
) -> Work<'t, ((Product, i64), Committed)> {
    Box::pin(async move {
        let product =
            products::insert(tx, &new.name, new.price, new.stock, &new.attributes).await?;
        let after = product_json(&product);
        let target = format!("product:{}", product.id);
        operators::record(tx, operator, "product.create", &target, None, Some(&after)).await?;
        let revision = revisions::bump(tx, Revision::Catalog).await?;
        Ok(((product, revision), commit(tx, &[]).await?))
    })
}

fn update_in<'t>(
    tx: &'t Transaction<'t>,
    &(operator, id, patch): &'t (&Operator, ProductId, &Patch),
) -> Work<'t, ((Product, i64), Committed)> {
    Box::pin(async move {
        let (before, after) = products::update(tx, id, patch)
            .await?
            .ok_or(Error::ProductNotFound)?;
        let target = format!("product:{}", after.id);
        let (before_json, after_json) = (product_json(&before), product_json(&after));
        operators::record(
            tx,
            operator,
            "product.update",
            &target,
            Some(&before_json),
            Some(&after_json),
        )
        .await?;
        let revision = revisions::bump(tx, Revision::Catalog).await?;
        Ok(((after, revision), commit(tx, &[]).await?))
    })
}

/// A product as the audit log shows it.
fn product_json(product: &Product) -> serde_json::Value {
    serde_json::json!({
        "id": product.id, "name": product.name, "price": product.price, "stock": product.stock,
        "attributes": product.attributes,
    })
}

fn valid_name(name: &str) -> Result<&str, Error> {
    if !valid_text(name, MAX_NAME_CHARS) {
        return Err(Error::InvalidProduct("name must have 1 to 200 characters"));
    }
    Ok(name)
}

fn valid_amounts(price: Option<i64>, stock: Option<i64>) -> Result<(), Error> {
    if price.is_some_and(|p| p < 0) {
        return Err(Error::InvalidProduct("price must not be negative"));
    }
    if stock.is_some_and(|s| s < 0) {
        return Err(Error::InvalidProduct("stock must not be negative"));
    }
    Ok(())
}
