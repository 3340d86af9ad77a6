//! Dry runs: one call of a compiled version on an input given as JSON (the admin API's
//! `evaluate`, `edgecart plugin run`), and the smoke call an upload must pass.

use std::time::Duration;

use super::{Called, Compiled, Hook, LinePrice, LogLine, PluginConfig, Runtime};
use crate::rules::{ChargeInput, OrderInput, OrderLineInput, Rejection};

/// A dry run's answer.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// `{"accept": true}`, `{"reject": {code, message}}`, `{"prices": [...]}` or
    /// `{"failure": {kind, message}}`.
    pub decision: serde_json::Value,
    /// Fuel burnt.
    pub fuel: u64,
    /// Time of instantiate + call.
    #[serde(skip)]
    pub duration: Duration,
    /// What the plugin logged.
    pub logs: Vec<LogLine>,
}

/// Runs `compiled` (a version for `hook`) once on `input` with `config`.
pub async fn evaluate(
    runtime: &Runtime,
    compiled: &Compiled,
    input: &HookInput,
    config: &PluginConfig,
) -> Evaluation {
    match input {
        HookInput::Charge(input) => evaluation(
            runtime.validate_charge(compiled, input, config).await,
            reject_json,
        ),
        HookInput::OrderValidate(input) => evaluation(
            runtime.validate_order(compiled, input, config).await,
            reject_json,
        ),
        HookInput::OrderPrice(input) => evaluation(
            runtime.price_order(compiled, input, config).await,
            prices_json,
        ),
    }
}

/// A hook's input, parsed from the JSON an `evaluate` call sends.
#[derive(Debug, Clone)]
pub enum HookInput {
    /// `{"userId", "amount", "balance"}`.
    Charge(ChargeInput),
    /// `{"userId", "balance", "lines": [{"productId", "quantity", "unitPrice"}]}`.
    OrderValidate(OrderInput),
    /// As for `order.validate`.
    OrderPrice(OrderInput),
}

impl HookInput {
    /// Parses `input` as `hook`'s input; the error says what does not fit.
    pub fn parse(hook: Hook, input: &serde_json::Value) -> Result<Self, String> {
        let bad = |e: serde_json::Error| format!("input does not fit hook {hook}: {e}");
        Ok(match hook {
            Hook::ChargeValidate => {
                let c: ChargeJson = serde_json::from_value(input.clone()).map_err(bad)?;
                HookInput::Charge(ChargeInput {
                    user_id: c.user_id,
                    amount: c.amount,
                    balance: c.balance,
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
                        })
                        .collect(),
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

/// Calls a freshly compiled version with a sample input; any decision will do, a failure
/// will not.
pub async fn smoke_call(runtime: &Runtime, hook: Hook, compiled: &Compiled) -> Result<(), String> {
    let order = OrderInput {
        user_id: 1,
        balance: 100_000,
        lines: vec![OrderLineInput {
            product_id: 1,
            quantity: 1,
            unit_price: 1_000,
        }],
    };
    let config = Vec::new();
    let failure = match hook {
        Hook::ChargeValidate => {
            let input = ChargeInput {
                user_id: 1,
                amount: 10_000,
                balance: 0,
            };
            runtime
                .validate_charge(compiled, &input, &config)
                .await
                .outcome
                .err()
        }
        Hook::OrderValidate => runtime
            .validate_order(compiled, &order, &config)
            .await
            .outcome
            .err(),
        Hook::OrderPrice => runtime
            .price_order(compiled, &order, &config)
            .await
            .outcome
            .err(),
    };
    failure.map_or(Ok(()), |f| Err(f.to_string()))
}

fn reject_json(outcome: &Option<Rejection>) -> serde_json::Value {
    match outcome {
        None => serde_json::json!({"accept": true}),
        Some(r) => serde_json::json!({"reject": {"code": r.code, "message": r.message}}),
    }
}

fn prices_json(outcome: &Result<Vec<LinePrice>, Rejection>) -> serde_json::Value {
    match outcome {
        Ok(prices) => serde_json::json!({"prices": prices.iter().map(|p| serde_json::json!({
            "unitPrice": p.unit_price, "reason": p.reason,
        })).collect::<Vec<_>>()}),
        Err(r) => serde_json::json!({"reject": {"code": r.code, "message": r.message}}),
    }
}

fn evaluation<T>(called: Called<T>, decision: impl Fn(&T) -> serde_json::Value) -> Evaluation {
    Evaluation {
        decision: match &called.outcome {
            Ok(value) => decision(value),
            Err(f) => {
                serde_json::json!({"failure": {"kind": f.kind.as_str(), "message": f.message}})
            }
        },
        fuel: called.fuel,
        duration: called.duration,
        logs: called.logs,
    }
}
