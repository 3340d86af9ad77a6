//! Attributes on products and users: set, replaced and cleared through the admin API, refused
//! with a 400 naming the bad key, shown in product answers only when not empty, reflected in
//! the product cache's ETag and in the audit log, and documented in the OpenAPI document.

use edgecart_tests::{TestApp, assert_problem, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// PATCHes an admin path; returns the status and the JSON body.
async fn patch(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .admin(Method::PATCH, path)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The attributes stored for a row of `table`.
async fn stored(app: &TestApp, table: &str, id: i64) -> Value {
    let sql = format!("SELECT attributes FROM {table} WHERE id = $1");
    app.db.query_one(&sql, &[&id]).await.unwrap().get(0)
}

/// The `detail` of a problem answer with this status and code.
async fn problem_detail(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    body["detail"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn product_attributes_are_set_replaced_whole_and_cleared_and_shown_only_when_not_empty() {
    // Arrange
    let app = spawn_app().await;
    let created = app
        .admin_post(
            "/admin/v1/products",
            &json!({"name": "양배추 샐러드", "price": 2_500, "stock": 10,
                    "attributes": {"category": "salad", "brand": "빽다방"}}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let path = format!("/admin/v1/products/{id}");
    assert_eq!(
        created["attributes"],
        json!({"category": "salad", "brand": "빽다방"})
    );

    // Act + Assert: both read paths and the list show them.
    for read in [format!("/api/v1/products/{id}"), format!("/products/{id}")] {
        let product: Value = app.get(&read).await.json().await.unwrap();
        assert_eq!(
            product,
            json!({"id": id, "name": "양배추 샐러드", "price": 2_500, "stock": 10,
                   "attributes": {"brand": "빽다방", "category": "salad"}})
        );
    }
    let list: Value = app.get("/api/v1/products").await.json().await.unwrap();
    assert_eq!(list["items"][0]["attributes"]["category"], "salad");

    // A patch of other fields keeps them; a patch of attributes replaces them whole.
    let (status, kept) = patch(&app, &path, &json!({"stock": 9})).await;
    assert_eq!(
        (status, &kept["attributes"]["brand"]),
        (200, &json!("빽다방"))
    );
    let (status, replaced) = patch(&app, &path, &json!({"attributes": {"tier": "a"}})).await;
    assert_eq!(status, 200);
    assert_eq!(replaced["attributes"], json!({"tier": "a"}));
    assert_eq!(stored(&app, "products", id).await, json!({"tier": "a"}));

    // `{}` clears them, and an empty set is left out of every answer.
    let (status, cleared) = patch(&app, &path, &json!({"attributes": {}})).await;
    assert_eq!(status, 200);
    assert!(cleared.get("attributes").is_none(), "{cleared}");
    assert_eq!(
        app.product(id).await,
        json!({"id": id, "name": "양배추 샐러드", "price": 2_500, "stock": 9})
    );
    assert_eq!(stored(&app, "products", id).await, json!({}));
}

#[tokio::test]
async fn a_change_of_attributes_changes_the_products_etag() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_product("p", 1_000, 5).await;
    let read = format!("/api/v1/products/{id}");
    let before = app.get(&read).await;
    let old_tag = before.headers()["etag"].to_str().unwrap().to_owned();

    // Act
    let status = app
        .patch_product(id, &json!({"attributes": {"category": "salad"}}))
        .await;

    // Assert: the old tag no longer revalidates, and the new answer carries the attributes.
    assert_eq!(status, 200);
    let after = app.get_with(&read, &[("if-none-match", &old_tag)]).await;
    assert_eq!(after.status(), 200);
    let new_tag = after.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_tag, old_tag);
    let body: Value = after.json().await.unwrap();
    assert_eq!(body["attributes"], json!({"category": "salad"}));
    let again = app.get_with(&read, &[("if-none-match", &new_tag)]).await;
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn user_attributes_are_optional_at_creation_and_replaced_or_cleared_by_a_patch() {
    // Arrange
    let app = spawn_app().await;
    let plain = app.create_user("plain", 0).await;
    let created = app
        .admin_post(
            "/admin/v1/users",
            &json!({"name": "김테스트", "hpNo": "010-1234-4112", "amount": 0,
                    "attributes": {"tier": "gold"}}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["userId"].as_i64().unwrap();
    let path = format!("/admin/v1/users/{id}");

    // Assert
    assert_eq!(created["attributes"], json!({"tier": "gold"}));
    assert_eq!(stored(&app, "users", plain).await, json!({}));
    let plain_view: Value = app
        .get(&format!("/api/v1/users/{plain}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(plain_view.get("attributes").is_none(), "{plain_view}");

    let (status, replaced) = patch(&app, &path, &json!({"attributes": {"region": "seoul"}})).await;
    assert_eq!(status, 200);
    assert_eq!(replaced["attributes"], json!({"region": "seoul"}));
    assert_eq!(replaced["name"], "김테스트");
    let (status, renamed) = patch(&app, &path, &json!({"name": "이름"})).await;
    assert_eq!(
        (status, &renamed["attributes"]),
        (200, &json!({"region": "seoul"}))
    );
    let (status, cleared) = patch(&app, &path, &json!({"attributes": {}})).await;
    assert_eq!(status, 200);
    assert!(cleared.get("attributes").is_none(), "{cleared}");
    assert_eq!(stored(&app, "users", id).await, json!({}));
}

#[tokio::test]
async fn bad_attributes_are_a_400_naming_the_key_and_change_nothing() {
    // Arrange
    let app = spawn_app().await;
    let product = app.create_product("p", 1_000, 5).await;
    let user = app.create_user("u", 0).await;
    let big = "v".repeat(4_096 - 8 + 1);
    let cases = [
        (json!({"Bad Key": "x"}), Some("Bad Key")),
        (json!({"ok": "x", "k".repeat(65): "x"}), Some("kkkk")),
        (json!({"tier": 1}), Some("tier")),
        (json!({"tier": null}), Some("tier")),
        (json!({"tier": {"nested": "x"}}), Some("tier")),
        (json!({"k": big}), Some("4096")),
        (json!(["tier", "gold"]), None),
        (json!("tier"), None),
        (json!(null), None),
    ];

    for (attributes, named) in cases {
        let body = json!({"attributes": attributes});
        // Act
        let responses = [
            (
                app.admin(Method::PATCH, &format!("/admin/v1/products/{product}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
                "INVALID_PRODUCT",
            ),
            (
                app.admin_post(
                    "/admin/v1/products",
                    &json!({"name": "n", "price": 1, "stock": 1, "attributes": attributes}),
                )
                .await,
                "INVALID_PRODUCT",
            ),
            (
                app.admin(Method::PATCH, &format!("/admin/v1/users/{user}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
                "INVALID_USER",
            ),
            (
                app.admin_post(
                    "/admin/v1/users",
                    &json!({"name": "n", "hpNo": "1", "amount": 0, "attributes": attributes}),
                )
                .await,
                "INVALID_USER",
            ),
        ];
        // Assert
        for (response, code) in responses {
            let detail = problem_detail(response, 400, code).await;
            if let Some(named) = named {
                assert!(detail.contains(named), "{attributes}: {detail}");
            } else {
                assert!(detail.contains("object"), "{attributes}: {detail}");
            }
        }
    }
    assert_eq!(app.scalar("SELECT count(*) FROM products").await, 1);
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, 1);
    assert_eq!(stored(&app, "products", product).await, json!({}));
    assert_eq!(stored(&app, "users", user).await, json!({}));
}

#[tokio::test]
async fn attributes_of_exactly_4096_bytes_and_64_character_keys_are_accepted() {
    // Arrange
    let app = spawn_app().await;
    let product = app.create_product("p", 1_000, 5).await;
    let at_limit = json!({"k": "v".repeat(4_096 - 8)});
    let longest_key = json!({ "a.b-c_9".repeat(10)[..64].to_owned(): "x" });

    // Act + Assert
    for attributes in [at_limit, longest_key] {
        let status = app
            .patch_product(product, &json!({ "attributes": attributes }))
            .await;
        assert_eq!(status, 200, "{attributes}");
        assert_eq!(stored(&app, "products", product).await, attributes);
    }
}

#[tokio::test]
async fn the_audit_log_records_attributes_before_and_after() {
    // Arrange
    let app = spawn_app().await;
    let product = app.create_product("p", 1_000, 5).await;
    let user = app.create_user("u", 0).await;

    // Act
    app.patch_product(product, &json!({"attributes": {"category": "salad"}}))
        .await;
    let (status, _) = patch(
        &app,
        &format!("/admin/v1/users/{user}"),
        &json!({"attributes": {"tier": "gold"}}),
    )
    .await;
    assert_eq!(status, 200);

    // Assert
    for (target, before, after) in [
        (
            format!("product:{product}"),
            json!({}),
            json!({"category": "salad"}),
        ),
        (format!("user:{user}"), json!({}), json!({"tier": "gold"})),
    ] {
        let entries = app.audit(Some(&target)).await;
        let newest = &entries[0];
        assert_eq!(newest["before"]["attributes"], before, "{newest}");
        assert_eq!(newest["after"]["attributes"], after, "{newest}");
    }
}

#[tokio::test]
async fn an_attributes_only_user_patch_is_a_change_and_an_empty_one_is_refused() {
    let app = spawn_app().await;
    let user = app.create_user("u", 0).await;
    let path = format!("/admin/v1/users/{user}");
    let (status, _) = patch(&app, &path, &json!({"attributes": {"a": "b"}})).await;
    assert_eq!(status, 200);
    let response = app
        .admin(Method::PATCH, &path)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(
        response,
        400,
        "INVALID_USER",
        "유저 정보가 올바르지 않습니다.",
    )
    .await;
}

#[tokio::test]
async fn the_openapi_document_describes_attributes_and_the_coupon_code() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();

    // Assert
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "ProductView",
        "UserView",
        "CreateProduct",
        "UpdateProduct",
        "CreateUser",
        "UpdateUser",
    ] {
        let attributes = &schemas[schema]["properties"]["attributes"];
        assert_eq!(attributes["type"], "object", "{schema}: {attributes}");
        assert_eq!(
            attributes["additionalProperties"]["type"], "string",
            "{schema}: {attributes}"
        );
        assert_eq!(
            attributes["propertyNames"]["pattern"], "^[a-z0-9_.-]{1,64}$",
            "{schema}: {attributes}"
        );
        let required = schemas[schema]["required"].as_array().cloned();
        assert!(
            !required.unwrap_or_default().contains(&json!("attributes")),
            "{schema}: attributes are optional"
        );
    }
    let coupon = &schemas["OrderRequest"]["properties"]["couponCode"];
    assert_eq!(coupon["minLength"], 1, "{coupon}");
    assert_eq!(coupon["maxLength"], 64, "{coupon}");
}
