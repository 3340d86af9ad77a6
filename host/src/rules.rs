//! The business-rule seam: the decisions business teams own (charge limits, order checks,
//! pricing), as the services see them. The services ask [`Rules`] and obey; the WebAssembly
//! plugins behind it (`crate::plugins`) hold every limit, so the host holds none.

use futures_util::future::BoxFuture;

use crate::domain::Attributes;

/// The host's clock as rules see it: Unix milliseconds, read once per request by the service
/// that builds the request's input (a plugin's only clock; runs record it, so a replay sees
/// the same time).
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// Input of a charge decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChargeInput {
    /// Who charges.
    pub user_id: i64,
    /// The requested amount in won, as sent (may be zero or negative).
    pub amount: i64,
    /// The balance before the charge.
    pub balance: i64,
    /// The user's attributes.
    pub user_attributes: Attributes,
    /// When the request arrived, Unix milliseconds ([`now_ms`]).
    pub now_ms: i64,
}

/// A rule's refusal: a stable machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable name, e.g. `CHARGE_AMOUNT_TOO_SMALL`.
    pub code: String,
    /// Message for people.
    pub message: String,
}

/// A rule that could not decide (a plugin trapped or ran out of budget): the request fails
/// closed and nothing changes.
#[derive(Debug, thiserror::Error)]
#[error("rule {rule} failed")]
pub struct RuleFailure {
    /// Which rule (plugin name and version).
    pub rule: String,
    /// What went wrong.
    #[source]
    pub cause: Box<dyn std::error::Error + Send + Sync>,
}

impl RuleFailure {
    /// `rule` failed because of `cause`.
    pub fn new(
        rule: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            rule: rule.into(),
            cause: cause.into(),
        }
    }
}

/// One line of an order as rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderLineInput {
    /// The product.
    pub product_id: i64,
    /// Units ordered.
    pub quantity: i64,
    /// The unit price so far (the list price, or the previous pricing rule's price).
    pub unit_price: i64,
    /// The product's name.
    pub name: String,
    /// The product's attributes.
    pub attributes: Attributes,
}

/// Input of order checks and pricing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderInput {
    /// Who orders.
    pub user_id: i64,
    /// Their balance before paying.
    pub balance: i64,
    /// Lines, ascending product id, duplicates merged.
    pub lines: Vec<OrderLineInput>,
    /// The request's `couponCode`, as sent; the host gives it no meaning.
    pub coupon: Option<String>,
    /// The payer's attributes.
    pub user_attributes: Attributes,
    /// How many PAID orders the payer has (before this one).
    pub paid_orders: i64,
    /// When the request arrived, Unix milliseconds ([`now_ms`]).
    pub now_ms: i64,
}

/// One line's price as a pricing rule set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrice {
    /// Price per unit.
    pub unit_price: i64,
    /// Why it changed, if it did.
    pub reason: Option<String>,
}

/// What a rule decided: the one answer type of every hook, from a single plugin call up to
/// the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go on (a validation rule accepted).
    Accept,
    /// Refuse the request with this code and message (400).
    Reject(Rejection),
    /// The unit price of each line, in the input's order (a pricing rule's answer).
    Prices(Vec<LinePrice>),
}

impl Decision {
    /// Whether two decisions come to the same outcome: the same acceptance, the same
    /// rejection code and message, or the same prices (reasons aside).
    pub fn same_outcome(&self, other: &Decision) -> bool {
        match (self, other) {
            (Decision::Prices(a), Decision::Prices(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.unit_price == b.unit_price)
            }
            (a, b) => a == b,
        }
    }
}

/// The rules in force: the host asks and obeys, and holds no business limit of its own.
/// Implemented by the plugin registry (`crate::plugins::Registry`); with no plugin on a hook
/// everything passes at list prices. Inputs are owned so that a decision may run off the
/// async workers.
pub trait Rules: Send + Sync {
    /// Accepts or rejects one charge (hook `charge.validate`): [`Decision::Accept`] or [`Decision::Reject`].
    fn validate_charge(
        &self,
        input: ChargeInput,
    ) -> BoxFuture<'static, Result<Decision, RuleFailure>>;

    /// Accepts or rejects one order (hook `order.validate`): [`Decision::Accept`] or
    /// [`Decision::Reject`].
    fn validate_order(
        &self,
        input: OrderInput,
    ) -> BoxFuture<'static, Result<Decision, RuleFailure>>;

    /// Sets each line's unit price (hook `order.price`): [`Decision::Prices`], one per line
    /// in the input's order, or [`Decision::Reject`].
    fn price_order(&self, input: OrderInput) -> BoxFuture<'static, Result<Decision, RuleFailure>>;
}
