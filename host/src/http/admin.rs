//! The operators' admin API under `/admin/v1/`: users and products. Every route sits behind
//! [`extract::require_admin`](super::extract::require_admin).

use axum::{
    Json, Router,
    extract::{Path, State},
    middleware,
    response::Response,
    routing::{patch, post},
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    extract::{self, JsonBody},
    problem::{ApiError, Problem},
    products::ProductView,
    render,
    users::UserView,
};
use crate::{app::App, domain::Patch, service::points::NewUser};

/// Routes of this module, behind the admin token check.
pub fn router(app: App) -> Router<App> {
    Router::new()
        .route("/admin/v1/users", post(create_user))
        .route("/admin/v1/products", post(create_product))
        .route("/admin/v1/products/{id}", patch(update_product))
        .route_layer(middleware::from_fn_with_state(app, extract::require_admin))
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
}

/// Opens a user account.
#[utoipa::path(post, path = "/admin/v1/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "INVALID_USER or INVALID_REQUEST_BODY", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHORIZED", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "FORBIDDEN", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Admin API closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is down", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_user(
    State(app): State<App>,
    body: Result<JsonBody<CreateUser>, ApiError>,
) -> Result<Response, ApiError> {
    let JsonBody(body) = body?;
    let new = NewUser {
        name: body.name,
        hp_no: body.hp_no,
        amount: body.amount,
    };
    let user = app.points().create_user(new).await?;
    Ok(render::created(&UserView::from(user)))
}

/// Adds a product.
#[utoipa::path(post, path = "/admin/v1/products", tag = "admin", security(("bearer" = [])),
    request_body = CreateProduct,
    responses(
        (status = 201, description = "Created", body = ProductView),
        (status = 400, description = "INVALID_PRODUCT or INVALID_REQUEST_BODY", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHORIZED", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "FORBIDDEN", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Admin API closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is down", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_product(
    State(app): State<App>,
    body: Result<JsonBody<CreateProduct>, ApiError>,
) -> Result<Response, ApiError> {
    let JsonBody(body) = body?;
    let product = app
        .catalog()
        .create(&body.name, body.price, body.stock)
        .await?;
    Ok(render::created(&ProductView::from(product)))
}

/// Changes a product's name, price or stock.
#[utoipa::path(patch, path = "/admin/v1/products/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Product id")),
    request_body = UpdateProduct,
    responses(
        (status = 200, description = "Updated", body = ProductView),
        (status = 400, description = "INVALID_PRODUCT_ID, INVALID_PRODUCT or INVALID_REQUEST_BODY", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHORIZED", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "FORBIDDEN", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PRODUCT_NOT_FOUND, or the admin API is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is down", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_product(
    State(app): State<App>,
    Path(raw): Path<String>,
    body: Result<JsonBody<UpdateProduct>, ApiError>,
) -> Result<Json<ProductView>, ApiError> {
    let id = extract::product_id(&raw)?;
    let JsonBody(body) = body?;
    let patch = Patch {
        name: body.name,
        price: body.price,
        stock: body.stock,
    };
    Ok(Json(app.catalog().update(id, patch).await?.into()))
}
