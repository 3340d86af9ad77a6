//! Rule plugin for the `charge.validate` hook (world `charge-validate` in `wit/rules.wit`): a
//! charge must be at least `min` and at most `max` won. This is the default charge rule; its
//! codes and messages are the ones `API.md` lists and the host's built-in `ChargeLimits` gives.
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `min` | `1000` | smallest charge in won, at least 0 |
//! | `max` | `1000000` | largest charge in won, at least `min` |
//!
//! A charge below `min` is refused with `CHARGE_AMOUNT_TOO_SMALL` ("최소 충전 금액은 1,000원
//! 입니다."), one above `max` with `CHARGE_AMOUNT_TOO_LARGE` ("최대 충전 금액은 1,000,000원
//! 입니다."). A config value that is not a whole number in range panics: the host then fails
//! the request with 503 `PLUGIN_FAILED` instead of charging under a limit nobody set.
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

use alloc::{
    format,
    string::{String, ToString},
};

mod component;

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
    /// Reads `min` and `max` from the config; a missing key keeps its default.
    ///
    /// # Panics
    /// When a value is not a whole number, `min` is negative, or `max` is below `min`.
    pub fn from_config(config: &[(String, String)]) -> Self {
        let defaults = Self::default();
        let min = number(config, "min", defaults.min, 0);
        let max = number(config, "max", defaults.max, min);
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

/// The value of `key` as a whole number of at least `at_least`, or `default` when absent.
///
/// # Panics
/// When the value is not a decimal integer or is below `at_least`.
fn number(config: &[(String, String)], key: &str, default: i64, at_least: i64) -> i64 {
    let Some((_, raw)) = config.iter().find(|(k, _)| k == key) else {
        return default;
    };
    match raw.parse::<i64>() {
        Ok(n) if n >= at_least => n,
        Ok(_) => panic!("charge-limits: config `{key}` is {raw}, it must be at least {at_least}"),
        Err(_) => {
            panic!("charge-limits: config `{key}` must be a whole number of won, got {raw:?}")
        }
    }
}

/// Formats 1000000 as "1,000,000" (the host's format, so messages match byte for byte).
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn code(amount: i64, limits: &Limits) -> Option<&'static str> {
        validate_charge(amount, limits).err().map(|r| r.code)
    }

    #[test]
    fn defaults_accept_exactly_the_closed_range() {
        let limits = Limits::from_config(&[]);
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
        let limits = Limits::from_config(&config(&[("max", "500000")]));
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
        let limits = Limits::from_config(&config(&[("min", "5000"), ("other", "ignored")]));
        assert_eq!(code(5_000, &limits), None);
        let refused = validate_charge(4_999, &limits).unwrap_err();
        assert_eq!(refused.code, "CHARGE_AMOUNT_TOO_SMALL");
        assert_eq!(refused.message, "최소 충전 금액은 5,000원 입니다.");
    }

    #[test]
    fn min_equal_to_max_accepts_only_that_amount() {
        let limits = Limits::from_config(&config(&[("min", "7"), ("max", "7")]));
        assert_eq!(code(7, &limits), None);
        assert_eq!(code(6, &limits), Some("CHARGE_AMOUNT_TOO_SMALL"));
        assert_eq!(code(8, &limits), Some("CHARGE_AMOUNT_TOO_LARGE"));
    }

    #[test]
    #[should_panic(expected = "config `max` must be a whole number of won, got \"5만\"")]
    fn non_numeric_config_panics() {
        Limits::from_config(&config(&[("max", "5만")]));
    }

    #[test]
    #[should_panic(expected = "config `min` is -1, it must be at least 0")]
    fn negative_min_panics() {
        Limits::from_config(&config(&[("min", "-1")]));
    }

    #[test]
    #[should_panic(expected = "config `max` is 999, it must be at least 1000")]
    fn max_below_min_panics() {
        Limits::from_config(&config(&[("max", "999")]));
    }

    #[test]
    #[should_panic(expected = "config `min` must be a whole number of won, got \"1,000\"")]
    fn grouped_digits_are_not_a_number() {
        Limits::from_config(&config(&[("min", "1,000")]));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }
}
