//! The rule's unit tests, run natively: `cargo test -p promotions` in `plugins/`.

use super::*;

/// 2027-03-01T00:00+09:00 and 2027-04-01T00:00+09:00: SPRING25's window in the examples.
const MARCH: i64 = 1_803_826_800_000;
const APRIL: i64 = 1_806_505_200_000;

/// The README's example config.
pub(crate) const EXAMPLE: &str = r#"{
    "productAttributes": [{"key": "category", "value": "salad", "percent": 10}],
    "coupons": [{"code": "SPRING25", "percent": 25, "validFrom": 1803826800000, "validUntil": 1806505200000}],
    "userAttributes": [{"key": "tier", "value": "gold", "percent": 5}],
    "firstOrder": {"percent": 20}
}"#;

fn pairs(list: &[(&str, &str)]) -> Attributes {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn line(unit_price: i64, attributes: &[(&str, &str)]) -> Line {
    Line {
        unit_price,
        attributes: pairs(attributes),
    }
}

/// A returning user's order (one paid order before), in March 2027, with no coupon.
fn order(lines: Vec<Line>) -> Order {
    Order {
        lines,
        paid_orders: 1,
        now: MARCH + 1_000,
        ..Order::default()
    }
}

fn with_coupon(mut order: Order, code: &str, now: i64) -> Order {
    order.coupon = Some(code.to_owned());
    order.now = now;
    order
}

fn kept(unit_price: i64) -> LinePrice {
    LinePrice {
        unit_price,
        reason: None,
    }
}

fn off(unit_price: i64, reason: &str) -> LinePrice {
    LinePrice {
        unit_price,
        reason: Some(reason.to_owned()),
    }
}

fn example() -> Promotions {
    Promotions::from_config(EXAMPLE)
}

#[test]
fn an_empty_config_changes_no_price() {
    let order = order(vec![line(1_000, &[("category", "salad")]), line(0, &[])]);
    let priced = price_order(&order, &Promotions::from_config("{}"));
    assert_eq!(priced, [kept(1_000), kept(0)]);
    assert_eq!(Promotions::from_config("{}"), Promotions::default());
}

#[test]
fn the_example_config_reads_as_written() {
    let promotions = example();
    assert_eq!(promotions.product_attributes[0].value, "salad");
    assert_eq!(
        promotions.coupons,
        [Coupon {
            code: "SPRING25".into(),
            percent: 25,
            valid_from: Some(MARCH),
            valid_until: Some(APRIL),
        }]
    );
    assert_eq!(promotions.user_attributes[0].key, "tier");
    assert_eq!(promotions.first_order, Some(FirstOrder { percent: 20 }));
}

#[test]
fn lines_whose_product_has_the_attribute_get_its_percent_off() {
    let order = order(vec![
        line(2_500, &[("brand", "b"), ("category", "salad")]),
        line(2_500, &[("category", "soup")]),
        line(2_500, &[("kind", "salad")]),
        line(2_500, &[("category", "Salad")]),
        line(2_500, &[]),
    ]);
    assert_eq!(
        price_order(&order, &example()),
        [
            off(2_250, "10% off salad"),
            kept(2_500),
            kept(2_500),
            kept(2_500),
            kept(2_500)
        ]
    );
}

#[test]
fn a_coupon_counts_from_valid_from_until_just_before_valid_until() {
    let promotions = example();
    let priced = |now: i64| {
        let order = with_coupon(order(vec![line(1_000, &[])]), "SPRING25", now);
        price_order(&order, &promotions)
    };
    let coupon = off(750, "25% off with coupon SPRING25");
    assert_eq!(
        priced(MARCH),
        std::slice::from_ref(&coupon),
        "its first millisecond"
    );
    assert_eq!(priced(APRIL - 1), [coupon], "its last millisecond");
    assert_eq!(priced(APRIL), [kept(1_000)], "expired");
    assert_eq!(priced(MARCH - 1), [kept(1_000)], "not yet");
}

#[test]
fn a_coupon_without_a_window_end_or_start_is_open_on_that_side() {
    let promotions = Promotions::from_config(
        r#"{"coupons": [{"code": "ALWAYS", "percent": 10},
                        {"code": "LATER", "percent": 10, "validFrom": 100},
                        {"code": "SOON", "percent": 10, "validUntil": 100}]}"#,
    );
    let priced = |code: &str, now: i64| {
        price_order(
            &with_coupon(order(vec![line(100, &[])]), code, now),
            &promotions,
        )[0]
        .unit_price
    };
    assert_eq!(priced("ALWAYS", 0), 90);
    assert_eq!(priced("ALWAYS", i64::MAX), 90);
    assert_eq!(priced("LATER", 99), 100);
    assert_eq!(priced("LATER", i64::MAX), 90);
    assert_eq!(priced("SOON", 99), 90);
    assert_eq!(priced("SOON", 100), 100);
}

