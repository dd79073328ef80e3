//! Opening a WebSocket: ws or wss (rustls), `--timeout` on the handshake,
//! and the `traceparent` with `--trace`.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::context::Context;
use crate::error::{chain, CliError};

/// An open WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A ws(s) URL from the command line.
pub fn parse_url(text: &str) -> Result<reqwest::Url, CliError> {
    let url = reqwest::Url::parse(text)
        .map_err(|err| CliError::Usage(format!("not a URL: {text}: {err}")))?;
    match url.scheme() {
        "ws" | "wss" => Ok(url),
        other => Err(CliError::Usage(format!(
            "not a ws or wss URL: {text} (scheme {other})"
        ))),
    }
}

/// Connects and completes the handshake, sending `token` as
/// `Authorization: Bearer` when there is one.
pub async fn open(
    url: &reqwest::Url,
    token: Option<&str>,
    ctx: &Context,
) -> Result<Socket, CliError> {
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|err| CliError::Usage(format!("{url}: {err}")))?;
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| CliError::Usage("the token is not a valid header value".to_owned()))?;
        request.headers_mut().insert("authorization", value);
    }
    if let Some(traceparent) = ctx.trace.traceparent() {
        let value = HeaderValue::from_str(&traceparent).expect("a traceparent is a valid header");
        request.headers_mut().insert("traceparent", value);
    }
    let connector = Connector::Rustls(ctx.tls.clone());
    let handshake =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector));
    let (socket, _response) = ctx
        .bounded(url.as_str(), async {
            handshake.await.map_err(|err| refused(url, err))
        })
        .await?;
    Ok(socket)
}

/// One line for a handshake that failed.
fn refused(url: &reqwest::Url, err: WsError) -> CliError {
    let what = match &err {
        WsError::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .map(|b| format!(": {}", b.trim()))
                .unwrap_or_default();
            format!(
                "the server refused the WebSocket with {}{body}",
                response.status()
            )
        }
        WsError::Io(io) => format!("cannot connect: {io}"),
        other => chain(other),
    };
    CliError::Network(format!("{url}: {what}"))
}
