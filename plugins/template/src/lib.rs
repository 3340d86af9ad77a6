//! The starting point for a new rule plugin. Copy this crate, rename it, and replace the rule.
//! As shipped it is a small but real `charge.validate` rule: it refuses any charge above a
//! configurable `limit`.
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `limit` | `1000000` | largest charge in won, an integer of at least 0 |
//!
//! A charge above `limit` is refused with `CHARGE_REFUSED_BY_TEMPLATE` ("충전 금액은 최대
//! 1,000,000원 입니다.").
//!
//! # What a plugin is
//!
//! A WebAssembly component that implements one *world* of contract 0.2, `wit/rules.wit` in
//! this crate (`wit/v0.2/rules.wit` in the edgecart repository; read it, its comments are the
//! contract). Each hook has its world, and each world also exports `config-schema`:
//!
//! | hook | world | the function you write |
//! |---|---|---|
//! | `charge.validate` | `charge-validate` | `validate-charge(charge, config) -> result<_, rejection>` |
//! | `order.validate` | `order-validate` | `validate-order(order, config) -> result<_, rejection>` |
//! | `order.price` | `order-price` | `price-order(order, config) -> result<list<line-price>, rejection>` |
//!
//! Every input carries `now` (Unix milliseconds: the plugin's only clock) and the user's
//! attributes; an order also carries the coupon code, the user's count of paid orders, and
//! each product's name and attributes. `charge-limits`, `order-checks`, `bulk-discount` and
//! `promotions` in edgecart's `plugins/` are worked examples.
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
//! As the text of a JSON object, what the business team set through the admin API; each call
//! sees the current config. [`CONFIG_SCHEMA`] describes it (JSON Schema, draft 2020-12): the
//! host stores it at upload and refuses, with 400 `PLUGIN_CONFIG_INVALID` and the field's
//! path, any config that does not fit, so a typo never reaches a live rule. Write it to say
//! everything it can (types, ranges, `additionalProperties: false`), and give every key a
//! default. Read the text with `serde_json` into a struct (`Settings` below). A rule a schema
//! cannot say (one value at least another) is checked in the rule: **panic with a message
//! naming the key**, the call fails with 503 `PLUGIN_FAILED` and nothing changes. That is on
//! purpose: a misconfigured rule must not let requests through under a limit nobody meant.
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

use serde::Deserialize;

// The WebAssembly side: bindings generated from the WIT and the exported functions. It only
// converts types and calls `validate_charge` below; you rarely need to change more than the
// world name there.
mod component;

/// The JSON Schema (draft 2020-12) of the config, which `config-schema` returns.
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "template",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "limit": {"description": "Largest charge in won (default 1000000).", "type": "integer", "minimum": 0}
  }
}"#;

/// The rule's settings: the config, read once per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Largest charge allowed, in won.
    pub limit: i64,
}

impl Default for Settings {
    // The defaults apply to every key the business team has not set. These let every charge
    // the default `charge-limits` plugin lets through.
    fn default() -> Self {
        Self { limit: 1_000_000 }
    }
}

impl Settings {
    /// Reads the config (JSON text); a missing key keeps its default.
    ///
    /// # Panics
    /// When the config does not fit (the host checked it against [`CONFIG_SCHEMA`], so only a
    /// dry run's unchecked config can), or `limit` is negative: fail closed.
    pub fn from_config(config: &str) -> Self {
        // Never `unwrap()` a parse of config or input: say what is wrong.
        let settings: Self = match serde_json::from_str(config) {
            Ok(settings) => settings,
            Err(e) => panic!("template: config does not fit: {e}"),
        };
        if settings.limit < 0 {
            panic!(
                "template: config `limit` is {}, it must be at least 0",
                settings.limit
            );
        }
        settings
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

    #[test]
    fn default_limit_accepts_up_to_one_million() {
        let settings = Settings::from_config("{}");
        assert_eq!(settings.limit, 1_000_000);
        assert_eq!(validate_charge(1_000_000, &settings), Ok(()));
        assert_eq!(validate_charge(-1, &settings), Ok(()));
        let refused = validate_charge(1_000_001, &settings).unwrap_err();
        assert_eq!(refused.code, "CHARGE_REFUSED_BY_TEMPLATE");
        assert_eq!(refused.message, "충전 금액은 최대 1,000,000원 입니다.");
    }

    #[test]
    fn configured_limit_is_applied() {
        let settings = Settings::from_config(r#"{"limit": 50000}"#);
        assert_eq!(validate_charge(50_000, &settings), Ok(()));
        let refused = validate_charge(50_001, &settings).unwrap_err();
        assert_eq!(refused.message, "충전 금액은 최대 50,000원 입니다.");
    }

    #[test]
    #[should_panic(expected = "template: config does not fit: invalid type: string \"lots\"")]
    fn non_numeric_limit_panics() {
        Settings::from_config(r#"{"limit": "lots"}"#);
    }

    #[test]
    fn the_schema_is_json_and_names_limit() {
        let schema: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).expect("JSON");
        assert_eq!(schema["properties"]["limit"]["type"], "integer");
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    #[should_panic(expected = "config `limit` is -1, it must be at least 0")]
    fn negative_limit_panics() {
        Settings::from_config(r#"{"limit": -1}"#);
    }
}
