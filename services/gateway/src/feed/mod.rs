//! The event feed: every published event has a sequence number, is kept
//! in a history for `since` replay, and is handed to every live subscriber.
//!
//! [`Feed`] is the seam, one variant per `events.backend`:
//! [`MemoryFeed`] (the gateway sequences what its gRPC ingest takes) and
//! [`NatsFeed`] (the gateway follows a JetStream stream, whose sequences
//! are the same on every replica). Both fan out from one [`ring::Ring`];
//! a [`Subscription`] yields the feed's own [`Received`] values (an event,
//! a lag with where to resume, or the end), so the WebSocket side knows
//! nothing of how the feed is kept.

pub mod frame;
mod memory;
mod nats;
mod ring;
pub mod topic;

use std::sync::Arc;

use bytestring::ByteString;

pub use memory::MemoryFeed;
pub use nats::{NatsFeed, NatsFeedError};
use topic::{Topic, TopicSet};

/// The feed `/events` reads, by backend.
pub enum Feed {
    /// `events.backend = "memory"`.
    Memory(Arc<MemoryFeed>),
    /// `events.backend = "nats"`.
    Nats(Arc<NatsFeed>),
}

impl Feed {
    /// Subscribes to `topics`, with the events missed since `since` (none
    /// when `None`) to replay first. Nothing after the replay is missed.
    pub async fn subscribe(
        &self,
        topics: TopicSet,
        since: Option<&Since>,
    ) -> Result<Subscription, FeedError> {
        match self {
            Feed::Memory(feed) => Ok(feed.subscribe(topics, since)),
            Feed::Nats(feed) => feed.subscribe(topics, since).await,
        }
    }
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

/// Why an event was not taken, or a subscription not made.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The event says nothing about what arrived.
    #[error("the event has no kind (form_submitted, file_stored or mail_received)")]
    NoKind,
    /// The feed's store cannot be reached (NATS down, the stream missing).
    #[error("the event feed is not available: {0}")]
    Unavailable(String),
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
    /// The replay stopped at its bound (`events.history`) before reaching
    /// what the gateway holds: the subscriber reads on by reconnecting
    /// with `since=resume_from`.
    MoreToReplay {
        /// The last sequence replayed.
        resume_from: u64,
    },
    /// The feed's stream was made anew (a new epoch): the subscriber
    /// starts over by reconnecting.
    Restarted,
    /// The feed is closing.
    Closed,
}

/// A new subscriber's start, what it missed, then its live stream.
pub struct Subscription {
    /// The epoch its sequences belong to: they are only comparable within one.
    pub epoch: String,
    /// Missed events to send first, oldest first (already filtered).
    pub replay: Vec<Arc<Delivery>>,
    /// The last sequence given out when this subscription began.
    pub latest: u64,
    /// Whether `replay` holds everything missed since `since`.
    pub recovered: bool,
    live: Live,
}

/// The live half of a subscription.
enum Live {
    /// Following the ring.
    Ring(ring::RingLive),
    /// A replay read back from the stream that stopped short of the ring:
    /// all it yields is [`Received::MoreToReplay`].
    Behind {
        /// The last sequence replayed.
        resume_from: u64,
    },
}

impl Subscription {
    /// The next event the subscriber follows, a lag, or the end.
    pub async fn next(&mut self) -> Received {
        match &mut self.live {
            Live::Ring(live) => live.next().await,
            Live::Behind { resume_from } => Received::MoreToReplay {
                resume_from: *resume_from,
            },
        }
    }
}
