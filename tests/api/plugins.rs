//! Rule plugins through the HTTP API: the default plugins' rules and the admin lifecycle
//! (upload checks, activation, rollback, evaluation, the errors that name what is missing).

use edgecart_tests::{
    DEFAULT_VERSION, assert_client_error, assert_problem, fixture_wasm, plugin_wasm, spawn_app,
};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_fresh_deployment_runs_the_default_plugins() {
    let app = spawn_app().await;
    let response = app
        .admin(Method::GET, "/admin/v1/plugins")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    let summary: Vec<(String, String, Value)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["hook"].as_str().unwrap().to_owned(),
                p["activeVersion"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("bulk-discount".into(), "order.price".into(), Value::Null),
            (
                "charge-limits".into(),
                "charge.validate".into(),
                json!(DEFAULT_VERSION)
            ),
            (
                "order-checks".into(),
                "order.validate".into(),
                json!(DEFAULT_VERSION)
            ),
            ("promotions".into(), "order.price".into(), Value::Null),
        ]
    );
    for plugin in list.as_array().unwrap() {
        let version = &plugin["versions"][0];
        assert_eq!(version["version"], DEFAULT_VERSION, "{plugin}");
        assert_eq!(
            version["configSchema"]["additionalProperties"], false,
            "a 0.2 component with a closed schema: {plugin}"
        );
    }
    let version = &list[1]["versions"][0];
    assert_eq!(version["sha256"].as_str().unwrap().len(), 64);
    assert!(version["size"].as_i64().unwrap() > 1000);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn charge_limits_are_the_plugins_and_follow_its_config_and_activation() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;

    // The default limits, from the plugin.
    assert_eq!(app.charge_amount(user, 1_000).await.status(), 200);
    assert_eq!(app.charge_amount(user, 1_000_000).await.status(), 200);
    assert_problem(
        app.charge_amount(user, 999).await,
        400,
        "CHARGE_AMOUNT_TOO_SMALL",
        "최소 충전 금액은 1,000원 입니다.",
    )
    .await;
    assert_problem(
        app.charge_amount(user, 1_000_001).await,
        400,
        "CHARGE_AMOUNT_TOO_LARGE",
        "최대 충전 금액은 1,000,000원 입니다.",
    )
    .await;

    // A config change applies to the next call.
    app.configure_plugin("charge-limits", json!({"max": "500000"}), None)
        .await;
    assert_problem(
        app.charge_amount(user, 600_000).await,
        400,
        "CHARGE_AMOUNT_TOO_LARGE",
        "최대 충전 금액은 500,000원 입니다.",
    )
    .await;
    assert_eq!(
        app.plugin_entry("charge-limits").await["config"],
        json!({"max": "500000"})
    );

    // Deactivated, the host holds no limit of its own (only "positive").
    let response = app
        .admin_post("/admin/v1/plugins/charge-limits/deactivate", &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.charge_amount(user, 5_000_000).await.status(), 200);
    assert_eq!(app.charge_amount(user, 1).await.status(), 200);
    assert_problem(
        app.charge_amount(user, 0).await,
        400,
        "INVALID_CHARGE_AMOUNT",
        "충전 금액이 올바르지 않습니다.",
    )
    .await;
    assert_eq!(app.balance(user).await, 1_001_000 + 5_000_001);
}

