//! What every request handler can reach. Its own module, so routes depend on
//! it without depending on `startup`, which depends on the routes.

use std::sync::Arc;

use inlet_common::disk_space::DiskGuard;
use inlet_common::publish::Publisher;
use inlet_common::retention::RemovalMetrics;

use crate::config::Limits;
use crate::inflight::InflightBudget;
use crate::metrics::FormsMetrics;
pub use crate::store::Store;

/// What every request handler can reach.
pub struct AppState {
    /// Where submissions are stored.
    pub store: Arc<Store>,
    /// Size and count limits.
    pub limits: Limits,
    /// Room for bodies being read, shared by every connection.
    pub inflight: InflightBudget,
    /// What is stored and refused, for `/metrics`.
    pub metrics: FormsMetrics,
    /// Publishes each stored (and deleted) submission to the gateway.
    pub publisher: Publisher,
    /// Refuses intake while the data volume is nearly full.
    pub disk: Arc<DiskGuard>,
    /// Counts deletions.
    pub removals: RemovalMetrics,
}
