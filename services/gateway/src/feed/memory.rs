//! The in-memory feed (`events.backend = "memory"`, the default): the
//! gateway counts sequences itself, from 1 in each run, and its ring is
//! the whole history; every run is a new epoch.

use inlet_proto::events::v1::Event;

use super::ring::{Ring, Start};
use super::topic::{Topic, TopicSet};
use super::{frame, FeedError, Live, Published, Since, Subscription};
use crate::config::EventSettings;
use crate::metrics::GatewayMetrics;

/// The in-memory feed; one per gateway, with a new epoch each run.
pub struct MemoryFeed {
    ring: Ring,
    epoch: String,
}

impl MemoryFeed {
    /// An empty feed with a new epoch.
    pub fn new(settings: &EventSettings, metrics: GatewayMetrics) -> Self {
        let epoch = uuid::Uuid::now_v7().simple().to_string();
        Self {
            ring: Ring::new(settings, metrics, epoch.clone()),
            epoch,
        }
    }

    /// This run's epoch: sequences are only comparable within one.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Sequences `event`, keeps it for replay and hands it to every live
    /// subscriber that follows its topic.
    pub fn publish(&self, event: &Event) -> Result<Published, FeedError> {
        let topic = Topic::of(event.kind.as_ref().ok_or(FeedError::NoKind)?);
        let tail = frame::event_tail(topic, event);
        Ok(self.ring.append(None, topic, &tail))
    }

    /// Subscribes to `topics`, with the events missed since `since` (none
    /// when `None`) to replay first. Nothing published after this call is
    /// missed by the subscription.
    pub fn subscribe(&self, topics: TopicSet, since: Option<&Since>) -> Subscription {
        let latest = self.ring.latest();
        let start = match since {
            None => Start::Latest,
            Some(since) => {
                let same_epoch = since.epoch.as_deref().is_none_or(|e| e == self.epoch);
                if same_epoch && since.sequence <= latest {
                    Start::After(since.sequence)
                } else {
                    // Another run's sequence: everything this run kept is new to it.
                    Start::Everything
                }
            }
        };
        let joined = self.ring.subscribe(topics, start);
        let recovered = joined.complete && start != Start::Everything;
        Subscription {
            epoch: joined.epoch,
            replay: joined.replay,
            latest: joined.latest,
            recovered,
            live: Live::Ring(joined.live),
        }
    }
}

#[cfg(test)]
mod tests {
    use inlet_proto::events::v1::{event::Kind, FormSubmitted, MailReceived};

    use futures_util::FutureExt;

    use super::*;
    use crate::feed::{Received, Subscription};

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
