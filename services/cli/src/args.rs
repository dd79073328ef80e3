//! The command line: one subcommand per protocol, each `--help` with examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The client for Inlet's services, and for any server speaking the same protocols.
#[derive(Debug, Parser)]
#[command(
    name = "inlet",
    version,
    about = "The client for Inlet's services (and any server speaking HTTP, WebSocket or SMTP)",
    after_help = "Examples:\n  \
        inlet post http://localhost:8080/ --json '{\"name\":\"Ada\"}'\n  \
        inlet upload http://localhost:8081/ photo.jpg notes.txt\n  \
        inlet ws\n  \
        inlet mail --to you@example.com --subject hi --body 'hello'\n  \
        inlet events --json | jq .kind\n\n\
        Exit status: 0 done, 1 error (network, protocol, files), 2 usage, \
        4 an HTTP 4xx answer, 5 an HTTP 5xx answer, 130 cancelled."
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Common {
    /// Give up when connecting, or waiting for the server, takes longer than
    /// this many seconds (0: wait for ever).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Send a W3C `traceparent` so the request can be followed in Jaeger
    /// from the client; with OTEL_EXPORTER_OTLP_ENDPOINT set, the client's
    /// own span is exported too. The trace id is printed on stderr.
    #[arg(long, global = true)]
    pub trace: bool,
    /// Also trust this CA certificate (PEM) for https, wss and STARTTLS.
    #[arg(long, global = true, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
}

