//! The product catalog's reads: product details, pages of the list and the popular list,
//! each served from this node's caches ([`crate::cache`]) as the HTTP layer renders it, so a
//! cached answer is its bytes and their tag. Product answers are fresh for
//! `EDGECART_PRODUCT_TTL_SECS` (the bound on how far `stock` lags orders), the popular list
//! for `EDGECART_POPULAR_TTL_SECS`; all are kept `EDGECART_STALE_IF_ERROR_SECS` longer for
//! PostgreSQL outages. The operator's changes, and how every node forgets what they made
//! stale, are in [`changes`]; how read products stay fresh without waiting readers, in
//! [`refresh`].

mod changes;
mod reads;
mod refresh;

use std::{
    sync::{Arc, atomic::AtomicI64},
    time::Duration,
};

pub use changes::{CHANNEL, NewProduct};

use reads::CatalogReads;

use super::{Database, Error};
use crate::{
    cache::{AnswerCache, Bounds, Rendered, Served},
    domain::{Page, PageRequest, Product, ProductId, Sold},
    metrics::{Cache, Metrics},
    redis::Redis,
    store::{Replica, products, sales},
};

/// The popular list's window: a rolling 72 hours.
pub const POPULAR_WINDOW: Duration = Duration::from_secs(72 * 3600);
/// How many products the popular list holds.
pub const POPULAR_SIZE: i64 = 5;

/// The catalog use cases; cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    db: Database,
    /// Where the catalog's queries go (the replica, when one is set and usable).
    reads: CatalogReads,
    redis: Redis,
    caches: Caches,
    /// The newest catalog revision this node has applied (its caches hold nothing older).
    applied: Arc<AtomicI64>,
    metrics: Metrics,
}

/// The node's cached catalog answers.
#[derive(Clone)]
struct Caches {
    products: AnswerCache<ProductId>,
    pages: AnswerCache<PageRequest>,
    popular: AnswerCache<()>,
}

impl Caches {
    /// Forgets every answer (a product changed).
    fn reset(&self) {
        self.products.reset();
        self.pages.reset();
        self.popular.reset();
    }
}

impl Catalog {
    /// Builds the service over the database (catalog queries on `replica` while it is
    /// usable), with caches within these bounds; changes are announced on `redis`.
    pub fn new(
        db: Database,
        replica: Option<Replica>,
        redis: Redis,
        products: Bounds,
        popular: Bounds,
        metrics: Metrics,
    ) -> Self {
        Self {
            reads: CatalogReads::new(db.pool().clone(), replica, metrics.clone()),
            db,
            redis,
            caches: Caches {
                products: AnswerCache::new(products),
                pages: AnswerCache::new(products),
                popular: AnswerCache::new(popular),
            },
            applied: Arc::new(AtomicI64::new(0)),
            metrics,
        }
    }

    /// The bounds of product answers (details and pages).
    pub fn product_bounds(&self) -> Bounds {
        self.caches.products.bounds()
    }

    /// The bounds of the popular list.
    pub fn popular_bounds(&self) -> Bounds {
        self.caches.popular.bounds()
    }

    /// One product, as `render` makes its body.
    #[tracing::instrument(name = "catalog.product", skip_all, fields(product = %id))]
    pub async fn product(
        &self,
        id: ProductId,
        render: impl FnOnce(&Product) -> Vec<u8>,
    ) -> Result<Served, Error> {
        let load = move || async move {
            let product = self
                .reads
                .run(|client| {
                    Box::pin(async move {
                        products::find(client, id)
                            .await?
                            .ok_or(Error::ProductNotFound)
                    })
                })
                .await?;
            Ok(Rendered::new(render(&product)))
        };
        self.cached(&self.caches.products, Cache::Product, id, load)
            .await
    }

    /// A page of products ordered by id, as `render` makes its body.
    #[tracing::instrument(name = "catalog.list", skip(self, render))]
    pub async fn list(
        &self,
        page: PageRequest,
        render: impl FnOnce(&Page<Product>) -> Vec<u8>,
    ) -> Result<Served, Error> {
        let load = move || async move {
            let rows = self
                .reads
                .run(|client| Box::pin(async move { Ok(products::page(client, page).await?) }))
                .await?;
            let page = Page::from_rows(rows, page.limit, |product| product.id);
            Ok(Rendered::new(render(&page)))
        };
        self.cached(&self.caches.pages, Cache::ProductList, page, load)
            .await
    }

    /// The 5 products most sold in paid orders of the last 72 hours, as `render` makes its
    /// body.
    #[tracing::instrument(name = "catalog.popular", skip_all)]
    pub async fn popular(&self, render: impl FnOnce(&[Sold]) -> Vec<u8>) -> Result<Served, Error> {
        let load = move || async move {
            let items = self
                .reads
                .run(|client| {
                    Box::pin(
                        async move { Ok(sales::top(client, POPULAR_WINDOW, POPULAR_SIZE).await?) },
                    )
                })
                .await?;
            Ok(Rendered::new(render(items.as_slice())))
        };
        self.cached(&self.caches.popular, Cache::Popular, (), load)
            .await
    }

    /// Whether the catalog has no product (read from PostgreSQL, not the caches).
    pub async fn is_empty(&self) -> Result<bool, Error> {
        let client = self.db.pool().get().await?;
        let first = PageRequest {
            limit: 1,
            after: None,
        };
        Ok(products::page(&client, first).await?.is_empty())
    }

    /// Sets the caches' size gauges.
    pub async fn observe_caches(&self) {
        let caches = [
            (Cache::Product, self.caches.products.size().await),
            (Cache::ProductList, self.caches.pages.size().await),
            (Cache::Popular, self.caches.popular.size().await),
        ];
        for (cache, (entries, bytes)) in caches {
            self.metrics.set_cache_size(cache, entries, bytes);
        }
    }

    /// A lookup in `cache`, counted: every lookup, every load, every answer served stale.
    /// Concurrent misses share one load, and so its error: a 503 only when PostgreSQL was
    /// unreachable (and nothing recent enough was held), a 500 for any other failure.
    async fn cached<K, F>(
        &self,
        cache: &AnswerCache<K>,
        label: Cache,
        key: K,
        load: impl FnOnce() -> F,
    ) -> Result<Served, Error>
    where
        K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
        F: Future<Output = Result<Rendered, Error>>,
    {
        self.metrics.cache_request(label);
        // Counted when the load runs: concurrent misses share one.
        let load = move || async move {
            self.metrics.cache_miss(label);
            load().await
        };
        let unreachable = |error: &Error| matches!(error, Error::DatabaseUnavailable(_));
        let served = cache
            .get(key, load, unreachable)
            .await
            .map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(Error::Shared))?;
        if served.stale_age().is_some() {
            self.metrics.cache_stale(label);
        }
        Ok(served)
    }
}
