//! The `products` table: name, unit price and stock.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::{Row, types::ToSql};

use crate::domain::{PageRequest, Patch, Product, ProductId};

impl From<&Row> for Product {
    fn from(row: &Row) -> Self {
        Self {
            id: row.get(0),
            name: row.get(1),
            price: row.get(2),
            stock: row.get(3),
        }
    }
}

/// Reads one product.
#[tracing::instrument(name = "store.products.find", level = "debug", skip_all)]
pub async fn find(
    db: &impl GenericClient,
    id: ProductId,
) -> Result<Option<Product>, tokio_postgres::Error> {
    const SQL: &str = "SELECT id, name, price, stock FROM products WHERE id = $1";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query_opt(&stmt, &[&id.get()])
        .await?
        .as_ref()
        .map(Product::from))
}

/// One page ordered by id, after `page.after`; up to `page.limit + 1` rows.
#[tracing::instrument(name = "store.products.page", level = "debug", skip_all)]
pub async fn page(
    db: &impl GenericClient,
    page: PageRequest,
) -> Result<Vec<Product>, tokio_postgres::Error> {
    const SQL: &str =
        "SELECT id, name, price, stock FROM products WHERE id > $1 ORDER BY id LIMIT $2";
    let stmt = db.prepare_cached(SQL).await?;
    let after = page.after.unwrap_or(0);
    let rows = db.query(&stmt, &[&after, &(page.limit + 1)]).await?;
    Ok(rows.iter().map(Product::from).collect())
}

/// Inserts a product.
#[tracing::instrument(name = "store.products.insert", level = "debug", skip_all)]
pub async fn insert(
    db: &impl GenericClient,
    name: &str,
    price: i64,
    stock: i64,
) -> Result<Product, tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO products (name, price, stock) VALUES ($1, $2, $3) \
                       RETURNING id, name, price, stock";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(Product::from(
        &db.query_one(&stmt, &[&name, &price, &stock]).await?,
    ))
}

/// Applies a partial update; returns the product before and after it, `None` when there is
/// no such product. The row is locked by the statement that reads its old values.
#[tracing::instrument(name = "store.products.update", level = "debug", skip_all)]
pub async fn update(
    db: &impl GenericClient,
    id: ProductId,
    patch: &Patch,
) -> Result<Option<(Product, Product)>, tokio_postgres::Error> {
    const SQL: &str = "UPDATE products p SET name = COALESCE($2, p.name), \
                       price = COALESCE($3, p.price), stock = COALESCE($4, p.stock), \
                       updated_at = now() \
                       FROM (SELECT id, name, price, stock FROM products WHERE id = $1 FOR UPDATE) old \
                       WHERE p.id = old.id \
                       RETURNING p.id, p.name, p.price, p.stock, old.name, old.price, old.stock";
    let stmt = db.prepare_cached(SQL).await?;
    let row = db
        .query_opt(&stmt, &[&id.get(), &patch.name, &patch.price, &patch.stock])
        .await?;
    Ok(row.map(|row| {
        let before = Product {
            id: row.get(0),
            name: row.get(4),
            price: row.get(5),
            stock: row.get(6),
        };
        (before, Product::from(&row))
    }))
}

/// Reads the products with these ids (any order; missing ids are simply absent).
#[tracing::instrument(name = "store.products.find_many", level = "debug", skip_all)]
pub async fn find_many(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<Product>, tokio_postgres::Error> {
    const SQL: &str = "SELECT id, name, price, stock FROM products WHERE id = ANY($1) ORDER BY id";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query(&stmt, &[&ids])
        .await?
        .iter()
        .map(Product::from)
        .collect())
}

/// The stock step of an order: the `take_stock()` function of migration V3 takes each line's
/// units if they are in stock at the price the order was priced with, and counts the sale in
/// the hourly rollup, locking the lines' rows in the given order. A refusal aborts the
/// transaction with an error [`StockRefusal::of`] recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeStock {
    product_ids: Vec<i64>,
    quantities: Vec<i64>,
    seen_prices: Vec<i64>,
    sold_at: DateTime<Utc>,
}

impl TakeStock {
    /// The statement; bind [`TakeStock::params`].
    pub const SQL: &'static str = "SELECT take_stock($1, $2, $3, $4)";

    /// Lines as `(product id, quantity, list price seen when pricing)`, ascending product id.
    pub fn new(lines: impl IntoIterator<Item = (i64, i64, i64)>, sold_at: DateTime<Utc>) -> Self {
        let mut take = Self {
            product_ids: Vec::new(),
            quantities: Vec::new(),
            seen_prices: Vec::new(),
            sold_at,
        };
        for (product, quantity, price) in lines {
            take.product_ids.push(product);
            take.quantities.push(quantity);
            take.seen_prices.push(price);
        }
        take
    }

    /// The parameters of [`TakeStock::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 4] {
        [
            &self.product_ids,
            &self.quantities,
            &self.seen_prices,
            &self.sold_at,
        ]
    }

    /// Runs the step; the rows stay locked until the transaction ends.
    #[tracing::instrument(name = "store.products.take_stock", level = "debug", skip_all)]
    pub async fn run(&self, db: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
        let stmt = db.prepare_cached(Self::SQL).await?;
        db.execute(&stmt, &self.params()).await?;
        Ok(())
    }
}

/// Why [`TakeStock`] refused a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockRefusal {
    /// Fewer units in stock than ordered (or no such product).
    OutOfStock,
    /// The price changed since the order was priced.
    PriceChanged,
}

impl StockRefusal {
    /// The refusal an error carries, if it is one (SQLSTATE `EC001` or `EC002`).
    pub fn of(error: &tokio_postgres::Error) -> Option<Self> {
        match error.code()?.code() {
            "EC001" => Some(StockRefusal::OutOfStock),
            "EC002" => Some(StockRefusal::PriceChanged),
            _ => None,
        }
    }
}

/// Puts `quantity` units back (a cancelled order).
#[tracing::instrument(name = "store.products.return_stock", level = "debug", skip_all)]
pub async fn return_stock(
    db: &impl GenericClient,
    id: i64,
    quantity: i64,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "UPDATE products SET stock = stock + $2 WHERE id = $1";
    let stmt = db.prepare_cached(SQL).await?;
    db.execute(&stmt, &[&id, &quantity]).await?;
    Ok(())
}
