//! Rule plugin for the `order.price` hook (world `order-price` of contract 0.2,
//! `wit/v0.2/rules.wit`): the promotions a business team runs, all from the config, using what
//! contract 0.2 gives an order: each product's attributes, the coupon code, the user's
//! attributes, their count of paid orders, and `now`. It never refuses an order.
//!
//! | config key | what it gives |
//! |---|---|
//! | `productAttributes` | `[{"key": "category", "value": "salad", "percent": 10}]`: percent off every line whose product has that attribute |
//! | `coupons` | `[{"code": "SPRING25", "percent": 25, "validFrom": …, "validUntil": …}]`: percent off every line of an order with that `couponCode`, while `validFrom <= now < validUntil` (Unix ms, each optional) |
//! | `userAttributes` | `[{"key": "tier", "value": "gold", "percent": 5}]`: percent off every line for a user with that attribute |
//! | `firstOrder` | `{"percent": 20}`: percent off every line of a user's first order (`paid-orders` = 0) |
//!
//! Every key is optional; an empty config changes no price. [`CONFIG_SCHEMA`] says all of it
//! (percent 1 to 100, the fields each entry needs, no unknown keys).
//!
//! **How discounts combine: the best one per line, never stacked.** Each line gets the largest
//! percent among the discounts that apply to it; on a tie the first in this order names it:
//! product attribute, coupon, user attribute, first order (and within one list, the entry
//! listed first). The unit price becomes `unit-price * (100 - percent) / 100`, rounded down to
//! whole won, so it is never negative and never above the price before. A changed line says
//! why, e.g. "10% off salad", "25% off with coupon SPRING25", "5% off for tier gold", "20% off a
//! first order"; an unchanged one (no discount, or a price of 0) has no reason.
//!
//! **Coupons.** A code matches the order's `couponCode` ignoring ASCII case (`spring25` is
//! `SPRING25`), nothing else: no trimming. The first listed entry with that code whose window
//! holds `now` applies, so one code may have several windows; outside every window, or with an
//! unknown code, the order simply gets no coupon discount (the host gave the code no meaning,
//! and neither does a refusal here). `validUntil` is the first millisecond the coupon no
//! longer counts: "until March 31, Korean time" is `1806505200000` (2027-04-01T00:00+09:00).
//!
//! A value the schema lets through but the rule cannot use (a `validUntil` not after its
//! `validFrom`), or one a dry run passed unchecked, panics: the host then fails the request
//! with 503 `PLUGIN_FAILED` instead of pricing under a promotion nobody set.
//!
//! The rule ([`price_order`]) is plain Rust and tested natively; `component.rs` only turns WIT
//! values into these types and back.

#![deny(missing_docs)]
// On wasm32 the plugin is `no_std` (see ../guest): no WASI imports, a smaller, faster
// instance. Its native unit tests use std.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;
#[cfg(target_arch = "wasm32")]
extern crate edgecart_guest;

use alloc::{format, string::String, vec::Vec};

mod component;
mod config;
#[cfg(test)]
mod tests;

pub use config::{AttributeRule, CONFIG_SCHEMA, Coupon, FirstOrder, Promotions};

/// Most characters of a price's `reason` the contract allows.
const MAX_REASON_CHARS: usize = 512;

/// Key/value strings of a product or a user, as the host sends them.
pub type Attributes = Vec<(String, String)>;

/// An order, as far as pricing cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Order {
    /// The lines, in the host's order.
    pub lines: Vec<Line>,
    /// The request's `couponCode`, as sent.
    pub coupon: Option<String>,
    /// The user's attributes.
    pub user_attributes: Attributes,
    /// How many PAID orders the user has.
    pub paid_orders: i64,
    /// When the request arrived, Unix milliseconds.
    pub now: i64,
}

/// One order line, as far as pricing cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// Price per unit so far, in won.
    pub unit_price: i64,
    /// The product's attributes.
    pub attributes: Attributes,
}

/// The price this plugin sets for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrice {
    /// Price per unit after the discount.
    pub unit_price: i64,
    /// Why it changed, or `None` when it did not.
    pub reason: Option<String>,
}

/// A discount that applies, and where it comes from (its reason is written only for a line
/// whose price it changes).
#[derive(Debug, Clone, Copy)]
enum Offer<'a> {
    Product(&'a AttributeRule),
    Coupon(&'a Coupon),
    User(&'a AttributeRule),
    FirstOrder(&'a FirstOrder),
}

impl Offer<'_> {
    fn percent(self) -> i64 {
        match self {
            Self::Product(rule) | Self::User(rule) => rule.percent,
            Self::Coupon(coupon) => coupon.percent,
            Self::FirstOrder(first) => first.percent,
        }
    }

    /// "10% off salad", at most [`MAX_REASON_CHARS`] characters.
    fn reason(self) -> String {
        let percent = self.percent();
        let reason = match self {
            Self::Product(rule) => format!("{percent}% off {}", rule.value),
            Self::Coupon(coupon) => format!("{percent}% off with coupon {}", coupon.code),
            Self::User(rule) => format!("{percent}% off for {} {}", rule.key, rule.value),
            Self::FirstOrder(_) => format!("{percent}% off a first order"),
        };
        if reason.chars().count() <= MAX_REASON_CHARS {
            reason
        } else {
            reason.chars().take(MAX_REASON_CHARS).collect()
        }
    }
}

/// Prices each line of `order` under `promotions`: one entry per line, in the same order.
pub fn price_order(order: &Order, promotions: &Promotions) -> Vec<LinePrice> {
    // The discounts that hold for the whole order, in their tie-breaking order.
    let coupon = order
        .coupon
        .as_deref()
        .and_then(|code| promotions.coupon(code, order.now))
        .map(Offer::Coupon);
    let user = promotions
        .user_attributes
        .iter()
        .filter(|rule| rule.matches(&order.user_attributes))
        .map(Offer::User);
    let first = promotions
        .first_order
        .as_ref()
        .filter(|_| order.paid_orders == 0)
        .map(Offer::FirstOrder);
    let whole_order: Vec<Offer<'_>> = coupon.into_iter().chain(user).chain(first).collect();

    order
        .lines
        .iter()
        .map(|line| {
            let product = promotions
                .product_attributes
                .iter()
                .filter(|rule| rule.matches(&line.attributes))
                .map(Offer::Product);
            let best = best(product.chain(whole_order.iter().copied()));
            let unit_price = best.map_or(line.unit_price, |offer| {
                discounted(line.unit_price, offer.percent())
            });
            LinePrice {
                unit_price,
                reason: best
                    .filter(|_| unit_price != line.unit_price)
                    .map(Offer::reason),
            }
        })
        .collect()
}

/// The offer with the largest percent; the first of equals.
fn best<'a>(offers: impl Iterator<Item = Offer<'a>>) -> Option<Offer<'a>> {
    offers.fold(None, |best, offer| match best {
        Some(kept) if kept.percent() >= offer.percent() => Some(kept),
        _ => Some(offer),
    })
}

/// `unit_price` less `percent` (read as 0 to 100 whatever it is), rounded down. A negative
/// price (which the host never sends) is kept.
fn discounted(unit_price: i64, percent: i64) -> i64 {
    if unit_price < 0 {
        return unit_price;
    }
    // i128: the product cannot overflow, and the result lies in 0..=unit_price.
    let price = i128::from(unit_price) * i128::from(100 - percent.clamp(0, 100)) / 100;
    i64::try_from(price).unwrap_or(unit_price)
}
