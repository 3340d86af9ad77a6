//! Orders paid with points: place (one transaction: stock, points, history, rollup, outbox),
//! read and cancel. The database is the lock: conditional updates in ascending product id,
//! then the balance, so concurrent orders never oversell and never deadlock.

use std::{collections::BTreeMap, sync::Arc};

use deadpool_postgres::Transaction;
use serde_json::json;
use tokio_postgres::types::ToSql;

use super::{Committed, Database, Error, Render, Replayable, Work, commit_after};
use crate::{
    domain::{OrderId, UserId},
    events::signal::OutboxSignal,
    idempotency::IdempotentRequest,
    metrics::Metrics,
    rules::{OrderInput, OrderLineInput, Pricing, Rules, Verdict},
    store::{
        history::{self, Kind},
        orders::{self, Line, Order, Status},
        outbox,
        products::{self, StockRefusal, TakeStock},
        sales, users,
    },
};

/// A validated order request: lines merged by product and sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Who orders.
    pub user: UserId,
    /// `(product id, quantity)`, ascending product id, each product once.
    pub lines: Vec<(i64, i64)>,
    /// What the client expects to pay.
    pub payment_amount: i64,
}

impl NewOrder {
    /// Validates ids and quantities and merges lines with the same product.
    pub fn parse(user: i64, lines: &[(i64, i64)], payment_amount: i64) -> Result<Self, Error> {
        let user =
            UserId::new(user).map_err(|_| Error::InvalidOrder("user id must be positive"))?;
        if lines.is_empty() {
            return Err(Error::InvalidOrder("an order needs at least one line"));
        }
        if payment_amount < 0 {
            return Err(Error::InvalidOrder("paymentAmount must not be negative"));
        }
        let mut merged = BTreeMap::new();
        for &(product, quantity) in lines {
            if product <= 0 || quantity < 1 {
                return Err(Error::InvalidOrder(
                    "product ids and quantities must be positive",
                ));
            }
            let total: &mut i64 = merged.entry(product).or_default();
            *total = total
                .checked_add(quantity)
                .ok_or(Error::InvalidOrder("quantity out of range"))?;
        }
        Ok(Self {
            user,
            lines: merged.into_iter().collect(),
            payment_amount,
        })
    }
}

/// The order use cases.
#[derive(Clone)]
pub struct Orders {
    db: Database,
    rules: Arc<dyn Rules>,
    metrics: Metrics,
    outbox: OutboxSignal,
}

/// What one pricing pass decided.
struct Priced {
    /// Lines with the price paid per unit.
    lines: Vec<Line>,
    /// The list price each line's stock update must still see.
    list_prices: Vec<i64>,
    total: i64,
}

impl Orders {
    /// Builds the service over the database and the rules in force.
    /// Builds the service; `outbox` is raised after every committed event.
    pub fn new(
        db: Database,
        rules: Arc<dyn Rules>,
        metrics: Metrics,
        outbox: OutboxSignal,
    ) -> Self {
        Self {
            db,
            rules,
            metrics,
            outbox,
        }
    }

    /// Places and pays an order, once per idempotency key when one is given. The answer is
    /// rendered by `render`, inside the transaction when a key is given.
    pub async fn place(
        &self,
        order: &NewOrder,
        idempotency: Option<&IdempotentRequest>,
        render: Render<'_, Order>,
    ) -> Result<Replayable, Error> {
        let ctx = (self, order);
        // Every fresh outcome is rendered exactly once (replays are not): count it there.
        let counted = |outcome: &Result<Order, Error>| {
            self.count(outcome);
            render(outcome)
        };
        let render: Render<'_, Order> = &counted;
        let result = match idempotency {
            Some(req) => self.db.idempotent(req, render, &ctx, place_nested).await,
            None => match self
                .db
                .self_committing_transaction(&ctx, place_and_commit)
                .await
            {
                Err(e) if e.is_server_error() => Err(e),
                outcome => Ok(Replayable {
                    response: render(&outcome),
                    replayed: false,
                }),
            },
        };
        if let Ok(done) = &result
            && !done.replayed
            && done.response.status == 201
        {
            self.outbox.committed();
        }
        result
    }

    /// One order.
    pub async fn get(&self, id: OrderId) -> Result<Order, Error> {
        let client = self.db.pool().get().await?;
        orders::find(&client, id, false)
            .await?
            .ok_or(Error::OrderNotFound)
    }

    /// Cancels a paid order: stock back, points refunded, rollup reversed, event stored.
    /// Cancelling a cancelled order changes nothing and returns it.
    pub async fn cancel(&self, id: OrderId) -> Result<Order, Error> {
        let (order, cancelled_now) = self.db.transaction(&id, cancel_in).await?;
        if cancelled_now {
            self.metrics.order("cancelled", "");
            self.outbox.committed();
        }
        Ok(order)
    }

