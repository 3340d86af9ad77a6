//! The business-rule seam: decisions a business team owns (charge limits today; order checks
//! and pricing with the orders and plugins issues). The host asks a rule and obeys; no other
//! module knows a limit. The built-in rules here are the defaults until WebAssembly plugins
//! implement the same traits.

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

/// Decides whether a charge may happen.
pub trait ChargeRule: Send + Sync {
    /// Accepts or rejects one charge.
    fn validate_charge(&self, input: &ChargeInput) -> Result<Verdict, RuleFailure>;
}

/// The default charge limits: at least `min` and at most `max` won per charge.
#[derive(Debug, Clone, Copy)]
pub struct ChargeLimits {
    /// Smallest charge.
    pub min: i64,
    /// Largest charge.
    pub max: i64,
}

impl Default for ChargeLimits {
    fn default() -> Self {
        Self {
            min: 1_000,
            max: 1_000_000,
        }
    }
}

impl ChargeRule for ChargeLimits {
    fn validate_charge(&self, input: &ChargeInput) -> Result<Verdict, RuleFailure> {
        let reject = |code: &str, message: String| {
            Ok(Verdict::Reject(Rejection {
                code: code.to_owned(),
                message,
            }))
        };
        if input.amount < self.min {
            return reject(
                "CHARGE_AMOUNT_TOO_SMALL",
                format!("최소 충전 금액은 {}원 입니다.", thousands(self.min)),
            );
        }
        if input.amount > self.max {
            return reject(
                "CHARGE_AMOUNT_TOO_LARGE",
                format!("최대 충전 금액은 {}원 입니다.", thousands(self.max)),
            );
        }
        Ok(Verdict::Accept)
    }
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

/// Decides whether an order may be placed (line counts, quantities, totals…).
pub trait OrderRule: Send + Sync {
    /// Accepts or rejects one order.
    fn validate_order(&self, input: &OrderInput) -> Result<Verdict, RuleFailure>;
}

/// A pricing rule's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// The unit price of each line, in the input's order.
    Priced(Vec<i64>),
    /// Refuse the order.
    Reject(Rejection),
}

/// Sets the unit prices of an order's lines (discounts).
pub trait PricingRule: Send + Sync {
    /// Prices one order.
    fn price(&self, input: &OrderInput) -> Result<Pricing, RuleFailure>;
}

/// The default order check until plugins: every order passes.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAllOrders;

impl OrderRule for AcceptAllOrders {
    fn validate_order(&self, _input: &OrderInput) -> Result<Verdict, RuleFailure> {
        Ok(Verdict::Accept)
    }
}

/// The default pricing until plugins: the list prices from the database.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListPrices;

impl PricingRule for ListPrices {
    fn price(&self, input: &OrderInput) -> Result<Pricing, RuleFailure> {
        Ok(Pricing::Priced(
            input.lines.iter().map(|l| l.unit_price).collect(),
        ))
    }
}

/// Formats 1000000 as "1,000,000".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(amount: i64) -> Verdict {
        let input = ChargeInput {
            user_id: 1,
            amount,
            balance: 0,
        };
        ChargeLimits::default().validate_charge(&input).unwrap()
    }

    fn code(verdict: Verdict) -> Option<String> {
        match verdict {
            Verdict::Accept => None,
            Verdict::Reject(r) => Some(r.code),
        }
    }

    #[test]
    fn default_limits_accept_exactly_the_closed_range() {
        assert_eq!(decide(1_000), Verdict::Accept);
        assert_eq!(decide(1_000_000), Verdict::Accept);
        assert_eq!(
            code(decide(999)).as_deref(),
            Some("CHARGE_AMOUNT_TOO_SMALL")
        );
        assert_eq!(code(decide(0)).as_deref(), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(code(decide(-5)).as_deref(), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(
            code(decide(1_000_001)).as_deref(),
            Some("CHARGE_AMOUNT_TOO_LARGE")
        );
    }

    #[test]
    fn messages_are_the_contracts() {
        let Verdict::Reject(small) = decide(1) else {
            panic!("accepted")
        };
        assert_eq!(small.message, "최소 충전 금액은 1,000원 입니다.");
        let Verdict::Reject(large) = decide(i64::MAX) else {
            panic!("accepted")
        };
        assert_eq!(large.message, "최대 충전 금액은 1,000,000원 입니다.");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }
}