#[tokio::test]
async fn order_checks_and_bulk_discount_price_orders() {
    let app = spawn_app().await;
    let user = app.create_user("a", 1_000_000).await;
    let product = app.create_product("p", 1_000, 100).await;
    let order = |quantity: i64, amount: i64| json!({"user_id": user, "paymentAmount": amount, "products": [{"id": product, "quantity": quantity}]});

    // order-checks: configured quantity cap.
    app.configure_plugin("order-checks", json!({"max-quantity": "20"}), None)
        .await;
    let refused = assert_client_error(app.order(&order(21, 21_000), None).await, "too many").await;
    assert_eq!(refused["code"], "ORDER_QUANTITY_TOO_LARGE");
    let mut too_many_lines = Vec::new();
    for i in 0..21 {
        let id = app.create_product(&format!("line {i}"), 0, 10).await;
        too_many_lines.push(json!({"id": id, "quantity": 1}));
    }
    let refused = assert_client_error(
        app.order(
            &json!({"user_id": user, "paymentAmount": 0, "products": too_many_lines}),
            None,
        )
        .await,
        "lines",
    )
    .await;
    assert_eq!(refused["code"], "ORDER_TOO_MANY_LINES");

    // bulk-discount is uploaded but not active: list prices.
    assert_eq!(app.order(&order(10, 10_000), None).await.status(), 201);

    // Active: 10% off from 10 units; the old amount is now a mismatch.
    let activated = app
        .admin_post(
            "/admin/v1/plugins/bulk-discount/activate",
            &json!({"version": DEFAULT_VERSION}),
        )
        .await;
    assert_eq!(activated.status(), 200);
    assert_problem(
        app.order(&order(10, 10_000), None).await,
        409,
        "PAYMENT_AMOUNT_MISMATCH",
        "결제 금액이 일치하지 않습니다.",
    )
    .await;
    let placed = app.order(&order(10, 9_000), None).await;
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.unwrap();
    assert_eq!(placed["totalAmount"], 9_000);
    assert_eq!(app.order(&order(9, 9_000), None).await.status(), 201);
    assert_eq!(app.balance(user).await, 1_000_000 - 10_000 - 9_000 - 9_000);
}

#[tokio::test]
async fn uploads_are_validated() {
    let app = spawn_app().await;
    let invalid =
        |response| async move { assert_client_error(response, "upload").await["code"].clone() };
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    for bytes in [random, core_module, Vec::new()] {
        assert_eq!(
            invalid(
                app.upload_plugin("x", "charge.validate", "1.0.0", bytes)
                    .await
            )
            .await,
            "PLUGIN_INVALID"
        );
    }
    // The wrong world for the hook.
    assert_eq!(
        invalid(
            app.upload_plugin("x", "order.price", "1.0.0", plugin_wasm("charge-limits"))
                .await
        )
        .await,
        "PLUGIN_INVALID"
    );
    // Imports the host does not give, and a failing smoke call.
    for fixture in ["fx-wasi-files", "fx-wasi-sockets", "fx-smoke-panic"] {
        assert_eq!(
            invalid(
                app.upload_plugin("x", "charge.validate", "1.0.0", fixture_wasm(fixture))
                    .await
            )
            .await,
            "PLUGIN_INVALID",
            "{fixture}"
        );
    }
    // Over 16 MiB.
    let large = app
        .upload_plugin("x", "charge.validate", "1.0.0", fixture_wasm("fx-large"))
        .await;
    assert_eq!(large.status(), 413);
    // Bad names, versions, hooks, media types.
    for (name, hook, version) in [
        ("X", "charge.validate", "1.0.0"),
        ("x", "charge.check", "1.0.0"),
        ("x", "charge.validate", "one"),
    ] {
        assert_eq!(
            invalid(
                app.upload_plugin(name, hook, version, plugin_wasm("template"))
                    .await
            )
            .await,
            "INVALID_PLUGIN_REQUEST",
            "{name} {hook} {version}"
        );
    }
    let json_body = app
        .admin(
            Method::POST,
            "/admin/v1/plugins/x/versions?hook=charge.validate&version=1.0.0",
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 415);
    // A version is immutable; a plugin stays on its hook.
    assert_eq!(
        app.upload_plugin("x", "charge.validate", "1.0.0", plugin_wasm("template"))
            .await
            .status(),
        201
    );
    assert_problem(
        app.upload_plugin("x", "charge.validate", "1.0.0", plugin_wasm("template"))
            .await,
        409,
        "PLUGIN_VERSION_EXISTS",
        "이미 존재하는 플러그인 버전입니다.",
    )
    .await;
    assert_eq!(
        invalid(
            app.upload_plugin("x", "order.price", "2.0.0", plugin_wasm("bulk-discount"))
                .await
        )
        .await,
        "PLUGIN_INVALID"
    );
    // Nothing was stored by the refused uploads.
    assert_eq!(
        app.scalar("SELECT count(*) FROM plugin_versions WHERE name = 'x'")
            .await,
        1
    );
}

