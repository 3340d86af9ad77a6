//! [`NewOrder`]: an order request as the service takes it, validated once: the payer decided
//! from the caller (403 for someone else), lines merged by product and sorted by id, and the
//! coupon code checked for shape only (its meaning is the rules').

use std::collections::BTreeMap;

use super::super::Error;
use crate::domain::{Caller, UserId};

/// The longest coupon code, in characters.
pub const MAX_COUPON_CHARS: usize = 64;

/// A validated order request: lines merged by product and sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Who orders.
    pub user: UserId,
    /// `(product id, quantity)`, ascending product id, each product once.
    pub lines: Vec<(i64, i64)>,
    /// What the client expects to pay.
    pub payment_amount: i64,
    /// The `couponCode`, as sent: 1 to 64 characters, no control character, not only
    /// whitespace.
    pub coupon: Option<String>,
}

impl NewOrder {
    /// Validates ids and quantities and merges lines with the same product. The payer is the
    /// caller's user; `user` (the body's `user_id`) may then be left out, and when given must
    /// be the caller's (403). Without an end-user identity it is required. A `coupon` of the
    /// wrong shape is [`Error::InvalidCoupon`].
    pub fn parse(
        caller: Caller,
        user: Option<i64>,
        lines: &[(i64, i64)],
        payment_amount: i64,
        coupon: Option<&str>,
    ) -> Result<Self, Error> {
        let named = user
            .map(|id| UserId::new(id).map_err(|_| Error::InvalidOrder("user id must be positive")))
            .transpose()?;
        let user = match (caller.user(), named) {
            (Some(own), Some(named)) if own != named => return Err(Error::Forbidden),
            (Some(own), _) => own,
            (None, Some(named)) => named,
            (None, None) => return Err(Error::InvalidOrder("user_id is required")),
        };
        if lines.is_empty() {
            return Err(Error::InvalidOrder("an order needs at least one line"));
        }
        if payment_amount < 0 {
            return Err(Error::InvalidOrder("paymentAmount must not be negative"));
        }
        let mut merged = BTreeMap::new();
        for &(product, quantity) in lines {
            if product <= 0 || quantity < 1 {
                return Err(Error::InvalidOrder(
                    "product ids and quantities must be positive",
                ));
            }
            let total: &mut i64 = merged.entry(product).or_default();
            *total = total
                .checked_add(quantity)
                .ok_or(Error::InvalidOrder("quantity out of range"))?;
        }
        if coupon.is_some_and(|code| !valid_coupon(code)) {
            return Err(Error::InvalidCoupon);
        }
        Ok(Self {
            user,
            lines: merged.into_iter().collect(),
            payment_amount,
            coupon: coupon.map(str::to_owned),
        })
    }
}

/// Whether `code` has 1 to 64 characters, none of them a control character, not all of them
/// whitespace.
fn valid_coupon(code: &str) -> bool {
    let mut chars = 0;
    let mut visible = false;
    for c in code.chars() {
        chars += 1;
        if c.is_control() || chars > MAX_COUPON_CHARS {
            return false;
        }
        visible |= !c.is_whitespace();
    }
    visible
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payer_is_the_callers_user_and_a_different_body_user_is_forbidden() {
        let caller = Caller::User(UserId::new(7).unwrap());
        assert_eq!(
            NewOrder::parse(caller, None, &[(1, 1)], 0, None)
                .unwrap()
                .user
                .get(),
            7
        );
        assert_eq!(
            NewOrder::parse(caller, Some(7), &[(1, 1)], 0, None)
                .unwrap()
                .user
                .get(),
            7
        );
        assert!(matches!(
            NewOrder::parse(caller, Some(8), &[(1, 1)], 0, None),
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            NewOrder::parse(Caller::Anyone, None, &[(1, 1)], 0, None),
            Err(Error::InvalidOrder(_))
        ));
    }

    #[test]
    fn lines_are_merged_by_product_and_sorted() {
        let order = NewOrder::parse(
            Caller::Anyone,
            Some(7),
            &[(102, 1), (101, 2), (102, 3)],
            0,
            None,
        )
        .unwrap();
        assert_eq!(order.lines, vec![(101, 2), (102, 4)]);
    }

    #[test]
    fn empty_orders_bad_ids_and_quantities_are_invalid() {
        for (user, lines) in [
            (1, vec![]),
            (0, vec![(1, 1)]),
            (1, vec![(0, 1)]),
            (1, vec![(1, 0)]),
            (1, vec![(1, -2)]),
        ] {
            assert!(
                matches!(
                    NewOrder::parse(Caller::Anyone, Some(user), &lines, 0, None),
                    Err(Error::InvalidOrder(_))
                ),
                "{lines:?}"
            );
        }
        assert!(matches!(
            NewOrder::parse(Caller::Anyone, Some(1), &[(1, i64::MAX), (1, 1)], 0, None),
            Err(Error::InvalidOrder(_))
        ));
        assert!(matches!(
            NewOrder::parse(Caller::Anyone, Some(1), &[(1, 1)], -1, None),
            Err(Error::InvalidOrder(_))
        ));
    }

    #[test]
    fn coupon_codes_are_1_to_64_characters_without_controls_and_not_only_spaces() {
        let parse = |code: &str| NewOrder::parse(Caller::Anyone, Some(1), &[(1, 1)], 0, Some(code));
        for good in ["A", "WELCOME10", " 여름 세일 ", &"가".repeat(64), "a b"] {
            assert_eq!(
                parse(good).unwrap().coupon.as_deref(),
                Some(good),
                "{good:?}"
            );
        }
        for bad in [
            "",
            " ",
            "\u{3000}",
            "\u{3000}\t",
            "a\nb",
            "a\u{0}",
            "\u{7f}x",
            &"x".repeat(65),
        ] {
            assert!(
                matches!(parse(bad), Err(Error::InvalidCoupon)),
                "{bad:?} must be refused"
            );
        }
        let none = NewOrder::parse(Caller::Anyone, Some(1), &[(1, 1)], 0, None).unwrap();
        assert_eq!(none.coupon, None);
    }
}
