//! The operators' admin API under `/admin/v1/`: who is calling (`me`), users, products and
//! the audit log. Every
//! route sits behind [`require_admin`](super::admin_auth::require_admin), applied in
//! [`super::router`].

use axum::{
    Json, Router,
    extract::State,
    response::Response,
    routing::{get, patch, post},
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::{
    admin_auth::Admin,
    audit, docs,
    extract::{self, Id, JsonBody, RequestBody},
    problem::ApiError,
    products::ProductView,
    render,
    users::UserView,
};
use crate::{
    app::App,
    domain::{Attributes, AttributesError, Patch, ProductId, UserId},
    service::{
        self,
        catalog::NewProduct,
        points::{NewUser, UserPatch},
    },
};

/// Routes of this module; [`super::router`] puts them behind the admin token check.
pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/v1/users", post(create_user))
        .route("/admin/v1/products", post(create_product))
        .route("/admin/v1/users/{id}", patch(update_user))
        .route("/admin/v1/products/{id}", patch(update_product))
        .route("/admin/v1/audit", get(audit::list_audit))
        .route("/admin/v1/me", get(whoami))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser {
    /// Display name, 1 to 100 characters.
    #[schema(
        example = "김테스트",
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00]*$"
    )]
    pub name: String,
    /// Phone number, 1 to 32 characters.
    #[schema(
        example = "010-1234-4112",
        min_length = 1,
        max_length = 32,
        pattern = "^[^\\x00]*$"
    )]
    pub hp_no: String,
    /// Opening balance in won (≥ 0), recorded as a CHARGE.
    #[serde(default, deserialize_with = "extract::integer::required")]
    #[schema(minimum = 0, example = 0)]
    pub amount: i64,
    /// Attributes (default: none).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = docs::attributes_schema)]
    pub attributes: Option<serde_json::Value>,
}

/// A new product.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProduct {
    /// Display name, 1 to 200 characters.
    #[schema(
        example = "양배추 샐러드",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00]*$"
    )]
    pub name: String,
    /// Unit price in won (≥ 0).
    #[serde(deserialize_with = "extract::integer::required")]
    #[schema(minimum = 0, example = 2500)]
    pub price: i64,
    /// Units in stock (≥ 0).
    #[serde(deserialize_with = "extract::integer::required")]
    #[schema(minimum = 0, example = 10)]
    pub stock: i64,
    /// Attributes (default: none).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = docs::attributes_schema)]
    pub attributes: Option<serde_json::Value>,
}

/// Changes to a product; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateProduct {
    /// New name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\x00]*$")]
    pub name: Option<String>,
    /// New unit price (≥ 0).
    #[serde(default, deserialize_with = "extract::integer::optional")]
    #[schema(minimum = 0)]
    pub price: Option<i64>,
    /// New stock (≥ 0).
    #[serde(default, deserialize_with = "extract::integer::optional")]
    #[schema(minimum = 0)]
    pub stock: Option<i64>,
    /// New attributes, replacing the old ones whole; `{}` clears them.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = docs::attributes_schema)]
    pub attributes: Option<serde_json::Value>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    /// New display name, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = "^[^\\x00]*$")]
    pub name: Option<String>,
    /// New phone number, 1 to 32 characters.
    #[schema(min_length = 1, max_length = 32, pattern = "^[^\\x00]*$")]
    pub hp_no: Option<String>,
    /// New attributes, replacing the old ones whole; `{}` clears them.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = docs::attributes_schema)]
    pub attributes: Option<serde_json::Value>,
}

/// A field that is there when given at all, `null` included (which attributes refuse): only
/// an absent field is `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// Validates given attributes; `invalid` names whose they are for the error.
fn attributes(
    value: Option<&serde_json::Value>,
    invalid: fn(AttributesError) -> service::Error,
) -> Result<Option<Attributes>, ApiError> {
    value
        .map(Attributes::parse)
        .transpose()
        .map_err(|error| ApiError::Service(invalid(error)))
}

/// The operator a token stands for.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorView {
    /// The token's name, as the audit log writes it (`admin` for the bootstrap token).
    #[schema(example = "alice")]
    pub name: String,
    /// `viewer` (reads only), `editor` (plugins too) or `admin` (everything).
    #[schema(example = "editor")]
    pub role: String,
}

