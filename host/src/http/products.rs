//! Products: detail, the list and the popular list (the detail and the popular list also at
//! the seed's paths).

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    docs,
    extract::{Id, ListQuery, PageQuery},
    problem::ApiError,
};
use crate::{
    app::App,
    cache::Popular,
    domain::{Product, ProductId},
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
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            price: p.price,
            stock: p.stock,
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

/// One product.
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
) -> Result<Json<ProductView>, ApiError> {
    Ok(Json(app.catalog().product(id).await?.into()))
}

/// Products ordered by id.
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
) -> Result<Json<ProductPage>, ApiError> {
    let page = app.catalog().list(page).await?;
    Ok(Json(ProductPage {
        items: page.items.into_iter().map(ProductView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
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

/// The 5 products most sold in paid orders of the last 72 hours, most first, ties by id.
/// Served from a cache at most `EDGECART_POPULAR_TTL_SECS` stale; revalidate with the `ETag`.
#[utoipa::path(get, path = "/api/v1/products/popular", tag = "products",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "Up to 5 products", body = Vec<PopularView>,
            headers(("Cache-Control" = String, description = "public, max-age=N (N = the staleness bound)"), ("ETag" = String))),
        (status = 304, description = "Unchanged since the given ETag"),
        docs::Unavailable,
    ))]
async fn popular(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let list = app.catalog().popular().await?;
    let etag = format!("\"{}\"", list.tag);
    let max_age = format!("public, max-age={}", app.catalog().popular_ttl().as_secs());
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        rendered(&list)
    };
    let headers = response.headers_mut();
    if let (Ok(etag), Ok(max_age)) = (
        HeaderValue::from_str(&etag),
        HeaderValue::from_str(&max_age),
    ) {
        headers.insert(header::ETAG, etag);
        headers.insert(header::CACHE_CONTROL, max_age);
    }
    Ok(response)
}

/// The list as a JSON response; the body is rendered once per cached list.
fn rendered(list: &Popular) -> Response {
    let json = |body: &Bytes| ([(header::CONTENT_TYPE, "application/json")], body.clone());
    if let Some(body) = list.rendered.get() {
        return json(body).into_response();
    }
    let items: Vec<PopularView> = list
        .items
        .iter()
        .map(|s| PopularView {
            id: s.id,
            name: s.name.clone(),
            sale_count: s.count,
        })
        .collect();
    match serde_json::to_vec(&items) {
        Ok(body) => json(list.rendered.get_or_init(|| Bytes::from(body))).into_response(),
        // Cannot happen for these types; `Json` reports it as a 500 if it ever does.
        Err(_) => Json(items).into_response(),
    }
}
