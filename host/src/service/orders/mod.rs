//! Orders paid with points: place (read and priced outside any transaction, then committed
//! with the orders that arrived beside it, by [`batch`]), read and cancel. The database is
//! the lock: every transaction takes products (ascending id) before users, so concurrent
//! orders never oversell and never deadlock.

use std::sync::Arc;

use deadpool_postgres::Transaction;
use serde_json::json;
use tokio_postgres::types::ToSql;

use super::{
    Answer, Committed, Database, Error, SharedRender, Work, batch::Batcher, commit, overflow_as,
};

mod batch;
mod request;

use crate::{
    config::Batching,
    domain::{Caller, Kind, Line, Order, OrderId, Status, UserId},
    events::signal::OutboxSignal,
    idempotency::IdempotentRequest,
    metrics::{Metrics, OrderOutcome, RejectReason},
    rules::{self, Decision, OrderInput, OrderLineInput, RuleFailure, Rules},
    store::{history, orders, outbox, products, sales, users},
    telemetry,
};
use batch::{OrderJob, PlaceOrders};
pub use request::NewOrder;

/// The order use cases.
#[derive(Clone)]
pub struct Orders {
    db: Database,
    rules: Arc<dyn Rules>,
    metrics: Metrics,
    outbox: OutboxSignal,
    batcher: Batcher<PlaceOrders>,
}

/// An order priced outside any transaction: what the write must apply.
struct Quote {
    user: UserId,
    /// Lines with the price paid per unit.
    lines: Vec<Line>,
    /// The list price each line's stock step must still see.
    list_prices: Vec<i64>,
    total: i64,
}

impl Orders {
    /// Builds the service over the database and the rules in force; orders are committed in
    /// batches as `batching` says, and `outbox` is raised after every committed event.
    pub fn new(
        db: Database,
        rules: Arc<dyn Rules>,
        metrics: Metrics,
        outbox: OutboxSignal,
        batching: &Batching,
    ) -> Self {
        let place = PlaceOrders {
            metrics: metrics.clone(),
            outbox: outbox.clone(),
        };
        Self {
            batcher: Batcher::new(place, db.clone(), batching, metrics.clone()),
            db,
            rules,
            metrics,
            outbox,
        }
    }

    /// Places and pays an order, once per idempotency key when one is given: read and
    /// priced outside any transaction (no pooled connection is held while rules run), then
    /// committed in a batch with the orders that arrived beside it. The answer is rendered
    /// by `render`, recorded for the key when one is given.
    #[tracing::instrument(name = "orders.place", skip_all, fields(user = %order.user))]
    pub async fn place(
        &self,
        order: &NewOrder,
        idempotency: Option<&IdempotentRequest>,
        render: SharedRender<Order>,
    ) -> Result<Answer, Error> {
        // Every fresh outcome is rendered once (replays are not): count it there.
        let metrics = self.metrics.clone();
        let counted: SharedRender<Order> = Arc::new(move |outcome| {
            count(&metrics, outcome);
            render(outcome)
        });
        // One clock reading per request, however often the order is priced.
        let now_ms = rules::now_ms();
        let submit = |quote| {
            self.batcher.submit(OrderJob {
                quote,
                request: idempotency.cloned(),
                render: counted.clone(),
                traceparent: telemetry::context::current(),
            })
        };
        self.db
            .answer(idempotency, &*counted, || self.quote(order, now_ms), submit)
            .await
    }

    /// One order; someone else's order is not found.
    #[tracing::instrument(name = "orders.get", skip(self))]
    pub async fn get(&self, caller: Caller, id: OrderId) -> Result<Order, Error> {
        let client = self.db.pool().get().await?;
        orders::find(&client, id, false)
            .await?
            .filter(|order| owned_by(caller, order))
            .ok_or(Error::OrderNotFound)
    }

    /// Cancels a paid order: stock back, points refunded and one PAID order fewer counted,
    /// rollup reversed, event stored.
    /// Cancelling a cancelled order changes nothing and returns it.
    #[tracing::instrument(name = "orders.cancel", skip(self))]
    pub async fn cancel(&self, caller: Caller, id: OrderId) -> Result<Order, Error> {
        let (order, cancelled_now) = self.db.transaction(&(caller, id), cancel_in).await?;
        if cancelled_now {
            self.metrics.order(OrderOutcome::Cancelled);
            self.outbox.committed();
        }
        Ok(order)
    }

