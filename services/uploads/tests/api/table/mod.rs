//! The API test table: every case runs against the volume and against an
//! S3 bucket (moto's S3 server, started for each test), through HTTP only,
//! so both backends keep the same promises.

mod backends;
mod cases;

/// One test per case and backend.
macro_rules! table {
    ($($case:ident),* $(,)?) => {
        mod volume {
            $(
                #[tokio::test]
                async fn $case() {
                    super::cases::$case(super::backends::Kind::Volume).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $case() {
                    super::cases::$case(super::backends::Kind::S3).await;
                }
            )*
        }
    };
}

table!(
    a_put_file_reads_back_byte_exact_with_its_metadata,
    a_multipart_request_stores_every_file,
    a_large_file_streams_in_parts_and_reads_back_whole,
    pages_run_newest_first_and_list_each_file_once,
    downloads_serve_ranges_and_validators,
    a_deleted_file_is_gone_from_every_read,
    a_refused_file_leaves_nothing_behind,
    a_cut_upload_leaves_nothing_behind,
    retention_removes_the_oldest_files,
    a_taken_name_gets_the_next_free_name_even_when_racing,
    leftovers_of_a_crash_are_removed,
);
