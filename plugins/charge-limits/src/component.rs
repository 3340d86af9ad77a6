//! The component glue: binds `validate-charge` of world `charge-validate` to
//! [`crate::validate_charge`] and logs each refusal. No rule lives here.

wit_bindgen::generate!({
    world: "charge-validate",
    path: "../../wit/rules.wit",
});

use edgecart::rules::host::{Level, log};

/// The exported component.
struct Component;

impl Guest for Component {
    fn validate_charge(charge: Charge, config: Config) -> Result<(), Rejection> {
        // std's own panic report goes to stderr, which the host does not give; this puts
        // the message (e.g. a bad config value) in the call's log before the trap.
        std::panic::set_hook(Box::new(|info| log(Level::Error, &info.to_string())));
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
