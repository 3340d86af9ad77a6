//! Rule plugin for the `charge.validate` hook (world `charge-validate` of contract 0.2,
//! `wit/v0.2/rules.wit`): a charge must be at least `min` and at most `max` won. This is the
//! default charge rule; its codes and messages are the ones `API.md` lists.
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `min` | `1000` | smallest charge in won, at least 0 |
//! | `max` | `1000000` | largest charge in won, at least `min` |
//!
//! Each is a JSON integer or a string of digits (`{"max": 500000}` or `{"max": "500000"}`, as
//! a 0.1 config wrote it); [`CONFIG_SCHEMA`] says so and refuses any other key, so a typo
//! (`{"max": "lots"}`) is refused when it is saved. A charge below `min` is refused with
//! `CHARGE_AMOUNT_TOO_SMALL` ("최소 충전 금액은 1,000원 입니다."), one above `max` with
//! `CHARGE_AMOUNT_TOO_LARGE` ("최대 충전 금액은 1,000,000원 입니다."). A value the schema lets
//! through but the rule cannot use (`max` below `min`) panics: the host then fails the request
//! with 503 `PLUGIN_FAILED` instead of charging under a limit nobody set.
//!
//! The rule ([`validate_charge`]) is plain Rust and tested natively; `component.rs` only turns
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
  "title": "charge-limits",
  "description": "The smallest and largest charge, in won.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "min": {"description": "Smallest charge in won (default 1000).", "#,
    whole!(),
    r#"},
    "max": {"description": "Largest charge in won, at least min (default 1000000).", "#,
    whole!(),
    r#"}
  }
}"#
);

/// The limits one call applies, read from the plugin's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Smallest charge allowed, in won.
    pub min: i64,
    /// Largest charge allowed, in won.
    pub max: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min: 1_000,
            max: 1_000_000,
        }
    }
}

impl Limits {
    /// Reads `min` and `max` from the config (JSON text); a missing key keeps its default.
    ///
    /// # Panics
    /// When the config is not a JSON object, a value is not a whole number, `min` is
    /// negative, or `max` is below `min`.
    pub fn from_config(config: &str) -> Self {
        let defaults = Self::default();
        let numbers = ConfigNumbers::parse("charge-limits", "a whole number of won", config);
        let min = numbers.get("min", defaults.min, 0..=i64::MAX);
        let max = numbers.get("max", defaults.max, min..=i64::MAX);
        Self { min, max }
    }
}

/// A refusal: the code and message the client gets in its 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable, e.g. `CHARGE_AMOUNT_TOO_LARGE`.
    pub code: &'static str,
    /// For people, in Korean.
    pub message: String,
}

