//! The starting point for a new rule plugin. Copy this crate, rename it, and replace the rule.
//! As shipped it is a small but real `charge.validate` rule: it refuses any charge above a
//! configurable `limit`.
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `limit` | `1000000` | largest charge in won, at least 0 |
//!
//! A charge above `limit` is refused with `CHARGE_REFUSED_BY_TEMPLATE` ("충전 금액은 최대
//! 1,000,000원 입니다."). A `limit` that is not a whole number of at least 0 panics, and the
//! host fails the request with 503 `PLUGIN_FAILED`.
//!
//! # What a plugin is
//!
//! A WebAssembly component that implements one *world* of `wit/rules.wit` (at the repository
//! root; read it, its comments are the contract). Each hook has its world:
//!
//! | hook | world | the function you write |
//! |---|---|---|
//! | `charge.validate` | `charge-validate` | `validate-charge(charge, config) -> result<_, rejection>` |
//! | `order.validate` | `order-validate` | `validate-order(order, config) -> result<_, rejection>` |
//! | `order.price` | `order-price` | `price-order(order, config) -> result<list<line-price>, rejection>` |
//!
//! `charge-limits`, `order-checks` and `bulk-discount` beside this crate are worked examples
//! of each.
//!
//! # Making your own
//!
//! 1. `cp -r plugins/template plugins/my-rule`, set `name = "my-rule"` in its `Cargo.toml`,
//!    and add `"my-rule"` to `members` in `plugins/Cargo.toml`.
//! 2. For another hook, change `world:` in `src/component.rs` and the `Guest` function to the
//!    one in the table above.
//! 3. Write the rule in this file as a plain Rust function over plain Rust types, with unit
//!    tests; `cargo test -p my-rule` in `plugins/` runs them on your machine, no WebAssembly.
//! 4. `scripts/build-plugins` builds every plugin into `plugins/dist/my-rule.wasm`.
//! 5. Upload it (`POST /admin/v1/plugins/my-rule/versions?hook=charge.validate&version=0.1.0`
//!    with the `.wasm` bytes), try it with `…/versions/0.1.0/evaluate`, set its config
//!    (`PUT /admin/v1/plugins/my-rule/config`), then `activate`; `rollback` undoes it. See
//!    "Rule plugins (admin)" in `API.md`.
//!
//! # How config arrives
//!
//! As a list of `(key, value)` string pairs, exactly what the business team set through the
//! admin API; each call sees the current config. Parse the values yourself, keep a default
//! for every missing key, and ignore keys you do not know. When a value is present but wrong
//! (not a number, out of range), **panic with a message naming the key**: the call fails, the
//! client gets 503 `PLUGIN_FAILED` and nothing changes. That is on purpose: a misconfigured
//! rule must not let requests through under a limit nobody meant.
//!
//! # What a plugin may not do
//!
//! The host gives it no WASI capability, so any of these traps the call (503):
//! - files, network, environment variables, `println!`/`eprintln!` (use the log below);
//! - clocks (`std::time`) and randomness, including `std::collections::HashMap::new()`, whose
//!   hasher asks for random bytes: use `BTreeMap` or a `Vec`;
//! - threads.
//!
//! And it keeps no state: every call gets a fresh instance, so a `static` starts over each
//! time. The same input and config must give the same decision on every node.
//!
//! Budgets per call: about 11 million wasm instructions, 10 MiB of memory, 128 KiB of input,
//! 1 KiB of log text. A rejection's `code` is upper-case ASCII words joined by `_` (at most 64
//! characters); its `message` is what the client reads (at most 512 characters).
//!
//! # Logging
//!
//! `host::log(level, message)` appends a line to the call's log (shown by `evaluate`, by
//! `edgecart plugin run` and in the host's debug logs). Only 1 KiB per call is kept, so log
//! one short line when something interesting happens (a refusal), not on every call. The rule
//! itself does not log: it returns its decision and `src/component.rs` logs it, which keeps
//! the rule testable without a host.

#![deny(missing_docs)]

// The WebAssembly side: bindings generated from the WIT and the exported function. It only
// converts types and calls `validate_charge` below; you rarely need to change more than the
// world name there.
mod component;

/// The rule's settings, read from the config once per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Largest charge allowed, in won.
    pub limit: i64,
}

impl Default for Settings {
    // The defaults apply when the business team has set nothing. These let every charge
    // the default `charge-limits` plugin lets through.
    fn default() -> Self {
        Self { limit: 1_000_000 }
    }
}

impl Settings {
    /// Reads `limit` from the config; missing means the default.
    ///
    /// # Panics
    /// When `limit` is not a whole number or is negative (fail closed, see the crate docs).
    pub fn from_config(config: &[(String, String)]) -> Self {
        // Config is key/value strings; look the key up and parse it. Never `unwrap()` a parse
        // of config or input: say which key is wrong and what it held.
        let limit = match config.iter().find(|(key, _)| key == "limit") {
            None => Self::default().limit,
            Some((_, raw)) => match raw.parse::<i64>() {
                Ok(n) if n >= 0 => n,
                Ok(_) => panic!("template: config `limit` is {raw}, it must be at least 0"),
                Err(_) => panic!("template: config `limit` must be a whole number, got {raw:?}"),
            },
        };
        Self { limit }
    }
}

/// A refusal: the code and message the client gets in its 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable, upper-case words joined by `_`.
    pub code: &'static str,
    /// For people: the client shows it as is, so write it in the shop's language.
    pub message: String,
}

/// The rule: accepts a charge of `amount` won, or refuses it when it is above the limit.
///
/// `amount` is what the client sent and may be zero or negative; another plugin (or the
/// default `charge-limits`) deals with those.
pub fn validate_charge(amount: i64, settings: &Settings) -> Result<(), Rejection> {
    if amount > settings.limit {
        return Err(Rejection {
            code: "CHARGE_REFUSED_BY_TEMPLATE",
            message: format!("충전 금액은 최대 {}원 입니다.", thousands(settings.limit)),
        });
    }
    Ok(())
}

/// Formats 1000000 as "1,000,000", the way edgecart's messages write amounts.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
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

// Unit tests run natively: `cargo test -p template` in `plugins/`. Test the edges (exactly at
// the limit, one past it), the defaults, and that a bad config panics.
#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn default_limit_accepts_up_to_one_million() {
        let settings = Settings::from_config(&[]);
        assert_eq!(settings.limit, 1_000_000);
        assert_eq!(validate_charge(1_000_000, &settings), Ok(()));
        assert_eq!(validate_charge(-1, &settings), Ok(()));
        let refused = validate_charge(1_000_001, &settings).unwrap_err();
        assert_eq!(refused.code, "CHARGE_REFUSED_BY_TEMPLATE");
        assert_eq!(refused.message, "충전 금액은 최대 1,000,000원 입니다.");
    }

    #[test]
    fn configured_limit_is_applied() {
        let settings = Settings::from_config(&config(&[("limit", "50000"), ("x", "y")]));
        assert_eq!(validate_charge(50_000, &settings), Ok(()));
        let refused = validate_charge(50_001, &settings).unwrap_err();
        assert_eq!(refused.message, "충전 금액은 최대 50,000원 입니다.");
    }

    #[test]
    #[should_panic(expected = "config `limit` must be a whole number, got \"lots\"")]
    fn non_numeric_limit_panics() {
        Settings::from_config(&config(&[("limit", "lots")]));
    }

    #[test]
    #[should_panic(expected = "config `limit` is -1, it must be at least 0")]
    fn negative_limit_panics() {
        Settings::from_config(&config(&[("limit", "-1")]));
    }
}
