//! The `orders` and `order_lines` tables.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use crate::domain::{Line, Order, OrderId, Status, UserId};

/// Inserts a paid order and its lines (one statement). `paid_at` is `None` for "now" (the transaction's
/// time); tests and the demo seed pass past times.
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
                               unnest($4::bigint[], $5::bigint[], $6::bigint[]) AS line) \
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
