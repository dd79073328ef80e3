//! Why a socket is refused before it opens, and the code each refusal is.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use inlet_common::code::Code;
use inlet_http::errors::{error_response, status_of, PublicError};

/// Every way an HTTP request to the gateway can fail.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A browser page from an origin not in `websocket.allowed_origins`.
    #[error(
        "WebSocket connections from origin {origin:?} are not allowed (websocket.allowed_origins)"
    )]
    OriginNotAllowed {
        /// The `Origin` the browser sent.
        origin: String,
    },
    /// Every socket slot is taken.
    #[error("the gateway has websocket.max_connections ({limit}) sockets open; try again later")]
    TooManyConnections {
        /// The configured limit.
        limit: usize,
    },
    /// A plain request to a socket-only endpoint.
    #[error("{path} is a WebSocket endpoint: connect with a WebSocket client (ws://…{path})")]
    UpgradeRequired {
        /// The endpoint.
        path: &'static str,
    },
    /// An upgrade request that is not a valid WebSocket handshake.
    #[error("not a valid WebSocket handshake: {0}")]
    Handshake(String),
    /// A query parameter is wrong.
    #[error("{0}")]
    BadQuery(String),
    /// The feed's store cannot be reached now (NATS down): try again.
    #[error("{0}; try again shortly")]
    FeedUnavailable(String),
}

impl PublicError for GatewayError {
    fn code(&self) -> Code {
        match self {
            GatewayError::OriginNotAllowed { .. } => Code::OriginNotAllowed,
            GatewayError::TooManyConnections { .. } => Code::TooManyConnections,
            GatewayError::UpgradeRequired { .. } => Code::UpgradeRequired,
            GatewayError::Handshake(_) => Code::BadRequest,
            GatewayError::BadQuery(_) => Code::BadQuery,
            GatewayError::FeedUnavailable(_) => Code::Unavailable,
        }
    }
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = error_response(self);
        let headers = res.headers_mut();
        if let GatewayError::UpgradeRequired { .. } = self {
            headers.insert(
                header::UPGRADE,
                header::HeaderValue::from_static("websocket"),
            );
        }
        res
    }
}
