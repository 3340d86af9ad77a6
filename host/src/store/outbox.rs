//! The `outbox` table: events written in the transaction that causes them, delivered later
//! by the relay (at least once).

use deadpool_postgres::GenericClient;

/// Stores one event of `event_type` with a JSON payload.
pub async fn insert(
    db: &impl GenericClient,
    event_type: &str,
    payload: &serde_json::Value,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO outbox (type, payload) VALUES ($1, $2::text::jsonb)";
    let stmt = db.prepare_cached(SQL).await?;
    db.execute(&stmt, &[&event_type, &payload.to_string()])
        .await?;
    Ok(())
}
