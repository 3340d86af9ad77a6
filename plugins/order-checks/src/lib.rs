//! Rule plugin for the `order.validate` hook (world `order-validate` of contract 0.2,
//! `wit/v0.2/rules.wit`): caps the number of lines, the quantity of each line and the order's
//! total. Checks run in that order and the first one that fails is the answer.
//!
//! | config key | default | meaning | refusal |
//! |---|---|---|---|
//! | `max-lines` | `20` | most lines (distinct products) per order, at least 0 | `ORDER_TOO_MANY_LINES`: "주문 상품 종류는 최대 20개 입니다." |
//! | `max-quantity` | `1000` | most units on one line, at least 0 | `ORDER_QUANTITY_TOO_LARGE`: "상품별 주문 수량은 최대 1,000개 입니다." |
//! | `max-total` | `100000000` | largest sum of quantity × unit price in won, at least 0 | `ORDER_TOTAL_TOO_LARGE`: "최대 주문 금액은 100,000,000원 입니다." |
//!
//! Each value is a JSON integer or a string of digits (`{"max-lines": 5}` or
//! `{"max-lines": "5"}`); [`CONFIG_SCHEMA`] says so and refuses any other key. The total is
//! computed with checked arithmetic; a total too large for an `i64` counts as too large. A
//! config value that is not a whole number in range (one a dry run passed unchecked) panics:
//! the host then fails the request with 503 `PLUGIN_FAILED` instead of guessing a limit.
//!
//! The rule ([`validate_order`]) is plain Rust and tested natively; `component.rs` only turns
//! WIT values into these types and back.

#![deny(missing_docs)]
// On wasm32 the plugin is `no_std` (see ../guest): no WASI imports, a smaller, faster
// instance. Its native unit tests use std.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;
#[cfg(target_arch = "wasm32")]
extern crate edgecart_guest;

use alloc::{format, string::String};

use edgecart_guest::{ConfigNumbers, thousands, whole};

mod component;

/// The JSON Schema (draft 2020-12) of the config, returned by `config-schema`.
pub const CONFIG_SCHEMA: &str = concat!(
    r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "order-checks",
  "description": "Caps on an order's lines, quantity per line and total.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "max-lines": {"description": "Most lines (distinct products) per order (default 20).", "#,
    whole!(),
    r#"},
    "max-quantity": {"description": "Most units on one line (default 1000).", "#,
    whole!(),
    r#"},
    "max-total": {"description": "Largest sum of quantity × unit price in won (default 100000000).", "#,
    whole!(),
    r#"}
  }
}"#
);

/// The caps one call applies, read from the plugin's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most lines per order.
    pub max_lines: i64,
    /// Most units on one line.
    pub max_quantity: i64,
    /// Largest order total in won.
    pub max_total: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_lines: 20,
            max_quantity: 1_000,
            max_total: 100_000_000,
        }
    }
}

impl Limits {
    /// Reads `max-lines`, `max-quantity` and `max-total` from the config (JSON text); a
    /// missing key keeps its default.
    ///
    /// # Panics
    /// When the config is not a JSON object, or a value is not a whole number or is negative.
    pub fn from_config(config: &str) -> Self {
        let defaults = Self::default();
        let numbers = ConfigNumbers::parse("order-checks", "a whole number", config);
        Self {
            max_lines: numbers.get("max-lines", defaults.max_lines, 0..=i64::MAX),
            max_quantity: numbers.get("max-quantity", defaults.max_quantity, 0..=i64::MAX),
            max_total: numbers.get("max-total", defaults.max_total, 0..=i64::MAX),
        }
    }
}

/// One order line, as far as the checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Units ordered.
    pub quantity: i64,
    /// Price per unit in won.
    pub unit_price: i64,
}

/// A refusal: the code and message the client gets in its 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable, e.g. `ORDER_TOO_MANY_LINES`.
    pub code: &'static str,
    /// For people, in Korean.
    pub message: String,
}

/// Accepts an order of `lines` within `limits`, or names the first cap it exceeds.
pub fn validate_order(lines: &[Line], limits: &Limits) -> Result<(), Rejection> {
    if i64::try_from(lines.len()).unwrap_or(i64::MAX) > limits.max_lines {
        return Err(Rejection {
            code: "ORDER_TOO_MANY_LINES",
            message: format!(
                "주문 상품 종류는 최대 {}개 입니다.",
                thousands(limits.max_lines)
            ),
        });
    }
    if lines.iter().any(|l| l.quantity > limits.max_quantity) {
        return Err(Rejection {
            code: "ORDER_QUANTITY_TOO_LARGE",
            message: format!(
                "상품별 주문 수량은 최대 {}개 입니다.",
                thousands(limits.max_quantity)
            ),
        });
    }
    if total(lines).is_none_or(|t| t > limits.max_total) {
        return Err(Rejection {
            code: "ORDER_TOTAL_TOO_LARGE",
            message: format!("최대 주문 금액은 {}원 입니다.", thousands(limits.max_total)),
        });
    }
    Ok(())
}

