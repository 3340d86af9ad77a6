//! The points wallet: balance, idempotent charges decided by the charge rule and committed
//! in batches ([`batch`]), history, and opening accounts.

use std::sync::Arc;

use deadpool_postgres::Transaction;

use super::{
    Answer, Committed, Database, Error, Origin, SharedRender, Work, batch::Batcher, commit,
    operators, valid_text,
};
use crate::{
    config::Batching,
    domain::{Attributes, Caller, Entry, Kind, Operator, Page, PageRequest, User, UserId},
    idempotency::IdempotentRequest,
    metrics::{ChargeResult, Metrics},
    rules::{self, ChargeInput, Decision, Rules},
    store::{history, users},
};

mod batch;

use batch::{ApplyCharges, ChargeJob};

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
    /// Attributes (empty when none).
    pub attributes: Attributes,
}

/// A change to a user's name, phone number or attributes; `None` keeps one.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New display name.
    pub name: Option<String>,
    /// New phone number.
    pub hp_no: Option<String>,
    /// New attributes, replacing the old ones whole (empty clears them).
    pub attributes: Option<Attributes>,
}

/// The points use cases.
#[derive(Clone)]
pub struct Points {
    db: Database,
    rules: Arc<dyn Rules>,
    metrics: Metrics,
    batcher: Batcher<ApplyCharges>,
}

impl Points {
    /// Builds the service over the database and the rules in force; charges are committed in
    /// batches as `batching` says.
    pub fn new(db: Database, rules: Arc<dyn Rules>, metrics: Metrics, batching: &Batching) -> Self {
        let apply = ApplyCharges {
            metrics: metrics.clone(),
        };
        Self {
            batcher: Batcher::new(apply, db.clone(), batching, metrics.clone()),
            db,
            rules,
            metrics,
        }
    }

    /// A user and their balance.
    #[tracing::instrument(name = "points.balance", skip(self))]
    pub async fn balance(&self, caller: Caller, user: UserId) -> Result<User, Error> {
        acting_for(caller, user)?;
        let client = self.db.pool().get().await?;
        users::find(&client, user).await?.ok_or(Error::UserNotFound)
    }

    /// Charges `amount` won once per idempotency key. The charge rule decides the limits,
    /// outside any transaction, on the balance read just before (as order rules do); the
    /// balance change and its history row commit together with the key's record, in a batch
    /// with the charges that arrived beside it.
    #[tracing::instrument(name = "points.charge", skip(self, req, render))]
    pub async fn charge(
        &self,
        caller: Caller,
        user: UserId,
        amount: i64,
        req: &IdempotentRequest,
        render: SharedRender<User>,
    ) -> Result<Answer, Error> {
        acting_for(caller, user)?;
        // One clock reading per request, however often the charge is checked.
        let now_ms = rules::now_ms();
        let submit = |()| {
            self.batcher.submit(ChargeJob {
                user,
                amount,
                request: req.clone(),
                render: render.clone(),
            })
        };
        let answer = self
            .db
            .answer(
                Some(req),
                &*render,
                || self.check_charge(user, amount, now_ms),
                submit,
            )
            .await?;
        match answer.origin {
            Origin::Applied => self.metrics.charge(ChargeResult::Applied),
            Origin::Refused => self.metrics.charge(ChargeResult::Rejected),
            Origin::Replayed => {}
        }
        Ok(answer)
    }

