//! Retention on PostgreSQL: rows older than `max_age` go, then the oldest
//! rows while the records together are over `max_bytes`. Each is one
//! statement, so replicas sweeping at once only share the work.

use std::time::SystemTime;

use inlet_common::retention::cutoff;
use tokio_postgres::Client;
use uuid::Uuid;

use super::{classify, StoreError};
use crate::store::{Expired, RetentionPolicy};

/// Drops what `policy` no longer keeps as of `now`.
pub(super) async fn expire(
    client: &Client,
    table: &str,
    policy: RetentionPolicy,
    now: SystemTime,
) -> Result<Expired, StoreError> {
    let mut expired = Expired::default();
    if let Some(since) = cutoff(now, policy.max_age) {
        let before = SystemTime::UNIX_EPOCH + since;
        let gone =
            format!("DELETE FROM {table} WHERE received_at < $1 RETURNING seq, id, record_bytes");
        let (count, bytes, last) = tally(client, &gone, &[&before]).await?;
        expired.by_age = (count, bytes);
        expired.last_id = last;
    }
    if let Some(max) = policy.max_bytes {
        // The newest rows whose running total stays within `max` are kept.
        let gone = format!(
            "DELETE FROM {table} WHERE seq <= (
                SELECT max(seq) FROM (
                    SELECT seq, sum(record_bytes) OVER (ORDER BY seq DESC) AS newer_bytes
                    FROM {table}
                ) AS running WHERE newer_bytes > $1
            ) RETURNING seq, id, record_bytes"
        );
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let (count, bytes, last) = tally(client, &gone, &[&max]).await?;
        expired.by_size = (count, bytes);
        if count > 0 {
            expired.last_id = last;
        }
    }
    Ok(expired)
}

/// Runs a `DELETE … RETURNING seq, id, record_bytes` and sums it up: rows,
/// bytes, and the id of the newest row it removed.
async fn tally(
    client: &Client,
    delete: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<(u64, u64, Option<Uuid>), StoreError> {
    let counted = format!(
        "WITH gone AS ({delete}) \
         SELECT count(*), coalesce(sum(record_bytes), 0)::bigint, \
                (SELECT id FROM gone ORDER BY seq DESC LIMIT 1) FROM gone"
    );
    let row = client.query_one(&counted, params).await.map_err(classify)?;
    let count: i64 = row.get(0);
    let bytes: i64 = row.get(1);
    let last: Option<Uuid> = row.get(2);
    Ok((count as u64, bytes as u64, last))
}
