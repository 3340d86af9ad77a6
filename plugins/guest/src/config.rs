//! Reading a plugin's config (rule contract 0.2): the JSON object the host passes as text,
//! already checked against the schema the plugin's `config-schema` returns. The plugin reads it
//! again here, and a value the schema would have refused still fails the call (a dry run's
//! `evaluate` passes its config unchecked, and a rule across fields, such as `max` at least
//! `min`, is beyond a schema).
//!
//! - [`parse`] reads the whole config into any serde type (a derived struct, say);
//! - [`ConfigNumbers`] reads whole numbers by key, given either as JSON integers or as strings
//!   of digits: what a 0.1 string-map config held, and what `edgecart plugin config key=text`
//!   still sends. So `{"max": 500000}` and `{"max": "500000"}` mean the same.
//! - [`whole!`](crate::whole) is the schema fragment that says so.
//!
//! Both panic on a bad value, with a message naming the plugin and the key: the host then
//! fails the request with 503 `PLUGIN_FAILED` and keeps the message in the call's log. That
//! is on purpose: a misconfigured rule must not let requests through under a limit nobody set.

use alloc::string::String;
use core::ops::RangeInclusive;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The JSON Schema keywords of a whole number of at least 0 as [`ConfigNumbers`] reads it: a
/// JSON integer, or a string of 1 to 18 decimal digits (which always fits an `i64`), as a
/// string literal to splice into a property of a plugin's schema constant with `concat!`:
/// `concat!(r#"{"min": {"description": "…", "#, edgecart_guest::whole!(), "}}")`. A range
/// other than "at least 0" writes its own `pattern`, `minimum` and `maximum`.
#[macro_export]
macro_rules! whole {
    () => {
        r#""type": ["integer", "string"], "pattern": "^[0-9]{1,18}$", "minimum": 0"#
    };
}

/// Parses the config text `json` into `T`.
///
/// # Panics
/// When `json` is not JSON or does not fit `T`: ``{plugin}: config does not fit: {error}``.
#[track_caller]
pub fn parse<T: DeserializeOwned>(plugin: &str, json: &str) -> T {
    match serde_json::from_str(json) {
        Ok(config) => config,
        Err(e) => panic!("{plugin}: config does not fit: {e}"),
    }
}

/// Reads whole numbers from a plugin's config by key.
///
/// A value that is present but wrong panics with a message that starts with the plugin's
/// name and names the key:
/// - ``{plugin}: config `{key}` must be {kind}, got {value}`` when it is neither an integer
///   nor a string of one (the value as JSON, so a string keeps its quotes);
/// - ``{plugin}: config `{key}` is {n}, it must be at least {low}`` when it is below a range
///   with no upper end (one that ends at `i64::MAX`);
/// - ``{plugin}: config `{key}` is {n}, it must be {low} to {high}`` when it is outside any
///   other range.
///
/// Keys it is never asked for are ignored; the schema is where unknown keys are refused.
#[derive(Debug, Clone)]
pub struct ConfigNumbers<'a> {
    /// The plugin's name, at the start of each panic message, e.g. `charge-limits`.
    plugin: &'a str,
    /// What a value must be, in the panic message: `a whole number`, `a whole number of won`.
    kind: &'a str,
    /// The config's fields.
    fields: Map<String, Value>,
}

impl<'a> ConfigNumbers<'a> {
    /// Reads the config text `json` for `plugin`, whose numbers are `kind`.
    ///
    /// # Panics
    /// When `json` is not a JSON object (see [`parse`]).
    #[track_caller]
    pub fn parse(plugin: &'a str, kind: &'a str, json: &str) -> Self {
        Self {
            plugin,
            kind,
            fields: parse(plugin, json),
        }
    }

    /// The value of `key` as a whole number in `range`, or `default` when the key is absent.
    ///
    /// # Panics
    /// When the value is not a whole number or lies outside `range` (messages above). The
    /// panic names the caller's line, not this one.
    #[track_caller]
    pub fn get(&self, key: &str, default: i64, range: RangeInclusive<i64>) -> i64 {
        let Self { plugin, kind, .. } = *self;
        let Some(value) = self.fields.get(key) else {
            return default;
        };
        let Some(n) = whole(value) else {
            panic!("{plugin}: config `{key}` must be {kind}, got {value}")
        };
        let (low, high) = (*range.start(), *range.end());
        if range.contains(&n) {
            n
        } else if high == i64::MAX {
            panic!("{plugin}: config `{key}` is {n}, it must be at least {low}")
        } else {
            panic!("{plugin}: config `{key}` is {n}, it must be {low} to {high}")
        }
    }
}

