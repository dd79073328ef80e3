//! The event feed: every published event gets the next sequence number, is
//! kept in a bounded history, and is handed to every live subscriber.
//!
//! Publishing and subscribing take the same lock, so a subscriber's replay
//! (from the history) and its live stream (from the broadcast) meet exactly:
//! no gap, no duplicate. Live events go through one `tokio::sync::broadcast`
//! ring of `events.subscriber_queue` slots shared by all subscribers, so a
//! subscriber that falls behind costs no memory of its own: it is told it
//! lagged, and closed (see `crate::ws::events`).

pub mod frame;
pub mod topic;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use inlet_proto::events::v1::Event;
use tokio::sync::broadcast;

use crate::config::EventSettings;
use crate::metrics::GatewayMetrics;
use topic::{Topic, TopicSet};

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

/// A new subscriber's start: what it missed, then its live stream.
pub struct Subscription {
    /// Missed events to send first, oldest first (already filtered).
    pub replay: Vec<Arc<Delivery>>,
    /// Every event published after the replay.
    pub live: broadcast::Receiver<Arc<Delivery>>,
    /// The last sequence given out when this subscription began.
    pub latest: u64,
    /// Whether `replay` holds everything missed since `since`.
    pub recovered: bool,
    _counted: SubscriberCount,
}

/// The feed; one per gateway.
pub struct Feed {
    history: Mutex<History>,
    live: broadcast::Sender<Arc<Delivery>>,
    epoch: String,
    subscribers: Arc<[AtomicUsize; Topic::COUNT]>,
    /// Bytes of every frame published so far (`Delivery::through_bytes` of
    /// the latest).
    published_bytes: AtomicU64,
    /// `events.subscriber_queue_bytes`.
    subscriber_queue_bytes: u64,
    metrics: GatewayMetrics,
}

struct History {
    next_sequence: u64,
    kept: VecDeque<Arc<Delivery>>,
    /// Bytes of the frames in `kept`.
    kept_bytes: usize,
    capacity: usize,
    capacity_bytes: usize,
}

impl Feed {
    /// An empty feed with a new epoch.
    pub fn new(settings: &EventSettings, metrics: GatewayMetrics) -> Self {
        let (live, _) = broadcast::channel(settings.subscriber_queue);
        Self {
            history: Mutex::new(History {
                next_sequence: 1,
                kept: VecDeque::with_capacity(settings.history.min(65_536)),
                kept_bytes: 0,
                capacity: settings.history,
                capacity_bytes: settings.history_bytes,
            }),
            live,
            epoch: uuid::Uuid::now_v7().simple().to_string(),
            subscribers: Arc::new([const { AtomicUsize::new(0) }; Topic::COUNT]),
            published_bytes: AtomicU64::new(0),
            subscriber_queue_bytes: settings.subscriber_queue_bytes as u64,
            metrics,
        }
    }

    /// This gateway run's epoch: sequences are only comparable within one.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Sequences `event`, keeps it in the history and hands it to every live
    /// subscriber.
    pub fn publish(&self, event: &Event) -> Result<Published, FeedError> {
        let topic = Topic::of(event.kind.as_ref().ok_or(FeedError::NoKind)?);
        let tail = frame::event_tail(topic, event);
        let mut history = self.history.lock().expect("feed lock");
        let sequence = history.next_sequence;
        history.next_sequence += 1;
        let frame: ByteString = frame::event(sequence, &tail).into();
        let size = frame.len();
        // Written under the lock, so it grows in sequence order.
        let through_bytes = self.published_bytes.load(Ordering::Relaxed) + size as u64;
        self.published_bytes.store(through_bytes, Ordering::Relaxed);
        let delivery = Arc::new(Delivery {
            sequence,
            topic,
            frame,
            through_bytes,
        });
        // The newest event is always kept, whatever its size.
        while history.kept.len() == history.capacity
            || (!history.kept.is_empty() && history.kept_bytes + size > history.capacity_bytes)
        {
            let Some(oldest) = history.kept.pop_front() else {
                break;
            };
            history.kept_bytes -= oldest.frame.len();
        }
        history.kept.push_back(Arc::clone(&delivery));
        history.kept_bytes += size;
        self.metrics.history_bytes.set(history.kept_bytes as i64);
        // No subscriber at all is not an error.
        let _ = self.live.send(delivery);
        drop(history);
        self.metrics.events_published.inc();
        Ok(Published {
            sequence,
            topic,
            subscribers: self.subscribers[topic.index()].load(Ordering::Relaxed),
        })
    }

