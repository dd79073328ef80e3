//! Topics: which service's arrivals a subscriber wants.

use inlet_proto::events::v1::event::Kind;

/// One kind of arrival, named as `?topics=` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Form submissions (`FormSubmitted`).
    Forms,
    /// Stored files (`FileStored`).
    Uploads,
    /// Delivered mail (`MailReceived`).
    Mail,
}

impl Topic {
    /// Every topic, in the order the page and the docs list them.
    pub const ALL: [Topic; 3] = [Topic::Forms, Topic::Uploads, Topic::Mail];

    /// The topic an event of `kind` belongs to.
    pub fn of(kind: &Kind) -> Self {
        match kind {
            Kind::FormSubmitted(_) => Topic::Forms,
            Kind::FileStored(_) => Topic::Uploads,
            Kind::MailReceived(_) => Topic::Mail,
        }
    }

    /// Its name in `?topics=` and in event frames.
    pub const fn name(self) -> &'static str {
        match self {
            Topic::Forms => "forms",
            Topic::Uploads => "uploads",
            Topic::Mail => "mail",
        }
    }

    /// Its position in [`Topic::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Topic::Forms => 0,
            Topic::Uploads => 1,
            Topic::Mail => 2,
        }
    }

    fn bit(self) -> u8 {
        1 << self.index()
    }
}

/// The topics one subscriber follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicSet(u8);

/// A `?topics=` value naming no topic we have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown topic {0:?}: the topics are forms, uploads and mail")]
pub struct UnknownTopic(pub String);

impl TopicSet {
    /// Every topic.
    pub const fn all() -> Self {
        Self(0b111)
    }

    /// Parses `forms,uploads` (commas, blanks ignored); empty means all.
    pub fn parse(text: &str) -> Result<Self, UnknownTopic> {
        let mut bits = 0;
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let topic = Topic::ALL
                .into_iter()
                .find(|t| t.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| UnknownTopic(name.chars().take(64).collect()))?;
            bits |= topic.bit();
        }
        Ok(if bits == 0 { Self::all() } else { Self(bits) })
    }

    /// Whether `topic` is in the set.
    pub fn contains(self, topic: Topic) -> bool {
        self.0 & topic.bit() != 0
    }

    /// The topics in the set, in [`Topic::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Topic> {
        Topic::ALL.into_iter().filter(move |t| self.contains(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse_from_a_comma_list() {
        let set = TopicSet::parse("forms, Mail").unwrap();
        assert!(set.contains(Topic::Forms) && set.contains(Topic::Mail));
        assert!(!set.contains(Topic::Uploads));
        assert_eq!(TopicSet::parse("").unwrap(), TopicSet::all());
        assert_eq!(TopicSet::parse(" , ").unwrap(), TopicSet::all());
        let err = TopicSet::parse("forms,files").unwrap_err();
        assert!(err.to_string().contains("\"files\""), "{err}");
    }
}
