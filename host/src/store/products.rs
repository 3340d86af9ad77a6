//! The `products` table: name, unit price, stock and attributes.

use deadpool_postgres::GenericClient;
use tokio_postgres::{Row, types::ToSql};

use crate::domain::{Attributes, PageRequest, Patch, Product, ProductId};

/// The columns [`Product`] is read from, in the order `From<&Row>` takes them.
macro_rules! product_columns {
    ($t:literal) => { columns!($t; "id", "name", "price", "stock", "attributes") };
}

impl From<&Row> for Product {
    fn from(row: &Row) -> Self {
        Self {
            id: row.get(0),
            name: row.get(1),
            price: row.get(2),
            stock: row.get(3),
            attributes: super::attributes_at(row, 4),
        }
    }
}

/// Reads one product.
#[tracing::instrument(name = "store.products.find", level = "debug", skip_all)]
pub async fn find(
    db: &impl GenericClient,
    id: ProductId,
) -> Result<Option<Product>, tokio_postgres::Error> {
    const SQL: &str = concat!(
        "SELECT ",
        product_columns!(""),
        " FROM products WHERE id = $1"
    );
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query_opt(&stmt, &[&id.get()])
        .await?
        .as_ref()
        .map(Product::from))
}

/// Reads the products with these ids, in ascending id order; missing ids are simply absent.
#[tracing::instrument(name = "store.products.find_many", level = "debug", skip_all)]
pub async fn find_many(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<Product>, tokio_postgres::Error> {
    const SQL: &str = concat!(
        "SELECT ",
        product_columns!(""),
        " FROM products WHERE id = ANY($1) ORDER BY id"
    );
    by_ids(db, SQL, ids).await
}

/// Runs `sql`, a query of products by the id array `$1`.
async fn by_ids(
    db: &impl GenericClient,
    sql: &str,
    ids: &[i64],
) -> Result<Vec<Product>, tokio_postgres::Error> {
    let stmt = db.prepare_cached(sql).await?;
    Ok(db
        .query(&stmt, &[&ids])
        .await?
        .iter()
        .map(Product::from)
        .collect())
}

/// One page ordered by id, after `page.after`; up to `page.limit + 1` rows.
#[tracing::instrument(name = "store.products.page", level = "debug", skip_all)]
pub async fn page(
    db: &impl GenericClient,
    page: PageRequest,
) -> Result<Vec<Product>, tokio_postgres::Error> {
    const SQL: &str = concat!(
        "SELECT ",
        product_columns!(""),
        " FROM products WHERE id > $1 ORDER BY id LIMIT $2"
    );
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
    attributes: &Attributes,
) -> Result<Product, tokio_postgres::Error> {
    const SQL: &str = concat!(
        "INSERT INTO products (name, price, stock, attributes) VALUES ($1, $2, $3, $4) RETURNING ",
        product_columns!("")
    );
    let stmt = db.prepare_cached(SQL).await?;
    let attributes = attributes.to_json();
    Ok(Product::from(
        &db.query_one(&stmt, &[&name, &price, &stock, &attributes])
            .await?,
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
    const SQL: &str = concat!(
        "UPDATE products p SET name = COALESCE($2, p.name), \
         price = COALESCE($3, p.price), stock = COALESCE($4, p.stock), \
         attributes = COALESCE($5, p.attributes), updated_at = now() \
         FROM (SELECT id, name, price, stock, attributes FROM products WHERE id = $1 FOR UPDATE) old \
         WHERE p.id = old.id RETURNING ",
        product_columns!("p."),
        ", ",
        product_columns!("old.")
    );
    let stmt = db.prepare_cached(SQL).await?;
    let attributes = patch.attributes.as_ref().map(Attributes::to_json);
    let row = db
        .query_opt(
            &stmt,
            &[
                &id.get(),
                &patch.name,
                &patch.price,
                &patch.stock,
                &attributes,
            ],
        )
        .await?;
    Ok(row.map(|row| {
        let before = Product {
            id: row.get(5),
            name: row.get(6),
            price: row.get(7),
            stock: row.get(8),
            attributes: super::attributes_at(&row, 9),
        };
        (before, Product::from(&row))
    }))
}

/// The statement [`lock_many`] runs, to prepare ahead with [`super::prepare_all`].
pub const LOCK_MANY: &str = concat!(
    "SELECT ",
    product_columns!(""),
    " FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE"
);

/// Locks the products with these ids in ascending id order (`FOR UPDATE`, held until the
/// transaction ends) and reads them: how a batch of orders first takes its products. Missing
/// ids are simply absent.
#[tracing::instrument(name = "store.products.lock_many", level = "debug", skip_all)]
pub async fn lock_many(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<Product>, tokio_postgres::Error> {
    by_ids(db, LOCK_MANY, ids).await
}

/// The units a batch of orders takes, one row per product: bind [`StockTakes::params`] to
/// [`StockTakes::SQL`]. The rows are already locked by [`lock_many`].
#[derive(Debug, Default)]
pub struct StockTakes {
    ids: Vec<i64>,
    quantities: Vec<i64>,
}

impl StockTakes {
    /// One `UPDATE` for every product of the batch.
    pub const SQL: &'static str = "UPDATE products p SET stock = p.stock - t.quantity \
                                   FROM unnest($1::bigint[], $2::bigint[]) AS t(id, quantity) \
                                   WHERE p.id = t.id";

    /// `(product id, units taken)`, each product once.
    pub fn new(per_product: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let (ids, quantities) = per_product.into_iter().unzip();
        Self { ids, quantities }
    }

    /// Whether nothing is taken.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The parameters of [`StockTakes::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 2] {
        [&self.ids, &self.quantities]
    }
}

impl super::BatchRows for StockTakes {
    fn statements(&self) -> Vec<super::Bound<'_>> {
        super::one_statement(self.is_empty(), Self::SQL, self.params())
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