    /// The last sequence given out.
    pub fn latest_sequence(&self) -> u64 {
        self.history.lock().expect("feed lock").next_sequence - 1
    }

    /// Whether a subscriber now reading `delivery` has fallen more than
    /// `events.subscriber_queue_bytes` behind the feed.
    pub fn is_too_far_behind(&self, delivery: &Delivery) -> bool {
        let published = self.published_bytes.load(Ordering::Relaxed);
        published.saturating_sub(delivery.through_bytes) > self.subscriber_queue_bytes
    }

    /// Subscribes to `topics`, with the events missed since `since` (none
    /// when `None`) replayed first.
    pub fn subscribe(&self, topics: TopicSet, since: Option<&Since>) -> Subscription {
        let counted = SubscriberCount::new(Arc::clone(&self.subscribers), topics);
        let history = self.history.lock().expect("feed lock");
        let live = self.live.subscribe();
        let latest = history.next_sequence - 1;
        let first_kept = history
            .kept
            .front()
            .map_or(history.next_sequence, |d| d.sequence);
        let (from, recovered) = match since {
            None => (latest, true),
            Some(since) => {
                let same_epoch = since.epoch.as_deref().is_none_or(|e| e == self.epoch);
                if same_epoch && since.sequence <= latest {
                    (since.sequence, since.sequence + 1 >= first_kept)
                } else {
                    // Another run's sequence: everything this run kept is new to it.
                    (0, false)
                }
            }
        };
        let skip = from.saturating_sub(first_kept - 1) as usize;
        let replay = history
            .kept
            .iter()
            .skip(skip)
            .filter(|d| topics.contains(d.topic))
            .cloned()
            .collect();
        drop(history);
        Subscription {
            replay,
            live,
            latest,
            recovered,
            _counted: counted,
        }
    }
}

/// Counts a subscriber under each of its topics while it lives.
struct SubscriberCount {
    counts: Arc<[AtomicUsize; Topic::COUNT]>,
    topics: TopicSet,
}

impl SubscriberCount {
    fn new(counts: Arc<[AtomicUsize; Topic::COUNT]>, topics: TopicSet) -> Self {
        for topic in topics.iter() {
            counts[topic.index()].fetch_add(1, Ordering::Relaxed);
        }
        Self { counts, topics }
    }
}

