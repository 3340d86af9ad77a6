//! The promotions' config: its JSON Schema, the types it is read into, and the checks a
//! schema cannot make. Reading only; the pricing is in `lib.rs`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;

/// The JSON Schema (draft 2020-12) of the config, returned by `config-schema`.
pub const CONFIG_SCHEMA: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "promotions",
  "description": "Percent off by product attribute, coupon, user attribute or first order; the best one per line applies.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "productAttributes": {
      "description": "Percent off every line whose product has the attribute key = value.",
      "type": "array",
      "items": {"$ref": "#/$defs/attribute"}
    },
    "coupons": {
      "description": "Percent off every line of an order with this couponCode (any ASCII case), while validFrom <= now < validUntil.",
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["code", "percent"],
        "properties": {
          "code": {"type": "string", "minLength": 1, "maxLength": 64},
          "percent": {"$ref": "#/$defs/percent"},
          "validFrom": {"description": "First moment it counts, Unix milliseconds (default: always).", "$ref": "#/$defs/millis"},
          "validUntil": {"description": "First moment it no longer counts, Unix milliseconds (default: never).", "$ref": "#/$defs/millis"}
        }
      }
    },
    "userAttributes": {
      "description": "Percent off every line for a user with the attribute key = value.",
      "type": "array",
      "items": {"$ref": "#/$defs/attribute"}
    },
    "firstOrder": {
      "description": "Percent off every line of a user's first order.",
      "type": "object",
      "additionalProperties": false,
      "required": ["percent"],
      "properties": {"percent": {"$ref": "#/$defs/percent"}}
    }
  },
  "$defs": {
    "percent": {"description": "Percent off, 1 to 100.", "type": "integer", "minimum": 1, "maximum": 100},
    "millis": {"type": "integer", "minimum": 0},
    "attribute": {
      "type": "object",
      "additionalProperties": false,
      "required": ["key", "value", "percent"],
      "properties": {
        "key": {"type": "string", "pattern": "^[a-z0-9_.-]{1,64}$"},
        "value": {"type": "string"},
        "percent": {"$ref": "#/$defs/percent"}
      }
    }
  }
}"##;

/// The whole config. Every list may be empty, and an empty config discounts nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Promotions {
    /// Discounts by product attribute.
    pub product_attributes: Vec<AttributeRule>,
    /// Coupons.
    pub coupons: Vec<Coupon>,
    /// Discounts by user attribute (a tier, say).
    pub user_attributes: Vec<AttributeRule>,
    /// The first-order discount.
    pub first_order: Option<FirstOrder>,
}

/// Percent off when a product or a user has the attribute `key` = `value`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AttributeRule {
    /// Attribute key, e.g. `category`.
    pub key: String,
    /// Attribute value, e.g. `salad`; compared exactly.
    pub value: String,
    /// Percent off, 1 to 100.
    pub percent: i64,
}

impl AttributeRule {
    /// Whether `attributes` hold `key` = `value`.
    pub fn matches(&self, attributes: &[(String, String)]) -> bool {
        attributes
            .iter()
            .any(|(key, value)| *key == self.key && *value == self.value)
    }
}

/// A coupon code with its discount and validity window.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    /// The code, matched ignoring ASCII case.
    pub code: String,
    /// Percent off, 1 to 100.
    pub percent: i64,
    /// First moment it counts (Unix ms); `None`: always did.
    #[serde(default)]
    pub valid_from: Option<i64>,
    /// First moment it no longer counts (Unix ms); `None`: never ends.
    #[serde(default)]
    pub valid_until: Option<i64>,
}

impl Coupon {
    /// Whether it counts at `now`: `valid_from <= now < valid_until`.
    pub fn valid_at(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|from| from <= now)
            && self.valid_until.is_none_or(|until| now < until)
    }
}

/// Percent off a user's first order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FirstOrder {
    /// Percent off, 1 to 100.
    pub percent: i64,
}

impl Promotions {
    /// Reads the config (JSON text) and checks what its schema cannot.
    ///
    /// # Panics
    /// When it does not fit the types above (a dry run's unchecked config), a percent is
    /// outside 1 to 100, or a coupon's `validUntil` is not after its `validFrom`; the message
    /// names the value by its JSON Pointer, e.g. `/coupons/0/percent`.
    pub fn from_config(config: &str) -> Self {
        let promotions: Self = edgecart_guest::config::parse("promotions", config);
        for (list, rules) in [
            ("productAttributes", &promotions.product_attributes),
            ("userAttributes", &promotions.user_attributes),
        ] {
            for (i, rule) in rules.iter().enumerate() {
                check_percent(&format_args!("/{list}/{i}/percent"), rule.percent);
            }
        }
        for (i, coupon) in promotions.coupons.iter().enumerate() {
            check_percent(&format_args!("/coupons/{i}/percent"), coupon.percent);
            if let (Some(from), Some(until)) = (coupon.valid_from, coupon.valid_until)
                && until <= from
            {
                panic!(
                    "promotions: config `/coupons/{i}` ({}): validUntil {until} is not after validFrom {from}",
                    coupon.code
                );
            }
        }
        if let Some(first) = &promotions.first_order {
            check_percent(&"/firstOrder/percent", first.percent);
        }
        promotions
    }

