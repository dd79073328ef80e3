//! What every request handler can reach.

use std::path::PathBuf;

use crate::config::Limits;
use crate::metrics::UploadsMetrics;

/// Shared by all handlers.
pub struct AppState {
    /// Where files are stored.
    pub uploads_dir: PathBuf,
    /// Size limits.
    pub limits: Limits,
    /// Uploads' own metrics.
    pub metrics: UploadsMetrics,
}
