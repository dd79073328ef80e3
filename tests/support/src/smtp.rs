//! A raw SMTP conversation (any stream: plain TCP, or TLS after STARTTLS),
//! every read bounded in time: for the cases a client library cannot express.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::WAIT;

/// One SMTP session.
pub struct Dialogue<S> {
    stream: BufReader<S>,
}

/// Connects to `port` on loopback; nothing read yet (not even the greeting).
pub async fn connect(port: u16) -> Dialogue<TcpStream> {
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(("127.0.0.1", port)))
        .await
        .expect("connects in time")
        .expect("the server accepts connections");
    Dialogue::new(stream)
}

/// Reads the greeting, then sends each of `commands` (CRLF added) and
/// gives every reply's code, greeting first.
pub async fn codes(port: u16, commands: &[&str]) -> Vec<u16> {
    let mut dialogue = connect(port).await;
    let mut codes = vec![dialogue.code().await];
    for command in commands {
        codes.push(dialogue.say(command).await);
    }
    codes
}

impl<S: AsyncRead + AsyncWrite + Unpin> Dialogue<S> {
    /// A dialogue over `stream`.
    pub fn new(stream: S) -> Self {
        Self {
            stream: BufReader::new(stream),
        }
    }

    /// The stream underneath (to upgrade it to TLS, say).
    pub fn into_inner(self) -> S {
        self.stream.into_inner()
    }

    /// The next whole reply (all its lines), waiting up to [`WAIT`].
    pub async fn reply(&mut self) -> String {
        let mut whole = String::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(WAIT, self.stream.read_line(&mut line))
                .await
                .expect("a reply in time")
                .expect("the connection reads");
            assert!(
                read > 0,
                "the server closed the connection; so far: {whole}"
            );
            whole.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return whole;
            }
        }
    }

    /// The next reply's code.
    pub async fn code(&mut self) -> u16 {
        let reply = self.reply().await;
        reply[..3]
            .parse()
            .unwrap_or_else(|_| panic!("not a reply: {reply}"))
    }

    /// Sends `line` (CRLF added) and gives the reply's code.
    pub async fn say(&mut self, line: &str) -> u16 {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.code().await
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream
            .get_mut()
            .write_all(bytes)
            .await
            .expect("the connection writes");
    }

    /// Sends raw bytes; false once the server has closed the connection.
    pub async fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.get_mut().write_all(bytes).await.is_ok()
    }

    /// `MAIL FROM:<me@me.com>`, a `RCPT TO` for each of `recipients` and
    /// `DATA`, each answered as it should be (250 … 354).
    pub async fn start_message(&mut self, recipients: &[&str]) {
        assert_eq!(self.say("mail from:<me@me.com>").await, 250);
        for rcpt in recipients {
            assert_eq!(self.say(&format!("rcpt to:<{rcpt}>")).await, 250, "{rcpt}");
        }
        assert_eq!(self.say("data").await, 354);
    }

    /// Whether the server has closed the connection (reads its end, up to [`WAIT`]).
    pub async fn closed(&mut self) -> bool {
        let mut rest = String::new();
        let read = tokio::time::timeout(WAIT, self.stream.read_line(&mut rest)).await;
        matches!(read, Ok(Ok(0)) | Ok(Err(_)))
    }
}
