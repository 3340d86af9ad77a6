//! The `orders` and `order_lines` tables.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use crate::domain::{Attributes, Line, Order, OrderId, Product, Status, UserId};

/// Inserts a paid order and its lines, and counts it in the user's PAID orders (one
/// statement). `paid_at` is `None` for "now" (the transaction's time); tests and the demo
/// seed pass past times.
#[tracing::instrument(name = "store.orders.insert", level = "debug", skip_all)]
pub async fn insert(
    db: &impl GenericClient,
    user: UserId,
    total_amount: i64,
    lines: &[Line],
    paid_at: Option<DateTime<Utc>>,
) -> Result<Order, tokio_postgres::Error> {
    const SQL: &str = "WITH placed AS ( \
                           INSERT INTO orders (user_id, status, total_amount, created_at) \
                           VALUES ($1, 'PAID', $2, COALESCE($3, now())) RETURNING id, created_at), \
                       lines AS ( \
                           INSERT INTO order_lines (order_id, product_id, quantity, unit_price) \
                           SELECT placed.id, line.* FROM placed, \
                               unnest($4::bigint[], $5::bigint[], $6::bigint[]) AS line), \
                       counted AS ( \
                           UPDATE users SET paid_orders = paid_orders + 1 WHERE id = $1) \
                       SELECT id, created_at FROM placed";
    let products: Vec<i64> = lines.iter().map(|l| l.product_id).collect();
    let quantities: Vec<i64> = lines.iter().map(|l| l.quantity).collect();
    let prices: Vec<i64> = lines.iter().map(|l| l.unit_price).collect();
    let stmt = db.prepare_cached(SQL).await?;
    let row = db
        .query_one(
            &stmt,
            &[
                &user.get(),
                &total_amount,
                &paid_at,
                &products,
                &quantities,
                &prices,
            ],
        )
        .await?;
    let (id, created_at): (i64, DateTime<Utc>) = (row.get(0), row.get(1));
    Ok(Order {
        id,
        user_id: user.get(),
        status: Status::Paid,
        total_amount,
        lines: lines.to_vec(),
        created_at,
    })
}

/// What an order is priced from: the payer's balance, attributes and PAID orders, and the
/// products asked for (ascending id, missing ones simply absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// The payer's balance.
    pub balance: i64,
    /// The payer's attributes.
    pub user_attributes: Attributes,
    /// How many PAID orders the payer has.
    pub paid_orders: i64,
    /// The products found, ascending id.
    pub products: Vec<Product>,
}

/// Reads an order's [`Inputs`] in one statement; `None` when there is no such user.
#[tracing::instrument(name = "store.orders.inputs", level = "debug", skip_all)]
pub async fn inputs(
    db: &impl GenericClient,
    user: UserId,
    product_ids: &[i64],
) -> Result<Option<Inputs>, tokio_postgres::Error> {
    const SQL: &str = "SELECT u.balance, u.attributes, u.paid_orders, \
                       p.id, p.name, p.price, p.stock, p.attributes \
                       FROM users u LEFT JOIN products p ON p.id = ANY($2) \
                       WHERE u.id = $1 ORDER BY p.id";
    let stmt = db.prepare_cached(SQL).await?;
    let rows = db.query(&stmt, &[&user.get(), &product_ids]).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let products = rows
        .iter()
        .filter_map(|row| {
            Some(Product {
                id: row.get::<_, Option<i64>>(3)?,
                name: row.get(4),
                price: row.get(5),
                stock: row.get(6),
                attributes: super::attributes_at(row, 7),
            })
        })
        .collect();
    Ok(Some(Inputs {
        balance: first.get(0),
        user_attributes: super::attributes_at(first, 1),
        paid_orders: first.get(2),
        products,
    }))
}

/// The statement [`allocate`] runs, to prepare ahead with [`super::prepare_all`].
pub const ALLOCATE: &str = "SELECT now(), ARRAY(SELECT nextval(pg_get_serial_sequence('orders', 'id')) \
                            FROM generate_series(1, $1))";

/// The transaction's time and `count` fresh order ids, in one statement: what a batch of
/// orders is stamped and numbered with before it knows which of them will be paid (the ids of
/// refused orders are never used; identity columns have gaps anyway).
#[tracing::instrument(name = "store.orders.allocate", level = "debug", skip_all)]
pub async fn allocate(
    db: &impl GenericClient,
    count: usize,
) -> Result<(DateTime<Utc>, Vec<i64>), tokio_postgres::Error> {
    let stmt = db.prepare_cached(ALLOCATE).await?;
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    let row = db.query_one(&stmt, &[&count]).await?;
    Ok((row.get(0), row.get(1)))
}

