//! The business-rule seam: the decisions business teams own (charge limits, order checks,
//! pricing), as the services see them. The services ask [`Rules`] and obey; the WebAssembly
//! plugins behind it (`crate::plugins`) hold every limit, so the host holds none.

use futures_util::future::BoxFuture;

/// Input of a charge decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeInput {
    /// Who charges.
    pub user_id: i64,
    /// The requested amount in won, as sent (may be zero or negative).
    pub amount: i64,
    /// The balance before the charge.
    pub balance: i64,
}

/// A rule's refusal: a stable machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable name, e.g. `CHARGE_AMOUNT_TOO_SMALL`.
    pub code: String,
    /// Message for people.
    pub message: String,
}

/// A rule's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on.
    Accept,
    /// Refuse the request with this code and message (400).
    Reject(Rejection),
}

/// A rule that could not decide (a plugin trapped or ran out of budget): the request fails
/// closed and nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule} failed: {reason}")]
pub struct RuleFailure {
    /// Which rule (plugin name and version).
    pub rule: String,
    /// What went wrong, for logs.
    pub reason: String,
}

/// One line of an order as rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLineInput {
    /// The product.
    pub product_id: i64,
    /// Units ordered.
    pub quantity: i64,
    /// The unit price so far (the list price, or the previous pricing rule's price).
    pub unit_price: i64,
}

/// Input of order checks and pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderInput {
    /// Who orders.
    pub user_id: i64,
    /// Their balance before paying.
    pub balance: i64,
    /// Lines, ascending product id, duplicates merged.
    pub lines: Vec<OrderLineInput>,
}

/// A pricing rule's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// The unit price of each line, in the input's order.
    Priced(Vec<i64>),
    /// Refuse the order.
    Reject(Rejection),
}

/// The rules in force: the host asks and obeys, and holds no business limit of its own.
/// Implemented by the plugin registry (`crate::plugins::Registry`); with no plugin on a hook
/// everything passes at list prices. Inputs are owned so that a decision may run off the
/// async workers.
pub trait Rules: Send + Sync {
    /// Accepts or rejects one charge (hook `charge.validate`).
    fn validate_charge(
        &self,
        input: ChargeInput,
    ) -> BoxFuture<'static, Result<Verdict, RuleFailure>>;

    /// Accepts or rejects one order (hook `order.validate`).
    fn validate_order(&self, input: OrderInput)
    -> BoxFuture<'static, Result<Verdict, RuleFailure>>;

    /// Sets each line's unit price (hook `order.price`).
    fn price_order(&self, input: OrderInput) -> BoxFuture<'static, Result<Pricing, RuleFailure>>;
}
