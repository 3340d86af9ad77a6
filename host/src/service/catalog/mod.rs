//! The product catalog: detail, list, and the operator's create and update.

use std::{sync::Arc, time::Duration};

use deadpool_postgres::Transaction;

use super::{Committed, Database, Error, Work, commit, operators, valid_text};
use crate::{
    cache::{Popular, PopularCache},
    domain::{Operator, Page, PageRequest, Patch, Product, ProductId},
    metrics::{Cache, Metrics},
    store::{products, sales},
};

/// The popular list's window: a rolling 72 hours.
pub const POPULAR_WINDOW: Duration = Duration::from_secs(72 * 3600);
/// How many products the popular list holds.
pub const POPULAR_SIZE: i64 = 5;

/// Longest accepted product name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// The catalog use cases.
#[derive(Clone)]
pub struct Catalog {
    db: Database,
    popular: PopularCache,
    metrics: Metrics,
}

impl Catalog {
    /// Builds the service over the database.
    pub fn new(db: Database, popular_ttl: Duration, metrics: Metrics) -> Self {
        Self {
            db,
            popular: PopularCache::new(popular_ttl),
            metrics,
        }
    }

    /// The popular list's staleness bound.
    pub fn popular_ttl(&self) -> Duration {
        self.popular.ttl()
    }

    /// The 5 products most sold in paid orders of the last 72 hours, from the cache.
    #[tracing::instrument(name = "catalog.popular", skip_all)]
    pub async fn popular(&self) -> Result<Arc<Popular>, Error> {
        self.metrics.cache_request(Cache::Popular);
        let load = async {
            self.metrics.cache_miss(Cache::Popular);
            let client = self.db.pool().get().await?;
            let items = sales::top(&client, POPULAR_WINDOW, POPULAR_SIZE).await?;
            Ok::<_, Error>(Popular::new(items))
        };
        // Concurrent misses share one load, and so its error: a 503 only when PostgreSQL
        // was unreachable, a 500 for any other failure.
        self.popular
            .get_or_load(load)
            .await
            .map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(Error::Shared))
    }

    /// One product.
    #[tracing::instrument(name = "catalog.product", skip_all, fields(product = %id))]
    pub async fn product(&self, id: ProductId) -> Result<Product, Error> {
        let client = self.db.pool().get().await?;
        products::find(&client, id)
            .await?
            .ok_or(Error::ProductNotFound)
    }

    /// A page of products ordered by id.
    #[tracing::instrument(name = "catalog.list", skip(self))]
    pub async fn list(&self, page: PageRequest) -> Result<Page<Product>, Error> {
        let client = self.db.pool().get().await?;
        let rows = products::page(&client, page).await?;
        Ok(Page::from_rows(rows, page.limit, |product| product.id))
    }

    /// Adds a product.
    #[tracing::instrument(name = "catalog.create", skip_all)]
    pub async fn create(
        &self,
        operator: &Operator,
        name: &str,
        price: i64,
        stock: i64,
    ) -> Result<Product, Error> {
        let name = valid_name(name)?;
        valid_amounts(Some(price), Some(stock))?;
        self.db
            .transaction(&(operator, name, price, stock), create_in)
            .await
    }

    /// Changes any of name, price and stock.
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
        self.db
            .transaction(&(operator, id, &patch), update_in)
            .await
    }
}

fn create_in<'t>(
    tx: &'t Transaction<'t>,
    &(operator, name, price, stock): &'t (&Operator, &str, i64, i64),
) -> Work<'t, (Product, Committed)> {
    Box::pin(async move {
        let product = products::insert(tx, name, price, stock).await?;
        let after = product_json(&product);
        let target = format!("product:{}", product.id);
        operators::record(tx, operator, "product.create", &target, None, Some(&after)).await?;
        Ok((product, commit(tx, &[]).await?))
    })
}

fn update_in<'t>(
    tx: &'t Transaction<'t>,
    &(operator, id, patch): &'t (&Operator, ProductId, &Patch),
) -> Work<'t, (Product, Committed)> {
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
        Ok((after, commit(tx, &[]).await?))
    })
}

/// A product as the audit log shows it.
fn product_json(product: &Product) -> serde_json::Value {
    serde_json::json!({
        "id": product.id, "name": product.name, "price": product.price, "stock": product.stock,
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