    /// A page of a user's history, newest first; 404 for an unknown user.
    #[tracing::instrument(name = "points.history", skip(self))]
    pub async fn history(
        &self,
        caller: Caller,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<Entry>, Error> {
        acting_for(caller, user)?;
        let client = self.db.pool().get().await?;
        users::find(&client, user)
            .await?
            .ok_or(Error::UserNotFound)?;
        let rows = history::page(&client, user, page).await?;
        Ok(Page::from_rows(rows, page.limit, |entry| entry.id))
    }

    /// Opens an account; a positive opening balance is recorded as a charge.
    #[tracing::instrument(name = "points.create_user", skip_all)]
    pub async fn create_user(&self, operator: &Operator, new: NewUser) -> Result<User, Error> {
        valid_user_text(Some(&new.name), Some(&new.hp_no))?;
        if new.amount < 0 {
            return Err(Error::InvalidUser("amount must not be negative"));
        }
        self.db.transaction(&(operator, &new), open_account).await
    }

    /// Changes a user's name, phone number or attributes.
    #[tracing::instrument(name = "points.update_user", skip_all, fields(user = %user))]
    pub async fn update_user(
        &self,
        operator: &Operator,
        user: UserId,
        patch: UserPatch,
    ) -> Result<User, Error> {
        if patch.name.is_none() && patch.hp_no.is_none() && patch.attributes.is_none() {
            return Err(Error::InvalidUser("nothing to change"));
        }
        valid_user_text(patch.name.as_deref(), patch.hp_no.as_deref())?;
        self.db
            .transaction(&(operator, user, &patch), update_in)
            .await
    }
}

impl Points {
    /// Asks the charge rule about a charge, with the user's balance and attributes as they
    /// are now (one read); outside any transaction. `now_ms` is the request's clock reading.
    async fn check_charge(&self, user: UserId, amount: i64, now_ms: i64) -> Result<(), Error> {
        let current = {
            let client = self.db.pool().get().await?;
            users::find(&client, user)
                .await?
                .ok_or(Error::UserNotFound)?
        };
        let input = ChargeInput {
            user_id: user.get(),
            amount,
            balance: current.balance,
            user_attributes: current.attributes,
            now_ms,
        };
        if let Decision::Reject(rejection) = self.rules.validate_charge(input).await? {
            return Err(Error::Rejected(rejection));
        }
        if amount <= 0 {
            return Err(Error::InvalidChargeAmount);
        }
        Ok(())
    }
}

/// Refuses a caller who may not act for `user` (403).
fn acting_for(caller: Caller, user: UserId) -> Result<(), Error> {
    if caller.may_act_for(user) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Inserts a user and records a positive opening balance as a charge.
fn open_account<'t>(
    tx: &'t Transaction<'t>,
    &(operator, new): &'t (&Operator, &NewUser),
) -> Work<'t, (User, Committed)> {
    Box::pin(async move {
        let amount = new.amount;
        let user = users::insert(tx, &new.name, &new.hp_no, amount, &new.attributes).await?;
        if amount > 0 {
            let id = UserId::new(user.id).map_err(|_| Error::UserNotFound)?;
            history::record(tx, id, Kind::Charge, amount, user.balance, None).await?;
        }
        let after = user_json(&user);
        let target = format!("user:{}", user.id);
        operators::record(tx, operator, "user.create", &target, None, Some(&after)).await?;
        Ok((user, commit(tx, &[]).await?))
    })
}

fn update_in<'t>(
    tx: &'t Transaction<'t>,
    &(operator, id, patch): &'t (&Operator, UserId, &UserPatch),
) -> Work<'t, (User, Committed)> {
    Box::pin(async move {
        let (before, after) = users::update(
            tx,
            id,
            patch.name.as_deref(),
            patch.hp_no.as_deref(),
            patch.attributes.as_ref(),
        )
        .await?
        .ok_or(Error::UserNotFound)?;
        let (before_json, after_json) = (user_json(&before), user_json(&after));
        let target = format!("user:{}", after.id);
        operators::record(
            tx,
            operator,
            "user.update",
            &target,
            Some(&before_json),
            Some(&after_json),
        )
        .await?;
        Ok((after, commit(tx, &[]).await?))
    })
}

/// A user as the audit log shows it.
fn user_json(user: &User) -> serde_json::Value {
    serde_json::json!({
        "id": user.id, "name": user.name, "hpNo": user.hp_no, "amount": user.balance,
        "attributes": user.attributes,
    })
}

/// Checks a name and phone number, where given.
fn valid_user_text(name: Option<&str>, hp_no: Option<&str>) -> Result<(), Error> {
    if name.is_some_and(|name| !valid_text(name, MAX_NAME_CHARS)) {
        return Err(Error::InvalidUser("name must have 1 to 100 characters"));
    }
    if hp_no.is_some_and(|hp_no| !valid_text(hp_no, MAX_PHONE_CHARS)) {
        return Err(Error::InvalidUser("hpNo must have 1 to 32 characters"));
    }
    Ok(())
}
