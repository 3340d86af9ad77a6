//! Products: detail, the list and the popular list (the detail and the popular list also at
//! the seed's paths), all served from the node's caches with revalidation ([`cached`]).

use axum::{Router, extract::State, response::Response, routing::get};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    cached::{self, IfNoneMatch},
    docs,
    extract::{Id, ListQuery, PageQuery},
    problem::ApiError,
    render::json_bytes,
};
use crate::{
    app::App,
    domain::{Attributes, Product, ProductId, Sold},
};

/// Routes of this module.
pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/products", get(list))
        .route("/api/v1/products/{productId}", get(detail))
        .route("/api/v1/products/popular", get(popular))
        // The seed's paths; `docs::SeedPaths` documents them from the main routes.
        .route(docs::SEED_ALIASES[0].0, get(detail))
        .route(docs::SEED_ALIASES[1].0, get(popular))
}

/// A product.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    /// The product's id.
    #[schema(example = 25)]
    pub id: i64,
    /// Display name.
    #[schema(example = "빽다방 아메리카노")]
    pub name: String,
    /// Unit price in won.
    #[schema(example = 2500)]
    pub price: i64,
    /// Units in stock.
    #[schema(example = 9)]
    pub stock: i64,
    /// The product's attributes; absent when it has none.
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    #[schema(schema_with = docs::attributes_schema)]
    pub attributes: Attributes,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            price: p.price,
            stock: p.stock,
            attributes: p.attributes,
        }
    }
}

/// A page of products.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    /// Ordered by id.
    pub items: Vec<ProductView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One product. Served from the node's cache, at most `EDGECART_PRODUCT_TTL_SECS` behind
/// orders; revalidate with the `ETag`.
#[utoipa::path(get, path = "/api/v1/products/{productId}", tag = "products",
    params(("productId" = i64, Path, minimum = 1, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 400, description = "INVALID_PRODUCT_ID"),
        (status = 404, description = "PRODUCT_NOT_FOUND"),
        docs::Unavailable,
    ))]
async fn detail(
    State(app): State<App>,
    Id(id): Id<ProductId>,
    revalidation: IfNoneMatch,
) -> Result<Response, ApiError> {
    let catalog = app.catalog();
    let served = catalog.product(id, render_detail).await?;
    Ok(cached::respond(
        &served,
        catalog.product_bounds(),
        &revalidation,
    ))
}

/// Products ordered by id. Served from the node's cache, at most
/// `EDGECART_PRODUCT_TTL_SECS` behind orders; revalidate with the `ETag`.
#[utoipa::path(get, path = "/api/v1/products", tag = "products",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 400, description = "INVALID_LIMIT, INVALID_CURSOR or INVALID_QUERY"),
        docs::Unavailable,
    ))]
async fn list(
    State(app): State<App>,
    ListQuery(page): ListQuery,
    revalidation: IfNoneMatch,
) -> Result<Response, ApiError> {
    let catalog = app.catalog();
    let render = |page: &crate::domain::Page<Product>| {
        json_bytes(&ProductPage {
            items: page.items.iter().cloned().map(ProductView::from).collect(),
            next_cursor: page.next_cursor.map(|c| c.encode()),
        })
    };
    let served = catalog.list(page, render).await?;
    Ok(cached::respond(
        &served,
        catalog.product_bounds(),
        &revalidation,
    ))
}

/// A popular product: units sold in paid orders of the last 72 hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct PopularView {
    /// Product id.
    #[schema(example = 101)]
    pub id: i64,
    /// Product name.
    #[schema(example = "양배추 샐러드")]
    pub name: String,
    /// Units sold in the window.
    #[schema(example = 20)]
    pub sale_count: i64,
}

impl From<&Sold> for PopularView {
    fn from(sold: &Sold) -> Self {
        Self {
            id: sold.id,
            name: sold.name.clone(),
            sale_count: sold.count,
        }
    }
}

/// The 5 products most sold in paid orders of the last 72 hours, most first, ties by id.
/// Served from a cache at most `EDGECART_POPULAR_TTL_SECS` stale; revalidate with the `ETag`.
#[utoipa::path(get, path = "/api/v1/products/popular", tag = "products",
    responses(
        (status = 200, description = "Up to 5 products", body = Vec<PopularView>),
        docs::Unavailable,
    ))]
async fn popular(State(app): State<App>, revalidation: IfNoneMatch) -> Result<Response, ApiError> {
    let catalog = app.catalog();
    let render =
        |items: &[Sold]| json_bytes(&items.iter().map(PopularView::from).collect::<Vec<_>>());
    let served = catalog.popular(render).await?;
    Ok(cached::respond(
        &served,
        catalog.popular_bounds(),
        &revalidation,
    ))
}

/// A product's answer to `GET /api/v1/products/{productId}` (also what the catalog's refresh
/// ahead renders).
pub fn render_detail(product: &Product) -> Vec<u8> {
    json_bytes(&ProductView::from(product.clone()))
}