#[test]
fn coupon_codes_match_ignoring_ascii_case_and_nothing_else() {
    let promotions = example();
    let priced = |code: &str| {
        price_order(
            &with_coupon(order(vec![line(1_000, &[])]), code, MARCH),
            &promotions,
        )[0]
        .unit_price
    };
    assert_eq!(priced("SPRING25"), 750);
    assert_eq!(priced("spring25"), 750);
    assert_eq!(priced("Spring25"), 750);
    assert_eq!(priced(" SPRING25"), 1_000, "no trimming");
    assert_eq!(priced("SPRING2"), 1_000);
    assert_eq!(priced("SPRING250"), 1_000);
    assert_eq!(priced("WINTER10"), 1_000, "unknown");
}

#[test]
fn an_unknown_or_expired_coupon_leaves_the_other_discounts() {
    let order = with_coupon(
        order(vec![line(1_000, &[("category", "salad")])]),
        "NOPE",
        APRIL,
    );
    assert_eq!(price_order(&order, &example()), [off(900, "10% off salad")]);
    let expired = with_coupon(order, "SPRING25", APRIL);
    assert_eq!(
        price_order(&expired, &example()),
        [off(900, "10% off salad")]
    );
}

#[test]
fn the_first_listed_window_that_holds_now_applies() {
    let promotions = Promotions::from_config(
        r#"{"coupons": [{"code": "SALE", "percent": 10, "validUntil": 100},
                        {"code": "sale", "percent": 30, "validFrom": 100}]}"#,
    );
    let priced = |now: i64| {
        price_order(
            &with_coupon(order(vec![line(100, &[])]), "Sale", now),
            &promotions,
        )
    };
    assert_eq!(priced(99), [off(90, "10% off with coupon SALE")]);
    assert_eq!(priced(100), [off(70, "30% off with coupon sale")]);
}

#[test]
fn a_user_with_the_attribute_gets_its_percent_off_every_line() {
    let mut gold = order(vec![line(1_000, &[]), line(3_000, &[("category", "soup")])]);
    gold.user_attributes = pairs(&[("name", "x"), ("tier", "gold")]);
    assert_eq!(
        price_order(&gold, &example()),
        [
            off(950, "5% off for tier gold"),
            off(2_850, "5% off for tier gold")
        ]
    );
    let mut silver = gold.clone();
    silver.user_attributes = pairs(&[("tier", "silver")]);
    assert_eq!(price_order(&silver, &example()), [kept(1_000), kept(3_000)]);
}

