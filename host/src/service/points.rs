//! The points wallet: balance, idempotent charges decided by the charge rule, history, and
//! opening accounts.

use std::sync::Arc;

use deadpool_postgres::Transaction;

use super::{Database, Error, Render, Replayable, tx::Work, valid_text};
use crate::{
    domain::{Page, PageRequest, UserId},
    idempotency::IdempotentRequest,
    metrics::Metrics,
    rules::{ChargeInput, Rules, Verdict},
    store::{
        history::{self, Entry, Kind},
        users::{self, User},
    },
};

/// Longest accepted user name and phone number, in characters.
const MAX_NAME_CHARS: usize = 100;
const MAX_PHONE_CHARS: usize = 32;

/// A new user as an operator submits it.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Phone number, 1 to 32 characters.
    pub hp_no: String,
    /// Opening balance, at least 0; recorded in the history as a charge.
    pub amount: i64,
}

/// The points use cases.
#[derive(Clone)]
pub struct Points {
    db: Database,
    rules: Arc<dyn Rules>,
    metrics: Metrics,
}

impl Points {
    /// Builds the service over the database and the rules in force.
    pub fn new(db: Database, rules: Arc<dyn Rules>, metrics: Metrics) -> Self {
        Self { db, rules, metrics }
    }

    /// A user and their balance.
    pub async fn balance(&self, user: UserId) -> Result<User, Error> {
        let client = self.db.pool().get().await?;
        users::find(&client, user).await?.ok_or(Error::UserNotFound)
    }

    /// Charges `amount` won once per idempotency key. The charge rule decides the limits;
    /// the balance change and its history row commit together with the key's record.
    pub async fn charge(
        &self,
        user: UserId,
        amount: i64,
        req: &IdempotentRequest,
        render: Render<'_, User>,
    ) -> Result<Replayable, Error> {
        let ctx = (self, user, amount);
        let result = self.db.idempotent(req, render, &ctx, charge_in).await;
        if let Ok(done) = &result
            && !done.replayed
        {
            self.metrics.charge(if done.response.status < 300 {
                "applied"
            } else {
                "rejected"
            });
        }
        result
    }

    /// A page of a user's history, newest first; 404 for an unknown user.
    pub async fn history(&self, user: UserId, page: PageRequest) -> Result<Page<Entry>, Error> {
        let client = self.db.pool().get().await?;
        users::find(&client, user)
            .await?
            .ok_or(Error::UserNotFound)?;
        let rows = history::page(&client, user, page).await?;
        Ok(Page::from_rows(rows, page.limit, |entry| entry.id))
    }

    /// Opens an account; a positive opening balance is recorded as a charge.
    pub async fn create_user(&self, new: NewUser) -> Result<User, Error> {
        let (name, hp_no) = (new.name.as_str(), new.hp_no.as_str());
        if !valid_text(name, MAX_NAME_CHARS) {
            return Err(Error::InvalidUser("name must have 1 to 100 characters"));
        }
        if !valid_text(hp_no, MAX_PHONE_CHARS) {
            return Err(Error::InvalidUser("hpNo must have 1 to 32 characters"));
        }
        if new.amount < 0 {
            return Err(Error::InvalidUser("amount must not be negative"));
        }
        self.db
            .transaction(&(name, hp_no, new.amount), open_account)
            .await
    }
}

/// The charge itself, inside the idempotent transaction: read, ask the rule, add, record.
fn charge_in<'t>(
    tx: &'t Transaction<'t>,
    &(points, user, amount): &'t (&Points, UserId, i64),
) -> Work<'t, User> {
    Box::pin(async move {
        let current = users::find(tx, user).await?.ok_or(Error::UserNotFound)?;
        let input = ChargeInput {
            user_id: user.get(),
            amount,
            balance: current.balance,
        };
        if let Verdict::Reject(rejection) = points.rules.validate_charge(input).await? {
            return Err(Error::Rejected(rejection));
        }
        if amount <= 0 {
            return Err(Error::InvalidChargeAmount);
        }
        let updated = users::add_balance(tx, user, amount)
            .await
            .map_err(overflow_as(Error::BalanceOverflow))?
            .ok_or(Error::UserNotFound)?;
        history::record(tx, user, Kind::Charge, amount, updated.balance, None).await?;
        Ok(updated)
    })
}

/// Inserts a user and records a positive opening balance as a charge.
fn open_account<'t>(
    tx: &'t Transaction<'t>,
    &(name, hp_no, amount): &'t (&str, &str, i64),
) -> Work<'t, User> {
    Box::pin(async move {
        let user = users::insert(tx, name, hp_no, amount).await?;
        if amount > 0 {
            let id = UserId::new(user.id).map_err(|_| Error::UserNotFound)?;
            history::record(tx, id, Kind::Charge, amount, user.balance, None).await?;
        }
        Ok(user)
    })
}

/// Maps PostgreSQL's "numeric value out of range" to a domain error, anything else as usual.
fn overflow_as(domain: Error) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |error| {
        if error.code() == Some(&tokio_postgres::error::SqlState::NUMERIC_VALUE_OUT_OF_RANGE) {
            domain
        } else {
            error.into()
        }
    }
}
