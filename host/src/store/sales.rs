//! The `product_sales_hourly` rollup and the popular-products query it serves.

use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use crate::domain::Sold;

/// Adds `quantity` (negative to reverse a cancelled order) to the hour bucket of `sold_at`.
#[tracing::instrument(name = "store.sales.record", level = "debug", skip_all)]
pub async fn record(
    db: &impl GenericClient,
    sold_at: DateTime<Utc>,
    product_id: i64,
    quantity: i64,
) -> Result<(), tokio_postgres::Error> {
    // A sale may open a bucket; a reversal only ever lowers an existing one (an insert of a
    // negative row would break the CHECK even when it ends up as an update).
    const ADD: &str = "INSERT INTO product_sales_hourly (bucket, product_id, quantity) \
                       VALUES (date_trunc('hour', $1::timestamptz), $2, $3) \
                       ON CONFLICT (bucket, product_id) \
                       DO UPDATE SET quantity = product_sales_hourly.quantity + EXCLUDED.quantity";
    const REVERSE: &str = "UPDATE product_sales_hourly SET quantity = quantity + $3 \
                           WHERE bucket = date_trunc('hour', $1::timestamptz) AND product_id = $2";
    let stmt = db
        .prepare_cached(if quantity >= 0 { ADD } else { REVERSE })
        .await?;
    db.execute(&stmt, &[&sold_at, &product_id, &quantity])
        .await?;
    Ok(())
}

/// The units a batch of orders sold, one row per product, counted in the hour bucket of
/// `sold_at`: bind [`SalesRows::params`] to [`SalesRows::SQL`].
#[derive(Debug)]
pub struct SalesRows {
    sold_at: DateTime<Utc>,
    products: Vec<i64>,
    quantities: Vec<i64>,
}

impl SalesRows {
    /// One upsert for every product, in ascending product id (the batch holds the products'
    /// locks, so no two transactions update one bucket in different orders).
    pub const SQL: &'static str = "INSERT INTO product_sales_hourly (bucket, product_id, quantity) \
         SELECT date_trunc('hour', $1::timestamptz), s.product_id, s.quantity \
         FROM unnest($2::bigint[], $3::bigint[]) AS s(product_id, quantity) ORDER BY s.product_id \
         ON CONFLICT (bucket, product_id) \
         DO UPDATE SET quantity = product_sales_hourly.quantity + EXCLUDED.quantity";

    /// `(product id, units sold)`, each product once.
    pub fn new(sold_at: DateTime<Utc>, per_product: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let (products, quantities) = per_product.into_iter().unzip();
        Self {
            sold_at,
            products,
            quantities,
        }
    }

    /// Whether nothing was sold.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// The parameters of [`SalesRows::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 3] {
        [&self.sold_at, &self.products, &self.quantities]
    }
}

impl super::BatchRows for SalesRows {
    fn statements(&self) -> Vec<super::Bound<'_>> {
        super::one_statement(self.is_empty(), Self::SQL, self.params())
    }
}

/// The `limit` products with the most units sold in paid orders of the last `window`, most
/// first, ties by id. Whole hours come from the rollup; the window's first, partial hour is
/// counted exactly from the orders paid in it, so the window is exact to the second while the
/// cost stays bounded by 72 buckets plus one hour of orders.
#[tracing::instrument(name = "store.sales.top", level = "debug", skip_all)]
pub async fn top(
    db: &impl GenericClient,
    window: Duration,
    limit: i64,
) -> Result<Vec<Sold>, tokio_postgres::Error> {
    const SQL: &str = "\
        WITH edge AS ( \
            SELECT now() - make_interval(secs => $1) AS start, \
                   date_trunc('hour', now() - make_interval(secs => $1)) + interval '1 hour' AS full_from), \
        sold AS ( \
            SELECT s.product_id, s.quantity FROM product_sales_hourly s, edge \
             WHERE s.bucket >= edge.full_from \
            UNION ALL \
            SELECT l.product_id, l.quantity FROM orders o JOIN order_lines l ON l.order_id = o.id, edge \
             WHERE o.status = 'PAID' AND o.created_at >= edge.start AND o.created_at < edge.full_from) \
        SELECT p.id, p.name, sum(sold.quantity)::bigint AS count \
          FROM sold JOIN products p ON p.id = sold.product_id \
         GROUP BY p.id, p.name HAVING sum(sold.quantity) > 0 \
         ORDER BY count DESC, p.id ASC LIMIT $2";
    let stmt = db.prepare_cached(SQL).await?;
    let rows = db.query(&stmt, &[&window.as_secs_f64(), &limit]).await?;
    Ok(rows
        .iter()
        .map(|r| Sold {
            id: r.get(0),
            name: r.get(1),
            count: r.get(2),
        })
        .collect())
}
