//! The group commit of orders: one transaction for every order of a batch. It claims the
//! keys, locks the products (ascending id) and then the payers (ascending id), admits the
//! orders first come first served against the stock and the balances it read, and writes what
//! the admitted ones change with one statement per table: stock, balances with the payers'
//! counts of PAID orders, orders, lines, history, the hourly rollup, the outbox and the
//! idempotency records; then commits. Each order keeps its own all-or-nothing outcome: one
//! that lacks stock or points is refused and changes nothing, and never fails another.

use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::Transaction;

use super::{Quote, event_payload};
use crate::{
    domain::{Kind, Order, Status},
    events::signal::OutboxSignal,
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
        orders::{self, NewOrders},
        outbox::Events,
        products::{self, StockTakes},
        sales::SalesRows,
        users::{self, BalanceChanges},
    },
};

/// One order, priced, waiting for its batch.
pub(super) struct OrderJob {
    pub(super) quote: Quote,
    pub(super) request: Option<IdempotentRequest>,
    pub(super) render: SharedRender<Order>,
    /// The trace the order's request runs in, for its event.
    pub(super) traceparent: Option<String>,
}

/// How batches of orders are written.
pub(super) struct PlaceOrders {
    pub(super) metrics: Metrics,
    pub(super) outbox: OutboxSignal,
}

impl Batch for PlaceOrders {
    type Job = OrderJob;
    const KIND: &'static str = "orders";

    fn write<'t>(
        &'t self,
        tx: &'t Transaction<'t>,
        jobs: &'t [OrderJob],
    ) -> Work<'t, (Vec<Result<Answer, Error>>, Committed)> {
        Box::pin(async move {
            let requests = jobs.iter().map(|job| job.request.as_ref()).collect();
            let product_ids: Vec<i64> = jobs
                .iter()
                .flat_map(|job| job.quote.lines.iter().map(|line| line.product_id))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut user_ids: Vec<i64> = jobs.iter().map(|job| job.quote.user.get()).collect();
            user_ids.sort_unstable();
            user_ids.dedup();
            Keys::prepare(
                tx,
                &[products::LOCK_MANY, users::LOCK_MANY, orders::ALLOCATE],
            )
            .await?;
            // One round trip: the claims first, then the products, then the payers.
            let (keys, found, payers, (paid_at, ids)) = futures_util::try_join!(
                async { Keys::claim(tx, requests, &self.metrics).await },
                async { Ok(products::lock_many(tx, &product_ids).await?) },
                async { Ok(users::lock_many(tx, &user_ids).await?) },
                async { Ok::<_, Error>(orders::allocate(tx, jobs.len()).await?) },
            )?;
            let mut ledger = Ledger {
                stock: found.iter().map(|p| (p.id, (p.stock, p.price))).collect(),
                balances: payers.iter().map(|u| (u.id, u.balance)).collect(),
                taken: BTreeMap::new(),
                paid: BTreeMap::new(),
                orders: NewOrders::new(paid_at),
                history: HistoryRows::default(),
                events: Events::default(),
            };
            let mut outcomes = Vec::with_capacity(jobs.len());
            for (i, (job, &id)) in jobs.iter().zip(&ids).enumerate() {
                if !keys.is_fresh(i) {
                    outcomes.push(None);
                    continue;
                }
                let outcome = match ledger.admit(job, id, paid_at) {
                    Ok(order) => Outcome::Applied((job.render)(Ok(&order))),
                    Err(error) if error.is_stale() => Outcome::Stale(error),
                    Err(error) => Outcome::Refused((job.render)(Err(&error))),
                };
                outcomes.push(Some(outcome));
            }
            let (answers, records) = keys.settle(outcomes, &self.metrics);
            let takes = StockTakes::new(ledger.taken.iter().map(|(&id, &q)| (id, q)));
            let sales = SalesRows::new(paid_at, ledger.taken.iter().map(|(&id, &q)| (id, q)));
            let payments = BalanceChanges::with_orders(
                ledger
                    .paid
                    .iter()
                    .map(|(&id, &(amount, orders))| (id, -amount, orders)),
            );
            let committed = commit_rows(
                tx,
                &[
                    &takes,
                    &payments,
                    &ledger.orders,
                    &ledger.history,
                    &sales,
                    &ledger.events,
                    &records,
                ],
            )
            .await?;
            Ok((answers, committed))
        })
    }

    fn committed(&self, applied: usize) {
        if applied > 0 {
            self.outbox.committed();
        }
    }
}

/// What a batch has admitted so far: stock and balances left, and the rows to write.
struct Ledger {
    /// Per product: units left and the list price.
    stock: HashMap<i64, (i64, i64)>,
    /// Per payer: points left.
    balances: HashMap<i64, i64>,
    /// Units taken per product.
    taken: BTreeMap<i64, i64>,
    /// Points paid and orders placed, per user.
    paid: BTreeMap<i64, (i64, i64)>,
    orders: NewOrders,
    history: HistoryRows,
    events: Events,
}

impl Ledger {
    /// Admits `job` as order `id` if its payer covers it and every line is in stock at the
    /// price it was quoted with; takes what it uses. Checked as one order alone would be: the
    /// balance first, then each line (a changed price makes the order stale, to be priced
    /// again).
    fn admit(
        &mut self,
        job: &OrderJob,
        id: i64,
        paid_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Order, Error> {
        let quote = &job.quote;
        let user = quote.user.get();
        let balance = *self.balances.get(&user).ok_or(Error::OrderUserNotFound)?;
        if balance < quote.total {
            return Err(Error::InsufficientBalance);
        }
        for (line, &list_price) in quote.lines.iter().zip(&quote.list_prices) {
            match self.stock.get(&line.product_id) {
                Some(&(_, price)) if price != list_price => return Err(Error::PriceChanged),
                Some(&(left, _)) if left >= line.quantity => {}
                _ => return Err(Error::OutOfStock),
            }
        }
        for line in &quote.lines {
            if let Some((left, _)) = self.stock.get_mut(&line.product_id) {
                *left -= line.quantity;
            }
            *self.taken.entry(line.product_id).or_default() += line.quantity;
        }
        let balance_after = balance - quote.total;
        self.balances.insert(user, balance_after);
        let paid = self.paid.entry(user).or_default();
        paid.0 += quote.total;
        paid.1 += 1;
        let order = Order {
            id,
            user_id: user,
            status: Status::Paid,
            total_amount: quote.total,
            lines: quote.lines.clone(),
            created_at: paid_at,
        };
        self.orders.push(&order);
        self.history
            .push(user, Kind::Use, quote.total, balance_after, Some(id));
        self.events.push(
            "order.paid",
            event_payload(&order).to_string(),
            job.traceparent.clone(),
        );
        Ok(order)
    }
}
