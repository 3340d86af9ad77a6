//! The component glue: binds `validate-order` of world `order-validate` to
//! [`crate::validate_order`] and logs each refusal. No rule lives here.

wit_bindgen::generate!({
    world: "order-validate",
    path: "../../wit/rules.wit",
});

use edgecart::rules::host::{Level, log};

/// The exported component.
struct Component;

impl Guest for Component {
    fn validate_order(order: Order, config: Config) -> Result<(), Rejection> {
        // std's own panic report goes to stderr, which the host does not give; this puts
        // the message (e.g. a bad config value) in the call's log before the trap.
        std::panic::set_hook(Box::new(|info| log(Level::Error, &info.to_string())));
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
