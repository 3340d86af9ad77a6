//! The `users` table: a user and their points balance.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::domain::{User, UserId};

impl From<&Row> for User {
    fn from(row: &Row) -> Self {
        Self {
            id: row.get(0),
            name: row.get(1),
            hp_no: row.get(2),
            balance: row.get(3),
        }
    }
}

/// Reads one user.
#[tracing::instrument(name = "store.users.find", level = "debug", skip_all)]
pub async fn find(
    db: &impl GenericClient,
    id: UserId,
) -> Result<Option<User>, tokio_postgres::Error> {
    const SQL: &str = "SELECT id, name, hp_no, balance FROM users WHERE id = $1";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query_opt(&stmt, &[&id.get()])
        .await?
        .as_ref()
        .map(User::from))
}

/// Inserts a user with an opening balance.
#[tracing::instrument(name = "store.users.insert", level = "debug", skip_all)]
pub async fn insert(
    db: &impl GenericClient,
    name: &str,
    hp_no: &str,
    balance: i64,
) -> Result<User, tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO users (name, hp_no, balance) VALUES ($1, $2, $3) \
                       RETURNING id, name, hp_no, balance";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(User::from(
        &db.query_one(&stmt, &[&name, &hp_no, &balance]).await?,
    ))
}

/// Adds `amount` to the balance and returns the user after it; `None` when there is no such
/// user. Overflowing `BIGINT` is a `numeric_value_out_of_range` error.
#[tracing::instrument(name = "store.users.add_balance", level = "debug", skip_all)]
pub async fn add_balance(
    db: &impl GenericClient,
    id: UserId,
    amount: i64,
) -> Result<Option<User>, tokio_postgres::Error> {
    const SQL: &str = "UPDATE users SET balance = balance + $2 WHERE id = $1 \
                       RETURNING id, name, hp_no, balance";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query_opt(&stmt, &[&id.get(), &amount])
        .await?
        .as_ref()
        .map(User::from))
}

/// Pays `amount` for `order_id` if the balance covers it: deducts it and writes the `USE`
/// history row in one statement, returning the balance after; `None` when it does not cover
/// it (or there is no such user). The user's row stays locked until the transaction ends.
#[tracing::instrument(name = "store.users.spend", level = "debug", skip_all)]
pub async fn spend(
    db: &impl GenericClient,
    id: UserId,
    amount: i64,
    order_id: i64,
) -> Result<Option<i64>, tokio_postgres::Error> {
    const SQL: &str = "WITH paid AS ( \
                           UPDATE users SET balance = balance - $2 WHERE id = $1 AND balance >= $2 \
                           RETURNING balance) \
                       INSERT INTO point_history (user_id, kind, amount, balance_after, order_id) \
                       SELECT $1, 'USE', $2, balance, $3 FROM paid RETURNING balance_after";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query_opt(&stmt, &[&id.get(), &amount, &order_id])
        .await?
        .map(|row| row.get(0)))
}

/// Changes a user's name and phone number (`None` keeps one); returns the user before and
/// after, `None` when there is no such user.
#[tracing::instrument(name = "store.users.update", level = "debug", skip_all)]
pub async fn update(
    db: &impl GenericClient,
    id: UserId,
    name: Option<&str>,
    hp_no: Option<&str>,
) -> Result<Option<(User, User)>, tokio_postgres::Error> {
    const SQL: &str = "UPDATE users u SET name = COALESCE($2, u.name), hp_no = COALESCE($3, u.hp_no) \
                       FROM (SELECT id, name, hp_no FROM users WHERE id = $1 FOR UPDATE) old \
                       WHERE u.id = old.id \
                       RETURNING u.id, u.name, u.hp_no, u.balance, old.name, old.hp_no";
    let stmt = db.prepare_cached(SQL).await?;
    let row = db.query_opt(&stmt, &[&id.get(), &name, &hp_no]).await?;
    Ok(row.map(|row| {
        let after = User::from(&row);
        let before = User {
            name: row.get(4),
            hp_no: row.get(5),
            ..after.clone()
        };
        (before, after)
    }))
}
