//! Dry runs: one call of a compiled version on an input given as JSON (the admin API's
//! `evaluate`, `edgecart plugin run`), and the smoke call an upload must pass.

use std::time::Duration;

use super::{Answer, Compiled, Hook, HookInput, LogLine, PluginConfig, Runtime};
use crate::rules::{ChargeInput, OrderInput, OrderLineInput};

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
    let called = runtime.call(compiled, input, config).await;
    Evaluation {
        decision: match &called.outcome {
            Ok(answer) => answer_json(answer),
            Err(f) => {
                serde_json::json!({"failure": {"kind": f.kind.as_str(), "message": f.message}})
            }
        },
        fuel: called.fuel,
        duration: called.duration,
        logs: called.logs,
    }
}

/// Parsing an `evaluate` call's JSON.
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
    let sample = match hook {
        Hook::ChargeValidate => HookInput::Charge(ChargeInput {
            user_id: 1,
            amount: 10_000,
            balance: 0,
        }),
        Hook::OrderValidate => HookInput::OrderValidate(order),
        Hook::OrderPrice => HookInput::OrderPrice(order),
    };
    match runtime.call(compiled, &sample, &Vec::new()).await.outcome {
        Ok(_) => Ok(()),
        Err(failure) => Err(failure.to_string()),
    }
}

fn answer_json(answer: &Answer) -> serde_json::Value {
    match answer {
        Answer::Accept => serde_json::json!({"accept": true}),
        Answer::Reject(r) => serde_json::json!({"reject": {"code": r.code, "message": r.message}}),
        Answer::Prices(prices) => {
            serde_json::json!({"prices": prices.iter().map(|p| serde_json::json!({
            "unitPrice": p.unit_price, "reason": p.reason,
        })).collect::<Vec<_>>()})
        }
    }
}
