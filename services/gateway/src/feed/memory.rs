//! The in-memory feed: a bounded history for replay, and one
//! `tokio::sync::broadcast` ring of `events.subscriber_queue` slots shared by
//! every subscriber, so one that falls behind costs no memory of its own.
//!
//! Publishing and subscribing take the same lock, so a subscriber's replay
//! (from the history) and its live stream (from the broadcast) meet exactly:
//! no gap, no duplicate.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use inlet_proto::events::v1::Event;
use tokio::sync::broadcast::{self, error::RecvError};

use super::topic::{Topic, TopicSet};
use super::{
    frame, Delivery, EventFeed, FeedError, Live, Published, Received, Since, Subscription,
};
use crate::config::EventSettings;
use crate::metrics::GatewayMetrics;

/// The in-memory feed; one per gateway, with a new epoch each run.
pub struct MemoryFeed {
    history: Mutex<History>,
    live: broadcast::Sender<Arc<Delivery>>,
    epoch: String,
    subscribers: Arc<[AtomicUsize; Topic::COUNT]>,
    progress: Arc<Progress>,
    /// `events.subscriber_queue_bytes`.
    subscriber_queue_bytes: u64,
    metrics: GatewayMetrics,
}

/// How far the feed has got, read by subscribers to tell how far behind they are.
#[derive(Debug, Default)]
struct Progress {
    /// The last sequence given out.
    latest: AtomicU64,
    /// Bytes of every frame published so far (`Delivery::through_bytes` of
    /// the latest).
    published_bytes: AtomicU64,
}

struct History {
    next_sequence: u64,
    kept: VecDeque<Arc<Delivery>>,
    /// Bytes of the frames in `kept`.
    kept_bytes: usize,
    capacity: usize,
    capacity_bytes: usize,
}

impl MemoryFeed {
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
            progress: Arc::new(Progress::default()),
            subscriber_queue_bytes: settings.subscriber_queue_bytes as u64,
            metrics,
        }
    }
}

impl EventFeed for MemoryFeed {
    fn epoch(&self) -> &str {
        &self.epoch
    }

    fn publish(&self, event: &Event) -> Result<Published, FeedError> {
        let topic = Topic::of(event.kind.as_ref().ok_or(FeedError::NoKind)?);
        let tail = frame::event_tail(topic, event);
        let mut history = self.history.lock().expect("feed lock");
        let sequence = history.next_sequence;
        history.next_sequence += 1;
        let frame: ByteString = frame::event(sequence, &tail).into();
        let size = frame.len();
        // Written under the lock, so both grow in sequence order.
        let through_bytes = self.progress.published_bytes.load(Ordering::Relaxed) + size as u64;
        self.progress
            .published_bytes
            .store(through_bytes, Ordering::Relaxed);
        self.progress.latest.store(sequence, Ordering::Relaxed);
        let delivery = Arc::new(Delivery {
            sequence,
            topic,
            frame,
            through_bytes,
        });
        history.keep(Arc::clone(&delivery));
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

    fn subscribe(&self, topics: TopicSet, since: Option<&Since>) -> Subscription {
        let counted = SubscriberCount::new(Arc::clone(&self.subscribers), topics);
        let history = self.history.lock().expect("feed lock");
        let receiver = self.live.subscribe();
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
            latest,
            recovered,
            live: Live::Memory(MemoryLive {
                receiver,
                topics,
                position: latest,
                progress: Arc::clone(&self.progress),
                queue_bytes: self.subscriber_queue_bytes,
                _counted: counted,
            }),
        }
    }
}

impl History {
    /// Keeps `delivery`, dropping the oldest past either bound; the newest
    /// is always kept, whatever its size.
    fn keep(&mut self, delivery: Arc<Delivery>) {
        let size = delivery.frame.len();
        while self.kept.len() == self.capacity
            || (!self.kept.is_empty() && self.kept_bytes + size > self.capacity_bytes)
        {
            let Some(oldest) = self.kept.pop_front() else {
                break;
            };
            self.kept_bytes -= oldest.frame.len();
        }
        self.kept.push_back(delivery);
        self.kept_bytes += size;
    }
}