/// The sum of quantity × unit price, or `None` when it does not fit an `i64`.
fn total(lines: &[Line]) -> Option<i64> {
    lines.iter().try_fold(0_i64, |sum, l| {
        sum.checked_add(l.quantity.checked_mul(l.unit_price)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgecart_guest::testing::schema_errors;

    fn lines(n: usize, quantity: i64, unit_price: i64) -> Vec<Line> {
        vec![
            Line {
                quantity,
                unit_price
            };
            n
        ]
    }

    fn code(lines: &[Line], limits: &Limits) -> Option<&'static str> {
        validate_order(lines, limits).err().map(|r| r.code)
    }

    #[test]
    fn defaults_when_config_is_empty() {
        assert_eq!(
            Limits::from_config("{}"),
            Limits {
                max_lines: 20,
                max_quantity: 1_000,
                max_total: 100_000_000
            }
        );
    }

    #[test]
    fn line_count_edges() {
        let limits = Limits::default();
        assert_eq!(code(&lines(20, 1, 100), &limits), None);
        let refused = validate_order(&lines(21, 1, 100), &limits).unwrap_err();
        assert_eq!(refused.code, "ORDER_TOO_MANY_LINES");
        assert_eq!(refused.message, "주문 상품 종류는 최대 20개 입니다.");
    }

    #[test]
    fn quantity_edges() {
        let limits = Limits::default();
        assert_eq!(code(&lines(1, 1_000, 1), &limits), None);
        let mut order = lines(3, 1, 1);
        order[2].quantity = 1_001;
        let refused = validate_order(&order, &limits).unwrap_err();
        assert_eq!(refused.code, "ORDER_QUANTITY_TOO_LARGE");
        assert_eq!(refused.message, "상품별 주문 수량은 최대 1,000개 입니다.");
    }

    #[test]
    fn total_edges() {
        let limits = Limits::default();
        // 2 lines × 500 units × 100,000 won = 100,000,000 exactly.
        assert_eq!(code(&lines(2, 500, 100_000), &limits), None);
        let mut order = lines(2, 500, 100_000);
        order[1].unit_price += 1;
        let refused = validate_order(&order, &limits).unwrap_err();
        assert_eq!(refused.code, "ORDER_TOTAL_TOO_LARGE");
        assert_eq!(refused.message, "최대 주문 금액은 100,000,000원 입니다.");
    }

    #[test]
    fn overflowing_total_counts_as_too_large() {
        let limits = Limits {
            max_total: i64::MAX,
            ..Limits::default()
        };
        // One line whose product overflows, and two lines whose sum does.
        assert_eq!(
            code(&lines(1, 2, i64::MAX / 2 + 1), &limits),
            Some("ORDER_TOTAL_TOO_LARGE")
        );
        assert_eq!(
            code(&lines(2, 1, i64::MAX / 2 + 1), &limits),
            Some("ORDER_TOTAL_TOO_LARGE")
        );
        assert_eq!(code(&lines(1, 1, i64::MAX), &limits), None);
    }

    #[test]
    fn line_count_is_checked_before_quantity_and_total() {
        let limits = Limits::default();
        assert_eq!(
            code(&lines(21, 5_000, i64::MAX), &limits),
            Some("ORDER_TOO_MANY_LINES")
        );
        assert_eq!(
            code(&lines(1, 5_000, i64::MAX), &limits),
            Some("ORDER_QUANTITY_TOO_LARGE")
        );
    }

    #[test]
    fn configured_caps_are_applied_and_named_in_the_messages() {
        let limits =
            Limits::from_config(r#"{"max-lines": "2", "max-quantity": 5, "max-total": "1000000"}"#);
        assert_eq!(code(&lines(2, 5, 100_000), &limits), None);
        let too_many = validate_order(&lines(3, 1, 1), &limits).unwrap_err();
        assert_eq!(too_many.message, "주문 상품 종류는 최대 2개 입니다.");
        let too_much = validate_order(&lines(1, 6, 1), &limits).unwrap_err();
        assert_eq!(too_much.message, "상품별 주문 수량은 최대 5개 입니다.");
        let too_dear = validate_order(&lines(2, 5, 100_001), &limits).unwrap_err();
        assert_eq!(too_dear.message, "최대 주문 금액은 1,000,000원 입니다.");
    }

    #[test]
    #[should_panic(expected = "config `max-lines` must be a whole number, got \"twenty\"")]
    fn non_numeric_config_panics() {
        Limits::from_config(r#"{"max-lines": "twenty"}"#);
    }

    #[test]
    #[should_panic(expected = "config `max-total` is -1, it must be at least 0")]
    fn negative_config_panics() {
        Limits::from_config(r#"{"max-total": -1}"#);
    }

    #[test]
    #[should_panic(expected = "config `max-quantity` must be a whole number, got \"\"")]
    fn empty_config_value_panics() {
        Limits::from_config(r#"{"max-quantity": ""}"#);
    }

    #[test]
    fn the_schema_takes_numbers_and_digit_strings_and_refuses_typos() {
        for fits in [
            "{}",
            r#"{"max-lines": 5, "max-quantity": "20", "max-total": 0}"#,
        ] {
            assert!(schema_errors(CONFIG_SCHEMA, fits).is_empty(), "{fits}");
        }
        assert_eq!(
            schema_errors(CONFIG_SCHEMA, r#"{"max-lines": "twenty"}"#),
            ["/max-lines"]
        );
        assert_eq!(
            schema_errors(CONFIG_SCHEMA, r#"{"max-total": -1}"#),
            ["/max-total"]
        );
        assert_eq!(schema_errors(CONFIG_SCHEMA, r#"{"max_lines": 5}"#), [""]);
    }
}
