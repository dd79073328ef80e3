//! What every request handler can reach.

use std::sync::Arc;

use inlet_common::disk_space::DiskGuard;
use inlet_common::publish::Publisher;
use inlet_common::retention::RemovalMetrics;

use crate::config::Limits;
use crate::metrics::UploadsMetrics;
pub use crate::store::Store;

/// Shared by all handlers.
pub struct AppState {
    /// Where files are stored.
    pub store: Arc<Store>,
    /// Size limits.
    pub limits: Limits,
    /// Uploads' own metrics.
    pub metrics: UploadsMetrics,
    /// Publishes each stored (and removed) file to the gateway.
    pub publisher: Publisher,
    /// Refuses uploads while the data volume is nearly full.
    pub disk: Arc<DiskGuard>,
    /// Counts removed files.
    pub removals: RemovalMetrics,
}
