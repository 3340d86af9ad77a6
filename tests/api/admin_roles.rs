//! Admin identities: named tokens made with `edgecart admin-token`, their roles (a viewer
//! changes nothing, an editor changes plugins but not users), a revocation that holds on
//! every node at once, authentication before routing, and the audit log of every change.

use edgecart_tests::{ADMIN_TOKEN, DEFAULT_VERSION, TestApp, assert_problem, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};

/// An admin call with `token` (none when `None`) and an optional JSON body.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.http.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request sent")
}

async fn call_as(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    call(app, method, path, Some(token), body).await
}

async fn forbidden(response: reqwest::Response) {
    assert_problem(response, 403, "FORBIDDEN", "권한이 없습니다.").await;
}

#[tokio::test]
async fn each_role_may_do_what_it_names_and_nothing_more() {
    let app = spawn_app_with(|_| {}).await;
    let (viewer, editor, admin) = (
        app.create_admin_token("vera", "viewer"),
        app.create_admin_token("eddie", "editor"),
        app.create_admin_token("ada", "admin"),
    );
    let product = json!({"name": "p", "price": 100, "stock": 1});
    let user = json!({"name": "u", "hpNo": "010", "amount": 0});
    let config = json!({"config": {"max": "500000"}});

    // A viewer reads everything and changes nothing.
    for path in [
        "/admin/v1/plugins",
        "/admin/v1/plugins/charge-limits",
        "/admin/v1/audit",
    ] {
        assert_eq!(
            call(&app, Method::GET, path, Some(&viewer), None)
                .await
                .status(),
            200,
            "{path}"
        );
    }
    // An editor changes plugins, not users or products (below, with the viewer's refusals).
    let configured = call(
        &app,
        Method::PUT,
        "/admin/v1/plugins/charge-limits/config",
        Some(&editor),
        Some(config),
    )
    .await;
    assert_eq!(configured.status(), 200);
    let refused = [
        (
            &viewer,
            Method::POST,
            "/admin/v1/products",
            Some(product.clone()),
        ),
        (
            &viewer,
            Method::PUT,
            "/admin/v1/plugins/charge-limits/config",
            Some(json!({"config": {}})),
        ),
        (
            &viewer,
            Method::POST,
            "/admin/v1/plugins/charge-limits/deactivate",
            None,
        ),
        (&editor, Method::POST, "/admin/v1/users", Some(user.clone())),
        (
            &editor,
            Method::POST,
            "/admin/v1/products",
            Some(product.clone()),
        ),
    ];
    for (token, method, path, body) in refused {
        forbidden(call_as(&app, token, method, path, body).await).await;
    }

    // An admin does everything; the bootstrap token still works.
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/admin/v1/users",
            Some(&admin),
            Some(user)
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/admin/v1/products",
            Some(ADMIN_TOKEN),
            Some(product)
        )
        .await
        .status(),
        201
    );
    // Nothing the refused calls asked for happened.
    assert_eq!(app.scalar("SELECT count(*) FROM products").await, 1);
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, 1);
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_every_node_at_once() {
    let app = spawn_app_with(|_| {}).await;
    let node_b = app.spawn_node().await;
    let token = app.create_admin_token("temp", "viewer");
    for node in [&app, &node_b] {
        assert_eq!(
            call(node, Method::GET, "/admin/v1/plugins", Some(&token), None)
                .await
                .status(),
            200
        );
    }
    let listed = app.admin_token(&["list"]);
    assert!(
        listed.contains("temp\tviewer") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "list never shows a token's value");

    app.admin_token(&["revoke", "--name", "temp"]);

    // Within 1 s, by contract; tokens are checked against PostgreSQL on every request, so the
    // very next request on either node is refused.
    for node in [&node_b, &app] {
        forbidden(call(node, Method::GET, "/admin/v1/plugins", Some(&token), None).await).await;
    }
    assert!(app.admin_token(&["list"]).contains("revoked"));
}

