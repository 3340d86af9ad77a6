//! [`Attributes`]: the string-to-string labels operators put on products and users (`category`,
//! `brand`, `tier`), which rule plugins see. `parse` enforces the contract's limits once: keys
//! `[a-z0-9_.-]{1,64}`, string values, 4 KiB in all. Nothing here knows HTTP or SQL.

use std::collections::BTreeMap;

use serde::Serialize;

/// The longest key, in bytes (keys are ASCII).
pub const MAX_ATTRIBUTE_KEY_LEN: usize = 64;

/// The most the attributes may take, as the object's compact JSON text, in bytes.
pub const MAX_ATTRIBUTES_BYTES: usize = 4096;

/// How much of a bad key an error quotes.
const QUOTED_KEY_CHARS: usize = 80;

/// Validated attributes: a map from `[a-z0-9_.-]{1,64}` keys to strings, at most
/// [`MAX_ATTRIBUTES_BYTES`] as compact JSON. Serializes as the JSON object it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Attributes(BTreeMap<String, String>);

/// Why a value is not [`Attributes`]; the message names the bad key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributesError {
    /// Not a JSON object (an array, a string, `null`, …).
    #[error("attributes must be a JSON object of strings")]
    NotAnObject,
    /// A key outside `[a-z0-9_.-]{1,64}`.
    #[error("attribute key {0:?} must match [a-z0-9_.-]{{1,64}}")]
    BadKey(String),
    /// A value that is not a string.
    #[error("attribute {0:?} must be a string")]
    NotAString(String),
    /// A value holding a NUL character, which PostgreSQL cannot store.
    #[error("attribute {0:?} must not contain a NUL character")]
    Nul(String),
    /// The object is larger than [`MAX_ATTRIBUTES_BYTES`] as compact JSON.
    #[error("attributes take {0} bytes as JSON, more than the 4096 allowed")]
    TooLarge(usize),
}

impl Attributes {
    /// Accepts a JSON object whose keys are `[a-z0-9_.-]{1,64}` and whose values are strings
    /// (without NUL), at most [`MAX_ATTRIBUTES_BYTES`] as compact JSON; `{}` is empty.
    pub fn parse(value: &serde_json::Value) -> Result<Self, AttributesError> {
        let object = value.as_object().ok_or(AttributesError::NotAnObject)?;
        let mut map = BTreeMap::new();
        for (key, value) in object {
            if !valid_key(key) {
                return Err(AttributesError::BadKey(quoted(key)));
            }
            let text = value
                .as_str()
                .ok_or_else(|| AttributesError::NotAString(key.clone()))?;
            if text.contains('\0') {
                return Err(AttributesError::Nul(key.clone()));
            }
            map.insert(key.clone(), text.to_owned());
        }
        let attributes = Self(map);
        let size = attributes.json_len();
        if size > MAX_ATTRIBUTES_BYTES {
            return Err(AttributesError::TooLarge(size));
        }
        Ok(attributes)
    }

    /// The pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there is no attribute.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attributes as a JSON object (for storage and the audit log).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
                .collect(),
        )
    }

    /// Bytes of the compact JSON text of the object.
    fn json_len(&self) -> usize {
        // Serializing a map of strings cannot fail; a failure would count as too large.
        serde_json::to_vec(&self.0).map_or(usize::MAX, |json| json.len())
    }
}

/// Whether `key` is 1 to 64 of `a-z`, `0-9`, `_`, `.` and `-`.
fn valid_key(key: &str) -> bool {
    (1..=MAX_ATTRIBUTE_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-'))
}

/// The start of a key, for an error message (a bad key may be long).
fn quoted(key: &str) -> String {
    match key.char_indices().nth(QUOTED_KEY_CHARS) {
        Some((end, _)) => format!("{}…", &key[..end]),
        None => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_of_strings_with_valid_keys_are_attributes_in_key_order() {
        let attributes =
            Attributes::parse(&json!({"tier": "gold", "brand": "빽다방", "a.b_c-9": ""})).unwrap();
        let pairs: Vec<_> = attributes.iter().collect();
        assert_eq!(
            pairs,
            vec![("a.b_c-9", ""), ("brand", "빽다방"), ("tier", "gold")]
        );
        assert!(Attributes::parse(&json!({})).unwrap().is_empty());
        assert!(Attributes::default().is_empty());
        assert_eq!(
            serde_json::to_value(&attributes).unwrap(),
            json!({"tier": "gold", "brand": "빽다방", "a.b_c-9": ""})
        );
        assert_eq!(
            attributes.to_json(),
            serde_json::to_value(&attributes).unwrap()
        );
    }

    #[test]
    fn anything_but_an_object_is_refused() {
        for value in [json!(null), json!([]), json!("x"), json!(1), json!(true)] {
            assert_eq!(
                Attributes::parse(&value),
                Err(AttributesError::NotAnObject),
                "{value}"
            );
        }
    }

    #[test]
    fn keys_are_1_to_64_lowercase_letters_digits_and_dot_dash_underscore() {
        let longest = "k".repeat(64);
        assert!(Attributes::parse(&json!({ longest: "v" })).is_ok());
        for key in ["", "Tier", "with space", "ü", "a/b", "a:b", &"k".repeat(65)] {
            assert!(
                matches!(
                    Attributes::parse(&json!({ key: "v" })),
                    Err(AttributesError::BadKey(_))
                ),
                "{key:?}"
            );
        }
        let error = Attributes::parse(&json!({"Bad Key": "v"})).unwrap_err();
        assert!(error.to_string().contains("\"Bad Key\""), "{error}");
        let long = Attributes::parse(&json!({ "X".repeat(1000): "v" })).unwrap_err();
        assert!(long.to_string().len() < 200, "{long}");
    }

    #[test]
    fn values_must_be_strings_without_nul_and_the_error_names_the_key() {
        for value in [
            json!(1),
            json!(null),
            json!(["a"]),
            json!({"a": "b"}),
            json!(true),
        ] {
            assert_eq!(
                Attributes::parse(&json!({ "tier": value })),
                Err(AttributesError::NotAString("tier".into()))
            );
        }
        let error = Attributes::parse(&json!({"tier": "a\u{0}b"})).unwrap_err();
        assert_eq!(error, AttributesError::Nul("tier".into()));
        assert!(error.to_string().contains("tier"));
    }

    #[test]
    fn the_object_takes_at_most_4096_bytes_as_compact_json() {
        // {"k":"…"} is 8 bytes around the value.
        let at_limit = json!({"k": "v".repeat(MAX_ATTRIBUTES_BYTES - 8)});
        assert_eq!(
            serde_json::to_vec(&at_limit).unwrap().len(),
            MAX_ATTRIBUTES_BYTES
        );
        assert!(Attributes::parse(&at_limit).is_ok());
        let over = json!({"k": "v".repeat(MAX_ATTRIBUTES_BYTES - 7)});
        assert_eq!(
            Attributes::parse(&over),
            Err(AttributesError::TooLarge(MAX_ATTRIBUTES_BYTES + 1))
        );
        // Escapes count as they are written: a quote takes two bytes.
        let escaped = json!({"k": "\"".repeat(MAX_ATTRIBUTES_BYTES / 2)});
        assert!(matches!(
            Attributes::parse(&escaped),
            Err(AttributesError::TooLarge(_))
        ));
    }
}
