//! Ending a connection when an answer leaves its request body unread.
//!
//! actix decides what to do with an unread body when the answer is handed to
//! it. If the handler dropped the body and it is chunked, actix drains it —
//! reads it to its end, for as long as the client keeps sending — and then
//! parses and serves whatever follows, whatever `Connection: close` said: a
//! client could stream without bound after a 413, or slip a second request
//! behind a refused chunked one. If the body is still held, actix instead
//! closes after the answer and only lingers (reading and discarding, never
//! parsing) for `http.client_disconnect_timeout_ms`.
//!
//! actix looks when the answer's last byte is handed over (at its head, for an
//! empty answer). So this middleware keeps each request's body in a slot it
//! shares with the handler, and when the answer closes the connection it moves
//! what is left of the body into the answer's body, which lives exactly that
//! long: actix sees the request body unread, and closes.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;

/// The request body, shared between the handler (reading it) and the middleware.
type Slot = Rc<RefCell<Option<Payload>>>;

/// The handler's view of the body: reads through the shared slot.
struct SharedBody(Slot);

impl Stream for SharedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.borrow_mut().as_mut() {
            Some(body) => Pin::new(body).poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

/// An answer's body that holds what is left of the request body until
/// actix has sent it (and so has looked at the request body).
pub struct HoldingBody {
    body: BoxBody,
    _unread: Payload,
}

impl MessageBody for HoldingBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

/// Middleware: an answer that closes the connection keeps the unread rest of
/// the body alive, so actix closes instead of draining it (see the module doc).
pub async fn close_on_unread_body<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, HoldingBody>>, actix_web::Error> {
    let body = req.take_payload();
    if matches!(body, Payload::None) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let slot: Slot = Rc::new(RefCell::new(Some(body)));
    req.set_payload(Payload::Stream {
        payload: Box::pin(SharedBody(Rc::clone(&slot))),
    });
    let res = next.call(req).await?;
    let closes = res.response().head().connection_type() == ConnectionType::Close;
    // Otherwise the body stays with the handler: a WebSocket reads its
    // frames from it long after the 101 answer has been handed over.
    let unread = if closes {
        slot.borrow_mut().take()
    } else {
        None
    };
    Ok(match unread {
        Some(unread) => res.map_body(|_, body| {
            EitherBody::right(HoldingBody {
                body: BoxBody::new(body),
                _unread: unread,
            })
        }),
        _ => res.map_into_left_body(),
    })
}