    /// The coupon an order with `code` gets at `now`: the first listed with that code (any
    /// ASCII case) whose window holds `now`.
    pub fn coupon(&self, code: &str, now: i64) -> Option<&Coupon> {
        self.coupons
            .iter()
            .find(|coupon| coupon.code.eq_ignore_ascii_case(code) && coupon.valid_at(now))
    }
}

/// Panics unless `percent` is 1 to 100, naming it by `path`.
fn check_percent(path: &dyn core::fmt::Display, percent: i64) {
    if !(1..=100).contains(&percent) {
        panic!("promotions: config `{path}` is {percent}, it must be 1 to 100");
    }
}

#[cfg(test)]
mod tests {
    use edgecart_guest::testing::schema_errors;

    use super::*;
    use crate::tests::EXAMPLE;

    #[test]
    #[should_panic(expected = "promotions: config `/coupons/0/percent` is 0, it must be 1 to 100")]
    fn a_coupon_of_zero_percent_panics() {
        Promotions::from_config(r#"{"coupons": [{"code": "X", "percent": 0}]}"#);
    }

    #[test]
    #[should_panic(
        expected = "promotions: config `/productAttributes/1/percent` is 101, it must be 1 to 100"
    )]
    fn an_attribute_discount_over_100_percent_panics() {
        Promotions::from_config(
            r#"{"productAttributes": [{"key": "a", "value": "b", "percent": 5},
                                      {"key": "a", "value": "c", "percent": 101}]}"#,
        );
    }

    #[test]
    #[should_panic(expected = "promotions: config `/userAttributes/0/percent` is -5")]
    fn a_negative_user_discount_panics() {
        Promotions::from_config(
            r#"{"userAttributes": [{"key": "tier", "value": "gold", "percent": -5}]}"#,
        );
    }

    #[test]
    #[should_panic(expected = "promotions: config `/firstOrder/percent` is 0")]
    fn a_first_order_discount_of_zero_panics() {
        Promotions::from_config(r#"{"firstOrder": {"percent": 0}}"#);
    }

    #[test]
    #[should_panic(
        expected = "promotions: config `/coupons/0` (X): validUntil 5 is not after validFrom 5"
    )]
    fn a_coupon_window_that_ends_when_it_starts_panics() {
        Promotions::from_config(
            r#"{"coupons": [{"code": "X", "percent": 5, "validFrom": 5, "validUntil": 5}]}"#,
        );
    }

    #[test]
    #[should_panic(expected = "promotions: config does not fit: ")]
    fn a_config_of_the_wrong_shape_panics() {
        Promotions::from_config(r#"{"coupons": [{"code": "X"}]}"#);
    }

    #[test]
    fn the_schema_takes_the_example_and_names_each_mistake() {
        assert!(schema_errors(CONFIG_SCHEMA, EXAMPLE).is_empty());
        assert!(schema_errors(CONFIG_SCHEMA, "{}").is_empty());
        let cases = [
            (
                r#"{"coupons": [{"code": "X", "percent": 0}]}"#,
                "/coupons/0/percent",
            ),
            (
                r#"{"coupons": [{"code": "X", "percent": 101}]}"#,
                "/coupons/0/percent",
            ),
            (r#"{"coupons": [{"percent": 10}]}"#, "/coupons/0"),
            (
                r#"{"coupons": [{"code": "", "percent": 10}]}"#,
                "/coupons/0/code",
            ),
            (
                r#"{"coupons": [{"code": "X", "percent": 10, "validUntil": -1}]}"#,
                "/coupons/0/validUntil",
            ),
            (
                r#"{"coupons": [{"code": "X", "percent": 10, "validTo": 5}]}"#,
                "/coupons/0",
            ),
            (
                r#"{"firstOrder": {"percent": "20"}}"#,
                "/firstOrder/percent",
            ),
            (r#"{"firstOrder": {}}"#, "/firstOrder"),
            (
                r#"{"productAttributes": [{"key": "Category", "value": "x", "percent": 5}]}"#,
                "/productAttributes/0/key",
            ),
            (
                r#"{"userAttributes": [{"key": "tier", "percent": 5}]}"#,
                "/userAttributes/0",
            ),
            (r#"{"coupon": []}"#, ""),
        ];
        for (config, path) in cases {
            assert_eq!(schema_errors(CONFIG_SCHEMA, config), [path], "{config}");
        }
    }
}