/// The paid orders of a batch and their lines, all stamped with the batch's time: bind
/// [`NewOrders::order_params`] to [`NewOrders::ORDERS`] and [`NewOrders::line_params`] to
/// [`NewOrders::LINES`].
#[derive(Debug)]
pub struct NewOrders {
    paid_at: DateTime<Utc>,
    ids: Vec<i64>,
    users: Vec<i64>,
    totals: Vec<i64>,
    line_orders: Vec<i64>,
    line_products: Vec<i64>,
    line_quantities: Vec<i64>,
    line_prices: Vec<i64>,
}

impl NewOrders {
    /// One `INSERT` for every order.
    pub const ORDERS: &'static str = "INSERT INTO orders (id, user_id, status, total_amount, created_at) \
         SELECT o.id, o.user_id, 'PAID', o.total, $4 \
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS o(id, user_id, total)";

    /// One `INSERT` for every line.
    pub const LINES: &'static str = "INSERT INTO order_lines (order_id, product_id, quantity, unit_price) \
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])";

    /// No order yet; each will be paid at `paid_at`.
    pub fn new(paid_at: DateTime<Utc>) -> Self {
        Self {
            paid_at,
            ids: Vec::new(),
            users: Vec::new(),
            totals: Vec::new(),
            line_orders: Vec::new(),
            line_products: Vec::new(),
            line_quantities: Vec::new(),
            line_prices: Vec::new(),
        }
    }

    /// Adds a paid order.
    pub fn push(&mut self, order: &Order) {
        self.ids.push(order.id);
        self.users.push(order.user_id);
        self.totals.push(order.total_amount);
        for line in &order.lines {
            self.line_orders.push(order.id);
            self.line_products.push(line.product_id);
            self.line_quantities.push(line.quantity);
            self.line_prices.push(line.unit_price);
        }
    }

    /// Whether there is no order.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The parameters of [`NewOrders::ORDERS`].
    pub fn order_params(&self) -> [&(dyn ToSql + Sync); 4] {
        [&self.ids, &self.users, &self.totals, &self.paid_at]
    }

    /// The parameters of [`NewOrders::LINES`].
    pub fn line_params(&self) -> [&(dyn ToSql + Sync); 4] {
        [
            &self.line_orders,
            &self.line_products,
            &self.line_quantities,
            &self.line_prices,
        ]
    }
}

impl super::BatchRows for NewOrders {
    fn statements(&self) -> Vec<super::Bound<'_>> {
        let mut statements =
            super::one_statement(self.is_empty(), Self::ORDERS, self.order_params());
        statements.extend(super::one_statement(
            self.is_empty(),
            Self::LINES,
            self.line_params(),
        ));
        statements
    }
}

/// Reads an order and its lines; with `lock`, the order row stays locked (`FOR UPDATE`)
/// until the transaction ends, which serializes cancels.
#[tracing::instrument(name = "store.orders.find", level = "debug", skip_all)]
pub async fn find(
    db: &impl GenericClient,
    id: OrderId,
    lock: bool,
) -> Result<Option<Order>, tokio_postgres::Error> {
    const PLAIN: &str =
        "SELECT id, user_id, status, total_amount, created_at FROM orders WHERE id = $1";
    const LOCKED: &str =
        "SELECT id, user_id, status, total_amount, created_at FROM orders WHERE id = $1 FOR UPDATE";
    const LINES: &str = "SELECT product_id, quantity, unit_price FROM order_lines \
                         WHERE order_id = $1 ORDER BY product_id";
    let stmt = db.prepare_cached(if lock { LOCKED } else { PLAIN }).await?;
    let Some(row) = db.query_opt(&stmt, &[&id.get()]).await? else {
        return Ok(None);
    };
    let lines = db.prepare_cached(LINES).await?;
    let lines = db
        .query(&lines, &[&id.get()])
        .await?
        .iter()
        .map(|l| Line {
            product_id: l.get(0),
            quantity: l.get(1),
            unit_price: l.get(2),
        })
        .collect();
    Ok(Some(Order {
        id: row.get(0),
        user_id: row.get(1),
        status: Status::from_db(row.get(2)),
        total_amount: row.get(3),
        lines,
        created_at: row.get(4),
    }))
}

/// Marks a paid order cancelled.
#[tracing::instrument(name = "store.orders.mark_cancelled", level = "debug", skip_all)]
pub async fn mark_cancelled(
    db: &impl GenericClient,
    id: OrderId,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "UPDATE orders SET status = 'CANCELLED', cancelled_at = now() WHERE id = $1";
    let stmt = db.prepare_cached(SQL).await?;
    db.execute(&stmt, &[&id.get()]).await?;
    Ok(())
}
