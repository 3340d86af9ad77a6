//! Both contracts side by side: a 0.2 component (the echo fixtures) receives every 0.2 field
//! and its config as JSON text and declares a schema; a 0.1 component (`fx-echo-pairs`) still
//! compiles and decides, with its config as pairs and no schema; every default plugin is a 0.2
//! component with a closed schema; a component of neither world is refused naming both.

use serde_json::json;

use super::{HARMLESS, charge, fixture};
use crate::{
    domain::Attributes,
    plugins::{Contract, Hook, HookInput, Limits, PluginConfig, Runtime},
    rules::{ChargeInput, Decision, OrderInput, OrderLineInput},
};

fn attributes(value: serde_json::Value) -> Attributes {
    Attributes::parse(&value).expect("valid attributes")
}

/// The rejection message of a decision that must be a rejection.
fn message(decision: Result<Decision, crate::plugins::CallFailure>) -> String {
    match decision {
        Ok(Decision::Reject(rejection)) => {
            assert_eq!(rejection.code, "ECHO");
            rejection.message
        }
        other => panic!("expected the echo's rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_0_2_order_plugin_sees_the_time_coupon_attributes_paid_orders_and_json_config() {
    let runtime = Runtime::new(Limits::default(), None).expect("the sandbox builds");
    let plugin = runtime
        .compile(Hook::OrderValidate, &fixture("fx-echo-order"))
        .expect("the 0.2 component compiles for order.validate");
    assert_eq!(plugin.contract(), Contract::V0_2);
    let input = HookInput::OrderValidate(OrderInput {
        user_id: 25,
        balance: 10_000,
        lines: vec![OrderLineInput {
            product_id: 101,
            quantity: 2,
            unit_price: 2_500,
            name: "양배추 샐러드".into(),
            attributes: attributes(json!({"category": "salad", "brand": "빽다방"})),
        }],
        coupon: Some("SPRING25".into()),
        user_attributes: attributes(json!({"tier": "gold"})),
        paid_orders: 3,
        now_ms: 1_767_225_600_000,
    });
    let config = PluginConfig::new(&json!({"percent": 10, "coupons": ["SPRING25"]}));
    let called = runtime.call(&plugin, &input, &config).await;
    assert_eq!(
        message(called.outcome),
        "now=1767225600000 coupon=SPRING25 paid=3 user={tier=gold} \
         lines=[101:양배추 샐러드:{brand=빽다방,category=salad}:2500] \
         config={\"coupons\":[\"SPRING25\"],\"percent\":10}"
    );
    let schema = runtime
        .config_schema(&plugin)
        .await
        .expect("the schema call");
    assert_eq!(schema.as_deref(), Some(r#"{"type": "object"}"#));
}

#[tokio::test]
async fn a_0_2_charge_plugin_sees_the_users_attributes_and_the_time() {
    let runtime = Runtime::new(Limits::default(), None).expect("the sandbox builds");
    let plugin = runtime
        .compile(Hook::ChargeValidate, &fixture("fx-echo-charge"))
        .expect("the 0.2 component compiles for charge.validate");
    let input = HookInput::Charge(ChargeInput {
        user_id: 7,
        amount: 5_000,
        balance: 0,
        user_attributes: attributes(json!({"tier": "silver"})),
        now_ms: 42,
    });
    let called = runtime
        .call(&plugin, &input, &PluginConfig::default())
        .await;
    assert_eq!(
        message(called.outcome),
        "now=42 user={tier=silver} amount=5000 config={}"
    );
    let schema = runtime
        .config_schema(&plugin)
        .await
        .expect("the schema call");
    let schema: serde_json::Value =
        serde_json::from_str(&schema.expect("a 0.2 schema")).expect("JSON");
    assert_eq!(schema["properties"]["max"]["type"], "integer");
}

#[tokio::test]
async fn a_0_1_plugin_still_decides_with_pairs_and_has_no_schema() {
    let runtime = Runtime::new(Limits::default(), None).expect("the sandbox builds");
    let plugin = runtime
        .compile(Hook::ChargeValidate, &fixture("fx-echo-pairs"))
        .expect("the 0.1 fixture compiles");
    assert_eq!(plugin.contract(), Contract::V0_1);
    let config = PluginConfig::new(&json!({"max": "5000", "note": "x"}));
    let called = runtime.call(&plugin, &charge(HARMLESS), &config).await;
    assert_eq!(
        message(called.outcome),
        format!("amount={HARMLESS} config=max=5000,note=x")
    );
    assert_eq!(runtime.config_schema(&plugin).await.expect("no call"), None);
}

#[tokio::test]
async fn the_default_plugins_are_0_2_components_with_a_schema_that_forbids_unknown_keys() {
    let runtime = Runtime::new(Limits::default(), None).expect("the sandbox builds");
    for (name, hook) in [
        ("charge-limits", Hook::ChargeValidate),
        ("order-checks", Hook::OrderValidate),
        ("bulk-discount", Hook::OrderPrice),
        ("promotions", Hook::OrderPrice),
        ("template", Hook::ChargeValidate),
    ] {
        let plugin = runtime
            .compile(
                hook,
                &super::component(&format!("plugins/dist/{name}.wasm")),
            )
            .unwrap_or_else(|e| panic!("{name} compiles: {e}"));
        assert_eq!(plugin.contract(), Contract::V0_2, "{name}");
        let schema = runtime
            .config_schema(&plugin)
            .await
            .expect("the schema call")
            .unwrap_or_else(|| panic!("{name} has a schema"));
        let schema: serde_json::Value = serde_json::from_str(&schema).expect("JSON");
        assert_eq!(schema["additionalProperties"], false, "{name}: {schema}");
        assert_eq!(schema["title"], name, "{name}");
    }
}

#[test]
fn a_component_of_another_hooks_world_is_refused_naming_both_contracts() {
    let runtime = Runtime::new(Limits::default(), None).expect("the sandbox builds");
    let refused = runtime
        .compile(Hook::OrderPrice, &fixture("fx-echo-order"))
        .expect_err("an order.validate component is no order.price plugin");
    assert!(refused.0.contains("edgecart:rules@0.2.0"), "{refused}");
    assert!(refused.0.contains("edgecart:rules@0.1.0"), "{refused}");
}
