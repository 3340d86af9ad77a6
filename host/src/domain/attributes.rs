//! Attributes of products and users (placeholder until the validated type lands).

use std::collections::BTreeMap;

/// Key/value strings an operator set on a product or a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Attributes(BTreeMap<String, String>);

/// Not attributes.
#[derive(Debug, thiserror::Error)]
#[error("attributes must be an object of strings")]
pub struct AttributesError;

impl Attributes {
    /// Attributes from a JSON object of strings.
    pub fn parse(value: &serde_json::Value) -> Result<Self, AttributesError> {
        serde_json::from_value(value.clone())
            .map(Self)
            .map_err(|_| AttributesError)
    }

    /// Pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