/// A JSON integer (also one written with a zero fraction, `5.0`, which JSON Schema counts as
/// an integer), or a string that parses as one.
fn whole(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            // `as` saturates; the round trip tells a whole value in range from anything else.
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            let i = f as i64;
            #[allow(clippy::cast_precision_loss, clippy::float_cmp)]
            (i as f64 == f && i != i64::MAX).then_some(i)
        }),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(json: &str) -> ConfigNumbers<'_> {
        ConfigNumbers::parse("some-plugin", "a whole number of won", json)
    }

    const CONFIG: &str = r#"{"n": "7", "typed": 7, "five": 5.0, "big": 101, "neg": "-3", "bad": "7%", "half": 2.5, "yes": true}"#;

    #[test]
    fn numbers_in_range_typed_or_text_or_default() {
        let numbers = numbers(CONFIG);
        assert_eq!(numbers.get("n", 1, 0..=i64::MAX), 7);
        assert_eq!(numbers.get("typed", 1, 0..=i64::MAX), 7);
        assert_eq!(numbers.get("five", 1, 0..=i64::MAX), 5);
        assert_eq!(numbers.get("n", 1, 7..=7), 7);
        assert_eq!(numbers.get("neg", 1, -3..=0), -3);
        assert_eq!(numbers.get("absent", 42, 0..=10), 42);
        // A default is not checked against the range.
        assert_eq!(numbers.get("absent", -1, 0..=10), -1);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `neg` is -3, it must be at least 0")]
    fn a_number_below_an_open_range_panics() {
        numbers(CONFIG).get("neg", 0, 0..=i64::MAX);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `big` is 101, it must be 0 to 100")]
    fn a_number_above_a_range_panics() {
        numbers(CONFIG).get("big", 0, 0..=100);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `n` is 7, it must be 8 to 9")]
    fn a_number_below_a_closed_range_panics() {
        numbers(CONFIG).get("n", 0, 8..=9);
    }

    #[test]
    #[should_panic(
        expected = "some-plugin: config `bad` must be a whole number of won, got \"7%\""
    )]
    fn text_that_is_not_a_number_panics() {
        numbers(CONFIG).get("bad", 0, 0..=i64::MAX);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `half` must be a whole number of won, got 2.5")]
    fn a_fraction_panics() {
        numbers(CONFIG).get("half", 0, 0..=i64::MAX);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `yes` must be a whole number of won, got true")]
    fn a_boolean_panics() {
        numbers(CONFIG).get("yes", 0, 0..=i64::MAX);
    }

    #[test]
    fn numbers_too_large_for_an_i64_are_not_whole() {
        assert_eq!(whole(&serde_json::json!(1e19)), None);
        assert_eq!(whole(&serde_json::json!(u64::MAX)), None);
        assert_eq!(whole(&serde_json::json!("9223372036854775808")), None);
        assert_eq!(whole(&serde_json::json!(i64::MIN)), Some(i64::MIN));
    }

    #[test]
    #[should_panic(expected = "some-plugin: config does not fit: ")]
    fn a_config_that_is_not_an_object_panics() {
        numbers("[1]");
    }

    #[test]
    fn the_whole_fragment_takes_integers_and_digit_strings_only() {
        let schema = concat!(
            r#"{"type": "object", "properties": {"n": {"#,
            crate::whole!(),
            "}}}"
        );
        let errors = |config: &str| crate::testing::schema_errors(schema, config);
        for fits in [
            r#"{"n": 0}"#,
            r#"{"n": 500000}"#,
            r#"{"n": "500000"}"#,
            r#"{"n": "999999999999999999"}"#,
        ] {
            assert_eq!(errors(fits), [""; 0], "{fits}");
        }
        for refused in [
            r#"{"n": "lots"}"#,
            r#"{"n": -1}"#,
            r#"{"n": "-1"}"#,
            r#"{"n": "1,000"}"#,
            r#"{"n": ""}"#,
            r#"{"n": 2.5}"#,
            r#"{"n": "9999999999999999999"}"#,
            r#"{"n": null}"#,
        ] {
            assert_eq!(errors(refused), ["/n"], "{refused}");
        }
    }
}
