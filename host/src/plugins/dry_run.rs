//! Dry runs: a hook's input given as JSON (the admin API's `evaluate`, `edgecart plugin
//! run`) parsed into a [`HookInput`], and the smoke call an upload must pass. A dry run's
//! answer is the typed [`super::Called`]; rendering it is the caller's (HTTP, CLI).

use super::{CallFailure, Compiled, Hook, HookInput, Registry};
use crate::rules::{ChargeInput, OrderInput, OrderLineInput, RuleFailure};

/// An `evaluate` input that is not the hook's input.
#[derive(Debug, thiserror::Error)]
#[error("input does not fit hook {hook}: {source}")]
pub struct InputMismatch {
    /// The hook the input was meant for.
    pub hook: Hook,
    /// What does not fit.
    #[source]
    pub source: serde_json::Error,
}

/// Parsing an `evaluate` call's JSON.
impl HookInput {
    /// Parses `input` as `hook`'s input; the error says what does not fit.
    pub fn parse(hook: Hook, input: &serde_json::Value) -> Result<Self, InputMismatch> {
        let bad = |source| InputMismatch { hook, source };
        Ok(match hook {
            Hook::ChargeValidate => {
                let c: ChargeJson = serde_json::from_value(input.clone()).map_err(bad)?;
                HookInput::Charge(ChargeInput {
                    user_id: c.user_id,
                    amount: c.amount,
                    balance: c.balance,
                    ..Default::default()
                })
            }
            Hook::OrderValidate | Hook::OrderPrice => {
                let o: OrderJson = serde_json::from_value(input.clone()).map_err(bad)?;
                let order = OrderInput {
                    user_id: o.user_id,
                    balance: o.balance,
                    lines: o
                        .lines
                        .into_iter()
                        .map(|l| OrderLineInput {
                            product_id: l.product_id,
                            quantity: l.quantity,
                            unit_price: l.unit_price,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
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
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderJson {
    user_id: i64,
    #[serde(default)]
    balance: i64,
    lines: Vec<LineJson>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineJson {
    product_id: i64,
    quantity: i64,
    unit_price: i64,
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
            ..Default::default()
        }],
        ..Default::default()
    };
    let sample = match hook {
        Hook::ChargeValidate => HookInput::Charge(ChargeInput {
            user_id: 1,
            amount: 10_000,
            balance: 0,
            ..Default::default()
        }),
        Hook::OrderValidate => HookInput::OrderValidate(order),
        Hook::OrderPrice => HookInput::OrderPrice(order),
    };
    let called = registry.call(compiled, &sample, &Vec::new()).await?;
    Ok(called.outcome.map(|_| ()))
}
