//! The group commit of charges: one transaction for every charge of a batch, across users.
//! It claims the keys, locks the users (ascending id), applies each user's charges in arrival
//! order, and writes the balances, the history rows and the idempotency records with one
//! statement per table; then commits.

use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::Transaction;

use crate::{
    domain::{Kind, User, UserId},
    idempotency::IdempotentRequest,
    metrics::Metrics,
    service::{
        Answer, Committed, Error, SharedRender, Work,
        batch::{
            Batch,
            keys::{Keys, Outcome},
        },
        commit_rows,
    },
    store::{
        history::HistoryRows,
        users::{self, BalanceChanges},
    },
};

/// One charge, checked by the charge rule, waiting for its batch.
pub(super) struct ChargeJob {
    pub(super) user: UserId,
    pub(super) amount: i64,
    pub(super) request: IdempotentRequest,
    pub(super) render: SharedRender<User>,
}

/// How batches of charges are written.
pub(super) struct ApplyCharges {
    pub(super) metrics: Metrics,
}

impl Batch for ApplyCharges {
    type Job = ChargeJob;
    const KIND: &'static str = "charges";

    fn write<'t>(
        &'t self,
        tx: &'t Transaction<'t>,
        jobs: &'t [ChargeJob],
    ) -> Work<'t, (Vec<Result<Answer, Error>>, Committed)> {
        Box::pin(async move {
            let requests = jobs.iter().map(|job| Some(&job.request)).collect();
            let mut user_ids: Vec<i64> = jobs.iter().map(|job| job.user.get()).collect();
            user_ids.sort_unstable();
            user_ids.dedup();
            Keys::prepare(tx, &[users::LOCK_MANY]).await?;
            // One round trip: the claims first, then the users.
            let (keys, found) = futures_util::try_join!(
                async { Keys::claim(tx, requests, &self.metrics).await },
                async { Ok::<_, Error>(users::lock_many(tx, &user_ids).await?) },
            )?;
            let mut accounts: HashMap<i64, User> = found.into_iter().map(|u| (u.id, u)).collect();
            let mut added: BTreeMap<i64, i64> = BTreeMap::new();
            let mut history = HistoryRows::default();
            let mut outcomes = Vec::with_capacity(jobs.len());
            for (i, job) in jobs.iter().enumerate() {
                if !keys.is_fresh(i) {
                    outcomes.push(None);
                    continue;
                }
                let applied = apply(&mut accounts, job).inspect(|user| {
                    *added.entry(user.id).or_default() += job.amount;
                    history.push(user.id, Kind::Charge, job.amount, user.balance, None);
                });
                outcomes.push(Some(match applied {
                    Ok(user) => Outcome::Applied((job.render)(Ok(&user))),
                    Err(error) => Outcome::Refused((job.render)(Err(&error))),
                }));
            }
            let (answers, records) = keys.settle(outcomes, &self.metrics);
            let balances = BalanceChanges::new(added);
            let committed = commit_rows(tx, &[&balances, &history, &records]).await?;
            Ok((answers, committed))
        })
    }
}

/// Adds one charge to the balance the batch holds for its user; the user after it.
fn apply(accounts: &mut HashMap<i64, User>, job: &ChargeJob) -> Result<User, Error> {
    let user = accounts
        .get_mut(&job.user.get())
        .ok_or(Error::UserNotFound)?;
    user.balance = user
        .balance
        .checked_add(job.amount)
        .ok_or(Error::BalanceOverflow)?;
    Ok(user.clone())
}
