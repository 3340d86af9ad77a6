//! The component glue: binds `validate-order` of world `order-validate` (contract 0.2) to
//! [`crate::validate_order`], logs each refusal, and returns [`crate::CONFIG_SCHEMA`] as
//! `config-schema`. No rule lives here.

// The generated export glue takes a flattened `order` record (thirteen values): not ours to
// shorten.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "order-validate",
    path: "../../wit/v0.2",
});

use alloc::{borrow::ToOwned, format, string::String, vec::Vec};

use edgecart::rules::host::{Level, log};

/// The exported component.
struct Component;

impl Guest for Component {
    fn config_schema() -> String {
        crate::CONFIG_SCHEMA.to_owned()
    }

    fn validate_order(order: Order, config: Config) -> Result<(), Rejection> {
        let limits = crate::Limits::from_config(&config);
        let lines: Vec<crate::Line> = order
            .lines
            .iter()
            .map(|l| crate::Line {
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect();
        crate::validate_order(&lines, &limits).map_err(|refusal| {
            log(
                Level::Debug,
                &format!(
                    "order-checks: order of user {} refused, {}",
                    order.user_id, refusal.code
                ),
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
