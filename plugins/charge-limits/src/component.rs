//! The component glue: binds `validate-charge` of world `charge-validate` to
//! [`crate::validate_charge`] and logs each refusal. No rule lives here.

wit_bindgen::generate!({
    world: "charge-validate",
    path: "../../wit/rules.wit",
});

use alloc::{borrow::ToOwned, format};

use edgecart::rules::host::{Level, log};

/// The exported component.
struct Component;

impl Guest for Component {
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
