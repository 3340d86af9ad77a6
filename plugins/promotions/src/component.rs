//! The component glue: binds `price-order` of world `order-price` (contract 0.2) to
//! [`crate::price_order`], logs how many lines it discounted, and returns
//! [`crate::CONFIG_SCHEMA`] as `config-schema`. No rule lives here.

// The generated export glue takes a flattened `order` record (thirteen values): not ours to
// shorten.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "order-price",
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

    fn price_order(order: Order, config: Config) -> Result<Vec<LinePrice>, Rejection> {
        let promotions = crate::Promotions::from_config(&config);
        let order = crate::Order {
            lines: order
                .lines
                .into_iter()
                .map(|l| crate::Line {
                    unit_price: l.unit_price,
                    attributes: l.attributes,
                })
                .collect(),
            coupon: order.coupon,
            user_attributes: order.user_attributes,
            paid_orders: order.paid_orders,
            now: order.now,
        };
        let prices = crate::price_order(&order, &promotions);
        let discounted = prices.iter().filter(|p| p.reason.is_some()).count();
        if discounted > 0 {
            log(
                Level::Debug,
                &format!(
                    "promotions: {discounted} of {} lines discounted",
                    prices.len()
                ),
            );
        }
        Ok(prices
            .into_iter()
            .map(|p| LinePrice {
                unit_price: p.unit_price,
                reason: p.reason,
            })
            .collect())
    }
}

export!(Component);

// A panic (a bad config value, say) is written to the call's log through the host, then
// traps: the host fails the call with 503 `PLUGIN_FAILED` and keeps the log.
edgecart_guest::panic_handler!(edgecart::rules::host);
