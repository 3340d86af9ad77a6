//! The hooks a plugin can attach to, and the world each one runs.

use std::{fmt, str::FromStr};

/// Where in a request a plugin runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    /// Before a charge: accept or reject (world `charge-validate`).
    ChargeValidate,
    /// Before an order is priced: accept or reject (world `order-validate`).
    OrderValidate,
    /// Prices an order's lines (world `order-price`).
    OrderPrice,
}

impl Hook {
    /// Every hook.
    pub const ALL: [Hook; 3] = [Hook::ChargeValidate, Hook::OrderValidate, Hook::OrderPrice];

    /// The API name: `charge.validate`, `order.validate` or `order.price`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::ChargeValidate => "charge.validate",
            Hook::OrderValidate => "order.validate",
            Hook::OrderPrice => "order.price",
        }
    }

    /// The WIT world a plugin for this hook must target.
    pub fn world(self) -> &'static str {
        match self {
            Hook::ChargeValidate => "charge-validate",
            Hook::OrderValidate => "order-validate",
            Hook::OrderPrice => "order-price",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of the hook names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hook (expected charge.validate, order.validate or order.price)")]
pub struct UnknownHook;

impl FromStr for Hook {
    type Err = UnknownHook;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hook::ALL
            .into_iter()
            .find(|hook| hook.as_str() == s)
            .ok_or(UnknownHook)
    }
}
