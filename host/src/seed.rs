//! Demo data for `scripts/serve`: the seed's users and products and a few paid orders (so the
//! popular list is not empty), inserted through the services and only into an empty database,
//! so running it twice changes nothing.

use crate::{
    StartError,
    app::App,
    config::Settings,
    domain::{Caller, Operator, Order},
    service::{self, catalog::NewProduct, orders::NewOrder, points::NewUser},
};

/// The demo products: the seed's salads and americano among them.
const PRODUCTS: &[(&str, i64, i64)] = &[
    ("양배추 샐러드", 2_500, 100),
    ("단호박 샐러드", 3_000, 100),
    ("닭가슴살 샐러드", 4_500, 50),
    ("빽다방 아메리카노", 2_500, 9),
    ("바닐라 라떼", 3_500, 30),
    ("그릭 요거트", 3_900, 20),
];

/// The demo users: name, phone, opening balance.
const USERS: &[(&str, &str, i64)] = &[
    ("김테스트", "010-1234-4112", 100_000),
    ("이데모", "010-2222-3333", 50_000),
    ("박예시", "010-4444-5555", 0),
];

/// Paid demo orders: user index, then (product index, quantity) lines.
const ORDERS: &[(usize, &[(usize, i64)])] = &[
    (0, &[(0, 3), (1, 2)]),
    (1, &[(0, 2), (3, 1)]),
    (0, &[(2, 1), (4, 2)]),
    (1, &[(1, 1), (5, 1)]),
];

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The app could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A demo record was refused.
    #[error("seed: {0}")]
    Service(#[from] service::Error),
}

/// Inserts the demo data when there are no products yet.
pub async fn run(settings: &Settings) -> Result<(), SeedError> {
    let app = App::build(settings.clone()).await?;
    if !app.catalog().is_empty().await? {
        tracing::info!("database already has data; seed skipped");
        return Ok(());
    }
    let system = Operator::system();
    let mut products = Vec::new();
    for (name, price, stock) in PRODUCTS {
        let new = NewProduct {
            name: (*name).into(),
            price: *price,
            stock: *stock,
            attributes: Default::default(),
        };
        products.push(app.catalog().create(&system, &new).await?);
    }
    let mut users = Vec::new();
    for (name, hp_no, amount) in USERS {
        let new = NewUser {
            name: (*name).into(),
            hp_no: (*hp_no).into(),
            amount: *amount,
            attributes: Default::default(),
        };
        users.push(app.points().create_user(&system, new).await?);
    }
    let render: service::SharedRender<Order> =
        std::sync::Arc::new(|_| crate::idempotency::StoredResponse {
            status: 201,
            content_type: String::new(),
            body: Default::default(),
        });
    for (user, lines) in ORDERS {
        let lines: Vec<(i64, i64)> = lines.iter().map(|&(p, q)| (products[p].id, q)).collect();
        let total = lines
            .iter()
            .map(|&(id, q)| q * products.iter().find(|p| p.id == id).map_or(0, |p| p.price))
            .sum();
        let order = NewOrder::parse(Caller::Anyone, Some(users[*user].id), &lines, total, None)?;
        app.orders().place(&order, None, render.clone()).await?;
    }
    tracing::info!(
        users = USERS.len(),
        products = PRODUCTS.len(),
        orders = ORDERS.len(),
        "seeded demo data"
    );
    Ok(())
}
