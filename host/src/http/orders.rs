//! Orders: place and pay with points, read, cancel.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, Method, StatusCode},
    response::Response,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    docs,
    extract::{self, Authenticated, Id, JsonBody, RequestBody},
    problem::ApiError,
    render,
    users::rfc3339,
};
use crate::{
    app::App,
    domain::{Order, OrderId},
    idempotency::IdempotentRequest,
    service::{self, orders::NewOrder},
};

/// Routes of this module.
pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/orders", post(place))
        .route("/api/v1/orders/{orderId}", get(show))
        .route("/api/v1/orders/{orderId}/cancel", post(cancel))
}

/// An order to place and pay (the seed's shape; extra fields are ignored).
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderRequest {
    /// Who orders (`userId` is accepted too). With end-user tokens it may be left out (the
    /// token's user orders) and, when given, must be the token's user.
    #[serde(
        alias = "userId",
        default,
        deserialize_with = "extract::integer::optional"
    )]
    #[schema(minimum = 1, example = 25)]
    pub user_id: Option<i64>,
    /// Lines; lines with the same product id are merged.
    #[schema(min_items = 1)]
    pub products: Vec<OrderItem>,
    /// What the client expects to pay; the server's total must match it.
    #[serde(
        rename = "paymentAmount",
        deserialize_with = "extract::integer::required"
    )]
    #[schema(minimum = 0, example = 10000)]
    pub payment_amount: i64,
    /// A coupon code for the pricing and check plugins, passed to them as it is: 1 to 64
    /// characters, no control character, not only whitespace.
    #[serde(rename = "couponCode", default)]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x1f\\x7f-\\x9f\\s][^\\x00-\\x1f\\x7f-\\x9f]*$",
        example = "WELCOME10"
    )]
    pub coupon_code: Option<String>,
}

/// One line of an order request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderItem {
    /// Product id.
    #[serde(deserialize_with = "extract::integer::required")]
    #[schema(minimum = 1, example = 101)]
    pub id: i64,
    /// Units, at least 1.
    #[serde(deserialize_with = "extract::integer::required")]
    #[schema(minimum = 1, example = 2)]
    pub quantity: i64,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    /// The order's id.
    pub order_id: i64,
    /// `PAID` or `CANCELLED`.
    #[schema(example = "PAID")]
    pub status: &'static str,
    /// Who ordered.
    pub user_id: i64,
    /// Points paid.
    pub total_amount: i64,
    /// Lines, ascending product id.
    pub items: Vec<OrderLineView>,
    /// When it was paid (RFC 3339, UTC).
    #[schema(example = "2026-11-24T10:00:00Z")]
    pub created_at: String,
}

/// One line of an order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineView {
    /// Product id.
    pub product_id: i64,
    /// Units.
    pub quantity: i64,
    /// Price paid per unit.
    pub unit_price: i64,
}

impl From<&Order> for OrderView {
    fn from(order: &Order) -> Self {
        Self {
            order_id: order.id,
            status: order.status.as_str(),
            user_id: order.user_id,
            total_amount: order.total_amount,
            items: order
                .lines
                .iter()
                .map(|l| OrderLineView {
                    product_id: l.product_id,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                })
                .collect(),
            created_at: rfc3339(order.created_at),
        }
    }
}

impl RequestBody for OrderRequest {
    /// Body errors on this endpoint are the contract's INVALID_ORDER; size and media type
    /// keep their own statuses.
    fn rejection(error: ApiError) -> ApiError {
        match error {
            ApiError::Body(rejection)
                if !matches!(
                    rejection.status(),
                    StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE
                ) =>
            {
                ApiError::Service(service::Error::InvalidOrder("malformed body"))
            }
            ApiError::InvalidBody(reason) => {
                ApiError::Service(service::Error::InvalidOrder(reason))
            }
            other => other,
        }
    }
}

/// Places an order and pays it with points, in one transaction.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", security((), ("user" = [])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", min_length = 1, max_length = 255,
        description = "Optional; when given, a repeat replays the first answer")),
    request_body = OrderRequest,
    responses(
        (status = 201, description = "Paid (or replayed, with `Idempotent-Replayed: true`)", body = OrderView),
        (status = 400, description = "INVALID_ORDER, IDEMPOTENCY_KEY_INVALID or an order rule's code"),
        (status = 404, description = "USER_NOT_FOUND or PRODUCT_NOT_FOUND"),
        (status = 409, description = "INSUFFICIENT_BALANCE, OUT_OF_STOCK, PAYMENT_AMOUNT_MISMATCH or IDEMPOTENCY_KEY_IN_USE"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED"),
        docs::BodyErrors, docs::UserAuth, docs::RuleOrUnavailable,
    ))]
async fn place(
    State(app): State<App>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    JsonBody(body): JsonBody<OrderRequest>,
) -> Result<Response, ApiError> {
    // The key after the body: a malformed order is INVALID_ORDER whatever its key.
    let key = extract::optional_key(&headers)?;
    let lines: Vec<(i64, i64)> = body.products.iter().map(|p| (p.id, p.quantity)).collect();
    let order = NewOrder::parse(
        caller,
        body.user_id,
        &lines,
        body.payment_amount,
        body.coupon_code.as_deref(),
    )?;
    let idempotency = key.map(|key| {
        // The order as parsed (lines merged and sorted), so equivalent bodies are one request.
        // The coupon only when given, so orders without one keep the fingerprints they had.
        let mut canonical = serde_json::json!({
            "user_id": order.user.get(), "products": order.lines, "paymentAmount": order.payment_amount,
        });
        if let Some(coupon) = &order.coupon {
            canonical["couponCode"] = coupon.as_str().into();
        }
        IdempotentRequest::new(order.user, key, Method::POST.as_str(), "/api/v1/orders", &canonical)
    });
    let render = render::shared(StatusCode::CREATED, |order: &Order| OrderView::from(order));
    let done = app
        .orders()
        .place(&order, idempotency.as_ref(), render)
        .await?;
    Ok(render::answer(done))
}

/// One order.
#[utoipa::path(get, path = "/api/v1/orders/{orderId}", tag = "orders", security((), ("user" = [])),
    params(("orderId" = i64, Path, minimum = 1, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 400, description = "INVALID_ORDER_ID"),
        (status = 404, description = "ORDER_NOT_FOUND"),
        docs::Unauthenticated, docs::Unavailable,
    ))]
async fn show(
    State(app): State<App>,
    Authenticated(caller): Authenticated,
    Id(id): Id<OrderId>,
) -> Result<Json<OrderView>, ApiError> {
    let order = app.orders().get(caller, id).await?;
    Ok(Json(OrderView::from(&order)))
}

/// Cancels a paid order (a cancelled one is returned unchanged).
#[utoipa::path(post, path = "/api/v1/orders/{orderId}/cancel", tag = "orders", security((), ("user" = [])),
    params(("orderId" = i64, Path, minimum = 1, description = "Order id")),
    responses(
        (status = 200, description = "The cancelled order", body = OrderView),
        (status = 400, description = "INVALID_ORDER_ID"),
        (status = 404, description = "ORDER_NOT_FOUND"),
        (status = 409, description = "BALANCE_OVERFLOW or STOCK_OVERFLOW: the refund or the returned stock would leave the 64-bit range; nothing changed"),
        docs::Unauthenticated, docs::Unavailable,
    ))]
async fn cancel(
    State(app): State<App>,
    Authenticated(caller): Authenticated,
    Id(id): Id<OrderId>,
) -> Result<Json<OrderView>, ApiError> {
    let order = app.orders().cancel(caller, id).await?;
    Ok(Json(OrderView::from(&order)))
}
