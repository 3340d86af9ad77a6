//! Rule plugin for the `order.price` hook (world `order-price` of contract 0.2,
//! `wit/v0.2/rules.wit`): a line ordered in bulk gets a percentage off its unit price. It never
//! refuses an order.
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `threshold` | `10` | least quantity on a line for the discount, at least 0 |
//! | `percent` | `10` | discount in percent, 0 to 100 |
//!
//! A line with `quantity >= threshold` costs `unit-price * (100 - percent) / 100` per unit,
//! rounded down to whole won, with the reason "10% off from 10 units". Every other line keeps
//! its unit price with no reason, and so does a discounted line whose price does not change
//! (`percent` 0, or a price of 0). The answer has one entry per input line, in the same order.
//! Each value is a JSON integer or a string of digits (`{"percent": 15}` or
//! `{"percent": "15"}`); [`CONFIG_SCHEMA`] says so, with the ranges, and refuses any other
//! key. A config value that is not a whole number in range (one a dry run passed unchecked)
//! panics: the host then fails the request with 503 `PLUGIN_FAILED` instead of guessing a
//! price.
//!
//! The rule ([`price_lines`]) is plain Rust and tested natively; `component.rs` only turns WIT
//! values into these types and back.

#![deny(missing_docs)]
// On wasm32 the plugin is `no_std` (see ../guest): no WASI imports, a smaller, faster
// instance. Its native unit tests use std.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;
#[cfg(target_arch = "wasm32")]
extern crate edgecart_guest;

use alloc::{format, string::String, vec::Vec};

use edgecart_guest::{ConfigNumbers, whole};

mod component;

/// The JSON Schema (draft 2020-12) of the config, returned by `config-schema`.
pub const CONFIG_SCHEMA: &str = concat!(
    r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "bulk-discount",
  "description": "A percentage off lines ordered in bulk.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "threshold": {"description": "Least quantity on a line for the discount (default 10).", "#,
    whole!(),
    r#"},
    "percent": {
      "description": "Discount in percent, 0 to 100 (default 10).",
      "type": ["integer", "string"],
      "pattern": "^(100|[1-9]?[0-9])$",
      "minimum": 0,
      "maximum": 100
    }
  }
}"#
);

/// The discount one call applies, read from the plugin's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discount {
    /// Least quantity on a line that gets the discount.
    pub threshold: i64,
    /// Percent off, 0 to 100.
    pub percent: i64,
}

impl Default for Discount {
    fn default() -> Self {
        Self {
            threshold: 10,
            percent: 10,
        }
    }
}

impl Discount {
    /// Reads `threshold` and `percent` from the config (JSON text); a missing key keeps its
    /// default.
    ///
    /// # Panics
    /// When the config is not a JSON object, a value is not a whole number, `threshold` is
    /// negative, or `percent` is outside 0 to 100.
    pub fn from_config(config: &str) -> Self {
        let defaults = Self::default();
        let numbers = ConfigNumbers::parse("bulk-discount", "a whole number", config);
        Self {
            threshold: numbers.get("threshold", defaults.threshold, 0..=i64::MAX),
            percent: numbers.get("percent", defaults.percent, 0..=100),
        }
    }

    /// Why a discounted line changed, e.g. "10% off from 10 units".
    fn reason(&self) -> String {
        format!("{}% off from {} units", self.percent, self.threshold)
    }
}

/// One order line, as far as pricing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Units ordered.
    pub quantity: i64,
    /// Price per unit so far, in won.
    pub unit_price: i64,
}

/// The price this plugin sets for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrice {
    /// Price per unit after the discount.
    pub unit_price: i64,
    /// Why it changed, or `None` when it did not.
    pub reason: Option<String>,
}

/// Prices each of `lines` under `discount`: one entry per line, in the same order.
pub fn price_lines(lines: &[Line], discount: &Discount) -> Vec<LinePrice> {
    let mut reason = None;
    lines
        .iter()
        .map(|line| {
            let unit_price = discounted(line, discount);
            LinePrice {
                unit_price,
                reason: (unit_price != line.unit_price)
                    .then(|| reason.get_or_insert_with(|| discount.reason()).clone()),
            }
        })
        .collect()
}

