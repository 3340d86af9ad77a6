//! Demo data for `scripts/serve`: the seed's users and products, inserted only into an empty
//! database so running it twice changes nothing.

use crate::{
    config::Settings,
    domain::UserId,
    store::{self, history, history::Kind, products, users},
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

/// Inserts the demo data when there are no users and no products yet.
pub async fn run(settings: &Settings) -> Result<(), store::SetupError> {
    let pool = store::prepare_database(settings).await?;
    let mut client = pool
        .get()
        .await
        .map_err(|e| store::SetupError::Pool(e.to_string()))?;
    let tx = client.transaction().await?;
    let count: i64 = tx
        .query_one(
            "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM products)",
            &[],
        )
        .await?
        .get(0);
    if count > 0 {
        tracing::info!("database already has data; seed skipped");
        return Ok(());
    }
    for (name, price, stock) in PRODUCTS {
        products::insert(&tx, name, *price, *stock).await?;
    }
    for (name, hp_no, amount) in USERS {
        let user = users::insert(&tx, name, hp_no, *amount).await?;
        if *amount > 0
            && let Ok(id) = UserId::new(user.id)
        {
            history::record(&tx, id, Kind::Charge, *amount, *amount, None).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        users = USERS.len(),
        products = PRODUCTS.len(),
        "seeded demo data"
    );
    Ok(())
}