/// One subscriber's live stream from the broadcast ring.
pub(super) struct MemoryLive {
    receiver: broadcast::Receiver<Arc<Delivery>>,
    topics: TopicSet,
    /// The last sequence given or filtered out: where a reconnect resumes.
    position: u64,
    progress: Arc<Progress>,
    /// `events.subscriber_queue_bytes`.
    queue_bytes: u64,
    /// Counts the subscriber under its topics while it lives.
    _counted: SubscriberCount,
}

impl MemoryLive {
    pub(super) async fn next(&mut self) -> Received {
        loop {
            let delivery = match self.receiver.recv().await {
                Ok(delivery) => delivery,
                Err(RecvError::Lagged(missed)) => return self.lagged(missed),
                Err(RecvError::Closed) => return Received::Closed,
            };
            if delivery.sequence <= self.position {
                continue;
            }
            if self.is_too_far_behind(&delivery) {
                let latest = self.progress.latest.load(Ordering::Relaxed);
                return self.lagged(latest - self.position);
            }
            self.position = delivery.sequence;
            if self.topics.contains(delivery.topic) {
                return Received::Event(delivery);
            }
        }
    }

    fn lagged(&self, missed: u64) -> Received {
        Received::Lagged {
            resume_from: self.position,
            missed,
        }
    }

    /// Whether a subscriber now reading `delivery` has fallen more than
    /// `events.subscriber_queue_bytes` behind the feed.
    fn is_too_far_behind(&self, delivery: &Delivery) -> bool {
        let published = self.progress.published_bytes.load(Ordering::Relaxed);
        published.saturating_sub(delivery.through_bytes) > self.queue_bytes
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

    use futures_util::FutureExt;

    use super::*;
    use crate::feed::Subscription;

    fn feed(history: usize) -> MemoryFeed {
        let settings = EventSettings {
            history,
            subscriber_queue: 16,
            ..EventSettings::default()
        };
        MemoryFeed::new(&settings, GatewayMetrics::default())
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
        let feed = MemoryFeed::new(&settings, GatewayMetrics::default());
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
        let feed = MemoryFeed::new(&settings, GatewayMetrics::default());
        let mut sub = feed.subscribe(TopicSet::all(), None);
        for _ in 0..4 {
            feed.publish(&form_named(&"n".repeat(1_000))).unwrap();
        }
        assert!(matches!(now(&mut sub), Some(Received::Event(d)) if d.sequence == 1));
        for _ in 0..4 {
            feed.publish(&form_named(&"n".repeat(1_000))).unwrap();
        }
        assert!(matches!(
            now(&mut sub),
            Some(Received::Lagged {
                resume_from: 1,
                missed: 7
            })
        ));
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

    /// What the subscription has ready now, without waiting.
    fn now(sub: &mut Subscription) -> Option<Received> {
        sub.next().now_or_never()
    }

    #[test]
    fn live_events_follow_the_topics_and_a_lag_says_where_to_resume() {
        let settings = EventSettings {
            subscriber_queue: 2,
            ..EventSettings::default()
        };
        let feed = MemoryFeed::new(&settings, GatewayMetrics::default());
        let mut sub = feed.subscribe(TopicSet::parse("mail").unwrap(), None);
        feed.publish(&form()).unwrap();
        feed.publish(&mail()).unwrap();
        assert!(matches!(now(&mut sub), Some(Received::Event(d)) if d.sequence == 2));
        for _ in 0..5 {
            feed.publish(&mail()).unwrap();
        }
        assert!(matches!(
            now(&mut sub),
            Some(Received::Lagged {
                resume_from: 2,
                missed: 3
            })
        ));
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
        assert!(matches!(now(&mut sub), Some(Received::Event(d)) if d.sequence == 6));
        assert!(now(&mut sub).is_none());
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
