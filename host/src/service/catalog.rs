//! The product catalog: detail, list, and the operator's create and update.

use std::{sync::Arc, time::Duration};

use super::{Database, Error, valid_text};
use crate::{
    cache::{Popular, PopularCache},
    domain::{Page, PageRequest, Patch, Product, ProductId},
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
    pub async fn create(&self, name: &str, price: i64, stock: i64) -> Result<Product, Error> {
        let name = valid_name(name)?;
        valid_amounts(Some(price), Some(stock))?;
        let client = self.db.pool().get().await?;
        Ok(products::insert(&client, name, price, stock).await?)
    }

    /// Changes any of name, price and stock.
    #[tracing::instrument(name = "catalog.update", skip_all, fields(product = %id))]
    pub async fn update(&self, id: ProductId, mut patch: Patch) -> Result<Product, Error> {
        if let Some(name) = &patch.name {
            patch.name = Some(valid_name(name)?.to_owned());
        }
        valid_amounts(patch.price, patch.stock)?;
        let client = self.db.pool().get().await?;
        products::update(&client, id, &patch)
            .await?
            .ok_or(Error::ProductNotFound)
    }
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
