//! The ring every feed fans out from: a bounded history of rendered
//! frames for replay, and one `tokio::sync::broadcast` ring of
//! `events.subscriber_queue` slots shared by every subscriber, so one that
//! falls behind costs no memory of its own.
//!
//! Appending and subscribing take the same lock, so a subscriber's replay
//! (from the history) and its live stream (from the broadcast) meet
//! exactly: no gap, no duplicate. Sequences are the feed's: counted here
//! for the memory feed, the stream's own for NATS.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use tokio::sync::broadcast::{self, error::RecvError};

use super::topic::{Topic, TopicSet};
use super::{frame, Delivery, Published, Received};
use crate::config::EventSettings;
use crate::metrics::GatewayMetrics;

/// The history and the live broadcast of one feed.
pub(super) struct Ring {
    history: Mutex<History>,
    /// How many times the ring restarted: a subscriber from before a
    /// restart is told so, not that the feed closed.
    generation: Arc<AtomicU64>,
    subscribers: Arc<[AtomicUsize; Topic::COUNT]>,
    progress: Arc<Progress>,
    /// `events.subscriber_queue_bytes`.
    subscriber_queue_bytes: u64,
    metrics: GatewayMetrics,
}

/// How far the feed has got, read by subscribers to tell how far behind they are.
#[derive(Debug, Default)]
struct Progress {
    /// The last sequence appended.
    latest: AtomicU64,
    /// The oldest sequence the history still holds (0: none yet).
    first_kept: AtomicU64,
    /// Bytes of every frame appended so far (`Delivery::through_bytes` of
    /// the latest).
    published_bytes: AtomicU64,
}

struct History {
    /// The epoch its sequences belong to.
    epoch: String,
    /// Every live subscriber's stream (made anew when the ring restarts).
    live: broadcast::Sender<Arc<Delivery>>,
    /// `events.subscriber_queue`.
    live_capacity: usize,
    /// The first sequence this ring holds or will hold: nothing before it
    /// is replayed from here.
    floor: u64,
    kept: VecDeque<Arc<Delivery>>,
    /// Bytes of the frames in `kept`.
    kept_bytes: usize,
    capacity: usize,
    capacity_bytes: usize,
}

/// Where a new subscriber starts in the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// With what comes next: nothing replayed.
    Latest,
    /// After this sequence: what the history holds after it is replayed.
    /// A sequence the ring has not reached yet is waited for.
    After(u64),
    /// With everything the history holds.
    Everything,
}

/// A subscription to the ring, and what the ring held when it began.
pub(super) struct Joined {
    /// The epoch of the sequences it is given.
    pub epoch: String,
    /// What to replay first, oldest first, already filtered.
    pub replay: Vec<Arc<Delivery>>,
    /// The last sequence appended when it began.
    pub latest: u64,
    /// Whether the history held everything after the `After` sequence
    /// (always for the other starts).
    pub complete: bool,
    /// The live stream.
    pub live: RingLive,
}

impl Ring {
    /// An empty ring bounded by `settings`, of sequences in `epoch`.
    pub(super) fn new(settings: &EventSettings, metrics: GatewayMetrics, epoch: String) -> Self {
        let (live, _) = broadcast::channel(settings.subscriber_queue);
        let progress = Progress {
            first_kept: AtomicU64::new(1),
            ..Progress::default()
        };
        Self {
            history: Mutex::new(History {
                epoch,
                live,
                live_capacity: settings.subscriber_queue,
                floor: 1,
                kept: VecDeque::with_capacity(settings.history.min(65_536)),
                kept_bytes: 0,
                capacity: settings.history,
                capacity_bytes: settings.history_bytes,
            }),
            generation: Arc::new(AtomicU64::new(0)),
            subscribers: Arc::new([const { AtomicUsize::new(0) }; Topic::COUNT]),
            progress: Arc::new(progress),
            subscriber_queue_bytes: settings.subscriber_queue_bytes as u64,
            metrics,
        }
    }

    /// The last sequence appended (0: none).
    pub(super) fn latest(&self) -> u64 {
        self.progress.latest.load(Ordering::Relaxed)
    }

    /// The oldest sequence the history holds, or (empty) the first it will.
    pub(super) fn first_kept(&self) -> u64 {
        self.progress.first_kept.load(Ordering::Relaxed)
    }

    /// The epoch its sequences belong to.
    pub(super) fn epoch(&self) -> String {
        self.history.lock().expect("feed lock").epoch.clone()
    }

    /// Empties the ring to start again at `floor` in `epoch` (another
    /// stream's sequences): every live subscriber is ended with
    /// [`Received::Restarted`].
    pub(super) fn restart(&self, floor: u64, epoch: String) {
        let mut history = self.history.lock().expect("feed lock");
        history.epoch = epoch;
        history.kept.clear();
        history.kept_bytes = 0;
        history.floor = floor.max(1);
        self.generation.fetch_add(1, Ordering::Relaxed);
        history.live = broadcast::channel(history.live_capacity).0;
        self.progress
            .latest
            .store(history.floor - 1, Ordering::Relaxed);
        self.progress
            .first_kept
            .store(history.floor, Ordering::Relaxed);
        self.metrics.history_bytes.set(0);
    }

    /// Appends the event whose frame ends with `tail` as `sequence` (the
    /// next one when `None`), keeps it for replay and hands it to every
    /// live subscriber that follows `topic`.
    pub(super) fn append(&self, sequence: Option<u64>, topic: Topic, tail: &str) -> Published {
        let history = self.history.lock().expect("feed lock");
        let latest = self.progress.latest.load(Ordering::Relaxed);
        let sequence = sequence.unwrap_or(latest + 1);
        let frame = frame::event(sequence, tail).into();
        self.push(history, sequence, topic, frame)
    }

