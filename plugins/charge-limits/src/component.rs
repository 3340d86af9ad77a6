//! The component glue: binds `validate-charge` of world `charge-validate` (contract 0.2) to
//! [`crate::validate_charge`], logs each refusal, and returns [`crate::CONFIG_SCHEMA`] as
//! `config-schema`. No rule lives here.

// The generated export glue takes a flattened `charge` record (eight values): not ours to
// shorten.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "charge-validate",
    path: "../../wit/v0.2",
});

use alloc::{borrow::ToOwned, format, string::String};

use edgecart::rules::host::{Level, log};

/// The exported component.
struct Component;

impl Guest for Component {
    fn config_schema() -> String {
        crate::CONFIG_SCHEMA.to_owned()
    }

    fn validate_charge(charge: Charge, config: Config) -> Result<(), Rejection> {
        let limits = crate::Limits::from_config(&config);
        crate::validate_charge(charge.amount, &limits).map_err(|refusal| {
            log(
                Level::Debug,
                &format!("charge-limits: {} refused, {}", charge.amount, refusal.code),
            );
            Rejection {
                code: refusal.code.to_owned(),
                message: refusal.message,
            }
        })
    }
}

export!(Component);

// A panic (a bad config value, say) is written to the call's log through the host, then
// traps: the host fails the call with 503 `PLUGIN_FAILED` and keeps the log.
edgecart_guest::panic_handler!(edgecart::rules::host);
