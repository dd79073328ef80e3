//! Which topics a subscriber follows. The topics themselves, and which kind
//! belongs to which, are the table in `inlet_proto::kinds`.

pub use inlet_proto::kinds::Topic;

/// The topics one subscriber follows: one bit per topic, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicSet(u32);

const _: () = assert!(Topic::COUNT <= 32, "a TopicSet holds at most 32 topics");

/// A `?topics=` value naming no topic we have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown topic {name:?}: the topics are {known}")]
pub struct UnknownTopic {
    /// What was asked for (at most 64 characters of it).
    pub name: String,
    /// Every topic's name, for the message.
    known: String,
}

fn bit(topic: Topic) -> u32 {
    1 << topic.index()
}

impl TopicSet {
    /// Every topic.
    pub const fn all() -> Self {
        Self((1 << Topic::COUNT) - 1)
    }

    /// Parses `forms,uploads` (commas, blanks ignored); empty means all.
    pub fn parse(text: &str) -> Result<Self, UnknownTopic> {
        let mut bits = 0;
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let topic = Topic::named(name).ok_or_else(|| UnknownTopic {
                name: name.chars().take(64).collect(),
                known: known_topics(),
            })?;
            bits |= bit(topic);
        }
        Ok(if bits == 0 { Self::all() } else { Self(bits) })
    }

    /// Whether `topic` is in the set.
    pub fn contains(self, topic: Topic) -> bool {
        self.0 & bit(topic) != 0
    }

    /// The topics in the set, in [`Topic::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Topic> {
        Topic::ALL
            .iter()
            .copied()
            .filter(move |t| self.contains(*t))
    }
}

/// `forms, uploads and mail`.
fn known_topics() -> String {
    let names: Vec<&str> = Topic::ALL.iter().map(|t| t.name()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
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
        assert!(
            err.to_string()
                .ends_with("the topics are forms, uploads and mail"),
            "{err}"
        );
    }

    #[test]
    fn all_is_every_topic_of_the_table() {
        let all: Vec<Topic> = TopicSet::all().iter().collect();
        assert_eq!(all, Topic::ALL);
    }
}
