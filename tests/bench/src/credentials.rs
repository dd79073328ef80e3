//! The credentials the load generators present, from the environment the
//! bench scripts set for the servers too: `INLET_TOKEN` for the event feed,
//! `INLET_PUBLISH_TOKEN` for the gateway's ingest.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

/// A WebSocket handshake for `url`, with `Authorization: Bearer $INLET_TOKEN`
/// when that is set.
pub fn ws_request(url: &str) -> Result<Request, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    if let Ok(token) = std::env::var("INLET_TOKEN") {
        if let Ok(value) = format!("Bearer {token}").parse() {
            request.headers_mut().insert("authorization", value);
        }
    }
    Ok(request)
}

/// Adds `authorization: Bearer $INLET_PUBLISH_TOKEN` to a publish call.
pub fn add_publish_token(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    if let Ok(token) = std::env::var("INLET_PUBLISH_TOKEN") {
        if let Ok(value) = format!("Bearer {token}").parse() {
            request.metadata_mut().insert("authorization", value);
        }
    }
    Ok(request)
}