/// Accepts a charge of `amount` won within `limits`, or says why not.
pub fn validate_charge(amount: i64, limits: &Limits) -> Result<(), Rejection> {
    if amount < limits.min {
        return Err(Rejection {
            code: "CHARGE_AMOUNT_TOO_SMALL",
            message: format!("최소 충전 금액은 {}원 입니다.", thousands(limits.min)),
        });
    }
    if amount > limits.max {
        return Err(Rejection {
            code: "CHARGE_AMOUNT_TOO_LARGE",
            message: format!("최대 충전 금액은 {}원 입니다.", thousands(limits.max)),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgecart_guest::testing::schema_errors;

    fn code(amount: i64, limits: &Limits) -> Option<&'static str> {
        validate_charge(amount, limits).err().map(|r| r.code)
    }

    #[test]
    fn defaults_accept_exactly_the_closed_range() {
        let limits = Limits::from_config("{}");
        assert_eq!(
            limits,
            Limits {
                min: 1_000,
                max: 1_000_000
            }
        );
        assert_eq!(code(1_000, &limits), None);
        assert_eq!(code(1_000_000, &limits), None);
        assert_eq!(code(999, &limits), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(code(0, &limits), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(code(-5, &limits), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(code(i64::MIN, &limits), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(code(1_000_001, &limits), Some("CHARGE_AMOUNT_TOO_LARGE"));
        assert_eq!(code(i64::MAX, &limits), Some("CHARGE_AMOUNT_TOO_LARGE"));
    }

    #[test]
    fn default_messages_match_the_api_contract() {
        let limits = Limits::default();
        let small = validate_charge(999, &limits).unwrap_err();
        assert_eq!(small.message, "최소 충전 금액은 1,000원 입니다.");
        let large = validate_charge(1_000_001, &limits).unwrap_err();
        assert_eq!(large.message, "최대 충전 금액은 1,000,000원 입니다.");
    }

    #[test]
    fn configured_max_is_applied_and_named_in_the_message() {
        let limits = Limits::from_config(r#"{"max": "500000"}"#);
        assert_eq!(
            limits,
            Limits {
                min: 1_000,
                max: 500_000
            }
        );
        assert_eq!(code(500_000, &limits), None);
        let refused = validate_charge(600_000, &limits).unwrap_err();
        assert_eq!(refused.code, "CHARGE_AMOUNT_TOO_LARGE");
        assert_eq!(refused.message, "최대 충전 금액은 500,000원 입니다.");
    }

    #[test]
    fn configured_min_edges() {
        let limits = Limits::from_config(r#"{"min": 5000}"#);
        assert_eq!(code(5_000, &limits), None);
        let refused = validate_charge(4_999, &limits).unwrap_err();
        assert_eq!(refused.code, "CHARGE_AMOUNT_TOO_SMALL");
        assert_eq!(refused.message, "최소 충전 금액은 5,000원 입니다.");
    }

    #[test]
    fn min_equal_to_max_accepts_only_that_amount() {
        let limits = Limits::from_config(r#"{"min": 7, "max": "7"}"#);
        assert_eq!(code(7, &limits), None);
        assert_eq!(code(6, &limits), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(code(8, &limits), Some("CHARGE_AMOUNT_TOO_LARGE"));
    }

    #[test]
    fn a_typed_max_is_the_same_as_its_text() {
        assert_eq!(
            Limits::from_config(r#"{"max": 500000}"#),
            Limits::from_config(r#"{"max": "500000"}"#)
        );
    }

    #[test]
    #[should_panic(expected = "config `max` must be a whole number of won, got \"5만\"")]
    fn non_numeric_config_panics() {
        Limits::from_config(r#"{"max": "5만"}"#);
    }

    #[test]
    #[should_panic(expected = "config `min` is -1, it must be at least 0")]
    fn negative_min_panics() {
        Limits::from_config(r#"{"min": -1}"#);
    }

    #[test]
    #[should_panic(expected = "config `max` is 999, it must be at least 1000")]
    fn max_below_min_panics() {
        Limits::from_config(r#"{"max": "999"}"#);
    }

    #[test]
    #[should_panic(expected = "config `min` must be a whole number of won, got \"1,000\"")]
    fn grouped_digits_are_not_a_number() {
        Limits::from_config(r#"{"min": "1,000"}"#);
    }

    #[test]
    fn the_schema_takes_numbers_and_digit_strings_and_refuses_typos() {
        for fits in [
            "{}",
            r#"{"max": 500000}"#,
            r#"{"max": "500000"}"#,
            r#"{"min": 0, "max": "0"}"#,
        ] {
            assert!(schema_errors(CONFIG_SCHEMA, fits).is_empty(), "{fits}");
        }
        assert_eq!(schema_errors(CONFIG_SCHEMA, r#"{"max": "lots"}"#), ["/max"]);
        assert_eq!(schema_errors(CONFIG_SCHEMA, r#"{"min": -1}"#), ["/min"]);
        assert_eq!(schema_errors(CONFIG_SCHEMA, r#"{"min": true}"#), ["/min"]);
        assert_eq!(schema_errors(CONFIG_SCHEMA, r#"{"mx": 5}"#), [""]);
        assert_eq!(schema_errors(CONFIG_SCHEMA, "[]"), [""]);
    }
}
