//! A real WebSocket client (tokio-tungstenite) with waits bounded in time.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::WAIT;

pub use tokio_tungstenite::tungstenite;

/// An open client socket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `url` (`ws://…`), panicking if the server refuses.
pub async fn connect(url: &str) -> Socket {
    try_connect(url, &[])
        .await
        .unwrap_or_else(|status| panic!("{url} refused the upgrade with {status}"))
}

/// Opens `url` with the test admin token, panicking if the server refuses.
pub async fn connect_as_admin(url: &str) -> Socket {
    let bearer = crate::access::admin_bearer();
    try_connect(url, &[("authorization", &bearer)])
        .await
        .unwrap_or_else(|status| panic!("{url} refused the upgrade with {status}"))
}

/// [`try_connect`] with the test admin token added to `headers`.
pub async fn try_connect_as_admin(
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, StatusCode> {
    let bearer = crate::access::admin_bearer();
    let mut all = vec![("authorization", bearer.as_str())];
    all.extend_from_slice(headers);
    try_connect(url, &all).await
}

/// Opens `url` with extra request `headers`; a refused upgrade gives its status.
pub async fn try_connect(url: &str, headers: &[(&str, &str)]) -> Result<Socket, StatusCode> {
    let mut request = url.into_client_request().expect("a ws:// URL");
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let connecting = tokio_tungstenite::connect_async(request);
    match tokio::time::timeout(WAIT, connecting)
        .await
        .expect("the handshake ends in time")
    {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status()),
        Err(err) => panic!("{url}: {err}"),
    }
}

/// Sends a text message.
pub async fn send_text(socket: &mut Socket, text: &str) {
    socket
        .send(Message::text(text))
        .await
        .expect("the message is sent");
}

/// The next text or binary message or close frame (pings and pongs are
/// skipped; tungstenite answers pings by itself), waiting up to [`WAIT`].
pub async fn next_message(socket: &mut Socket) -> Message {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message arrives in time")
            .expect("the socket is still open")
            .expect("a well-formed message");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

/// The next message, which must be text.
pub async fn next_text(socket: &mut Socket) -> String {
    match next_message(socket).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// The next message, which must be a JSON text frame.
pub async fn next_json(socket: &mut Socket) -> serde_json::Value {
    let text = next_text(socket).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Reads until the server's close frame, skipping anything before it, and
/// gives its code and reason.
pub async fn close_code(socket: &mut Socket) -> (u16, String) {
    loop {
        let next = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("the close frame arrives in time");
        match next {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string())
            }
            Some(Ok(Message::Close(None))) => return (1005, String::new()),
            Some(Ok(_)) => continue,
            Some(Err(err)) => panic!("the socket failed before a close frame: {err}"),
            None => panic!("the socket ended without a close frame"),
        }
    }
}

/// Writes `bytes` straight onto the socket's TCP stream, bypassing the
/// client's framing: for frames no well-behaved client would send.
pub async fn send_raw(socket: &mut Socket, bytes: &[u8]) {
    use tokio::io::AsyncWriteExt;
    let MaybeTlsStream::Plain(tcp) = socket.get_mut() else {
        panic!("raw frames are written on plain sockets only");
    };
    // The server may close as soon as it has read enough of them.
    let _ = tokio::time::timeout(WAIT, tcp.write_all(bytes)).await;
}
