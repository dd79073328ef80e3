//! `inlet mail`: the seed's SMTP client. On a terminal without `--to` it
//! asks `To: ` and then for the message (^D sends, ^C cancels); otherwise it
//! takes `--to`, `--subject`, the text (`--body`, `--body-file` or stdin) and
//! `--attach`. Recipients are checked when they are given, so an unknown
//! mailbox is reported before the message is written.

mod compose;
mod prompt;
mod session;

use std::io::IsTerminal;

use lettre::Address;
use tokio::io::AsyncReadExt;

use crate::args::MailArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::outcome::Outcome;
use crate::style::{dim, Stream};
use session::Session;

/// Sends one message.
pub async fn run(args: MailArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let from: Address = args
        .from
        .parse()
        .map_err(|err| CliError::Usage(format!("--from {:?}: {err}", args.from)))?;
    let interactive = args.to.is_empty() && std::io::stdin().is_terminal();
    if args.to.is_empty() && !interactive {
        return Err(CliError::Usage(
            "--to is needed when stdin is not a terminal".to_owned(),
        ));
    }
    let mut session = Session::open(&args.server, args.starttls, ctx).await?;

    let (recipients, text) = if interactive {
        let mut prompt = prompt::Prompt::new()?;
        let Some(line) = prompt.recipients()? else {
            return cancel(session, ctx).await;
        };
        let recipients = parse_recipients(&[line])?;
        session.envelope(&from, &recipients, ctx).await?;
        let Some(text) = prompt.message()? else {
            return cancel(session, ctx).await;
        };
        (recipients, text)
    } else {
        let recipients = parse_recipients(&args.to)?;
        session.envelope(&from, &recipients, ctx).await?;
        (recipients, text_from_args(&args).await?)
    };

    let message = compose::message(&compose::Parts {
        from: &from,
        to: &recipients,
        subject: args.subject.as_deref(),
        text,
        attachments: &args.attach,
        traceparent: ctx.trace.traceparent(),
    })
    .await?;
    eprintln!("{}", dim(Stream::Stderr, "... sending ..."));
    let reply = session.data(&from, &recipients, &message, ctx).await?;
    eprintln!("{}", dim(Stream::Stderr, &format!("... sent: {reply} ...")));
    session.quit(ctx).await;
    Ok(Outcome::Done)
}

/// Ctrl+C: nothing is sent.
async fn cancel(session: Session, ctx: &Context) -> Result<Outcome, CliError> {
    println!("... cancelled ...");
    session.quit(ctx).await;
    Ok(Outcome::Cancelled)
}

/// Recipients from `--to` values or the `To: ` line: `,` or `;` between them.
fn parse_recipients(values: &[String]) -> Result<Vec<Address>, CliError> {
    let mut recipients = Vec::new();
    for part in values.iter().flat_map(|v| v.split([',', ';'])) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let address = part
            .parse()
            .map_err(|err| CliError::Usage(format!("not an email address: {part:?} ({err})")))?;
        recipients.push(address);
    }
    if recipients.is_empty() {
        return Err(CliError::Usage("no recipient given".to_owned()));
    }
    Ok(recipients)
}

/// The text from `--body`, `--body-file`, or stdin.
async fn text_from_args(args: &MailArgs) -> Result<String, CliError> {
    if let Some(body) = &args.body {
        return Ok(body.clone());
    }
    if let Some(path) = &args.body_file {
        return tokio::fs::read_to_string(path)
            .await
            .map_err(|err| CliError::file(path, err));
    }
    if std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "give the text with --body, --body-file or on stdin".to_owned(),
        ));
    }
    let mut text = String::new();
    tokio::io::stdin().read_to_string(&mut text).await?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_split_on_commas_and_semicolons() {
        let got = parse_recipients(&["you@example.com; another@localhost".into(), "x@y.z,".into()])
            .unwrap();
        let got: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["you@example.com", "another@localhost", "x@y.z"]);
    }

    #[test]
    fn a_recipient_that_is_no_address_is_a_usage_error() {
        assert!(matches!(
            parse_recipients(&["you@example.com; nobody".into()]),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse_recipients(&[" ; ".into()]),
            Err(CliError::Usage(_))
        ));
    }
}
