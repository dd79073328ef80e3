//! `/events`: the live event feed as JSON text frames (see
//! `crate::feed::frame`), filtered by `?topics=`, with `?since=SEQ`
//! (and optionally `&epoch=`) replaying what the subscriber missed first.

use serde::Deserialize;

use super::peer::{Ending, Next, Peer};
use super::Opened;
use crate::error::GatewayError;
use crate::feed::frame::{self, Subscribed};
use crate::feed::topic::TopicSet;
use crate::feed::{Delivery, Received, Since, Subscription};
use crate::metrics::GatewayMetrics;

/// The query `/events` takes.
#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    /// `forms,uploads,mail` (any of them; none or empty: all).
    #[serde(default)]
    topics: String,
    /// The last sequence the subscriber saw; what followed is replayed.
    since: Option<String>,
    /// The epoch `since` belongs to (from the `subscribed` frame).
    epoch: Option<String>,
}

/// What a subscriber asked for, checked before the upgrade.
#[derive(Debug)]
pub struct Wanted {
    /// The topics it follows.
    pub topics: TopicSet,
    /// Where it wants to start, if it is catching up.
    pub since: Option<Since>,
}

impl EventsQuery {
    /// Checks the query: a bad one is refused with 400 before any upgrade.
    pub fn parse(self) -> Result<Wanted, GatewayError> {
        let topics =
            TopicSet::parse(&self.topics).map_err(|e| GatewayError::BadQuery(e.to_string()))?;
        let since = match self.since {
            None => None,
            Some(text) => Some(Since {
                sequence: text.trim().parse().map_err(|_| {
                    GatewayError::BadQuery(format!(
                        "since must be an event sequence number (a whole number), not {:?}",
                        text.chars().take(40).collect::<String>()
                    ))
                })?,
                epoch: self.epoch.filter(|e| !e.is_empty()),
            }),
        };
        Ok(Wanted { topics, since })
    }
}

/// Runs one subscriber until it ends: the `subscribed` frame, the replay,
/// then live events in publish order.
/// `subscription` is taken before the upgrade is answered, so a client
/// whose handshake is done misses nothing published after it.
pub async fn serve(
    Opened { mut peer, client }: Opened,
    topics: TopicSet,
    mut subscription: Subscription,
    metrics: GatewayMetrics,
) -> (Peer, Ending) {
    // Held whole to the end: while it lives, it counts as a subscriber.
    let replay = std::mem::take(&mut subscription.replay);
    let (latest, recovered) = (subscription.latest, subscription.recovered);
    let hello = frame::subscribed(&Subscribed {
        epoch: &subscription.epoch,
        topics,
        latest,
        replayed: replay.len(),
        recovered,
    });
    tracing::info!(
        client.address = %client,
        latest,
        replayed = replay.len(),
        recovered,
        "subscriber joined the event feed"
    );
    let ending = match send_start(&mut peer, hello, replay, &metrics).await {
        Ok(()) => send_live(&mut peer, &mut subscription, &metrics).await,
        Err(ending) => ending,
    };
    if matches!(ending, Ending::Lagged { .. } | Ending::NotReading) {
        metrics.slow_subscribers_closed.inc();
        tracing::warn!(client.address = %client, ?ending, "slow subscriber closed");
    }
    (peer, ending)
}

/// The `subscribed` frame, then the replay.
async fn send_start(
    peer: &mut Peer,
    hello: String,
    replay: Vec<std::sync::Arc<Delivery>>,
    metrics: &GatewayMetrics,
) -> Result<(), Ending> {
    peer.send_text(hello).await?;
    for delivery in replay {
        peer.send_text(delivery.frame.clone()).await?;
        metrics.events_delivered.inc();
    }
    Ok(())
}

/// Live events in publish order, until the socket or the subscription ends.
async fn send_live(
    peer: &mut Peer,
    subscription: &mut Subscription,
    metrics: &GatewayMetrics,
) -> Ending {
    loop {
        match peer.next(subscription.next()).await {
            Next::Other(Received::Event(delivery)) => {
                if let Err(ending) = peer.send_text(delivery.frame.clone()).await {
                    return ending;
                }
                metrics.events_delivered.inc();
            }
            Next::Other(Received::Lagged {
                resume_from,
                missed,
            }) => {
                metrics.events_dropped.inc_by(missed);
                return Ending::Lagged {
                    last_sent: resume_from,
                };
            }
            Next::Other(Received::MoreToReplay { resume_from }) => {
                return Ending::MoreToReplay {
                    last_sent: resume_from,
                }
            }
            Next::Other(Received::Restarted) => return Ending::FeedRestarted,
            Next::Other(Received::Closed) => return Ending::ShuttingDown,
            // A subscriber has nothing to say; what it sends is counted and dropped.
            Next::Message(_) => {}
            Next::End(ending) => return ending,
        }
    }
}
