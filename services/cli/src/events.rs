//! `inlet events`: follows the gateway's event feed, one readable line per
//! arrival (or the frame as JSON with `--json`). A dropped connection is
//! picked up again by itself with `since` and `epoch`, so a short break
//! loses nothing the gateway still holds.

use std::io::Write;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use crate::args::EventsArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::interrupt::Interrupt;
use crate::outcome::Outcome;
use crate::style::{dim, Stream};
use crate::ws::connect;
use frame::{readable, Frame};

mod frame;

/// Where the feed was left: the last sequence seen in a gateway run (epoch).
#[derive(Debug, Clone)]
struct Position {
    since: u64,
    epoch: String,
}

/// Why following stopped.
enum Stop {
    /// Ctrl+C.
    Interrupted,
    /// The connection ended; the reason is shown before reconnecting.
    Lost(String),
}

/// The first wait before reconnecting, doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Follows the feed until Ctrl+C.
pub async fn run(args: EventsArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let base = connect::parse_url(&args.url)?;
    let mut interrupt = Interrupt::listen()?;
    let mut position: Option<Position> = None;
    let mut connected_once = false;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let url = feed_url(&base, args.topics.as_deref(), position.as_ref());
        match connect::open(&url, args.credential.token.as_deref(), ctx).await {
            Ok(socket) => {
                if connected_once {
                    status("-- reconnected --");
                }
                connected_once = true;
                backoff = FIRST_BACKOFF;
                match follow(socket, &mut position, &args, &mut interrupt).await? {
                    Stop::Interrupted => return Ok(Outcome::Done),
                    Stop::Lost(reason) => status(&format!("-- {reason}; reconnecting --")),
                }
            }
            // Nothing to follow yet: say so rather than wait in silence.
            Err(err) if !connected_once => return Err(err),
            Err(err) => status(&format!(
                "-- {err}; retrying in {:.1}s --",
                backoff.as_secs_f64()
            )),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = interrupt.wait() => return Ok(Outcome::Done),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The feed URL with `topics`, and `since`/`epoch` when resuming.
fn feed_url(base: &reqwest::Url, topics: Option<&str>, at: Option<&Position>) -> reqwest::Url {
    let mut url = base.clone();
    {
        let mut query = url.query_pairs_mut();
        if let Some(topics) = topics {
            query.append_pair("topics", topics);
        }
        if let Some(at) = at {
            query.append_pair("since", &at.since.to_string());
            query.append_pair("epoch", &at.epoch);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

/// Reads frames until the connection ends or Ctrl+C.
async fn follow(
    mut socket: connect::Socket,
    position: &mut Option<Position>,
    args: &EventsArgs,
    interrupt: &mut Interrupt,
) -> Result<Stop, CliError> {
    loop {
        let incoming = tokio::select! {
            incoming = socket.next() => incoming,
            _ = interrupt.wait() => {
                let _ = socket.close(None).await;
                return Ok(Stop::Interrupted);
            }
        };
        let text = match incoming {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => return Ok(Stop::Lost(closed_by_gateway(frame))),
            Some(Ok(_)) => continue,
            Some(Err(err)) => return Ok(Stop::Lost(format!("the connection broke: {err}"))),
            None => return Ok(Stop::Lost("the connection ended".to_owned())),
        };
        match serde_json::from_str::<Frame>(&text) {
            Ok(Frame::Subscribed {
                epoch,
                latest,
                recovered,
            }) => subscribed(position, &args.url, epoch, latest, recovered),
            Ok(Frame::Event(event)) => {
                if let Some(at) = position.as_mut() {
                    at.since = event.sequence;
                }
                let line = if args.json {
                    text.to_string()
                } else {
                    readable(&event)
                };
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{line}")?;
                stdout.flush()?;
            }
            // A frame this client does not know: newer gateways may add some.
            Err(_) => {}
        }
    }
}

/// Why the gateway closed the feed, in a line.
fn closed_by_gateway(frame: Option<CloseFrame>) -> String {
    frame
        .map(|f| {
            format!(
                "the gateway closed the feed ({} {})",
                u16::from(f.code),
                f.reason
            )
        })
        .unwrap_or_else(|| "the gateway closed the feed".to_owned())
}

/// The feed says where it stands: note where to resume from, and warn if
/// a resumed feed could not replay everything missed.
fn subscribed(
    position: &mut Option<Position>,
    url: &str,
    epoch: String,
    latest: u64,
    recovered: bool,
) {
    status(&format!("-- subscribed to {url} (latest #{latest}) --"));
    let resumed = position.is_some();
    if resumed && !recovered {
        status("-- the gateway no longer holds everything sent during the break (restarted, or the break was too long): some events may be missing --");
    }
    let since = match position {
        Some(at) if at.epoch == epoch => at.since,
        // A new gateway run: its events since the start are replayed.
        Some(_) => 0,
        None => latest,
    };
    *position = Some(Position { since, epoch });
}

fn status(line: &str) {
    eprintln!("{}", dim(Stream::Stderr, line));
}

#[cfg(test)]
mod tests {
    use super::frame::{human_size, Event};
    use super::*;

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 * 1024 * 1024), "50.0 MiB");
    }

    #[test]
    fn resuming_asks_for_what_came_after_the_last_event_of_that_run() {
        let base = reqwest::Url::parse("ws://gw:8082/events").unwrap();
        assert_eq!(feed_url(&base, None, None).as_str(), "ws://gw:8082/events");
        let at = Position {
            since: 7,
            epoch: "e1".to_owned(),
        };
        assert_eq!(
            feed_url(&base, Some("forms,mail"), Some(&at)).as_str(),
            "ws://gw:8082/events?topics=forms%2Cmail&since=7&epoch=e1"
        );
    }

    #[test]
    fn an_event_line_says_when_what_from_where_and_how_big() {
        let event: Event = serde_json::from_str(
            r#"{"sequence":3,"time":"2026-11-26T08:01:02.5Z","source":"inlet-uploads","kind":"file_stored",
                "data":{"original_name":"a.txt","stored_name":"0190-a.txt","field":"userfile0","size":2048}}"#,
        )
        .unwrap();
        let line = readable(&event);
        assert!(line.starts_with("08:01:02  #3 "), "{line}");
        assert!(line.contains("file_stored"), "{line}");
        assert!(line.contains("inlet-uploads"), "{line}");
        assert!(
            line.contains("a.txt as 0190-a.txt (field userfile0)"),
            "{line}"
        );
        assert!(line.ends_with("2.0 KiB"), "{line}");
    }

    #[test]
    fn control_characters_from_the_feed_never_reach_the_terminal_raw() {
        let event: Event = serde_json::from_str(
            r#"{"sequence":4,"source":"inlet-uploads","kind":"file_stored",
                "data":{"original_name":"a\u001b[2Jb\nc","stored_name":"x","field":"f","size":1}}"#,
        )
        .unwrap();
        let line = readable(&event);
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(line.contains(r"a\u{1b}[2Jb\nc"), "{line}");
    }
}
