//! Command lines as clients send them, made into what samotop's parser
//! takes, and MAIL/RCPT parameters checked before samotop sees them.
//!
//! - The seed's loose forms, as RFC 5321 writes them: `helo` alone gets the
//!   client's address literal; `mail from: x` and `rcpt to: x` get angle
//!   brackets.
//! - A path's trailing dot (`<you@example.com.>`, a fully qualified name) is
//!   dropped; a bare `<postmaster>` (RFC 5321, 4.5.1) becomes
//!   `<postmaster@localhost>`, which the mailboxes route to `smtp.postmaster`.
//! - A line ended by a bare LF is ended by CRLF.

use std::net::IpAddr;

use crate::error::Reply;

/// What samotop is handed for `line`, or the reply refusing its MAIL or
/// RCPT parameters.
pub fn prepare(line: &[u8], client: IpAddr) -> Result<Vec<u8>, Reply> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Ok(line.to_vec());
    };
    let body = text.trim_end_matches(['\r', '\n']);
    let bare = body.trim();
    if bare.eq_ignore_ascii_case("helo") || bare.eq_ignore_ascii_case("ehlo") {
        return Ok(format!("{bare} [{client}]\r\n").into_bytes());
    }
    let Some(command) = path_command(body) else {
        return Ok(format!("{body}\r\n").into_bytes());
    };
    if let Some(refusal) = refuse_parameters(&command) {
        return Err(refusal);
    }
    let params = if command.params.is_empty() {
        String::new()
    } else {
        format!(" {}", command.params)
    };
    Ok(format!("{}<{}>{params}\r\n", command.written, tidy(command.path)).into_bytes())
}

/// Whether `line` is a `MAIL FROM:` command (any case): the start of a
/// message, which a nearly full disk refuses.
pub fn is_mail_from(line: &[u8]) -> bool {
    line.get(..10)
        .is_some_and(|start| start.eq_ignore_ascii_case(b"mail from:"))
}

/// A `MAIL FROM:` or `RCPT TO:` line with a path, taken apart.
struct PathCommand<'a> {
    /// `MAIL` or `RCPT`.
    verb: &'static str,
    /// The verb and its colon as the client wrote them (`mail from:`).
    written: &'a str,
    /// The path, without angle brackets.
    path: &'a str,
    /// What follows the path.
    params: &'a str,
}

fn path_command(body: &str) -> Option<PathCommand<'_>> {
    for (verb, prefix) in [("MAIL", "mail from:"), ("RCPT", "rcpt to:")] {
        let Some(written) = body.get(..prefix.len()) else {
            continue;
        };
        if !written.eq_ignore_ascii_case(prefix) {
            continue;
        }
        let rest = body[prefix.len()..].trim_start();
        if rest.is_empty() {
            return None;
        }
        let (path, params) = split_path(rest);
        return Some(PathCommand {
            verb,
            written,
            path,
            params,
        });
    }
    None
}

/// The path (without angle brackets) and the parameters after it.
fn split_path(rest: &str) -> (&str, &str) {
    if let Some(inner) = rest.strip_prefix('<') {
        if let Some((path, params)) = inner.split_once('>') {
            return (path, params.trim());
        }
    }
    match rest.split_once(' ') {
        Some((path, params)) => (path, params.trim()),
        None => (rest, ""),
    }
}

/// A path as samotop parses it.
fn tidy(path: &str) -> String {
    if path.eq_ignore_ascii_case("postmaster") {
        return format!("{path}@localhost");
    }
    path.strip_suffix('.')
        .filter(|p| p.contains('@'))
        .unwrap_or(path)
        .to_owned()
}

/// A reply refusing the parameters of `command`, if they are wrong: `SIZE`
/// must be a number of bytes; `BODY` is `7BIT` or `8BITMIME`; nothing else
/// is offered.
fn refuse_parameters(command: &PathCommand<'_>) -> Option<Reply> {
    let verb = command.verb;
    for param in command.params.split_ascii_whitespace() {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let known = match (verb, key.to_ascii_uppercase().as_str()) {
            ("MAIL", "SIZE") => {
                let number = !value.is_empty()
                    && value.bytes().all(|b| b.is_ascii_digit())
                    && value.parse::<u64>().is_ok();
                if !number {
                    return Some(Reply::SizeNotANumber);
                }
                true
            }
            ("MAIL", "BODY") => {
                if !["7BIT", "8BITMIME"]
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(value))
                {
                    return Some(Reply::BodyNotOffered);
                }
                true
            }
            _ => false,
        };
        if !known {
            let shown: String = key
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(32)
                .collect();
            return Some(Reply::ParameterNotSupported { verb, name: shown });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(line: &str) -> Result<Vec<u8>, Reply> {
        prepare(line.as_bytes(), IpAddr::from([192, 0, 2, 1]))
    }

    fn loose(line: &str) -> String {
        String::from_utf8(prepared(line).unwrap()).unwrap()
    }

    #[test]
    fn the_seeds_loose_commands_are_written_as_rfc_5321_has_them() {
        assert_eq!(loose("helo\r\n"), "helo [192.0.2.1]\r\n");
        assert_eq!(loose("EHLO \r\n"), "EHLO [192.0.2.1]\r\n");
        assert_eq!(
            loose("mail from: me@me.com\r\n"),
            "mail from:<me@me.com>\r\n"
        );
        assert_eq!(
            loose("RCPT TO:you@example.com\r\n"),
            "RCPT TO:<you@example.com>\r\n"
        );
        assert_eq!(
            loose("mail from: me@me.com SIZE=10\r\n"),
            "mail from:<me@me.com> SIZE=10\r\n"
        );
        // Already well formed, or something else: unchanged.
        for same in [
            "mail from:<me@me.com>\r\n",
            "mail from:<>\r\n",
            "helo client\r\n",
            "data\r\n",
            "rcpt to:\r\n",
        ] {
            assert_eq!(loose(same), same);
        }
    }

    #[test]
    fn trailing_dots_bare_lf_and_postmaster_are_made_plain() {
        assert_eq!(
            loose("rcpt to:<you@example.com.>\r\n"),
            "rcpt to:<you@example.com>\r\n"
        );
        assert_eq!(
            loose("rcpt to:<Postmaster>\n"),
            "rcpt to:<Postmaster@localhost>\r\n"
        );
        assert_eq!(loose("noop\n"), "noop\r\n");
    }

    #[test]
    fn parameters_are_checked() {
        let refused = |line: &str| prepared(line).err().map(|r| r.code().to_string());
        assert_eq!(refused("MAIL FROM:<a@b> SIZE=100\r\n"), None);
        assert_eq!(refused("mail from:<a@b> body=8bitmime size=1\r\n"), None);
        assert_eq!(refused("MAIL FROM:<a@b>\r\n"), None);
        for bad in [
            "SIZE=-1",
            "SIZE=abc",
            "SIZE=99999999999999999999999",
            "SIZE=",
        ] {
            assert_eq!(
                refused(&format!("MAIL FROM:<a@b> {bad}\r\n")).as_deref(),
                Some("501"),
                "{bad}"
            );
        }
        assert_eq!(
            refused("MAIL FROM:<a@b> BODY=BINARYMIME\r\n").as_deref(),
            Some("501")
        );
        assert_eq!(
            refused("MAIL FROM:<a@b> SMTPUTF8\r\n").as_deref(),
            Some("555")
        );
        assert_eq!(
            refused("RCPT TO:<you@example.com> NOTIFY=NEVER\r\n").as_deref(),
            Some("555")
        );
        assert_eq!(refused("DATA\r\n"), None);
    }
}