/// Who the bearer token stands for and what its role lets it do (any role may ask): the
/// console shows as changeable only what the role allows.
#[utoipa::path(get, path = "/admin/v1/me", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's operator", body = OperatorView),
        (status = 404, description = "Admin API closed"),
        docs::AdminAuth,
    ))]
async fn whoami(Admin(operator): Admin) -> Json<OperatorView> {
    Json(OperatorView {
        name: operator.name,
        role: operator.role.as_str().to_owned(),
    })
}

impl RequestBody for UpdateUser {}
impl RequestBody for CreateUser {}
impl RequestBody for CreateProduct {}
impl RequestBody for UpdateProduct {}

/// Opens a user account.
#[utoipa::path(post, path = "/admin/v1/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "INVALID_USER or INVALID_REQUEST_BODY"),
        (status = 404, description = "Admin API closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn create_user(
    State(app): State<App>,
    Admin(operator): Admin,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<Response, ApiError> {
    let attributes = attributes(
        body.attributes.as_ref(),
        service::Error::InvalidUserAttributes,
    )?;
    let new = NewUser {
        name: body.name,
        hp_no: body.hp_no,
        amount: body.amount,
        attributes: attributes.unwrap_or_default(),
    };
    let user = app.points().create_user(&operator, new).await?;
    Ok(render::created(&UserView::from(user)))
}

/// Adds a product.
#[utoipa::path(post, path = "/admin/v1/products", tag = "admin", security(("bearer" = [])),
    request_body = CreateProduct,
    responses(
        (status = 201, description = "Created", body = ProductView),
        (status = 400, description = "INVALID_PRODUCT or INVALID_REQUEST_BODY"),
        (status = 404, description = "Admin API closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn create_product(
    State(app): State<App>,
    Admin(operator): Admin,
    JsonBody(body): JsonBody<CreateProduct>,
) -> Result<Response, ApiError> {
    let attributes = attributes(
        body.attributes.as_ref(),
        service::Error::InvalidProductAttributes,
    )?;
    let new = NewProduct {
        name: body.name,
        price: body.price,
        stock: body.stock,
        attributes: attributes.unwrap_or_default(),
    };
    let product = app.catalog().create(&operator, &new).await?;
    Ok(render::created(&ProductView::from(product)))
}

/// Changes a product's name, price, stock or attributes.
#[utoipa::path(patch, path = "/admin/v1/products/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Product id")),
    request_body = UpdateProduct,
    responses(
        (status = 200, description = "Updated", body = ProductView),
        (status = 400, description = "INVALID_PRODUCT_ID, INVALID_PRODUCT or INVALID_REQUEST_BODY"),
        (status = 404, description = "PRODUCT_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn update_product(
    State(app): State<App>,
    Admin(operator): Admin,
    Id(id): Id<ProductId>,
    JsonBody(body): JsonBody<UpdateProduct>,
) -> Result<Json<ProductView>, ApiError> {
    let patch = Patch {
        attributes: attributes(
            body.attributes.as_ref(),
            service::Error::InvalidProductAttributes,
        )?,
        name: body.name,
        price: body.price,
        stock: body.stock,
    };
    Ok(Json(
        app.catalog().update(&operator, id, patch).await?.into(),
    ))
}

/// Changes a user's name, phone number or attributes.
#[utoipa::path(patch, path = "/admin/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 400, description = "INVALID_USER_ID, INVALID_USER or INVALID_REQUEST_BODY"),
        (status = 404, description = "USER_NOT_FOUND, or the admin API is closed"),
        docs::AdminAuth, docs::BodyErrors, docs::Unavailable,
    ))]
async fn update_user(
    State(app): State<App>,
    Admin(operator): Admin,
    Id(id): Id<UserId>,
    JsonBody(body): JsonBody<UpdateUser>,
) -> Result<Json<UserView>, ApiError> {
    let patch = UserPatch {
        attributes: attributes(
            body.attributes.as_ref(),
            service::Error::InvalidUserAttributes,
        )?,
        name: body.name,
        hp_no: body.hp_no,
    };
    Ok(Json(
        app.points().update_user(&operator, id, patch).await?.into(),
    ))
}
