//! The JSON forms of a call: a hook's input as the admin API's `evaluate`, `edgecart plugin
//! run` and recorded runs write it (camelCase, as the WIT records), parsed back into a
//! [`HookInput`]; and a call's outcome as `{"accept": true}`, `{"reject": {…}}`,
//! `{"prices": […]}` or `{"failure": {…}}`, read back for replay.

use serde_json::{Value, json};

use super::{CallFailure, Hook, HookInput};
use crate::{
    domain::Attributes,
    rules::{ChargeInput, Decision, LinePrice, OrderInput, OrderLineInput, Rejection, now_ms},
};

/// An `evaluate` input that is not the hook's input.
#[derive(Debug, thiserror::Error)]
#[error("input does not fit hook {hook}: {source}")]
pub struct InputMismatch {
    /// The hook the input was meant for.
    pub hook: Hook,
    /// What does not fit.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Parsing an `evaluate` call's JSON.
impl HookInput {
    /// Parses `input` as `hook`'s input; the error says what does not fit.
    pub fn parse(hook: Hook, input: &serde_json::Value) -> Result<Self, InputMismatch> {
        let bad = |source: Box<dyn std::error::Error + Send + Sync>| InputMismatch { hook, source };
        let attributes =
            |value: &serde_json::Value| Attributes::parse(value).map_err(|e| bad(e.into()));
        Ok(match hook {
            Hook::ChargeValidate => {
                let c: ChargeJson =
                    serde_json::from_value(input.clone()).map_err(|e| bad(e.into()))?;
                HookInput::Charge(ChargeInput {
                    user_id: c.user_id,
                    amount: c.amount,
                    balance: c.balance,
                    user_attributes: attributes(&c.user_attributes)?,
                    now_ms: c.now.unwrap_or_else(now_ms),
                })
            }
            Hook::OrderValidate | Hook::OrderPrice => {
                let o: OrderJson =
                    serde_json::from_value(input.clone()).map_err(|e| bad(e.into()))?;
                let mut lines = Vec::with_capacity(o.lines.len());
                for l in o.lines {
                    lines.push(OrderLineInput {
                        product_id: l.product_id,
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        name: l.name,
                        attributes: attributes(&l.attributes)?,
                    });
                }
                let order = OrderInput {
                    user_id: o.user_id,
                    balance: o.balance,
                    lines,
                    coupon: o.coupon,
                    user_attributes: attributes(&o.user_attributes)?,
                    paid_orders: o.paid_orders,
                    now_ms: o.now.unwrap_or_else(now_ms),
                };
                if hook == Hook::OrderValidate {
                    HookInput::OrderValidate(order)
                } else {
                    HookInput::OrderPrice(order)
                }
            }
        })
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChargeJson {
    user_id: i64,
    amount: i64,
    #[serde(default)]
    balance: i64,
    #[serde(default = "no_attributes")]
    user_attributes: serde_json::Value,
    now: Option<i64>,
}

/// Attributes left out of a dry run's input: none.
fn no_attributes() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderJson {
    user_id: i64,
    #[serde(default)]
    balance: i64,
    lines: Vec<LineJson>,
    coupon: Option<String>,
    #[serde(default = "no_attributes")]
    user_attributes: serde_json::Value,
    #[serde(default)]
    paid_orders: i64,
    now: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineJson {
    product_id: i64,
    quantity: i64,
    unit_price: i64,
    #[serde(default)]
    name: String,
    #[serde(default = "no_attributes")]
    attributes: serde_json::Value,
}

impl HookInput {
    /// The input as JSON, in the form [`HookInput::parse`] reads (with `now` always set).
    pub fn to_json(&self) -> Value {
        match self {
            HookInput::Charge(c) => json!({
                "userId": c.user_id,
                "amount": c.amount,
                "balance": c.balance,
                "userAttributes": c.user_attributes.to_json(),
                "now": c.now_ms,
            }),
            HookInput::OrderValidate(o) | HookInput::OrderPrice(o) => json!({
                "userId": o.user_id,
                "balance": o.balance,
                "lines": o.lines.iter().map(|l| json!({
                    "productId": l.product_id,
                    "quantity": l.quantity,
                    "unitPrice": l.unit_price,
                    "name": l.name,
                    "attributes": l.attributes.to_json(),
                })).collect::<Vec<_>>(),
                "coupon": o.coupon,
                "userAttributes": o.user_attributes.to_json(),
                "paidOrders": o.paid_orders,
                "now": o.now_ms,
            }),
        }
    }
}

/// A call's outcome as JSON: `{"accept": true}`, `{"reject": {"code", "message"}}`,
/// `{"prices": [{"unitPrice", "reason"}]}` or `{"failure": {"kind", "message"}}`.
pub fn outcome_json(outcome: &Result<Decision, CallFailure>) -> Value {
    match outcome {
        Ok(Decision::Accept) => json!({"accept": true}),
        Ok(Decision::Reject(r)) => json!({"reject": {"code": r.code, "message": r.message}}),
        Ok(Decision::Prices(prices)) => json!({"prices": prices
            .iter()
            .map(|p| json!({"unitPrice": p.unit_price, "reason": p.reason}))
            .collect::<Vec<_>>()}),
        Err(f) => json!({"failure": {"kind": f.kind.as_str(), "message": f.message}}),
    }
}

/// The decision an [`outcome_json`] holds; `None` for a failure (or anything else).
pub fn decision_from_json(outcome: &Value) -> Option<Decision> {
    if outcome.get("accept") == Some(&Value::Bool(true)) {
        return Some(Decision::Accept);
    }
    if let Some(reject) = outcome.get("reject") {
        return Some(Decision::Reject(Rejection {
            code: reject.get("code")?.as_str()?.to_owned(),
            message: reject.get("message")?.as_str()?.to_owned(),
        }));
    }
    let prices = outcome.get("prices")?.as_array()?;
    let mut lines = Vec::with_capacity(prices.len());
    for price in prices {
        lines.push(LinePrice {
            unit_price: price.get("unitPrice")?.as_i64()?,
            reason: price
                .get("reason")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Some(Decision::Prices(lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::FailureKind;

    fn order() -> OrderInput {
        OrderInput {
            user_id: 7,
            balance: 50_000,
            lines: vec![OrderLineInput {
                product_id: 3,
                quantity: 2,
                unit_price: 2_500,
                name: "양배추 샐러드".into(),
                attributes: Attributes::parse(&json!({"category": "salad"})).unwrap(),
            }],
            coupon: Some("SPRING25".into()),
            user_attributes: Attributes::parse(&json!({"tier": "gold"})).unwrap(),
            paid_orders: 4,
            now_ms: 1_767_225_600_000,
        }
    }

    #[test]
    fn every_input_reads_back_as_it_was_written() {
        let inputs = [
            HookInput::Charge(ChargeInput {
                user_id: 1,
                amount: -5,
                balance: 9,
                user_attributes: Attributes::parse(&json!({"tier": "gold"})).unwrap(),
                now_ms: 42,
            }),
            HookInput::OrderValidate(order()),
            HookInput::OrderPrice(OrderInput {
                coupon: None,
                ..order()
            }),
        ];
        for input in inputs {
            let parsed = HookInput::parse(input.hook(), &input.to_json()).unwrap();
            assert_eq!(parsed, input);
        }
    }

    #[test]
    fn every_decision_reads_back_and_a_failure_has_none() {
        let decisions = [
            Decision::Accept,
            Decision::Reject(Rejection {
                code: "NO".into(),
                message: "아니요".into(),
            }),
            Decision::Prices(vec![
                LinePrice {
                    unit_price: 900,
                    reason: Some("10% off".into()),
                },
                LinePrice {
                    unit_price: 5,
                    reason: None,
                },
            ]),
        ];
        for decision in decisions {
            let json = outcome_json(&Ok(decision.clone()));
            assert_eq!(decision_from_json(&json), Some(decision));
        }
        let failed = outcome_json(&Err(CallFailure {
            kind: FailureKind::Trap,
            message: "unreachable".into(),
        }));
        assert_eq!(failed["failure"]["kind"], "trap");
        assert_eq!(decision_from_json(&failed), None);
        assert_eq!(decision_from_json(&json!({"accept": false})), None);
    }
}
