//! The `products` table: name, unit price and stock.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::domain::{PageRequest, ProductId};

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The product's id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Unit price in won.
    pub price: i64,
    /// Units in stock.
    pub stock: i64,
}

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

/// A partial update; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// New name.
    pub name: Option<String>,
    /// New unit price.
    pub price: Option<i64>,
    /// New stock.
    pub stock: Option<i64>,
}

/// Reads one product.
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

/// Applies a partial update; `None` when there is no such product.
pub async fn update(
    db: &impl GenericClient,
    id: ProductId,
    patch: &Patch,
) -> Result<Option<Product>, tokio_postgres::Error> {
    const SQL: &str = "UPDATE products SET name = COALESCE($2, name), price = COALESCE($3, price), \
                       stock = COALESCE($4, stock), updated_at = now() WHERE id = $1 \
                       RETURNING id, name, price, stock";
    let stmt = db.prepare_cached(SQL).await?;
    let row = db
        .query_opt(&stmt, &[&id.get(), &patch.name, &patch.price, &patch.stock])
        .await?;
    Ok(row.as_ref().map(Product::from))
}

/// Reads the products with these ids (any order; missing ids are simply absent).
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

/// Takes `quantity` units if at least that many are in stock *and* the price is still
/// `seen_price`, and counts the sale in the hourly rollup, in one statement: one round trip
/// while the row is locked, since this is the hot row of a popular product. False when
/// either condition fails; nothing changes then. The rows stay locked until the transaction
/// ends.
pub async fn take_stock(
    db: &impl GenericClient,
    id: i64,
    quantity: i64,
    seen_price: i64,
    sold_at: DateTime<Utc>,
) -> Result<bool, tokio_postgres::Error> {
    const SQL: &str = "WITH taken AS ( \
                           UPDATE products SET stock = stock - $2 \
                           WHERE id = $1 AND stock >= $2 AND price = $3 RETURNING id) \
                       INSERT INTO product_sales_hourly (bucket, product_id, quantity) \
                       SELECT date_trunc('hour', $4::timestamptz), id, $2 FROM taken \
                       ON CONFLICT (bucket, product_id) \
                       DO UPDATE SET quantity = product_sales_hourly.quantity + EXCLUDED.quantity";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .execute(&stmt, &[&id, &quantity, &seen_price, &sold_at])
        .await?
        == 1)
}

/// Puts `quantity` units back (a cancelled order).
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
