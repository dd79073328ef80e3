//! Terminal colours, used only when the stream is a terminal and `NO_COLOR`
//! is unset, and the terminal's modes saved to put back on the way out.

use std::io::IsTerminal;

/// Which stream a styled line goes to.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

fn colours(stream: Stream) -> bool {
    let terminal = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn paint(stream: Stream, code: &str, text: &str) -> String {
    if colours(stream) {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// `text` dimmed (status lines, what was sent).
pub fn dim(stream: Stream, text: &str) -> String {
    paint(stream, "2", text)
}

/// `text` in red (errors).
pub fn red(stream: Stream, text: &str) -> String {
    paint(stream, "31", text)
}

/// The terminal's modes when the program started, put back on exit even when
/// a line editor on another thread still holds the terminal in raw mode.
pub struct SavedTerminal(Option<rustix::termios::Termios>);

impl SavedTerminal {
    /// Saves stdin's terminal modes (nothing when stdin is not a terminal).
    pub fn save() -> Self {
        Self(rustix::termios::tcgetattr(std::io::stdin()).ok())
    }

    /// Puts the saved modes back.
    pub fn restore(&self) {
        if let Some(modes) = &self.0 {
            let now = rustix::termios::OptionalActions::Now;
            let _ = rustix::termios::tcsetattr(std::io::stdin(), now, modes);
        }
    }
}
