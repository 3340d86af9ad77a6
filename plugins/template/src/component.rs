//! The WebAssembly glue: generates the bindings for one world of `wit/rules.wit` and exports
//! [`crate::validate_charge`] as that world's `validate-charge`. It converts types and logs a
//! refusal; the rule itself stays in `lib.rs`.

// Reads the WIT at build time and generates, in this module:
// - a Rust type per WIT record (`Charge`, `Rejection`, `Config` = `Vec<(String, String)>`),
//   already in scope: do not `use` them again;
// - the `Guest` trait with one method per exported function;
// - `edgecart::rules::host::log`, the only thing the host offers;
// - the `export!` macro below.
// For another hook, change `world` (see the table in `lib.rs`). The path is relative to this
// crate's `Cargo.toml`.
wit_bindgen::generate!({
    world: "charge-validate",
    path: "../../wit/rules.wit",
});

use edgecart::rules::host::{Level, log};

/// The exported component; a unit struct, because a plugin keeps no state.
struct Component;

impl Guest for Component {
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
