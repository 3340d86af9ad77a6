//! The WebAssembly glue: generates the bindings for one world of contract 0.2 and exports
//! [`crate::validate_charge`] as that world's `validate-charge` and [`crate::CONFIG_SCHEMA`]
//! as its `config-schema`. It converts types and logs a refusal; the rule itself stays in
//! `lib.rs`.

// The generated export glue takes a flattened `charge` record (eight values): not ours to
// shorten.
#![allow(clippy::too_many_arguments)]

// Reads the WIT at build time and generates, in this module:
// - a Rust type per WIT record (`Charge`, `Rejection`, `Config` = `String`, the config's JSON
//   text), already in scope: do not `use` them again;
// - the `Guest` trait with one method per exported function;
// - `edgecart::rules::host::log`, the only thing the host offers;
// - the `export!` macro below.
// For another hook, change `world` (see the table in `lib.rs`). The path is relative to this
// crate's `Cargo.toml`.
wit_bindgen::generate!({
    world: "charge-validate",
    path: "../../wit/v0.2/rules.wit",
});

use edgecart::rules::host::{Level, log};

/// The exported component; a unit struct, because a plugin keeps no state.
struct Component;

impl Guest for Component {
    /// Called at upload: the host stores the schema and checks every config against it.
    fn config_schema() -> String {
        crate::CONFIG_SCHEMA.to_owned()
    }

    /// Called once per charge, on a fresh instance, with the plugin's current config.
    fn validate_charge(charge: Charge, config: Config) -> Result<(), Rejection> {
        // A panic would print its message to stderr, which the host does not give, so the
        // message would be lost; this hook puts it in the call's log instead. Keep it.
        std::panic::set_hook(Box::new(|info| log(Level::Error, &info.to_string())));

        let settings = crate::Settings::from_config(&config);
        crate::validate_charge(charge.amount, &settings).map_err(|refusal| {
            // One short line per refusal; the log keeps 1 KiB per call.
            log(
                Level::Debug,
                &format!("template: {} refused, {}", charge.amount, refusal.code),
            );
            Rejection {
                code: refusal.code.to_owned(),
                message: refusal.message,
            }
        })
    }
}

// Makes `Component` the implementation of the world's exports.
export!(Component);