    /// Counts a placement's outcome: paid, or rejected with a bounded reason.
    fn count(&self, outcome: &Result<Order, Error>) {
        let reason = match outcome {
            Ok(_) => return self.metrics.order("paid", ""),
            Err(Error::OutOfStock) => {
                self.metrics.stock_out();
                "out_of_stock"
            }
            Err(Error::InsufficientBalance) => "insufficient_balance",
            Err(Error::PaymentAmountMismatch) => "payment_amount_mismatch",
            Err(Error::Rejected(_)) => "rule",
            Err(Error::ProductNotFound) => "product_not_found",
            Err(Error::OrderUserNotFound) => "user_not_found",
            Err(Error::InvalidOrder(_)) => "invalid",
            Err(_) => "other",
        };
        self.metrics.order("rejected", reason);
    }

    /// Reads prices, asks the rules, and checks the client's amount.
    async fn price(&self, tx: &Transaction<'_>, order: &NewOrder) -> Result<Priced, Error> {
        let ids: Vec<i64> = order.lines.iter().map(|(id, _)| *id).collect();
        let (user, found) =
            futures_util::try_join!(users::find(tx, order.user), products::find_many(tx, &ids))?;
        let user = user.ok_or(Error::OrderUserNotFound)?;
        if found.len() != ids.len() {
            return Err(Error::ProductNotFound);
        }
        let list_prices: Vec<i64> = found.iter().map(|p| p.price).collect();
        let input = OrderInput {
            user_id: user.id,
            balance: user.balance,
            lines: order
                .lines
                .iter()
                .zip(&list_prices)
                .map(|(&(product_id, quantity), &unit_price)| OrderLineInput {
                    product_id,
                    quantity,
                    unit_price,
                })
                .collect(),
        };
        if let Verdict::Reject(rejection) = self.rules.validate_order(input.clone()).await? {
            return Err(Error::Rejected(rejection));
        }
        let line_count = input.lines.len();
        let prices = match self.rules.price_order(input).await? {
            Pricing::Reject(rejection) => return Err(Error::Rejected(rejection)),
            Pricing::Priced(prices)
                if prices.len() == line_count && prices.iter().all(|p| *p >= 0) =>
            {
                prices
            }
            Pricing::Priced(_) => {
                return Err(Error::RuleFailed(crate::rules::RuleFailure {
                    rule: "order.price".into(),
                    reason: "a price for every line, none negative, was expected".into(),
                }));
            }
        };
        let mut total: i64 = 0;
        let mut lines = Vec::with_capacity(prices.len());
        for (&(product_id, quantity), unit_price) in order.lines.iter().zip(prices) {
            let amount = quantity
                .checked_mul(unit_price)
                .ok_or(Error::InvalidOrder("total out of range"))?;
            total = total
                .checked_add(amount)
                .ok_or(Error::InvalidOrder("total out of range"))?;
            lines.push(Line {
                product_id,
                quantity,
                unit_price,
            });
        }
        if total != order.payment_amount {
            return Err(Error::PaymentAmountMismatch);
        }
        Ok(Priced {
            lines,
            list_prices,
            total,
        })
    }
}

/// Places an order in a transaction of its own and commits it in the same round trip as the
/// stock step. A price that changed under us is priced once more (the failed step left a
/// fresh transaction), and a second change is a payment mismatch.
fn place_and_commit<'t>(
    tx: &'t Transaction<'t>,
    &(orders, order): &'t (&Orders, &NewOrder),
) -> Work<'t, (Order, Committed)> {
    Box::pin(async move {
        for attempt in 0..2 {
            let (placed, take) = write(tx, orders, order).await?;
            // The event last, beside the commit: its clock time is (nearly) the commit's.
            let event = event_payload(&placed).to_string();
            let event_params: [&(dyn ToSql + Sync); 2] = [&"order.paid", &event];
            let statements = [
                (TakeStock::SQL, &take.params()[..]),
                (outbox::INSERT, &event_params[..]),
            ];
            match commit_after(tx, &statements).await {
                Ok(committed) => return Ok((placed, committed)),
                Err(e) => refused(e, attempt)?,
            }
        }
        Err(Error::PaymentAmountMismatch)
    })
}

