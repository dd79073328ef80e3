//! Logs for in-process tests: silent unless `TEST_LOG` is set, then every
//! event goes to the test's output (captured per test by the harness).

use std::sync::Once;

/// Installs the test log subscriber once per test binary; a no-op without `TEST_LOG`.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_none() {
            return;
        }
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}
