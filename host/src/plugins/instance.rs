//! One plugin call: [`Runtime::call`] builds a fresh `Store` (the only place one is made:
//! memory cap, fuel, epoch deadline, async yields), instantiates the compiled component,
//! calls its hook's export, checks the answer against the contract and turns it into the
//! one [`Decision`] type. A store lives for one call; a trapped instance is never reused.

use std::time::{Duration, Instant};

use wasmtime::Store;

use super::{
    Hook,
    bindings::types,
    compile::{Compiled, Pre},
    error::CallFailure,
    host::{CallState, LogLine},
    runtime::Runtime,
};
use crate::rules::{ChargeInput, Decision, LinePrice, OrderInput, Rejection};

/// Fuel between two yields of a running plugin to the async runtime: a long call shares its
/// worker thread in slices of about this many instructions instead of stalling it.
const YIELD_EVERY: u64 = 20_000;

/// Longest rejection code a plugin may answer, in characters.
const MAX_CODE_CHARS: usize = 64;
/// Longest rejection message a plugin may answer, in characters.
const MAX_MESSAGE_CHARS: usize = 512;
/// Longest price `reason` a plugin may answer, in characters.
const MAX_REASON_CHARS: usize = 512;

/// A plugin's configuration as the guest sees it.
pub type PluginConfig = Vec<(String, String)>;

/// A hook's input, whichever the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookInput {
    /// `charge.validate`.
    Charge(ChargeInput),
    /// `order.validate`.
    OrderValidate(OrderInput),
    /// `order.price`.
    OrderPrice(OrderInput),
}

impl HookInput {
    /// The hook this input is for.
    pub fn hook(&self) -> Hook {
        match self {
            HookInput::Charge(_) => Hook::ChargeValidate,
            HookInput::OrderValidate(_) => Hook::OrderValidate,
            HookInput::OrderPrice(_) => Hook::OrderPrice,
        }
    }

    /// Bytes this input takes in the guest, for the input limit.
    fn size(&self) -> usize {
        match self {
            HookInput::Charge(_) => 24,
            HookInput::OrderValidate(order) | HookInput::OrderPrice(order) => {
                16 + order.lines.len() * 24
            }
        }
    }
}

/// A call's decision and what it cost.
#[derive(Debug, Clone)]
pub struct Called {
    /// The plugin's decision, or why there is none.
    pub outcome: Result<Decision, CallFailure>,
    /// Fuel burnt.
    pub fuel: u64,
    /// Wall-clock time of instantiate + call.
    pub duration: Duration,
    /// What the plugin logged.
    pub logs: Vec<LogLine>,
}

impl Called {
    /// A call refused before it ran.
    fn refused(failure: CallFailure) -> Self {
        Self {
            outcome: Err(failure),
            fuel: 0,
            duration: Duration::ZERO,
            logs: Vec::new(),
        }
    }
}

impl Runtime {
    /// Calls `plugin` once on `input` with `config`, in a fresh store, and checks its answer.
    pub async fn call(
        &self,
        plugin: &Compiled,
        input: &HookInput,
        config: &PluginConfig,
    ) -> Called {
        if plugin.hook() != input.hook() {
            return Called::refused(CallFailure::contract(format!(
                "a {} plugin was called for {}",
                plugin.hook(),
                input.hook()
            )));
        }
        let input_bytes = input.size() + config_size(config);
        if input_bytes > self.limits.input_bytes {
            return Called::refused(CallFailure::contract(format!(
                "input of {input_bytes} bytes is over the {} byte limit",
                self.limits.input_bytes
            )));
        }
        let mut store = self.new_store();
        let started = Instant::now();
        let outcome = match invoke(&mut store, &plugin.pre, input, config).await {
            Ok(answer) => answer.and_then(|answer| checked(answer, input)),
            Err(error) => Err(CallFailure::from_wasmtime(&error)),
        };
        let duration = started.elapsed();
        let fuel = self
            .limits
            .fuel
            .saturating_sub(store.get_fuel().unwrap_or(0));
        Called {
            outcome,
            fuel,
            duration,
            logs: store.data_mut().take_logs(),
        }
    }

    /// The store of one call, with this runtime's budgets.
    fn new_store(&self) -> Store<CallState> {
        let state = CallState::new(self.limits.memory_bytes, self.limits.log_bytes);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        // What wasmtime copies out of the guest in one answer or one host call (strings and
        // lists are counted before they are copied) is bounded by what its memory can hold:
        // without this, a list whose entries all point at one long string would be copied
        // once per entry.
        store.set_hostcall_fuel(self.limits.memory_bytes);
        // Both only fail when fuel is not enabled, and the engine enables it.
        let _ = store.set_fuel(self.limits.fuel);
        let _ = store.fuel_async_yield_interval(Some(YIELD_EVERY));
        store.set_epoch_deadline(self.limits.deadline_ticks());
        store.epoch_deadline_trap();
        store
    }
}

/// A plugin's answer as the WIT export returned it, before the contract is checked.
enum Answer {
    Validation(Result<(), types::Rejection>),
    Pricing(Result<Vec<types::LinePrice>, types::Rejection>),
}

