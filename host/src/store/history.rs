//! The `point_history` table: one row per balance change, written in the same transaction as
//! the change.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use crate::domain::{Entry, Kind, PageRequest, UserId};

/// Appends one row.
#[tracing::instrument(name = "store.history.record", level = "debug", skip_all)]
pub async fn record(
    db: &impl GenericClient,
    user: UserId,
    kind: Kind,
    amount: i64,
    balance_after: i64,
    order_id: Option<i64>,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO point_history (user_id, kind, amount, balance_after, order_id) \
                       VALUES ($1, $2, $3, $4, $5)";
    let stmt = db.prepare_cached(SQL).await?;
    db.execute(
        &stmt,
        &[
            &user.get(),
            &kind.as_str(),
            &amount,
            &balance_after,
            &order_id,
        ],
    )
    .await?;
    Ok(())
}

/// The history rows of a batch, in the order the changes applied: bind
/// [`HistoryRows::params`] to [`HistoryRows::SQL`].
#[derive(Debug, Default)]
pub struct HistoryRows {
    users: Vec<i64>,
    kinds: Vec<&'static str>,
    amounts: Vec<i64>,
    balances_after: Vec<i64>,
    order_ids: Vec<Option<i64>>,
}

impl HistoryRows {
    /// One `INSERT` for every row.
    pub const SQL: &'static str = "INSERT INTO point_history (user_id, kind, amount, balance_after, order_id) \
         SELECT h.user_id, h.kind, h.amount, h.balance_after, h.order_id \
         FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) \
              WITH ORDINALITY AS h(user_id, kind, amount, balance_after, order_id, n) \
         ORDER BY h.n";

    /// Adds one change of `user`'s balance.
    pub fn push(
        &mut self,
        user: i64,
        kind: Kind,
        amount: i64,
        balance_after: i64,
        order_id: Option<i64>,
    ) {
        self.users.push(user);
        self.kinds.push(kind.as_str());
        self.amounts.push(amount);
        self.balances_after.push(balance_after);
        self.order_ids.push(order_id);
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The parameters of [`HistoryRows::SQL`].
    pub fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [
            &self.users,
            &self.kinds,
            &self.amounts,
            &self.balances_after,
            &self.order_ids,
        ]
    }
}

impl super::BatchRows for HistoryRows {
    fn statements(&self) -> Vec<super::Bound<'_>> {
        super::one_statement(self.is_empty(), Self::SQL, self.params())
    }
}

/// One page of a user's history, newest first, starting below `page.after`. Returns up to
/// `page.limit + 1` rows so the caller can tell whether another page exists.
#[tracing::instrument(name = "store.history.page", level = "debug", skip_all)]
pub async fn page(
    db: &impl GenericClient,
    user: UserId,
    page: PageRequest,
) -> Result<Vec<Entry>, tokio_postgres::Error> {
    const SQL: &str = "SELECT id, kind, amount, balance_after, order_id, created_at \
                       FROM point_history WHERE user_id = $1 AND id < $2 \
                       ORDER BY id DESC LIMIT $3";
    let stmt = db.prepare_cached(SQL).await?;
    let before = page.after.unwrap_or(i64::MAX);
    let rows = db
        .query(&stmt, &[&user.get(), &before, &(page.limit + 1)])
        .await?;
    Ok(rows
        .iter()
        .map(|row| Entry {
            id: row.get(0),
            kind: Kind::from_db(row.get(1)),
            amount: row.get(2),
            balance_after: row.get(3),
            order_id: row.get(4),
            created_at: row.get(5),
        })
        .collect())
}
