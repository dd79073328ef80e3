//! What every request handler can reach.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::WebSocketSettings;
use crate::feed::Feed;
use crate::metrics::GatewayMetrics;
use crate::ws::admit::Slots;

/// What every request handler can reach.
pub struct AppState {
    /// The event feed `/events` subscribes to.
    pub feed: Arc<Feed>,
    /// Socket limits and who may connect.
    pub websocket: WebSocketSettings,
    /// Open sockets, against `websocket.max_connections`.
    pub slots: Arc<Slots>,
    /// Cancelled when the gateway stops: every socket closes with 1001.
    pub closing: CancellationToken,
    /// What the gateway counts.
    pub metrics: GatewayMetrics,
}