/// Instantiates `pre` in `store` and calls its hook's export.
async fn invoke(
    store: &mut Store<CallState>,
    pre: &Pre,
    input: &HookInput,
    config: &PluginConfig,
) -> wasmtime::Result<Result<Answer, CallFailure>> {
    Ok(Ok(match (pre, input) {
        (Pre::Charge(pre), HookInput::Charge(charge)) => {
            let charge = types::Charge {
                user_id: charge.user_id,
                amount: charge.amount,
                balance: charge.balance,
            };
            let plugin = pre.instantiate_async(&mut *store).await?;
            Answer::Validation(plugin.call_validate_charge(store, charge, config).await?)
        }
        (Pre::OrderValidate(pre), HookInput::OrderValidate(order)) => {
            let plugin = pre.instantiate_async(&mut *store).await?;
            let order = order_record(order);
            Answer::Validation(plugin.call_validate_order(store, &order, config).await?)
        }
        (Pre::OrderPrice(pre), HookInput::OrderPrice(order)) => {
            let plugin = pre.instantiate_async(&mut *store).await?;
            let order = order_record(order);
            Answer::Pricing(plugin.call_price_order(store, &order, config).await?)
        }
        _ => return Ok(Err(CallFailure::contract("the input is for another hook"))),
    }))
}

/// The answer as a [`Decision`], when the contract allows it: a rejection with an
/// UPPER_SNAKE_CASE code and a bounded message, one non-negative price per line.
fn checked(answer: Answer, input: &HookInput) -> Result<Decision, CallFailure> {
    match answer {
        Answer::Validation(Ok(())) => Ok(Decision::Accept),
        Answer::Validation(Err(r)) | Answer::Pricing(Err(r)) => {
            rejection(r.code, r.message).map(Decision::Reject)
        }
        Answer::Pricing(Ok(prices)) => {
            let lines = match input {
                HookInput::OrderPrice(order) => order.lines.len(),
                _ => 0,
            };
            if prices.len() != lines {
                return Err(CallFailure::contract(format!(
                    "{} prices for {lines} lines",
                    prices.len()
                )));
            }
            if prices.iter().any(|p| p.unit_price < 0) {
                return Err(CallFailure::contract("a negative price"));
            }
            if prices
                .iter()
                .any(|p| p.reason.as_deref().is_some_and(too_long_reason))
            {
                return Err(CallFailure::contract(format!(
                    "a price reason over {MAX_REASON_CHARS} characters or with a NUL"
                )));
            }
            Ok(Decision::Prices(
                prices
                    .into_iter()
                    .map(|p| LinePrice {
                        unit_price: p.unit_price,
                        reason: p.reason,
                    })
                    .collect(),
            ))
        }
    }
}

/// A rejection as the contract allows it.
fn rejection(code: String, message: String) -> Result<Rejection, CallFailure> {
    let code_ok = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        return Err(CallFailure::contract(format!(
            "rejection code {code:?} is not UPPER_SNAKE_CASE of at most 64 characters"
        )));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS || message.contains('\0') {
        return Err(CallFailure::contract(
            "rejection message over 512 characters",
        ));
    }
    Ok(Rejection { code, message })
}

/// Whether a price reason is longer than the contract allows (or holds a NUL, which no
/// store or client takes). Counts no further than the cap.
fn too_long_reason(reason: &str) -> bool {
    reason.chars().nth(MAX_REASON_CHARS).is_some() || reason.contains('\0')
}

/// An order as the WIT records carry it.
fn order_record(input: &OrderInput) -> types::Order {
    types::Order {
        user_id: input.user_id,
        balance: input.balance,
        lines: input
            .lines
            .iter()
            .map(|l| types::OrderLine {
                product_id: l.product_id,
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
    }
}

fn config_size(config: &PluginConfig) -> usize {
    config.iter().map(|(k, v)| k.len() + v.len() + 16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{plugins::FailureKind, rules::OrderLineInput};

    /// The answer of one price (90, with `reason`) to a one-line order, checked.
    fn priced(reason: Option<String>) -> Result<Decision, CallFailure> {
        let input = HookInput::OrderPrice(OrderInput {
            user_id: 1,
            balance: 0,
            lines: vec![OrderLineInput {
                product_id: 1,
                quantity: 1,
                unit_price: 100,
                ..Default::default()
            }],
            ..Default::default()
        });
        checked(
            Answer::Pricing(Ok(vec![types::LinePrice {
                unit_price: 90,
                reason,
            }])),
            &input,
        )
    }

    #[test]
    fn a_reason_of_up_to_512_characters_is_kept_and_a_longer_one_breaks_the_contract() {
        let at_cap = "가".repeat(MAX_REASON_CHARS);
        assert!(matches!(priced(Some(at_cap)), Ok(Decision::Prices(p)) if p[0].reason.is_some()));
        assert!(matches!(priced(None), Ok(Decision::Prices(_))));
        for refused in ["가".repeat(MAX_REASON_CHARS + 1), "a\0b".to_owned()] {
            let failure = priced(Some(refused)).expect_err("over the contract");
            assert_eq!(failure.kind, FailureKind::Contract);
        }
    }
}