    /// Appends an event already rendered as `frame`, as [`Ring::append`].
    pub(super) fn append_frame(&self, sequence: u64, topic: Topic, frame: ByteString) -> Published {
        let history = self.history.lock().expect("feed lock");
        self.push(history, sequence, topic, frame)
    }

    fn push(
        &self,
        mut history: std::sync::MutexGuard<'_, History>,
        sequence: u64,
        topic: Topic,
        frame: ByteString,
    ) -> Published {
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
        let first = history.first_kept(sequence);
        self.progress.first_kept.store(first, Ordering::Relaxed);
        self.metrics.history_bytes.set(history.kept_bytes as i64);
        // No subscriber at all is not an error.
        let _ = history.live.send(delivery);
        drop(history);
        self.metrics.events_published.inc();
        Published {
            sequence,
            topic,
            subscribers: self.subscribers[topic.index()].load(Ordering::Relaxed),
        }
    }

    /// Subscribes to `topics` from `start`.
    pub(super) fn subscribe(&self, topics: TopicSet, start: Start) -> Joined {
        let counted = SubscriberCount::new(Arc::clone(&self.subscribers), topics);
        let history = self.history.lock().expect("feed lock");
        let receiver = history.live.subscribe();
        let latest = self.progress.latest.load(Ordering::Relaxed);
        let first_kept = history.first_kept(latest);
        let (after, position, complete) = match start {
            Start::Latest => (latest, latest, true),
            Start::Everything => (0, latest, true),
            Start::After(sequence) => (sequence, sequence.max(latest), sequence + 1 >= first_kept),
        };
        let skip = history.kept.partition_point(|d| d.sequence <= after);
        let replay = history
            .kept
            .iter()
            .skip(skip)
            .filter(|d| topics.contains(d.topic))
            .cloned()
            .collect();
        let epoch = history.epoch.clone();
        drop(history);
        Joined {
            epoch,
            replay,
            latest,
            complete,
            live: RingLive {
                receiver,
                generation: self.generation.load(Ordering::Relaxed),
                ring_generation: Arc::clone(&self.generation),
                topics,
                position,
                progress: Arc::clone(&self.progress),
                queue_bytes: self.subscriber_queue_bytes,
                _counted: counted,
            },
        }
    }
}

impl History {
    /// The oldest sequence kept or, with none kept, the next to come
    /// (`latest` being the last appended).
    fn first_kept(&self, latest: u64) -> u64 {
        self.kept
            .front()
            .map_or(self.floor.max(latest + 1), |d| d.sequence)
    }

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
pub(super) struct RingLive {
    receiver: broadcast::Receiver<Arc<Delivery>>,
    /// The ring's generation when this subscriber joined, and the ring's now.
    generation: u64,
    ring_generation: Arc<AtomicU64>,
    topics: TopicSet,
    /// The last sequence given or filtered out: where a reconnect resumes.
    position: u64,
    progress: Arc<Progress>,
    /// `events.subscriber_queue_bytes`.
    queue_bytes: u64,
    /// Counts the subscriber under its topics while it lives.
    _counted: SubscriberCount,
}

impl RingLive {
    pub(super) async fn next(&mut self) -> Received {
        loop {
            let delivery = match self.receiver.recv().await {
                Ok(delivery) => delivery,
                Err(RecvError::Lagged(missed)) => return self.lagged(missed),
                Err(RecvError::Closed) => {
                    let restarted = self.ring_generation.load(Ordering::Relaxed) != self.generation;
                    return if restarted {
                        Received::Restarted
                    } else {
                        Received::Closed
                    };
                }
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
    use futures_util::FutureExt;
    use inlet_proto::events::v1::event::Kind;
    use inlet_proto::events::v1::{Event, FormSubmitted};

    use super::*;

    fn append(ring: &Ring, sequence: Option<u64>) -> u64 {
        let event = Event {
            kind: Some(Kind::FormSubmitted(FormSubmitted::default())),
            ..Event::default()
        };
        let tail = frame::event_tail(Topic::Forms, &event);
        ring.append(sequence, Topic::Forms, &tail).sequence
    }

    #[test]
    fn a_restarted_ring_ends_its_subscribers_and_holds_nothing_below_its_floor() {
        let ring = Ring::new(
            &EventSettings::default(),
            GatewayMetrics::default(),
            "one".into(),
        );
        assert_eq!((append(&ring, None), append(&ring, None)), (1, 2));
        let mut before = ring.subscribe(TopicSet::all(), Start::Latest);
        ring.restart(100, "two".into());
        assert!(matches!(
            before.live.next().now_or_never(),
            Some(Received::Restarted)
        ));
        assert_eq!((ring.latest(), ring.first_kept()), (99, 100));
        assert_eq!(ring.epoch(), "two");
        // Below the floor is not the ring's to replay; from just under it is.
        assert!(!ring.subscribe(TopicSet::all(), Start::After(50)).complete);
        let mut after = ring.subscribe(TopicSet::all(), Start::After(99));
        assert!(after.complete && after.replay.is_empty());
        assert_eq!(after.epoch, "two");
        assert_eq!(append(&ring, Some(100)), 100);
        assert!(
            matches!(after.live.next().now_or_never(), Some(Received::Event(d)) if d.sequence == 100)
        );
        // A subscriber ahead of the ring waits for what it has not seen.
        let mut ahead = ring.subscribe(TopicSet::all(), Start::After(101));
        assert!(ahead.complete);
        append(&ring, Some(101));
        append(&ring, Some(102));
        assert!(
            matches!(ahead.live.next().now_or_never(), Some(Received::Event(d)) if d.sequence == 102)
        );
    }
}
