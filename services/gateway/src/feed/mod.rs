//! The event feed: every published event gets the next sequence number, is
//! kept in a history for `since` replay, and is handed to every live
//! subscriber.
//!
//! [`EventFeed`] is the seam: publishing, subscribing with replay, and a
//! [`Subscription`] that yields the feed's own [`Received`] values (an
//! event, a lag with where to resume, or the end), so the WebSocket side
//! knows nothing of how the feed is kept. [`memory::MemoryFeed`], a bounded
//! in-memory ring, is the one implementation; another (a log that survives
//! restarts) is a new file beside it and a variant of `Live`.

pub mod frame;
mod memory;
pub mod topic;

use std::sync::Arc;

use bytestring::ByteString;
use inlet_proto::events::v1::Event;

pub use memory::MemoryFeed;
use topic::{Topic, TopicSet};

/// A feed of events: what the ingest publishes to and `/events` reads.
pub trait EventFeed: Send + Sync + 'static {
    /// This feed's epoch: sequences are only comparable within one.
    fn epoch(&self) -> &str;

    /// Sequences `event`, keeps it for replay and hands it to every live
    /// subscriber that follows its topic.
    fn publish(&self, event: &Event) -> Result<Published, FeedError>;

    /// Subscribes to `topics`, with the events missed since `since` (none
    /// when `None`) to replay first. Nothing published after this call is
    /// missed by the subscription.
    fn subscribe(&self, topics: TopicSet, since: Option<&Since>) -> Subscription;
}

/// One sequenced event, rendered once for every subscriber.
#[derive(Debug)]
pub struct Delivery {
    /// Its gateway sequence number (from 1, per epoch).
    pub sequence: u64,
    /// Its topic, for subscribers' filters.
    pub topic: Topic,
    /// The `event` frame.
    pub frame: ByteString,
    /// Bytes of every frame published up to and including this one, to
    /// tell how far behind a subscriber reading it is.
    pub through_bytes: u64,
}

/// What publishing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Its sequence number.
    pub sequence: u64,
    /// Its topic.
    pub topic: Topic,
    /// How many subscribers follow that topic.
    pub subscribers: usize,
}

/// Why an event was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The event says nothing about what arrived.
    #[error("the event has no kind (form_submitted, file_stored or mail_received)")]
    NoKind,
}

/// Where a subscriber wants to start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Since {
    /// The last sequence the subscriber has seen.
    pub sequence: u64,
    /// The epoch that sequence belongs to, if the subscriber knows it.
    pub epoch: Option<String>,
}

/// What a live subscription yields next.
#[derive(Debug)]
pub enum Received {
    /// An event the subscriber follows, newer than any it was given.
    Event(Arc<Delivery>),
    /// The subscriber fell too far behind: it is given nothing more, and
    /// resumes by reconnecting with `since=resume_from`.
    Lagged {
        /// The last sequence it was given or had filtered out.
        resume_from: u64,
        /// Events it lost.
        missed: u64,
    },
    /// The feed is closing.
    Closed,
}

/// A new subscriber's start, what it missed, then its live stream.
pub struct Subscription {
    /// Missed events to send first, oldest first (already filtered).
    pub replay: Vec<Arc<Delivery>>,
    /// The last sequence given out when this subscription began.
    pub latest: u64,
    /// Whether `replay` holds everything missed since `since`.
    pub recovered: bool,
    live: Live,
}

/// The live half of a subscription, by feed implementation.
enum Live {
    Memory(memory::MemoryLive),
}

impl Subscription {
    /// The next event the subscriber follows, a lag, or the end.
    pub async fn next(&mut self) -> Received {
        match &mut self.live {
            Live::Memory(live) => live.next().await,
        }
    }
}
