//! Orders paid with points: place (one transaction: stock, points, history, rollup, outbox),
//! read and cancel. The database is the lock: conditional updates in ascending product id,
//! then the balance, so concurrent orders never oversell and never deadlock.

use std::{collections::BTreeMap, sync::Arc};

use deadpool_postgres::Transaction;
use serde_json::json;

use super::{Database, Error, Render, Replayable, tx::Work};
use crate::{
    domain::{OrderId, UserId},
    idempotency::IdempotentRequest,
    rules::{OrderInput, OrderLineInput, OrderRule, Pricing, PricingRule, Verdict},
    store::{
        history::{self, Kind},
        orders::{self, Line, Order, Status},
        outbox, products, sales, users,
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
    order_rule: Arc<dyn OrderRule>,
    pricing_rule: Arc<dyn PricingRule>,
}

/// What one pricing pass decided.
struct Priced {
    /// Lines with the price paid per unit.
    lines: Vec<Line>,
    /// The list price each line's stock update must still see.
    list_prices: Vec<i64>,
    total: i64,
}

/// How applying a priced order ended, short of an error.
enum Applied {
    Done(Order),
    /// A price changed between reading and updating: price again.
    PriceChanged,
}

impl Orders {
    /// Builds the service over the database and the rules in force.
    pub fn new(
        db: Database,
        order_rule: Arc<dyn OrderRule>,
        pricing_rule: Arc<dyn PricingRule>,
    ) -> Self {
        Self {
            db,
            order_rule,
            pricing_rule,
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
        match idempotency {
            Some(req) => self.db.idempotent(req, render, &ctx, place_in).await,
            None => match self.db.transaction(&ctx, place_in).await {
                Err(e) if e.is_server_error() => Err(e),
                outcome => Ok(Replayable {
                    response: render(&outcome),
                    replayed: false,
                }),
            },
        }
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
        self.db.transaction(&id, cancel_in).await
    }

    /// Reads prices, asks the rules, and checks the client's amount.
    async fn price(&self, tx: &Transaction<'_>, order: &NewOrder) -> Result<Priced, Error> {
        let user = users::find(tx, order.user)
            .await?
            .ok_or(Error::OrderUserNotFound)?;
        let ids: Vec<i64> = order.lines.iter().map(|(id, _)| *id).collect();
        let found = products::find_many(tx, &ids).await?;
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
        if let Verdict::Reject(rejection) = self.order_rule.validate_order(&input)? {
            return Err(Error::Rejected(rejection));
        }
        let prices = match self.pricing_rule.price(&input)? {
            Pricing::Reject(rejection) => return Err(Error::Rejected(rejection)),
            Pricing::Priced(prices)
                if prices.len() == input.lines.len() && prices.iter().all(|p| *p >= 0) =>
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

/// The whole placement inside one transaction; a price that changed under us is priced once
/// more, and a second change is a payment mismatch.
fn place_in<'t>(
    tx: &'t Transaction<'t>,
    &(orders, order): &'t (&Orders, &NewOrder),
) -> Work<'t, Order> {
    Box::pin(async move {
        for attempt in 0..2 {
            let priced = orders.price(tx, order).await?;
            tx.batch_execute("SAVEPOINT place").await?;
            match apply(tx, order.user, &priced).await? {
                Applied::Done(placed) => {
                    tx.batch_execute("RELEASE SAVEPOINT place").await?;
                    return Ok(placed);
                }
                Applied::PriceChanged if attempt == 0 => {
                    tx.batch_execute("ROLLBACK TO SAVEPOINT place").await?
                }
                Applied::PriceChanged => break,
            }
        }
        Err(Error::PaymentAmountMismatch)
    })
}

/// Writes a priced order. Rows nobody else touches (the order, its lines, the event) come
/// first, then the payer's balance, then the stock in ascending product id. Every
/// transaction (cancels too) takes the user before the products, so none deadlocks, and the
/// most contended row (a popular product's stock) is taken last and held for one statement
/// plus the commit.
async fn apply(tx: &Transaction<'_>, user: UserId, priced: &Priced) -> Result<Applied, Error> {
    let order = orders::insert(tx, user, priced.total, &priced.lines, None).await?;
    outbox::insert(tx, "order.paid", &event_payload(&order)).await?;
    users::spend(tx, user, priced.total, order.id)
        .await?
        .ok_or(Error::InsufficientBalance)?;
    for (line, &list_price) in priced.lines.iter().zip(&priced.list_prices) {
        let taken = products::take_stock(
            tx,
            line.product_id,
            line.quantity,
            list_price,
            order.created_at,
        )
        .await?;
        if !taken {
            let id = crate::domain::ProductId::new(line.product_id)
                .map_err(|_| Error::ProductNotFound)?;
            let current = products::find(tx, id)
                .await?
                .ok_or(Error::ProductNotFound)?;
            if current.price != list_price {
                return Ok(Applied::PriceChanged);
            }
            return Err(Error::OutOfStock);
        }
    }
    Ok(Applied::Done(order))
}

/// Cancels inside one transaction; the order row lock makes concurrent cancels refund once.
fn cancel_in<'t>(tx: &'t Transaction<'t>, &id: &'t OrderId) -> Work<'t, Order> {
    Box::pin(async move {
        let mut order = orders::find(tx, id, true)
            .await?
            .ok_or(Error::OrderNotFound)?;
        if order.status == Status::Cancelled {
            return Ok(order);
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
        Ok(order)
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