impl Drop for SubscriberCount {
    fn drop(&mut self) {
        for topic in self.topics.iter() {
            self.counts[topic.index()].fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use inlet_proto::events::v1::{event::Kind, FormSubmitted, MailReceived};

    use super::*;

    fn feed(history: usize) -> Feed {
        let settings = EventSettings {
            history,
            subscriber_queue: 16,
            ..EventSettings::default()
        };
        Feed::new(&settings, GatewayMetrics::default())
    }

    fn form_named(name: &str) -> Event {
        Event {
            kind: Some(Kind::FormSubmitted(FormSubmitted {
                field_names: vec![name.to_owned()],
                ..FormSubmitted::default()
            })),
            ..Event::default()
        }
    }

    #[test]
    fn the_history_is_bounded_in_bytes_and_keeps_the_newest() {
        let settings = EventSettings {
            history: 1000,
            history_bytes: 10_000,
            ..EventSettings::default()
        };
        let feed = Feed::new(&settings, GatewayMetrics::default());
        for _ in 0..100 {
            feed.publish(&form_named(&"n".repeat(900))).unwrap();
        }
        let sub = feed.subscribe(TopicSet::all(), Some(&Since::default()));
        let kept: usize = sub.replay.iter().map(|d| d.frame.len()).sum();
        assert!(kept <= 10_000, "{kept}");
        assert_eq!(sequences(&sub).last(), Some(&100));
        assert!(sub.replay.len() >= 9, "{}", sub.replay.len());
        assert!(!sub.recovered);
        // One event larger than the whole bound is still kept, alone.
        feed.publish(&form_named(&"n".repeat(20_000))).unwrap();
        let sub = feed.subscribe(TopicSet::all(), Some(&Since::default()));
        assert_eq!(sequences(&sub), [101]);
    }

    #[test]
    fn a_subscriber_is_too_far_behind_by_bytes_published_after_what_it_reads() {
        let settings = EventSettings {
            subscriber_queue_bytes: 5_000,
            ..EventSettings::default()
        };
        let feed = Feed::new(&settings, GatewayMetrics::default());
        let mut sub = feed.subscribe(TopicSet::all(), None);
        for _ in 0..4 {
            feed.publish(&form_named(&"n".repeat(1_000))).unwrap();
        }
        let first = sub.live.try_recv().unwrap();
        assert!(!feed.is_too_far_behind(&first));
        for _ in 0..4 {
            feed.publish(&form_named(&"n".repeat(1_000))).unwrap();
        }
        let second = sub.live.try_recv().unwrap();
        assert!(feed.is_too_far_behind(&second));
    }

    fn form() -> Event {
        Event {
            kind: Some(Kind::FormSubmitted(FormSubmitted::default())),
            ..Event::default()
        }
    }

    fn mail() -> Event {
        Event {
            kind: Some(Kind::MailReceived(MailReceived::default())),
            ..Event::default()
        }
    }

    fn sequences(s: &Subscription) -> Vec<u64> {
        s.replay.iter().map(|d| d.sequence).collect()
    }

    #[test]
    fn since_replays_exactly_what_was_missed_then_goes_live() {
        let feed = feed(100);
        for _ in 0..5 {
            feed.publish(&form()).unwrap();
        }
        let since = Since {
            sequence: 2,
            epoch: Some(feed.epoch().to_owned()),
        };
        let mut sub = feed.subscribe(TopicSet::all(), Some(&since));
        assert_eq!(sequences(&sub), [3, 4, 5]);
        assert!(sub.recovered);
        assert_eq!(sub.latest, 5);
        feed.publish(&form()).unwrap();
        assert_eq!(sub.live.try_recv().unwrap().sequence, 6);
        assert!(sub.live.try_recv().is_err());
    }

    #[test]
    fn a_since_older_than_the_history_is_not_recovered() {
        let feed = feed(3);
        for _ in 0..6 {
            feed.publish(&form()).unwrap();
        }
        let sub = feed.subscribe(
            TopicSet::all(),
            Some(&Since {
                sequence: 1,
                epoch: None,
            }),
        );
        assert_eq!(sequences(&sub), [4, 5, 6]);
        assert!(!sub.recovered);
        let sub = feed.subscribe(
            TopicSet::all(),
            Some(&Since {
                sequence: 3,
                epoch: None,
            }),
        );
        assert_eq!(sequences(&sub), [4, 5, 6]);
        assert!(sub.recovered);
    }

    #[test]
    fn another_epoch_gets_the_whole_history_unrecovered() {
        let feed = feed(10);
        feed.publish(&form()).unwrap();
        feed.publish(&form()).unwrap();
        let since = Since {
            sequence: 1,
            epoch: Some("an-older-run".into()),
        };
        let sub = feed.subscribe(TopicSet::all(), Some(&since));
        assert_eq!(sequences(&sub), [1, 2]);
        assert!(!sub.recovered);
        let ahead = feed.subscribe(
            TopicSet::all(),
            Some(&Since {
                sequence: 99,
                epoch: None,
            }),
        );
        assert_eq!(sequences(&ahead), [1, 2]);
    }

    #[test]
    fn replay_and_counts_follow_the_topics() {
        let feed = feed(10);
        feed.publish(&form()).unwrap();
        feed.publish(&mail()).unwrap();
        let mail_only = TopicSet::parse("mail").unwrap();
        let sub = feed.subscribe(mail_only, Some(&Since::default()));
        assert_eq!(sequences(&sub), [2]);
        let counted = |p: Published| (p.sequence, p.subscribers);
        assert_eq!(counted(feed.publish(&mail()).unwrap()), (3, 1));
        assert_eq!(counted(feed.publish(&form()).unwrap()), (4, 0));
        drop(sub);
        assert_eq!(counted(feed.publish(&mail()).unwrap()), (5, 0));
        assert!(matches!(
            feed.publish(&Event::default()),
            Err(FeedError::NoKind)
        ));
    }
}