#[test]
fn a_first_order_gets_its_discount_and_a_later_one_does_not() {
    let mut first = order(vec![line(1_000, &[])]);
    first.paid_orders = 0;
    assert_eq!(
        price_order(&first, &example()),
        [off(800, "20% off a first order")]
    );
    let later = order(vec![line(1_000, &[])]);
    assert_eq!(price_order(&later, &example()), [kept(1_000)]);
    let none = Promotions::from_config(r#"{"coupons": []}"#);
    assert_eq!(price_order(&first, &none), [kept(1_000)]);
}

#[test]
fn discounts_never_stack_each_line_gets_its_best_one() {
    // A gold member's first order with SPRING25: 25 % beats 20, 10 and 5.
    let mut everything = with_coupon(
        order(vec![
            line(1_000, &[("category", "salad")]),
            line(1_000, &[]),
        ]),
        "SPRING25",
        MARCH,
    );
    everything.user_attributes = pairs(&[("tier", "gold")]);
    everything.paid_orders = 0;
    let coupon = "25% off with coupon SPRING25";
    assert_eq!(
        price_order(&everything, &example()),
        [off(750, coupon), off(750, coupon)]
    );
    // Without the coupon and on a later order: salad 10 % beats gold 5 % on its line only.
    everything.coupon = None;
    everything.paid_orders = 3;
    assert_eq!(
        price_order(&everything, &example()),
        [off(900, "10% off salad"), off(950, "5% off for tier gold")]
    );
}

#[test]
fn on_a_tie_the_product_attribute_then_coupon_then_user_then_first_order_names_it() {
    let promotions = Promotions::from_config(
        r#"{"productAttributes": [{"key": "c", "value": "v", "percent": 10},
                                  {"key": "d", "value": "w", "percent": 10}],
            "coupons": [{"code": "TEN", "percent": 10}],
            "userAttributes": [{"key": "tier", "value": "gold", "percent": 10}],
            "firstOrder": {"percent": 10}}"#,
    );
    let mut all = with_coupon(
        order(vec![line(100, &[("c", "v"), ("d", "w")]), line(100, &[])]),
        "TEN",
        0,
    );
    all.user_attributes = pairs(&[("tier", "gold")]);
    all.paid_orders = 0;
    let reasons = |order: &Order| -> Vec<Option<String>> {
        price_order(order, &promotions)
            .into_iter()
            .map(|p| p.reason)
            .collect()
    };
    let named = |text: &str| Some(text.to_owned());
    assert_eq!(
        reasons(&all),
        [named("10% off v"), named("10% off with coupon TEN")]
    );
    all.coupon = None;
    assert_eq!(reasons(&all)[1], named("10% off for tier gold"));
    all.user_attributes.clear();
    assert_eq!(reasons(&all)[1], named("10% off a first order"));
}

#[test]
fn prices_round_down_to_whole_won_and_never_go_negative() {
    let promotions = example();
    let priced = |unit_price: i64| {
        price_order(
            &order(vec![line(unit_price, &[("category", "salad")])]),
            &promotions,
        )
    };
    // 999 × 0.9 = 899.1; 1 × 0.9 = 0.9.
    assert_eq!(priced(999), [off(899, "10% off salad")]);
    assert_eq!(priced(1), [off(0, "10% off salad")]);
    assert_eq!(priced(0), [kept(0)], "nothing to take off");
    assert_eq!(priced(-5), [kept(-5)], "never sent; kept");
    assert_eq!(priced(i64::MAX)[0].unit_price, 8_301_034_833_169_298_226);
}

#[test]
fn percent_bounds_one_and_a_hundred_are_allowed() {
    let promotions = Promotions::from_config(
        r#"{"productAttributes": [{"key": "c", "value": "free", "percent": 100},
                                  {"key": "c", "value": "one", "percent": 1}]}"#,
    );
    let order = order(vec![
        line(999, &[("c", "free")]),
        line(1_000, &[("c", "one")]),
    ]);
    assert_eq!(
        price_order(&order, &promotions),
        [off(0, "100% off free"), off(990, "1% off one")]
    );
}

#[test]
fn a_percent_outside_the_bounds_is_read_as_the_nearest_bound_when_built_by_hand() {
    // from_config refuses these; a struct built in code still never prices below 0.
    let promotions = Promotions {
        first_order: Some(FirstOrder { percent: 250 }),
        ..Promotions::default()
    };
    let mut first = order(vec![line(1_000, &[])]);
    first.paid_orders = 0;
    assert_eq!(price_order(&first, &promotions)[0].unit_price, 0);
}

#[test]
fn a_reason_is_cut_to_512_characters() {
    let long = "샐".repeat(600);
    let promotions = Promotions {
        product_attributes: vec![AttributeRule {
            key: "c".into(),
            value: long.clone(),
            percent: 10,
        }],
        ..Promotions::default()
    };
    let priced = price_order(&order(vec![line(100, &[("c", &long)])]), &promotions);
    let reason = priced[0].reason.as_deref().unwrap_or_default();
    assert_eq!(reason.chars().count(), 512);
    assert!(reason.starts_with("10% off 샐"), "{reason}");
}

#[test]
fn an_empty_order_gives_no_prices() {
    assert_eq!(price_order(&order(Vec::new()), &example()), []);
}