impl Common {
    /// `--timeout` as a duration; `None` for 0 (no limit).
    pub fn timeout(&self) -> Option<std::time::Duration> {
        (self.timeout > 0.0).then(|| std::time::Duration::from_secs_f64(self.timeout))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Post(PostArgs),
    Get(GetArgs),
    Delete(DeleteArgs),
    Upload(UploadArgs),
    Put(PutArgs),
    Ws(WsArgs),
    Mail(MailArgs),
    Events(EventsArgs),
}

/// The access token of the commands that read what was stored.
#[derive(Debug, Args)]
pub struct Credential {
    /// The access token reading (or deleting) stored items needs (the
    /// services' `INLET_ADMIN_TOKEN`), sent as `Authorization: Bearer` with
    /// what this command reads or deletes (the GET, the DELETE, the
    /// WebSocket handshake, `--stream-from`'s GET), never with what it posts. Prefer the variable: an argument
    /// shows in the process list.
    #[arg(
        long,
        env = "INLET_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

/// Options of the HTTP commands.
#[derive(Debug, Args)]
pub struct HttpOptions {
    /// Show the request's and the response's headers (on stderr).
    #[arg(short, long)]
    pub verbose: bool,
    /// An extra request header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
}

/// POST a JSON or urlencoded body, or stream another URL's response, and show the answer.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    inlet post http://localhost:8080/ --json '{\"name\":\"Cian Ó Maidín\",\"company\":\"nearForm\"}'\n  \
    inlet post http://localhost:8080/ --json @order.json\n  \
    echo '{\"a\":1}' | inlet post http://localhost:8080/ --json -\n  \
    inlet post http://localhost:8080/ --form name=Ada --form company=Analytical\n  \
    inlet post http://localhost:8080/ --stream-from http://localhost:8081/files/big.json\n\n\
    The status line (and with -v the headers) goes to stderr, the body to stdout.\n\
    Exit status 4 for a 4xx answer, 5 for 5xx.")]
pub struct PostArgs {
    /// Where to post.
    pub url: String,
    /// A JSON body: the text itself, `@FILE`, or `-` for stdin.
    #[arg(long, value_name = "DATA", group = "body")]
    pub json: Option<String>,
    /// A urlencoded field, `key=value` (repeatable).
    #[arg(long = "form", value_name = "KEY=VALUE", group = "body")]
    pub form: Vec<String>,
    /// Stream the response of a GET to this URL as the body (chunked, in constant memory).
    #[arg(long, value_name = "URL", group = "body")]
    pub stream_from: Option<String>,
    #[command(flatten)]
    pub credential: Credential,
    /// The body's Content-Type (default: application/json, the form's
    /// urlencoded type, or what the streamed source says).
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
    #[command(flatten)]
    pub http: HttpOptions,
}

/// GET a URL, check that all of it arrived, and show it (JSON pretty-printed).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    INLET_TOKEN=… inlet get http://localhost:8080/submissions\n  \
    INLET_TOKEN=… inlet get http://localhost:8080/submissions?limit=1 --field next_cursor\n\n\
    The received length is checked against Content-Length: a response that \
    ends early or runs over is an error (exit 1).")]
pub struct GetArgs {
    /// What to get.
    pub url: String,
    /// Print only this top-level field of a JSON response (a string as is,
    /// anything else as JSON).
    #[arg(long, value_name = "NAME")]
    pub field: Option<String>,
    /// Print the body exactly as received (no pretty-printing).
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub credential: Credential,
    #[command(flatten)]
    pub http: HttpOptions,
}

/// Delete one stored item (a submission, a file, a message) by its URL.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    INLET_TOKEN=… inlet delete http://localhost:8080/submissions/0193…\n  \
    INLET_TOKEN=… inlet delete http://localhost:8081/files/userfile1-1795672663661-notes.txt\n  \
    INLET_TOKEN=… inlet delete http://localhost:8083/messages/5f0c…\n\n\
    Needs a token with the delete scope (INLET_ADMIN_TOKEN). Exit 0 once the \
    item is gone (204); 4 when there is no such item (404), unless \
    --missing-ok.")]
pub struct DeleteArgs {
    /// The item's URL, as its read API names it.
    pub url: String,
    /// An item that is not there (already deleted, expired, never stored)
    /// is no error: exit 0 on 404, so a retried delete succeeds.
    #[arg(long)]
    pub missing_ok: bool,
    #[command(flatten)]
    pub credential: Credential,
    #[command(flatten)]
    pub http: HttpOptions,
}

/// Upload files in one multipart POST (`userfile0`, `userfile1`, …), streamed from disk.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    inlet upload http://localhost:8081/ photo.jpg notes.txt\n  \
    inlet upload http://localhost:8081/ report.pdf --field title='Q3 report'\n\n\
    A progress bar per file is shown when stderr is a terminal.")]
pub struct UploadArgs {
    /// Where to post.
    pub url: String,
    /// The files, sent as `userfile0`, `userfile1`, … with their names and guessed types.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A text field sent before the files, `key=value` (repeatable).
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    #[command(flatten)]
    pub http: HttpOptions,
}

/// PUT one file as the body, named by `x-filename` and `x-field`, streamed from disk.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    inlet put http://localhost:8081/ photo.jpg\n  \
    inlet put http://localhost:8081/ photo.jpg --field avatar")]
pub struct PutArgs {
    /// Where to put.
    pub url: String,
    /// The file.
    pub file: PathBuf,
    /// The `x-field` header.
    #[arg(long, value_name = "NAME", default_value = "userfile0")]
    pub field: String,
    #[command(flatten)]
    pub http: HttpOptions,
}

/// Talk to a WebSocket: interactively on a terminal, line by line from a pipe.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    inlet ws                              (the gateway's socket: type Hello)\n  \
    inlet ws ws://localhost:8082/echo\n  \
    printf 'one\\ntwo\\n' | inlet ws ws://localhost:8082/echo\n  \
    echo Hello | inlet ws --once\n\n\
    On a terminal: `-> ` prompts, `<= ` is what was sent, `=> ` what arrived; \
    Ctrl+C or Ctrl+D leaves. From a pipe: every input line is sent as a text \
    message and every message received is printed on its own line; the \
    socket is closed when input ends.")]
pub struct WsArgs {
    /// The socket.
    #[arg(env = "INLET_WS_URL", default_value = "ws://localhost:8082/")]
    pub url: String,
    /// Send one message (the first input line), print one reply, and leave.
    #[arg(short = '1', long)]
    pub once: bool,
    /// From a pipe: after input ends, keep printing what arrives until
    /// nothing has come for this many seconds, then close.
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub wait: f64,
    #[command(flatten)]
    pub credential: Credential,
}

/// Send mail: prompts on a terminal (like the seed's client), or from flags and stdin.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    inlet mail                              (prompts To:, then the message; ^D sends, ^C cancels)\n  \
    inlet mail --to 'you@example.com; another@localhost' --subject hi --body 'hooray :)'\n  \
    inlet mail --to you@example.com --body-file note.txt --attach photo.jpg\n  \
    echo hi | inlet mail --server smtp:2525 --to you@example.com\n\n\
    A recipient the server has no mailbox for (550) is an error (exit 1).")]
pub struct MailArgs {
    /// The SMTP server, `host:port`.
    #[arg(long, env = "INLET_SMTP_SERVER", default_value = "localhost:2525")]
    pub server: String,
    /// The sender.
    #[arg(long, default_value = "me@me.com")]
    pub from: String,
    /// Recipients, separated by `,` or `;` (repeatable). Without it, on a
    /// terminal, you are asked.
    #[arg(long, value_name = "ADDRESSES")]
    pub to: Vec<String>,
    /// The Subject header.
    #[arg(long)]
    pub subject: Option<String>,
    /// The message text.
    #[arg(long, group = "text", value_name = "TEXT")]
    pub body: Option<String>,
    /// Read the message text from a file.
    #[arg(long, group = "text", value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Attach a file (repeatable); the message becomes MIME multipart.
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Require STARTTLS (the server must offer it).
    #[arg(long)]
    pub starttls: bool,
}

/// Follow the gateway's live event feed, reconnecting by itself.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    inlet events\n  \
    inlet events --topics forms,uploads\n  \
    inlet events --json | jq 'select(.kind == \"file_stored\") | .data.original_name'\n\n\
    When the connection drops, it reconnects and asks for what it missed \
    (`since`), so a short break loses nothing the gateway still holds.")]
pub struct EventsArgs {
    /// The feed.
    #[arg(env = "INLET_EVENTS_URL", default_value = "ws://localhost:8082/events")]
    pub url: String,
    /// Print each event as one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Only these topics (comma-separated: forms, uploads, mail).
    #[arg(long, value_name = "LIST")]
    pub topics: Option<String>,
    #[command(flatten)]
    pub credential: Credential,
}
