//! What every service's retention shares: why an item was removed, the
//! counters of removals, and the sweeper that applies a service's policies
//! at start-up and then on a timer.
//!
//! A sweep is given the time to sweep as of, so tests move a clock instead
//! of waiting. It runs on its own task and never holds up intake; it logs
//! one line per sweep that removed anything, never one per item.

use std::future::Future;
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tracing::Instrument;

use crate::metrics::Metrics;

/// Why an item was removed: its `reason` label and event field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A `DELETE` request.
    Deleted,
    /// Older than the policy's `retention_max_age`.
    MaxAge,
    /// The store was over its `retention_max_bytes`.
    MaxBytes,
    /// The store was over its `retention_max_files`.
    MaxFiles,
    /// The mailbox was over its `retention_max_messages`.
    MaxMessages,
}

impl Reason {
    /// Its name in metrics, logs and events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Deleted => "deleted",
            Reason::MaxAge => "max_age",
            Reason::MaxBytes => "max_bytes",
            Reason::MaxFiles => "max_files",
            Reason::MaxMessages => "max_messages",
        }
    }
}

/// Where `max_age` before `now` falls, as time since the Unix epoch: items
/// stamped earlier are past it. `None` when there is no age limit (or it
/// reaches back before the epoch).
pub fn cutoff(now: SystemTime, max_age: Option<Duration>) -> Option<Duration> {
    max_age
        .and_then(|age| now.checked_sub(age))
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
}

/// The label set of the removal counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Items and bytes removed, by reason: `<prefix>_removed_total` and
/// `<prefix>_removed_bytes_total`.
#[derive(Debug, Clone, Default)]
pub struct RemovalMetrics {
    items: Family<ReasonLabel, Counter>,
    bytes: Family<ReasonLabel, Counter>,
}

impl RemovalMetrics {
    /// Registers the two counters under `prefix` (e.g. `inlet_uploads_files`);
    /// `what` names the items in their help text.
    pub fn register(metrics: &Metrics, prefix: &str, what: &str) -> Self {
        let removals = Self::default();
        metrics.register(
            &format!("{prefix}_removed"),
            &format!("{what} removed, by reason (deleted, or the retention policy)"),
            removals.items.clone(),
        );
        metrics.register(
            &format!("{prefix}_removed_bytes"),
            &format!("Bytes of {what} removed, by reason"),
            removals.bytes.clone(),
        );
        removals
    }

    /// Counts `items` removed, `bytes` in all, for `reason`.
    pub fn count(&self, reason: Reason, items: u64, bytes: u64) {
        let label = ReasonLabel {
            reason: reason.as_str(),
        };
        self.items.get_or_create(&label).inc_by(items);
        self.bytes.get_or_create(&label).inc_by(bytes);
    }
}

/// Runs `sweep(now)` at once and then every `every`, each inside a `sweep`
/// span, until the returned handle is dropped. A sweep that takes longer
/// than `every` delays the next; sweeps never overlap.
pub fn start_sweeper<F, Fut>(service: &'static str, every: Duration, sweep: F) -> Sweeper
where
    F: Fn(SystemTime) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let span = tracing::info_span!("sweep", service);
            sweep(SystemTime::now()).instrument(span).await;
        }
    });
    Sweeper { task }
}

/// How much lower than intake a sweep's thread runs (the nice value it takes).
pub const SWEEP_NICE: i32 = 10;

/// Runs blocking `work` on a thread of its own at a lower CPU priority
/// ([`SWEEP_NICE`]), in the current span, and answers when it is done: on a
/// busy machine a sweep takes only the CPU intake leaves.
pub async fn at_low_priority<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let span = tracing::Span::current();
    std::thread::Builder::new()
        .name("inlet-sweep".into())
        .spawn(move || {
            let tid = rustix::thread::gettid();
            if let Err(err) = rustix::process::setpriority_process(Some(tid), SWEEP_NICE) {
                tracing::debug!(error = %err, "cannot lower the sweep thread's priority");
            }
            let _ = done.send(span.in_scope(work));
        })?;
    result
        .await
        .map_err(|_| std::io::Error::other("the sweep thread stopped before it finished"))
}

/// The sweeper's task; dropping it stops the sweeps.
#[derive(Debug)]
pub struct Sweeper {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `serde` for an optional duration written as `7d`, `12h`, `90s`
/// (humantime); absent or empty is `None`.
pub mod optional_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `7days` style text, or nothing.
    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        humantime_serde::serialize(value, s)
    }

    /// Reads `7d`, `12h`, `90s`; an empty string is `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => super::duration::parse(text).map(Some),
        }
    }
}

/// `serde` for a duration written as `7d`, `12h`, `90s` (humantime).
pub mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `7days` style text.
    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        humantime_serde::serialize(value, s)
    }

    /// Reads `7d`, `12h`, `90s`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        parse(String::deserialize(d)?.trim())
    }

    /// `text` as a duration, or an error that shows how to write one.
    pub(super) fn parse<E: serde::de::Error>(text: &str) -> Result<Duration, E> {
        humantime_serde::re::humantime::parse_duration(text)
            .map_err(|e| E::custom(format!("{e} (write it like 7d, 12h or 90s)")))
    }
}

/// `serde` for an optional count or size: a number, or a string of digits
/// (as environment variables are); absent or empty is `None`.
pub mod optional_number {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the number, or nothing.
    pub fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(n) => s.serialize_u64(*n),
            None => s.serialize_none(),
        }
    }

    /// Reads `10000000000`, `"500"`; `""` is `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(u64),
            Text(String),
        }
        match Option::<Written>::deserialize(d)? {
            None => Ok(None),
            Some(Written::Number(n)) => Ok(Some(n)),
            Some(Written::Text(text)) if text.trim().is_empty() => Ok(None),
            Some(Written::Text(text)) => text.trim().parse().map(Some).map_err(|_| {
                serde::de::Error::custom(format!(
                    "{text:?} is not a whole number (write bytes or a count as digits)"
                ))
            }),
        }
    }
}
