//! What every request handler can reach.

use std::path::PathBuf;

use inlet_common::publish::Publisher;

use crate::config::Limits;
use crate::metrics::UploadsMetrics;
use crate::store::DirSync;

/// Shared by all handlers.
pub struct AppState {
    /// Where files are stored.
    pub uploads_dir: PathBuf,
    /// Makes new names in that folder durable, many at a time.
    pub dir_sync: DirSync,
    /// Size limits.
    pub limits: Limits,
    /// Uploads' own metrics.
    pub metrics: UploadsMetrics,
    /// Publishes each stored file to the gateway.
    pub publisher: Publisher,
}
