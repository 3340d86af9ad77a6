//! Refresh ahead of product answers. Every product is fresh for `EDGECART_PRODUCT_TTL_SECS`
//! only, so without this each product that is read would be loaded again once per bound, one
//! query each (a thousand products read at a one-second bound: a thousand queries a second,
//! whatever the request rate). Instead, every half of the bound, the products read since their
//! answers were loaded are loaded again in one query and rendered; readers find them fresh and
//! never wait for a load. A product nobody read since is left to expire, and its next read
//! loads it as before. Freshness is counted from the round's start, so `stock` still lags
//! orders by at most the bound.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Catalog;
use crate::{
    cache::Rendered,
    domain::{Product, ProductId},
    store::products,
};

/// The most products one round loads; read products past it are loaded by their readers.
pub const MAX_PER_ROUND: usize = 10_000;

impl Catalog {
    /// One refresh round: loads the product answers read since they were loaded, in one query,
    /// renders them with `render` and keeps them fresh. Returns how many it kept.
    pub async fn refresh_products(
        &self,
        render: impl Fn(&Product) -> Vec<u8>,
    ) -> Result<usize, super::Error> {
        let cache = &self.caches.products;
        let round = cache.due(MAX_PER_ROUND);
        if round.keys().is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = round.keys().iter().map(|id| id.get()).collect();
        let found = self
            .reads
            .run(|client| {
                let ids = ids.clone();
                Box::pin(async move { Ok(products::find_many(client, &ids).await?) })
            })
            .await?;
        let answers: Vec<(ProductId, Rendered)> = found
            .iter()
            .filter_map(|product| {
                let id = ProductId::new(product.id).ok()?;
                Some((id, Rendered::new(render(product))))
            })
            .collect();
        let kept = answers.len();
        cache.refreshed(round, answers).await;
        Ok(kept)
    }

    /// Runs refresh rounds every half of the product bound until `stop` (not at all when the
    /// bound is zero). A failed round is logged; its products expire and load as usual.
    pub async fn keep_products_fresh(
        self,
        render: impl Fn(&Product) -> Vec<u8> + Send + Sync + 'static,
        stop: CancellationToken,
    ) {
        let every = self.product_bounds().fresh / 2;
        if every.is_zero() {
            return;
        }
        let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match self.refresh_products(&render).await {
                Ok(kept) => tracing::trace!(kept, "product answers refreshed ahead"),
                Err(error) => tracing::warn!(
                    error = %crate::telemetry::chain(&error),
                    "refreshing product answers failed; they load on their next read"
                ),
            }
        }
    }
}
