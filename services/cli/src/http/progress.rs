//! Progress bars for files being sent: one per file on stderr when it is a
//! terminal, none otherwise.

use std::io::IsTerminal;
use std::path::Path;

use futures_util::{Stream, TryStreamExt};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::io::ReaderStream;

/// The bars of one command.
pub struct Progress {
    bars: MultiProgress,
}

impl Progress {
    /// Bars on stderr if it is a terminal, hidden otherwise.
    pub fn new() -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            bars: MultiProgress::with_draw_target(target),
        }
    }

    /// A bar for a file of `len` bytes.
    pub fn file(&self, path: &Path, len: u64) -> ProgressBar {
        let style = ProgressStyle::with_template(
            "{prefix:20!} [{bar:30}] {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12}",
        )
        .expect("a fixed, valid template")
        .progress_chars("=> ");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.bars
            .add(ProgressBar::new(len).with_style(style).with_prefix(name))
    }
}

/// A file's bytes as a stream, moving `bar` as each piece goes out.
pub fn file_stream(
    file: tokio::fs::File,
    bar: ProgressBar,
) -> impl Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    const PIECE: usize = 64 * 1024;
    let finished = bar.clone();
    ReaderStream::with_capacity(file, PIECE)
        .inspect_ok(move |piece| bar.inc(piece.len() as u64))
        .inspect_err(move |_| finished.abandon())
}
