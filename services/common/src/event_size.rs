//! Keeps an event under the publisher's size bound.
//!
//! An event carries names a client chose (form field names, a file's
//! original name, mail addresses), so without a bound one anonymous post with
//! a 1.2 MB field name made an event the gateway refused, and the publisher
//! retried it for ever while every later event waited behind it. Here an
//! event over `publish.max_event_bytes` is summarised: client-chosen texts are
//! cut, then lists lose their last items, until it fits, and the event says
//! so (`truncated`). The stored item itself is never touched.

use inlet_proto::events::v1::{event::Kind, Event};
use prost::Message;

/// Longest client-chosen text an event keeps once it has to be summarised.
const SUMMARY_TEXT_BYTES: usize = 256;

/// The smallest bound `publish.max_event_bytes` may be: room for every
/// fixed field and one summarised text of each kind.
pub const MIN_EVENT_BYTES: usize = 4096;

/// Makes `event` at most `max_bytes` long when encoded; gives whether it had
/// to be cut (and marks it `truncated`).
pub fn fit(event: &mut Event, max_bytes: usize) -> bool {
    if event.encoded_len() <= max_bytes {
        return false;
    }
    event.truncated = true;
    for text in client_texts(event) {
        cut(text, SUMMARY_TEXT_BYTES);
    }
    while event.encoded_len() > max_bytes {
        if !drop_last_item(event) {
            break;
        }
    }
    // Only with a bound under MIN_EVENT_BYTES: the texts go too.
    if event.encoded_len() > max_bytes {
        for text in client_texts(event) {
            text.clear();
        }
    }
    true
}

/// The strings of an event's kind whose length a client decides.
fn client_texts(event: &mut Event) -> Vec<&mut String> {
    match &mut event.kind {
        Some(Kind::FormSubmitted(form)) => {
            let mut texts: Vec<&mut String> = form.field_names.iter_mut().collect();
            texts.push(&mut form.content_type);
            texts
        }
        Some(Kind::FileStored(file)) => vec![&mut file.original_name, &mut file.field],
        Some(Kind::MailReceived(mail)) => {
            let mut texts: Vec<&mut String> = mail.recipients.iter_mut().collect();
            texts.push(&mut mail.sender);
            texts.extend(mail.mailbox_paths.iter_mut());
            texts
        }
        // Names Inlet chose (or checked against an allow-list) and ids.
        Some(
            Kind::SubmissionDeleted(_)
            | Kind::SubmissionsExpired(_)
            | Kind::FileDeleted(_)
            | Kind::MailDeleted(_),
        )
        | None => Vec::new(),
    }
}

/// Drops the last item of the event's longest list; false when none is left.
fn drop_last_item(event: &mut Event) -> bool {
    let longest = match &mut event.kind {
        Some(Kind::FormSubmitted(form)) => Some(&mut form.field_names),
        Some(Kind::MailReceived(mail)) => {
            if mail.recipients.len() >= mail.mailbox_paths.len() {
                Some(&mut mail.recipients)
            } else {
                // A copy's path and id go together.
                mail.message_ids.truncate(mail.mailbox_paths.len() - 1);
                Some(&mut mail.mailbox_paths)
            }
        }
        Some(
            Kind::FileStored(_)
            | Kind::SubmissionDeleted(_)
            | Kind::SubmissionsExpired(_)
            | Kind::FileDeleted(_)
            | Kind::MailDeleted(_),
        )
        | None => None,
    };
    longest.is_some_and(|list| list.pop().is_some())
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
fn cut(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use inlet_proto::events::v1::{FileStored, FormSubmitted, MailReceived};

    use super::*;

    fn form(names: Vec<String>) -> Event {
        Event {
            id: "0190f8a0-0000-7000-8000-000000000000".into(),
            source: "inlet-forms".into(),
            kind: Some(Kind::FormSubmitted(FormSubmitted {
                submission_id: "s".into(),
                content_type: "application/json".into(),
                field_names: names,
                size: 1,
            })),
            ..Event::default()
        }
    }

    fn names(event: &Event) -> &[String] {
        match &event.kind {
            Some(Kind::FormSubmitted(form)) => &form.field_names,
            _ => unreachable!("a form event"),
        }
    }

    #[test]
    fn an_event_under_the_bound_is_untouched() {
        let mut event = form(vec!["name".into(), "email".into()]);
        let before = event.clone();
        assert!(!fit(&mut event, MIN_EVENT_BYTES));
        assert_eq!(event, before);
    }

    #[test]
    fn one_huge_field_name_is_cut_and_flagged() {
        let mut event = form(vec!["é".repeat(600_000), "email".into()]);
        assert!(fit(&mut event, 65_536));
        assert!(event.truncated);
        assert!(event.encoded_len() <= 65_536);
        assert_eq!(names(&event)[0], "é".repeat(128));
        assert_eq!(names(&event)[1], "email");
    }

    #[test]
    fn many_fields_lose_their_last_names_until_the_event_fits() {
        let many: Vec<String> = (0..10_000).map(|i| format!("field{i}")).collect();
        let mut event = form(many);
        assert!(fit(&mut event, MIN_EVENT_BYTES));
        assert!(event.encoded_len() <= MIN_EVENT_BYTES);
        let kept = names(&event);
        assert!(kept.len() > 100, "{}", kept.len());
        assert_eq!(kept[..3], ["field0", "field1", "field2"]);
    }

    #[test]
    fn mail_and_file_events_fit_the_smallest_bound() {
        let mut mail = Event {
            kind: Some(Kind::MailReceived(MailReceived {
                sender: "s".repeat(100_000),
                recipients: vec!["r".repeat(5_000); 100],
                size: 1,
                mailbox_paths: vec!["mail/you/new/x".into(); 100],
                message_ids: vec!["0".repeat(32); 100],
            })),
            ..Event::default()
        };
        assert!(fit(&mut mail, MIN_EVENT_BYTES));
        assert!(mail.encoded_len() <= MIN_EVENT_BYTES);
        let Some(Kind::MailReceived(kept)) = &mail.kind else {
            unreachable!()
        };
        assert!(kept.message_ids.len() <= kept.mailbox_paths.len());
        let mut file = Event {
            kind: Some(Kind::FileStored(FileStored {
                stored_name: "a.txt".into(),
                original_name: "n".repeat(1 << 20),
                field: "f".repeat(1 << 20),
                size: 1,
                sha256: "0".repeat(64),
            })),
            ..Event::default()
        };
        assert!(fit(&mut file, MIN_EVENT_BYTES));
        assert!(file.encoded_len() <= MIN_EVENT_BYTES);
    }
}
