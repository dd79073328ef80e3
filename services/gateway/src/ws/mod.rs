//! The WebSocket endpoints: the seed's socket at `/` ([`chat`]), `/echo`
//! ([`echo`]) and the event feed at `/events` ([`events`]). Each opens
//! through [`open`] (origin, connection cap, handshake) and runs on a
//! [`peer::Peer`], inside a `ws.connection` span.

pub mod admit;
pub mod chat;
pub mod echo;
pub mod events;
pub mod frame_guard;
pub mod peer;

use std::future::Future;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use tracing::Instrument;

use crate::error::GatewayError;
use crate::metrics::Endpoint;
use crate::state::AppState;
use admit::{check_origin, Slot};
use inlet_http::client_address::client_address;
use peer::{Ending, Peer, Traffic};

/// Whether the request asks to become a WebSocket.
pub fn wants_upgrade(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// What a socket's loop is handed.
pub struct Opened {
    /// The socket.
    pub peer: Peer,
    /// The client's address, as logs name it.
    pub client: String,
}

/// Opens a socket on `endpoint` (refusing it with the right answer when it
/// may not open), and runs `serve` on it in a `ws.connection` span; `serve`
/// returns why the socket ended, and the socket is closed accordingly.
pub fn open<F, Fut>(
    req: &HttpRequest,
    body: web::Payload,
    state: &web::Data<AppState>,
    endpoint: &'static str,
    serve: F,
) -> Result<HttpResponse, GatewayError>
where
    F: FnOnce(Opened) -> Fut + 'static,
    Fut: Future<Output = (Peer, Ending)> + 'static,
{
    let slot = admit(req, state, endpoint)?;
    let body = guard_frames(req, body, state.websocket.max_message_bytes);
    let (response, session, stream) =
        actix_ws::handle(req, body).map_err(|err| GatewayError::Handshake(err.to_string()))?;
    let client = client_address(req).to_string();
    let span = tracing::info_span!(
        "ws.connection",
        otel.kind = "server",
        url.path = req.path(),
        client.address = %client,
        ws.endpoint = endpoint,
        ws.messages_in = tracing::field::Empty,
        ws.messages_out = tracing::field::Empty,
        ws.close_code = tracing::field::Empty,
    );
    let peer = Peer::new(
        session,
        stream,
        &state.websocket,
        state.closing.clone(),
        state.metrics.clone(),
    );
    tracing::info!(parent: &span, client.address = %client, endpoint, "socket opened");
    let running = async move {
        let (peer, ending) = serve(Opened { peer, client }).await;
        close(peer, ending).await;
        drop(slot);
    };
    actix_web::rt::spawn(running.instrument(span));
    Ok(response)
}

/// Whether the request may become a socket on `endpoint`: an upgrade over
/// HTTP/1.1, from an allowed origin, with a free slot (held while it lives).
fn admit(
    req: &HttpRequest,
    state: &AppState,
    endpoint: &'static str,
) -> Result<Slot, GatewayError> {
    if !wants_upgrade(req) {
        return Err(GatewayError::UpgradeRequired {
            path: req_path(endpoint),
        });
    }
    if req.version() < actix_web::http::Version::HTTP_11 {
        return Err(GatewayError::Handshake(
            "a WebSocket upgrade needs HTTP/1.1 (RFC 6455, 4.1)".to_owned(),
        ));
    }
    check_origin(req, &state.websocket.allowed_origins)?;
    let gauge = state
        .metrics
        .connections
        .get_or_create(&Endpoint { endpoint })
        .clone();
    state.slots.take(&state.websocket, gauge)
}

/// Closes the socket for `ending`; its span and log line say how it went.
async fn close(peer: Peer, ending: Ending) {
    let Traffic {
        messages_in,
        messages_out,
    } = peer.traffic;
    let code = peer.close(&ending).await;
    let span = tracing::Span::current();
    span.record("ws.messages_in", messages_in as i64);
    span.record("ws.messages_out", messages_out as i64);
    if let Some(code) = code {
        span.record("ws.close_code", i64::from(code));
    }
    tracing::info!(
        ?ending,
        close_code = code,
        messages_in,
        messages_out,
        "socket closed"
    );
}

/// Puts a [`frame_guard::GuardedPayload`] between the connection and actix-ws.
fn guard_frames(req: &HttpRequest, body: web::Payload, limit: usize) -> web::Payload {
    use actix_web::FromRequest;
    let guarded = frame_guard::GuardedPayload::new(body.into_inner(), limit);
    let stream: frame_guard::BoxedStream = Box::pin(guarded);
    let mut payload = actix_web::dev::Payload::from(stream);
    // `web::Payload` has no public constructor; its extractor takes the
    // payload it is given, at once.
    web::Payload::from_request(req, &mut payload)
        .into_inner()
        .expect("the payload extractor cannot fail")
}

fn req_path(endpoint: &'static str) -> &'static str {
    match endpoint {
        "echo" => "/echo",
        "events" => "/events",
        _ => "/",
    }
}

/// A `ws.message` span for one received message.
pub fn message_span(kind: &'static str, size: usize) -> tracing::Span {
    tracing::info_span!("ws.message", ws.message.type = kind, ws.message.size = size as i64)
}
