//! The `users` table: a user and their points balance.

use deadpool_postgres::GenericClient;
use tokio_postgres::{Row, types::ToSql};

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

/// Locks the users with these ids in ascending id order (`FOR UPDATE`, held until the
/// transaction ends) and reads them: how a batch first takes its payers. Missing ids are
/// simply absent.
#[tracing::instrument(name = "store.users.lock_many", level = "debug", skip_all)]
pub async fn lock_many(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<User>, tokio_postgres::Error> {
    const SQL: &str = "SELECT id, name, hp_no, balance FROM users WHERE id = ANY($1) \
                       ORDER BY id FOR UPDATE";
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query(&stmt, &[&ids])
        .await?
        .iter()
        .map(User::from)
        .collect())
}

/// The balance changes of a batch, one row per user (negative for payments): bind
/// [`BalanceChanges::params`] to [`BalanceChanges::SQL`]. The rows are already locked by
/// [`lock_many`], and the batch checked every change against the balance it read.
#[derive(Debug, Default)]
pub struct BalanceChanges {
    ids: Vec<i64>,
    deltas: Vec<i64>,
}

impl BalanceChanges {
    /// One `UPDATE` for every user of the batch.
    pub const SQL: &'static str = "UPDATE users u SET balance = u.balance + c.delta \
                                   FROM unnest($1::bigint[], $2::bigint[]) AS c(id, delta) \
                                   WHERE u.id = c.id";

    /// `(user id, change)`, each user once.
    pub fn new(per_user: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let (ids, deltas) = per_user.into_iter().unzip();
        Self { ids, deltas }
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The parameters of [`BalanceChanges::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 2] {
        [&self.ids, &self.deltas]
    }
}

impl super::BatchRows for BalanceChanges {
    fn statements(&self) -> Vec<super::Bound<'_>> {
        super::one_statement(self.is_empty(), Self::SQL, self.params())
    }
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
