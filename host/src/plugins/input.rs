//! What a plugin call takes: a hook's [`HookInput`] and the [`PluginConfig`], and both as the
//! WIT records of the component's contract (0.1 or 0.2), with what they weigh against the
//! input limit.

use super::{
    Hook,
    bindings::{types, v2},
};
use crate::{
    domain::Attributes,
    rules::{ChargeInput, OrderInput},
};

/// A plugin's configuration in the two shapes guests take it: a 0.2 guest gets the JSON
/// object's text, a 0.1 guest its string values as pairs (other values as their JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    json: String,
    pairs: Vec<(String, String)>,
}

impl PluginConfig {
    /// The config a stored JSON object gives (anything else is the empty config).
    pub fn new(config: &serde_json::Value) -> Self {
        let Some(map) = config.as_object() else {
            return Self::default();
        };
        let pairs = map
            .iter()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), text)
            })
            .collect();
        Self {
            json: serde_json::Value::Object(map.clone()).to_string(),
            pairs,
        }
    }

    /// The pairs a 0.1 guest takes.
    pub fn pairs(&self) -> &Vec<(String, String)> {
        &self.pairs
    }

    /// The JSON text a 0.2 guest takes.
    pub fn json(&self) -> &String {
        &self.json
    }

    /// Bytes it takes in the guest, for the input limit (the larger shape).
    pub(super) fn size(&self) -> usize {
        let pairs: usize = self.pairs.iter().map(|(k, v)| k.len() + v.len() + 16).sum();
        pairs.max(self.json.len())
    }
}

impl Default for PluginConfig {
    /// The empty config: `{}`, no pairs.
    fn default() -> Self {
        Self::new(&serde_json::Value::Object(serde_json::Map::new()))
    }
}

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

    /// Bytes this input takes in the guest (as 0.2 carries it, the larger), for the input
    /// limit.
    pub(super) fn size(&self) -> usize {
        match self {
            HookInput::Charge(charge) => 32 + attributes_size(&charge.user_attributes),
            HookInput::OrderValidate(order) | HookInput::OrderPrice(order) => {
                let lines: usize = order
                    .lines
                    .iter()
                    .map(|line| 40 + line.name.len() + attributes_size(&line.attributes))
                    .sum();
                48 + lines
                    + order.coupon.as_ref().map_or(0, String::len)
                    + attributes_size(&order.user_attributes)
            }
        }
    }
}

/// An order as the 0.1 records carry it.
pub(super) fn order_record(input: &OrderInput) -> types::Order {
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

/// An order as the 0.2 records carry it.
pub(super) fn order_record_v2(input: &OrderInput) -> v2::types::Order {
    v2::types::Order {
        user_id: input.user_id,
        balance: input.balance,
        lines: input
            .lines
            .iter()
            .map(|l| v2::types::OrderLine {
                product_id: l.product_id,
                quantity: l.quantity,
                unit_price: l.unit_price,
                name: l.name.clone(),
                attributes: attribute_pairs(&l.attributes),
            })
            .collect(),
        coupon: input.coupon.clone(),
        user_attributes: attribute_pairs(&input.user_attributes),
        paid_orders: input.paid_orders,
        now: input.now_ms,
    }
}

/// Attributes as the WIT list of pairs, in key order.
pub(super) fn attribute_pairs(attributes: &Attributes) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Bytes attributes take in the guest.
fn attributes_size(attributes: &Attributes) -> usize {
    attributes.iter().map(|(k, v)| k.len() + v.len() + 16).sum()
}

/// A 0.2 rejection as the one record the contract checks take.
pub(super) fn rejection_v1(r: v2::types::Rejection) -> types::Rejection {
    types::Rejection {
        code: r.code,
        message: r.message,
    }
}
