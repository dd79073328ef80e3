//! The store test table: every case runs against the journal and against
//! PostgreSQL (a real server, Debian's, started for each test), through
//! the `Store` the service runs, so both keep the same promises.

mod backends;
mod cases;

/// One test per case and backend.
macro_rules! table {
    ($($case:ident),* $(,)?) => {
        mod journal {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::backends::run(crate::backends::Backend::journal().await, crate::cases::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::backends::run(crate::backends::Backend::postgres().await, crate::cases::$case).await;
                }
            )*
        }
    };
}

table!(
    appends_get_rising_sequences_and_read_back_byte_for_byte,
    concurrent_appends_get_distinct_sequences,
    pages_run_newest_first_and_cursors_survive_new_records,
    a_page_stops_before_its_byte_budget_but_never_empty,
    a_deleted_record_is_never_read_again,
    retention_by_age_drops_only_old_records_oldest_first,
    retention_by_size_keeps_the_newest_within_the_budget,
    records_and_sequences_survive_a_reopen,
    a_closed_store_refuses_appends,
);
