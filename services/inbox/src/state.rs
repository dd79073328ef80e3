//! What every request handler can reach. Its own module, so routes depend on
//! it without depending on `startup`, which depends on the routes.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::InboxSettings;
use crate::metrics::InboxMetrics;
use crate::sources::sync::Syncer;

/// What every request handler can reach.
pub struct AppState {
    /// The index, and the services it mirrors.
    pub syncer: Arc<Syncer>,
    /// The `[inbox]` settings.
    pub settings: InboxSettings,
    /// What the inbox counts.
    pub metrics: InboxMetrics,
    /// One permit per page following the live list.
    pub live_pages: Arc<Semaphore>,
    /// Cancelled when the inbox begins to stop: live streams end, so the
    /// server need not wait for pages that would never close.
    pub stopping: CancellationToken,
}