/// Places an order inside a transaction the caller commits (the idempotent path, which
/// records the answer after the work). A changed price rolls back to a savepoint and prices
/// once more.
fn place_nested<'t>(
    tx: &'t Transaction<'t>,
    &(orders, order): &'t (&Orders, &NewOrder),
) -> Work<'t, Order> {
    Box::pin(async move {
        for attempt in 0..2 {
            tx.batch_execute("SAVEPOINT place").await?;
            let (placed, take) = write(tx, orders, order).await?;
            match take.run(tx).await {
                Ok(()) => {
                    outbox::insert(tx, "order.paid", &event_payload(&placed)).await?;
                    return Ok(placed);
                }
                Err(e) => {
                    refused(e, attempt)?;
                    tx.batch_execute("ROLLBACK TO SAVEPOINT place").await?
                }
            }
        }
        Err(Error::PaymentAmountMismatch)
    })
}

/// Maps a failed stock step to the order's error; `Ok` when the price changed on the first
/// attempt, which is worth pricing again.
fn refused(error: tokio_postgres::Error, attempt: usize) -> Result<(), Error> {
    match StockRefusal::of(&error) {
        Some(StockRefusal::PriceChanged) if attempt == 0 => Ok(()),
        Some(StockRefusal::PriceChanged) => Err(Error::PaymentAmountMismatch),
        Some(StockRefusal::OutOfStock) => Err(Error::OutOfStock),
        None => Err(error.into()),
    }
}

/// Prices an order and writes the order and its lines and the payment with its history row.
/// Returns the order and the stock step still to run, which takes the most contended rows (a
/// popular product's stock) last; the caller stores the `order.paid` event after it. Every
/// transaction (cancels too) takes the user before the products, so none deadlocks.
async fn write(
    tx: &Transaction<'_>,
    orders: &Orders,
    order: &NewOrder,
) -> Result<(Order, TakeStock), Error> {
    let priced = orders.price(tx, order).await?;
    let placed = orders::insert(tx, order.user, priced.total, &priced.lines, None).await?;
    users::spend(tx, order.user, priced.total, placed.id)
        .await?
        .ok_or(Error::InsufficientBalance)?;
    let take = TakeStock::new(
        priced
            .lines
            .iter()
            .zip(&priced.list_prices)
            .map(|(line, &price)| (line.product_id, line.quantity, price)),
        placed.created_at,
    );
    Ok((placed, take))
}

/// Cancels inside one transaction; the order row lock makes concurrent cancels refund once.
fn cancel_in<'t>(tx: &'t Transaction<'t>, &id: &'t OrderId) -> Work<'t, (Order, bool)> {
    Box::pin(async move {
        let mut order = orders::find(tx, id, true)
            .await?
            .ok_or(Error::OrderNotFound)?;
        if order.status == Status::Cancelled {
            return Ok((order, false));
        }
        // The user before the products, as placement takes them.
        let user = UserId::new(order.user_id).map_err(|_| Error::OrderUserNotFound)?;
        let refunded = users::add_balance(tx, user, order.total_amount)
            .await?
            .ok_or(Error::OrderUserNotFound)?;
        history::record(
            tx,
            user,
            Kind::Refund,
            order.total_amount,
            refunded.balance,
            Some(order.id),
        )
        .await?;
        for line in &order.lines {
            products::return_stock(tx, line.product_id, line.quantity).await?;
            sales::record(tx, order.created_at, line.product_id, -line.quantity).await?;
        }
        orders::mark_cancelled(tx, id).await?;
        order.status = Status::Cancelled;
        outbox::insert(tx, "order.cancelled", &event_payload(&order)).await?;
        Ok((order, true))
    })
}

/// The JSON an order event carries.
fn event_payload(order: &Order) -> serde_json::Value {
    json!({
        "orderId": order.id,
        "userId": order.user_id,
        "status": order.status.as_str(),
        "totalAmount": order.total_amount,
        "items": order.lines.iter().map(|l| json!({
            "productId": l.product_id, "quantity": l.quantity, "unitPrice": l.unit_price,
        })).collect::<Vec<_>>(),
        "createdAt": order.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_merged_by_product_and_sorted() {
        let order = NewOrder::parse(7, &[(102, 1), (101, 2), (102, 3)], 0).unwrap();
        assert_eq!(order.lines, vec![(101, 2), (102, 4)]);
    }

    #[test]
    fn empty_orders_bad_ids_and_quantities_are_invalid() {
        for (user, lines) in [
            (1, vec![]),
            (0, vec![(1, 1)]),
            (1, vec![(0, 1)]),
            (1, vec![(1, 0)]),
            (1, vec![(1, -2)]),
        ] {
            assert!(
                matches!(
                    NewOrder::parse(user, &lines, 0),
                    Err(Error::InvalidOrder(_))
                ),
                "{lines:?}"
            );
        }
        assert!(matches!(
            NewOrder::parse(1, &[(1, i64::MAX), (1, 1)], 0),
            Err(Error::InvalidOrder(_))
        ));
        assert!(matches!(
            NewOrder::parse(1, &[(1, 1)], -1),
            Err(Error::InvalidOrder(_))
        ));
    }
}
