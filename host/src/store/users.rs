//! The `users` table: a user, their points balance, their attributes and how many PAID
//! orders they have.

use deadpool_postgres::GenericClient;
use tokio_postgres::{Row, types::ToSql};

use crate::domain::{Attributes, User, UserId};

/// The columns [`User`] is read from, in the order `From<&Row>` takes them.
macro_rules! user_columns {
    ($t:literal) => { columns!($t; "id", "name", "hp_no", "balance", "attributes") };
}

impl From<&Row> for User {
    fn from(row: &Row) -> Self {
        Self {
            id: row.get(0),
            name: row.get(1),
            hp_no: row.get(2),
            balance: row.get(3),
            attributes: super::attributes_at(row, 4),
        }
    }
}

/// Reads one user.
#[tracing::instrument(name = "store.users.find", level = "debug", skip_all)]
pub async fn find(
    db: &impl GenericClient,
    id: UserId,
) -> Result<Option<User>, tokio_postgres::Error> {
    const SQL: &str = concat!("SELECT ", user_columns!(""), " FROM users WHERE id = $1");
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query_opt(&stmt, &[&id.get()])
        .await?
        .as_ref()
        .map(User::from))
}

/// Inserts a user with an opening balance and attributes.
#[tracing::instrument(name = "store.users.insert", level = "debug", skip_all)]
pub async fn insert(
    db: &impl GenericClient,
    name: &str,
    hp_no: &str,
    balance: i64,
    attributes: &Attributes,
) -> Result<User, tokio_postgres::Error> {
    const SQL: &str = concat!(
        "INSERT INTO users (name, hp_no, balance, attributes) VALUES ($1, $2, $3, $4) RETURNING ",
        user_columns!("")
    );
    let stmt = db.prepare_cached(SQL).await?;
    let attributes = attributes.to_json();
    Ok(User::from(
        &db.query_one(&stmt, &[&name, &hp_no, &balance, &attributes])
            .await?,
    ))
}

/// Refunds a cancelled order: adds `amount` to the balance and counts one PAID order fewer;
/// returns the user after it, `None` when there is no such user. Overflowing `BIGINT` is a
/// `numeric_value_out_of_range` error. The count never goes below zero (an order placed by a
/// node that did not count yet, during a rolling upgrade, is not counted back).
#[tracing::instrument(name = "store.users.refund_order", level = "debug", skip_all)]
pub async fn refund_order(
    db: &impl GenericClient,
    id: UserId,
    amount: i64,
) -> Result<Option<User>, tokio_postgres::Error> {
    const SQL: &str = concat!(
        "UPDATE users SET balance = balance + $2, paid_orders = GREATEST(paid_orders - 1, 0) \
         WHERE id = $1 RETURNING ",
        user_columns!("")
    );
    let stmt = db.prepare_cached(SQL).await?;
    Ok(db
        .query_opt(&stmt, &[&id.get(), &amount])
        .await?
        .as_ref()
        .map(User::from))
}

/// The statement [`lock_many`] runs, to prepare ahead with [`super::prepare_all`].
pub const LOCK_MANY: &str = concat!(
    "SELECT ",
    user_columns!(""),
    " FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE"
);

/// Locks the users with these ids in ascending id order (`FOR UPDATE`, held until the
/// transaction ends) and reads them: how a batch first takes its payers. Missing ids are
/// simply absent.
#[tracing::instrument(name = "store.users.lock_many", level = "debug", skip_all)]
pub async fn lock_many(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<User>, tokio_postgres::Error> {
    let stmt = db.prepare_cached(LOCK_MANY).await?;
    Ok(db
        .query(&stmt, &[&ids])
        .await?
        .iter()
        .map(User::from)
        .collect())
}

/// The balance changes of a batch, one row per user (negative for payments), with the PAID
/// orders each user gains: bind [`BalanceChanges::params`] to [`BalanceChanges::SQL`]. The
/// rows are already locked by [`lock_many`], and the batch checked every change against the
/// balance it read.
#[derive(Debug, Default)]
pub struct BalanceChanges {
    ids: Vec<i64>,
    deltas: Vec<i64>,
    orders: Vec<i64>,
}

impl BalanceChanges {
    /// One `UPDATE` for every user of the batch.
    pub const SQL: &'static str = "UPDATE users u SET balance = u.balance + c.delta, \
                                   paid_orders = u.paid_orders + c.orders \
                                   FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) \
                                   AS c(id, delta, orders) WHERE u.id = c.id";

    /// `(user id, change)`, each user once, with no order paid (charges).
    pub fn new(per_user: impl IntoIterator<Item = (i64, i64)>) -> Self {
        Self::with_orders(per_user.into_iter().map(|(id, delta)| (id, delta, 0)))
    }

    /// `(user id, change, orders paid)`, each user once (a batch of orders).
    pub fn with_orders(per_user: impl IntoIterator<Item = (i64, i64, i64)>) -> Self {
        let mut changes = Self::default();
        for (id, delta, orders) in per_user {
            changes.ids.push(id);
            changes.deltas.push(delta);
            changes.orders.push(orders);
        }
        changes
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The parameters of [`BalanceChanges::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 3] {
        [&self.ids, &self.deltas, &self.orders]
    }
}

impl super::BatchRows for BalanceChanges {
    fn statements(&self) -> Vec<super::Bound<'_>> {
        super::one_statement(self.is_empty(), Self::SQL, self.params())
    }
}

/// Changes a user's name, phone number and attributes (`None` keeps one; attributes are
/// replaced whole); returns the user before and after, `None` when there is no such user.
#[tracing::instrument(name = "store.users.update", level = "debug", skip_all)]
pub async fn update(
    db: &impl GenericClient,
    id: UserId,
    name: Option<&str>,
    hp_no: Option<&str>,
    attributes: Option<&Attributes>,
) -> Result<Option<(User, User)>, tokio_postgres::Error> {
    const SQL: &str = concat!(
        "UPDATE users u SET name = COALESCE($2, u.name), hp_no = COALESCE($3, u.hp_no), \
         attributes = COALESCE($4, u.attributes) \
         FROM (SELECT id, name, hp_no, attributes FROM users WHERE id = $1 FOR UPDATE) old \
         WHERE u.id = old.id RETURNING ",
        user_columns!("u."),
        ", old.name, old.hp_no, old.attributes"
    );
    let stmt = db.prepare_cached(SQL).await?;
    let attributes = attributes.map(Attributes::to_json);
    let row = db
        .query_opt(&stmt, &[&id.get(), &name, &hp_no, &attributes])
        .await?;
    Ok(row.map(|row| {
        let after = User::from(&row);
        let before = User {
            name: row.get(5),
            hp_no: row.get(6),
            attributes: super::attributes_at(&row, 7),
            ..after.clone()
        };
        (before, after)
    }))
}
