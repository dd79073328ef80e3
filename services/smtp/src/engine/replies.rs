//! The replies the session writes in its own words (samotop writes the
//! rest): what went wrong, what was kept (nothing), and what to do.

/// A body sent before the 354 (RFC 2920, 3.1).
pub const DATA_BEFORE_354: &str =
    "554 5.5.0 message data sent before the 354 reply (RFC 2920); nothing was stored, closing\r\n";

/// No complete command or message within its deadline.
pub const TIMEOUT: &str = "421 4.4.2 timeout: closing connection\r\n";

/// The service is stopping.
pub const SHUTTING_DOWN: &str = "421 4.3.2 the server is shutting down; try again later\r\n";

/// A command line over `smtp.max_command_line_bytes`; the session goes on.
pub fn command_line_too_long(limit: usize) -> String {
    format!("500 5.5.2 line too long (at most {limit} bytes)\r\n")
}

/// A DATA line over `smtp.max_data_line_bytes`; the session ends.
pub fn data_line_too_long(limit: usize) -> String {
    format!("500 5.5.2 line too long in DATA (at most {limit} bytes); closing\r\n")
}

/// A message that could not be stored, by the delivery's reply code.
pub fn not_stored(code: u16) -> &'static str {
    match code {
        552 => "552 5.3.4 message size exceeds the limit; nothing was stored\r\n",
        452 => "452 4.3.1 no space left to store the message; nothing was stored\r\n",
        _ => "451 4.3.0 storing the message failed; nothing was stored\r\n",
    }
}
