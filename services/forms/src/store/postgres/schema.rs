//! The submissions table, made at start when missing.
//!
//! One row per submission: `seq` orders them (and is the paging cursor),
//! `id` finds one, `received_at` and `record_bytes` serve retention, and `record`
//! holds the JSON text exactly as the journal would store it.

use tokio_postgres::Client;

/// Makes the table and its index if they are not there. Replicas starting
/// together take an advisory lock first, so only one creates them.
pub async fn ensure(client: &mut Client, table: &str) -> Result<(), tokio_postgres::Error> {
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&table])
        .await?;
    transaction
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id uuid NOT NULL UNIQUE,
                received_at timestamptz NOT NULL,
                record_bytes integer NOT NULL,
                record bytea NOT NULL
            );
            CREATE INDEX IF NOT EXISTS {table}_received_at ON {table} (received_at);"
        ))
        .await?;
    transaction.commit().await
}