#[tokio::test]
async fn admin_errors_name_what_is_missing() {
    let app = spawn_app().await;
    let missing = app
        .admin(Method::GET, "/admin/v1/plugins/nope")
        .send()
        .await
        .unwrap();
    assert_problem(
        missing,
        404,
        "PLUGIN_NOT_FOUND",
        "플러그인을 찾을 수 없습니다.",
    )
    .await;
    let no_version = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/activate",
            &json!({"version": "9.9.9"}),
        )
        .await;
    assert_problem(
        no_version,
        404,
        "PLUGIN_VERSION_NOT_FOUND",
        "플러그인 버전을 찾을 수 없습니다.",
    )
    .await;
    // Versions and names no plugin can have never reach PostgreSQL (a NUL byte would be a
    // 500 there).
    let nul = app
        .admin_post(
            "/admin/v1/plugins/charge-limits/activate",
            &json!({"version": "\u{0}1.0.0"}),
        )
        .await;
    assert_problem(
        nul,
        404,
        "PLUGIN_VERSION_NOT_FOUND",
        "플러그인 버전을 찾을 수 없습니다.",
    )
    .await;
    let bad_name = app
        .admin(Method::GET, "/admin/v1/plugins/%00x")
        .send()
        .await
        .unwrap();
    assert_problem(
        bad_name,
        404,
        "PLUGIN_NOT_FOUND",
        "플러그인을 찾을 수 없습니다.",
    )
    .await;
    let no_previous = app
        .admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert_problem(
        no_previous,
        409,
        "NO_PREVIOUS_VERSION",
        "되돌릴 이전 버전이 없습니다.",
    )
    .await;
    let wrong_type = app
        .admin(Method::PUT, "/admin/v1/plugins/charge-limits/config")
        .json(&json!({"config": {"max": true}}))
        .send()
        .await
        .unwrap();
    let wrong_type = assert_client_error(wrong_type, "config").await;
    assert_eq!(wrong_type["code"], "PLUGIN_CONFIG_INVALID");
    assert_eq!(wrong_type["errors"][0]["path"], "/max", "{wrong_type}");
    let unauthenticated = app
        .http
        .get(app.url("/admin/v1/plugins"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn activation_rollback_and_evaluate() {
    let app = spawn_app().await;
    let user = app.create_user("a", 0).await;
    // 0.3.0 is the template: at most 1,000,000, and no minimum.
    app.deploy_plugin(
        "charge-limits",
        "charge.validate",
        "0.3.0",
        plugin_wasm("template"),
    )
    .await;
    assert_eq!(app.charge_amount(user, 500).await.status(), 200);
    let entry = app
        .admin_post("/admin/v1/plugins/charge-limits/rollback", &json!({}))
        .await;
    assert_eq!(entry.status(), 200);
    let entry: Value = entry.json().await.unwrap();
    assert_eq!(entry["activeVersion"], DEFAULT_VERSION);
    assert_eq!(
        assert_client_error(app.charge_amount(user, 500).await, "rolled back").await["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );

    // A dry run: decision, fuel, duration and the plugin's log; nothing stored.
    let evaluated = app
        .admin_post(
            &format!("/admin/v1/plugins/charge-limits/versions/{DEFAULT_VERSION}/evaluate"),
            &json!({"input": {"userId": 1, "amount": 999, "balance": 0}, "config": {"min": "500"}}),
        )
        .await;
    assert_eq!(evaluated.status(), 200);
    let evaluated: Value = evaluated.json().await.unwrap();
    assert_eq!(evaluated["decision"], json!({"accept": true}));
    assert!(evaluated["fuel"].as_u64().unwrap() > 0);
    let rejected: Value = app
        .admin_post(
            &format!("/admin/v1/plugins/charge-limits/versions/{DEFAULT_VERSION}/evaluate"),
            &json!({"input": {"userId": 1, "amount": 999, "balance": 0}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rejected["decision"]["reject"]["code"],
        "CHARGE_AMOUNT_TOO_SMALL"
    );
    assert!(
        !rejected["logs"].as_array().unwrap().is_empty(),
        "{rejected}"
    );
    assert_eq!(app.balance(user).await, 500);
}
