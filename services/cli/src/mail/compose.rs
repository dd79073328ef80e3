//! The message itself, built by lettre: From, To, Subject, Date, Message-ID,
//! plain text, attachments as MIME multipart, and with `--trace` a
//! `traceparent` header the SMTP service continues.

use std::path::PathBuf;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::error::CliError;

/// What the message is made of.
pub struct Parts<'a> {
    pub from: &'a Address,
    pub to: &'a [Address],
    pub subject: Option<&'a str>,
    pub text: String,
    pub attachments: &'a [PathBuf],
    pub traceparent: Option<String>,
}

/// The formatted message (CRLF lines, ready for DATA).
pub async fn message(parts: &Parts<'_>) -> Result<Vec<u8>, CliError> {
    let mut builder = Message::builder().from(Mailbox::new(None, parts.from.clone()));
    for recipient in parts.to {
        builder = builder.to(Mailbox::new(None, recipient.clone()));
    }
    if let Some(subject) = parts.subject {
        builder = builder.subject(subject);
    }
    if let Some(traceparent) = &parts.traceparent {
        let name = HeaderName::new_from_ascii_str("traceparent");
        builder = builder.raw_header(HeaderValue::new(name, traceparent.clone()));
    }
    let text = SinglePart::plain(parts.text.clone());
    let built = if parts.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut body = MultiPart::mixed().singlepart(text);
        for path in parts.attachments {
            body = body.singlepart(attachment(path).await?);
        }
        builder.multipart(body)
    };
    let message =
        built.map_err(|err| CliError::Message(format!("cannot build the message: {err}")))?;
    Ok(message.formatted())
}

/// A file as an attachment with its name and guessed type.
async fn attachment(path: &PathBuf) -> Result<SinglePart, CliError> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|err| CliError::file(path, err))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".to_owned());
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = ContentType::parse(mime.as_ref())
        .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("a valid type"));
    Ok(Attachment::new(name).body(bytes, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_traced_message_carries_its_traceparent_and_every_recipient() {
        let from: Address = "me@me.com".parse().unwrap();
        let to: Vec<Address> = vec![
            "you@example.com".parse().unwrap(),
            "another@localhost".parse().unwrap(),
        ];
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned();
        let bytes = message(&Parts {
            from: &from,
            to: &to,
            subject: Some("hi"),
            text: "hooray :)\n".to_owned(),
            attachments: &[],
            traceparent: Some(traceparent.clone()),
        })
        .await
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains(&format!("traceparent: {traceparent}\r\n")),
            "{text}"
        );
        assert!(
            text.contains("To: you@example.com, another@localhost\r\n"),
            "{text}"
        );
        assert!(text.contains("Subject: hi\r\n"), "{text}");
        assert!(text.contains("hooray :)"), "{text}");
    }
}
