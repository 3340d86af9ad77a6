//! Typed config (rule contract 0.2): the JSON Schema a version declares, taken at upload, and
//! the check every config must pass before a version runs with it. A version without a schema
//! (contract 0.1) takes any map of strings, as it always has.

use jsonschema::Validator;
use serde_json::Value;

use super::super::Error;

/// Field errors reported at most: a config that breaks more is still refused whole.
const MAX_ERRORS: usize = 20;

/// One way a config does not fit a schema: where (a JSON Pointer into the config, `""` for
/// the whole of it) and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigError {
    /// JSON Pointer to the offending value, e.g. `/max`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// The schema a component's `config-schema` returned, when it is a JSON object that compiles
/// as a draft 2020-12 schema (no remote references: nothing is fetched).
pub(super) fn parse(text: &str) -> Result<Value, Error> {
    let invalid = |why: String| Error::PluginInvalid(format!("its config schema {why}"));
    let schema: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("is not JSON: {e}")))?;
    if !schema.is_object() {
        return Err(invalid("is not a JSON object".into()));
    }
    compile(&schema).map_err(|e| invalid(format!("does not compile: {e}")))?;
    Ok(schema)
}

/// Whether `config` fits a version with `schema` (or, without one, a 0.1 version: strings
/// only); the field errors when it does not.
pub(super) fn check(schema: Option<&Value>, config: &Value) -> Result<(), Error> {
    let errors = match schema {
        None => config
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, value)| !value.is_string())
            .map(|(key, _)| ConfigError {
                path: format!("/{}", escape(key)),
                message: "a 0.1 plugin's config values must be strings".into(),
            })
            .take(MAX_ERRORS)
            .collect(),
        Some(schema) => {
            // A stored schema compiled at upload; one that no longer does refuses every config.
            let validator = compile(schema).map_err(|e| {
                Error::PluginInvalid(format!("its stored config schema does not compile: {e}"))
            })?;
            validator
                .iter_errors(config)
                .take(MAX_ERRORS)
                .map(|error| ConfigError {
                    path: error.instance_path().as_str().to_owned(),
                    message: error.to_string(),
                })
                .collect::<Vec<_>>()
        }
    };
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::PluginConfigInvalid(errors))
    }
}

fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::draft202012::new(schema).map_err(|e| e.to_string())
}

/// A key as a JSON Pointer segment (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(schema: Option<&Value>, config: Value) -> Vec<ConfigError> {
        match check(schema, &config) {
            Ok(()) => Vec::new(),
            Err(Error::PluginConfigInvalid(errors)) => errors,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_config_is_checked_against_the_schema_with_each_field_named() {
        let schema = parse(
            r#"{"type": "object", "required": ["max"], "additionalProperties": false,
                "properties": {"max": {"type": "integer", "minimum": 1}}}"#,
        )
        .expect("a valid schema");
        assert_eq!(errors(Some(&schema), json!({"max": 500})), []);
        let wrong_type = errors(Some(&schema), json!({"max": "lots"}));
        assert_eq!(wrong_type.len(), 1, "{wrong_type:?}");
        assert_eq!(wrong_type[0].path, "/max");
        let missing = errors(Some(&schema), json!({}));
        assert_eq!(missing[0].path, "");
        assert!(missing[0].message.contains("max"), "{missing:?}");
        let unknown = errors(Some(&schema), json!({"max": 5, "mx": 5}));
        assert!(unknown[0].message.contains("mx"), "{unknown:?}");
    }

    #[test]
    fn without_a_schema_only_strings_fit() {
        assert_eq!(errors(None, json!({"max": "500"})), []);
        let typed = errors(None, json!({"max": 500, "a/b": true}));
        let paths: Vec<&str> = typed.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/a~1b", "/max"]);
    }

    #[test]
    fn a_schema_that_is_not_json_an_object_or_a_schema_is_refused() {
        for text in ["not json", "[1]", r#"{"type": 5}"#] {
            assert!(
                matches!(parse(text), Err(Error::PluginInvalid(_))),
                "{text}"
            );
        }
    }
}