#[tokio::test]
async fn admin_paths_authenticate_before_routing() {
    let app = spawn_app_with(|_| {}).await;
    // A wrong method without a token is answered like a right one: 401, not 405.
    for method in [Method::DELETE, Method::PUT, Method::GET] {
        let response = call(&app, method.clone(), "/admin/v1/users", None, None).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{method}");
        assert_problem(response, 401, "UNAUTHORIZED", "인증이 필요합니다.").await;
    }
    // With the right token, the wrong method is 405.
    let response = call(
        &app,
        Method::DELETE,
        "/admin/v1/users",
        Some(ADMIN_TOKEN),
        None,
    )
    .await;
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn a_named_token_opens_an_admin_api_that_has_no_bootstrap_token() {
    let app = spawn_app_with(|s| s.admin_token = None).await;
    let closed = call(&app, Method::GET, "/admin/v1/plugins", None, None).await;
    assert_eq!(closed.status(), 404);
    let token = app.create_admin_token("first", "admin");
    assert_eq!(
        call(&app, Method::GET, "/admin/v1/plugins", None, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        call(&app, Method::GET, "/admin/v1/plugins", Some(&token), None)
            .await
            .status(),
        200
    );
    forbidden(
        call(
            &app,
            Method::GET,
            "/admin/v1/plugins",
            Some(ADMIN_TOKEN),
            None,
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn the_audit_log_holds_every_change_with_its_actor_before_and_after() {
    let app = spawn_app_with(|_| {}).await;
    let alice = app.create_admin_token("alice", "admin");

    let product: Value = call_as(
        &app,
        &alice,
        Method::POST,
        "/admin/v1/products",
        Some(json!({"name": "p", "price": 100, "stock": 5})),
    )
    .await
    .json()
    .await
    .expect("product");
    let id = product["id"].as_i64().expect("product id");
    let updated = call_as(
        &app,
        &alice,
        Method::PATCH,
        &format!("/admin/v1/products/{id}"),
        Some(json!({"price": 150})),
    )
    .await;
    assert_eq!(updated.status(), 200);
    let user: Value = call_as(
        &app,
        &alice,
        Method::POST,
        "/admin/v1/users",
        Some(json!({"name": "u", "hpNo": "010", "amount": 0})),
    )
    .await
    .json()
    .await
    .expect("user");
    let user_id = user["userId"].as_i64().expect("user id");
    let patched = call_as(
        &app,
        &alice,
        Method::PATCH,
        &format!("/admin/v1/users/{user_id}"),
        Some(json!({"hpNo": "011"})),
    )
    .await;
    assert_eq!(patched.status(), 200);
    let plugin = "/admin/v1/plugins/charge-limits";
    for (method, path, body) in [
        (
            Method::PUT,
            format!("{plugin}/config"),
            Some(json!({"config": {"max": "7000"}})),
        ),
        (Method::POST, format!("{plugin}/deactivate"), None),
        (
            Method::POST,
            format!("{plugin}/activate"),
            Some(json!({"version": DEFAULT_VERSION})),
        ),
    ] {
        assert_eq!(
            call_as(&app, &alice, method, &path, body).await.status(),
            200,
            "{path}"
        );
    }
    // A refused change leaves no entry.
    let refused = call_as(
        &app,
        &alice,
        Method::PATCH,
        &format!("/admin/v1/products/{id}"),
        Some(json!({"price": -1})),
    )
    .await;
    assert_eq!(refused.status(), 400);
    app.admin_token(&["revoke", "--name", "alice"]);

    let entries = app.audit(None).await;
    let mine: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["actor"] == "alice" || e["actor"] == "cli")
        .map(|e| {
            (
                e["action"].as_str().unwrap_or(""),
                e["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        mine,
        [
            ("token.revoke", "cli"),
            ("plugin.activate", "alice"),
            ("plugin.deactivate", "alice"),
            ("plugin.configure", "alice"),
            ("user.update", "alice"),
            ("user.create", "alice"),
            ("product.update", "alice"),
            ("product.create", "alice"),
            ("token.create", "cli"),
        ],
        "{entries:#?}"
    );
    let product_entries = app.audit(Some(&format!("product:{id}"))).await;
    assert_eq!(product_entries.len(), 2);
    assert_eq!(product_entries[0]["before"]["price"], 100);
    assert_eq!(product_entries[0]["after"]["price"], 150);
    assert_eq!(product_entries[1]["before"], Value::Null);
    let configured = app.audit(Some("plugin:charge-limits")).await;
    let configure = configured
        .iter()
        .find(|e| e["action"] == "plugin.configure")
        .expect("configure entry");
    assert_eq!(configure["after"]["config"], json!({"max": "7000"}));
    assert_ne!(configure["before"]["config"], configure["after"]["config"]);
    // The default plugins' registration at first start is the server's own.
    assert!(
        entries
            .iter()
            .any(|e| e["actor"] == "edgecart" && e["action"] == "plugin.upload")
    );
}
