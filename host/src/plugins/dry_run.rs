//! Dry runs: a hook's input given as JSON (the admin API's `evaluate`, `edgecart plugin
//! run`) parsed into a [`HookInput`], and the smoke call an upload must pass. A dry run's
//! answer is the typed [`super::Called`]; rendering it is the caller's (HTTP, CLI).

use super::{CallFailure, Compiled, Hook, HookInput, PluginConfig, Registry};
use crate::{
    domain::Attributes,
    rules::{ChargeInput, OrderInput, OrderLineInput, RuleFailure, now_ms},
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

/// Calls a freshly compiled version with a sample input, in an instance slot; any decision
/// will do, a failed call will not (the inner error).
pub async fn smoke_call(
    registry: &Registry,
    hook: Hook,
    compiled: &Compiled,
) -> Result<Result<(), CallFailure>, RuleFailure> {
    let order = OrderInput {
        user_id: 1,
        balance: 100_000,
        lines: vec![OrderLineInput {
            product_id: 1,
            quantity: 1,
            unit_price: 1_000,
            name: "sample".into(),
            attributes: Attributes::default(),
        }],
        coupon: None,
        user_attributes: Attributes::default(),
        paid_orders: 0,
        now_ms: now_ms(),
    };
    let sample = match hook {
        Hook::ChargeValidate => HookInput::Charge(ChargeInput {
            user_id: 1,
            amount: 10_000,
            balance: 0,
            user_attributes: Attributes::default(),
            now_ms: now_ms(),
        }),
        Hook::OrderValidate => HookInput::OrderValidate(order),
        Hook::OrderPrice => HookInput::OrderPrice(order),
    };
    let called = registry
        .call(compiled, &sample, &PluginConfig::default())
        .await?;
    Ok(called.outcome.map(|_| ()))
}
