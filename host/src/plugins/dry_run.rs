//! The smoke call an upload must pass: any decision on a sample input will do. (A dry run's
//! input is parsed by [`super::json`]; its answer is the typed [`super::Called`].)

use super::{CallFailure, Compiled, Hook, HookInput, PluginConfig, Registry};
use crate::{
    domain::Attributes,
    rules::{ChargeInput, OrderInput, OrderLineInput, RuleFailure, now_ms},
};

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