/// The unit price of `line` after `discount`, rounded down. Lines below the threshold, and
/// negative prices (which the host never sends), keep their price.
fn discounted(line: &Line, discount: &Discount) -> i64 {
    if line.quantity < discount.threshold || line.unit_price < 0 {
        return line.unit_price;
    }
    // i128: the product cannot overflow, and the result lies in 0..=unit_price.
    let price = i128::from(line.unit_price) * i128::from(100 - discount.percent) / 100;
    i64::try_from(price).unwrap_or(line.unit_price)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgecart_guest::testing::schema_errors;

    fn line(quantity: i64, unit_price: i64) -> Line {
        Line {
            quantity,
            unit_price,
        }
    }

    fn kept(unit_price: i64) -> LinePrice {
        LinePrice {
            unit_price,
            reason: None,
        }
    }

    fn off(unit_price: i64, reason: &str) -> LinePrice {
        LinePrice {
            unit_price,
            reason: Some(reason.to_owned()),
        }
    }

    #[test]
    fn defaults_when_config_is_empty() {
        assert_eq!(
            Discount::from_config("{}"),
            Discount {
                threshold: 10,
                percent: 10
            }
        );
    }

    #[test]
    fn threshold_edges_one_entry_per_line_in_order() {
        let lines = [line(9, 2_500), line(10, 2_500), line(11, 1_000), line(1, 7)];
        assert_eq!(
            price_lines(&lines, &Discount::default()),
            [
                kept(2_500),
                off(2_250, "10% off from 10 units"),
                off(900, "10% off from 10 units"),
                kept(7),
            ]
        );
    }

    #[test]
    fn rounds_down_to_whole_won() {
        let discount = Discount::default();
        // 999 × 0.9 = 899.1, 1 × 0.9 = 0.9.
        assert_eq!(
            price_lines(&[line(10, 999)], &discount),
            [off(899, "10% off from 10 units")]
        );
        assert_eq!(
            price_lines(&[line(10, 1)], &discount),
            [off(0, "10% off from 10 units")]
        );
        let third = Discount::from_config(r#"{"percent": "33"}"#);
        assert_eq!(
            price_lines(&[line(10, 100)], &third),
            [off(67, "33% off from 10 units")]
        );
    }

    #[test]
    fn huge_prices_do_not_overflow() {
        let priced = price_lines(&[line(i64::MAX, i64::MAX)], &Discount::default());
        assert_eq!(priced[0].unit_price, 8_301_034_833_169_298_226);
        let half = Discount::from_config(r#"{"percent": 50}"#);
        assert_eq!(
            price_lines(&[line(10, i64::MAX)], &half)[0].unit_price,
            i64::MAX / 2
        );
    }

    #[test]
    fn unchanged_prices_carry_no_reason() {
        let none_off = Discount::from_config(r#"{"percent": 0}"#);
        assert_eq!(price_lines(&[line(50, 1_000)], &none_off), [kept(1_000)]);
        assert_eq!(price_lines(&[line(50, 0)], &Discount::default()), [kept(0)]);
        assert_eq!(
            price_lines(&[line(50, -5)], &Discount::default()),
            [kept(-5)]
        );
    }

    #[test]
    fn configured_discount_is_applied_and_named_in_the_reason() {
        let discount = Discount::from_config(r#"{"threshold": 3, "percent": "100"}"#);
        assert_eq!(
            price_lines(&[line(2, 500), line(3, 500)], &discount),
            [kept(500), off(0, "100% off from 3 units")]
        );
    }

    #[test]
    fn empty_order_gives_empty_prices() {
        assert_eq!(price_lines(&[], &Discount::default()), []);
    }

    #[test]
    #[should_panic(expected = "config `percent` is 101, it must be 0 to 100")]
    fn percent_above_100_panics() {
        Discount::from_config(r#"{"percent": "101"}"#);
    }

    #[test]
    #[should_panic(expected = "config `percent` is -1, it must be 0 to 100")]
    fn negative_percent_panics() {
        Discount::from_config(r#"{"percent": -1}"#);
    }

    #[test]
    #[should_panic(expected = "config `threshold` is -3, it must be at least 0")]
    fn negative_threshold_panics() {
        Discount::from_config(r#"{"threshold": "-3"}"#);
    }

    #[test]
    #[should_panic(expected = "config `percent` must be a whole number, got \"10%\"")]
    fn non_numeric_config_panics() {
        Discount::from_config(r#"{"percent": "10%"}"#);
    }

    #[test]
    fn the_schema_bounds_percent_as_a_number_and_as_text() {
        for fits in [
            "{}",
            r#"{"percent": 0, "threshold": "3"}"#,
            r#"{"percent": "100", "threshold": 0}"#,
            r#"{"percent": "9"}"#,
            r#"{"percent": 55}"#,
        ] {
            assert!(schema_errors(CONFIG_SCHEMA, fits).is_empty(), "{fits}");
        }
        for refused in [
            r#"{"percent": 101}"#,
            r#"{"percent": "101"}"#,
            r#"{"percent": "-1"}"#,
            r#"{"percent": "010"}"#,
            r#"{"percent": "10%"}"#,
        ] {
            assert_eq!(
                schema_errors(CONFIG_SCHEMA, refused),
                ["/percent"],
                "{refused}"
            );
        }
        assert_eq!(schema_errors(CONFIG_SCHEMA, r#"{"treshold": 3}"#), [""]);
    }
}
