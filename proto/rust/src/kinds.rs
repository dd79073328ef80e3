//! The one table of event kinds and topics. A kind's name (in frames and
//! the CLI's lines) and its topic (what `?topics=` filters on) are written
//! here and nowhere else; adding a kind is a row here, its message in the
//! `.proto`, and how the gateway renders its fields.

use crate::events::v1::event::Kind;

/// Declares [`Topic`] from its rows.
macro_rules! topics {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal;)*) => {
        /// Which service's arrivals a subscriber wants, named as `?topics=` names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Topic {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Topic {
            /// Every topic, in table order (the order the page and the docs list them).
            pub const ALL: &'static [Topic] = &[$(Topic::$variant),*];

            /// How many topics there are.
            pub const COUNT: usize = Topic::ALL.len();

            /// Its name in `?topics=` and in event frames.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Topic::$variant => $name,)*
                }
            }
        }
    };
}

/// Declares the kind names and [`kind_name`] / [`Topic::of`] from their rows.
macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $variant:ident, $constant:ident => $name:literal, $topic:ident;)*) => {
        $($(#[doc = $doc])* pub const $constant: &str = $name;)*

        /// Every kind's name, in table order.
        pub const KIND_NAMES: &[&str] = &[$($name),*];

        /// The name of an event of `kind`, as frames carry it in `kind`.
        pub const fn kind_name(kind: &Kind) -> &'static str {
            match kind {
                $(Kind::$variant(_) => $name,)*
            }
        }

        impl Topic {
            /// The topic an event of `kind` belongs to.
            pub const fn of(kind: &Kind) -> Self {
                match kind {
                    $(Kind::$variant(_) => Topic::$topic,)*
                }
            }
        }
    };
}

topics! {
    /// Form submissions.
    Forms => "forms";
    /// Stored files.
    Uploads => "uploads";
    /// Delivered mail.
    Mail => "mail";
}

kinds! {
    /// A form submission was stored.
    FormSubmitted, FORM_SUBMITTED => "form_submitted", Forms;
    /// An uploaded file was stored.
    FileStored, FILE_STORED => "file_stored", Uploads;
    /// A message was delivered to its mailboxes.
    MailReceived, MAIL_RECEIVED => "mail_received", Mail;
    /// A submission was deleted by a request.
    SubmissionDeleted, SUBMISSION_DELETED => "submission_deleted", Forms;
    /// Retention dropped the oldest submissions.
    SubmissionsExpired, SUBMISSIONS_EXPIRED => "submissions_expired", Forms;
    /// A stored file was removed.
    FileDeleted, FILE_DELETED => "file_deleted", Uploads;
    /// A delivered message was removed from its mailbox.
    MailDeleted, MAIL_DELETED => "mail_deleted", Mail;
}

impl Topic {
    /// Its position in [`Topic::ALL`] (the variants are declared in table order).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The topic named `name` (any case).
    pub fn named(name: &str) -> Option<Self> {
        Topic::ALL
            .iter()
            .copied()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::v1::{
        FileDeleted, FileStored, FormSubmitted, MailDeleted, MailReceived, SubmissionDeleted,
        SubmissionsExpired,
    };

    #[test]
    fn every_kind_has_a_name_and_a_topic() {
        let kinds = [
            Kind::FormSubmitted(FormSubmitted::default()),
            Kind::FileStored(FileStored::default()),
            Kind::MailReceived(MailReceived::default()),
            Kind::SubmissionDeleted(SubmissionDeleted::default()),
            Kind::SubmissionsExpired(SubmissionsExpired::default()),
            Kind::FileDeleted(FileDeleted::default()),
            Kind::MailDeleted(MailDeleted::default()),
        ];
        let names: Vec<_> = kinds.iter().map(kind_name).collect();
        assert_eq!(names, KIND_NAMES);
        let topics: Vec<_> = kinds.iter().map(|k| Topic::of(k).name()).collect();
        assert_eq!(
            topics,
            ["forms", "uploads", "mail", "forms", "forms", "uploads", "mail"]
        );
    }

    #[test]
    fn topics_are_found_by_name_and_know_their_place() {
        assert_eq!(Topic::named("MAIL"), Some(Topic::Mail));
        assert_eq!(Topic::named("files"), None);
        for (i, topic) in Topic::ALL.iter().enumerate() {
            assert_eq!(topic.index(), i);
        }
        assert_eq!(Topic::COUNT, 3);
    }
}