    /// Reads the payer and the products (one statement), asks the rules, and checks the
    /// client's amount; outside any transaction. `now_ms` is the request's clock reading.
    async fn quote(&self, order: &NewOrder, now_ms: i64) -> Result<Quote, Error> {
        let ids: Vec<i64> = order.lines.iter().map(|(id, _)| *id).collect();
        let inputs = {
            let client = self.db.pool().get().await?;
            orders::inputs(&client, order.user, &ids)
                .await?
                .ok_or(Error::OrderUserNotFound)?
        };
        if inputs.products.len() != ids.len() {
            return Err(Error::ProductNotFound);
        }
        let list_prices: Vec<i64> = inputs.products.iter().map(|p| p.price).collect();
        let input = OrderInput {
            user_id: order.user.get(),
            balance: inputs.balance,
            lines: order
                .lines
                .iter()
                .zip(inputs.products)
                .map(|(&(product_id, quantity), product)| OrderLineInput {
                    product_id,
                    quantity,
                    unit_price: product.price,
                    name: product.name,
                    attributes: product.attributes,
                })
                .collect(),
            coupon: order.coupon.clone(),
            user_attributes: inputs.user_attributes,
            paid_orders: inputs.paid_orders,
            now_ms,
        };
        if let Decision::Reject(rejection) = self.rules.validate_order(input.clone()).await? {
            return Err(Error::Rejected(rejection));
        }
        let line_count = input.lines.len();
        let prices = match self.rules.price_order(input).await? {
            Decision::Reject(rejection) => return Err(Error::Rejected(rejection)),
            Decision::Prices(prices)
                if prices.len() == line_count && prices.iter().all(|p| p.unit_price >= 0) =>
            {
                prices
            }
            _ => {
                return Err(Error::RuleFailed(RuleFailure::new(
                    "order.price",
                    "a price for every line, none negative, was expected",
                )));
            }
        };
        let mut total: i64 = 0;
        let mut lines = Vec::with_capacity(prices.len());
        for (&(product_id, quantity), price) in order.lines.iter().zip(prices) {
            let amount = quantity
                .checked_mul(price.unit_price)
                .ok_or(Error::InvalidOrder("total out of range"))?;
            total = total
                .checked_add(amount)
                .ok_or(Error::InvalidOrder("total out of range"))?;
            lines.push(Line {
                product_id,
                quantity,
                unit_price: price.unit_price,
            });
        }
        if total != order.payment_amount {
            return Err(Error::PaymentAmountMismatch);
        }
        Ok(Quote {
            user: order.user,
            lines,
            list_prices,
            total,
        })
    }
}

/// Counts a placement's outcome: paid, or rejected with a bounded reason.
fn count(metrics: &Metrics, outcome: Result<&Order, &Error>) {
    let reason = match outcome {
        Ok(_) => return metrics.order(OrderOutcome::Paid),
        Err(Error::OutOfStock) => {
            metrics.stock_out();
            RejectReason::OutOfStock
        }
        Err(Error::InsufficientBalance) => RejectReason::InsufficientBalance,
        Err(Error::PaymentAmountMismatch | Error::PriceChanged) => {
            RejectReason::PaymentAmountMismatch
        }
        Err(Error::Rejected(_)) => RejectReason::Rule,
        Err(Error::ProductNotFound) => RejectReason::ProductNotFound,
        Err(Error::OrderUserNotFound) => RejectReason::UserNotFound,
        Err(Error::InvalidOrder(_) | Error::InvalidCoupon) => RejectReason::Invalid,
        Err(_) => RejectReason::Other,
    };
    metrics.order(OrderOutcome::Rejected(reason));
}

/// Cancels inside one transaction; the order row lock makes concurrent cancels refund once.
fn cancel_in<'t>(
    tx: &'t Transaction<'t>,
    &(caller, id): &'t (Caller, OrderId),
) -> Work<'t, ((Order, bool), Committed)> {
    Box::pin(async move {
        let mut order = orders::find(tx, id, true)
            .await?
            .filter(|order| owned_by(caller, order))
            .ok_or(Error::OrderNotFound)?;
        if order.status == Status::Cancelled {
            return Ok(((order, false), commit(tx, &[]).await?));
        }
        // The products before the user, as batches of orders take them.
        for line in &order.lines {
            products::return_stock(tx, line.product_id, line.quantity)
                .await
                .map_err(overflow_as(Error::StockOverflow))?;
            sales::record(tx, order.created_at, line.product_id, -line.quantity).await?;
        }
        let user = UserId::new(order.user_id).map_err(|_| Error::OrderUserNotFound)?;
        let refunded = users::refund_order(tx, user, order.total_amount)
            .await
            .map_err(overflow_as(Error::BalanceOverflow))?
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
        orders::mark_cancelled(tx, id).await?;
        order.status = Status::Cancelled;
        let event = event_payload(&order).to_string();
        let traceparent = telemetry::context::current();
        let params: [&(dyn ToSql + Sync); 3] = [&"order.cancelled", &event, &traceparent];
        let committed = commit(tx, &[(outbox::INSERT, &params[..])]).await?;
        Ok(((order, true), committed))
    })
}

/// Whether `caller` may see and cancel `order`: its owner, or anyone without end-user
/// identity.
fn owned_by(caller: Caller, order: &Order) -> bool {
    caller.user().is_none_or(|user| user.get() == order.user_id)
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
