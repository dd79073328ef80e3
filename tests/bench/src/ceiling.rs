//! This machine's ceiling for the durable steps of storing a small file,
//! with no server in the way: write it under a temporary name, fsync it,
//! name it (a hard link, as inlet-uploads does) and drop the temporary name,
//! fsync the folder (with `--xattr`, the metadata attribute too). Several
//! threads at once, each its own file, one folder.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;
use xattr::FileExt;

/// `inlet-bench ceiling`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder to write in (on the filesystem to measure), made if missing.
    /// The files are left there: deleting thousands of inodes makes ext4's
    /// next allocations slow (`recently_deleted`) for whoever runs next.
    #[arg(long)]
    dir: PathBuf,
    /// Threads storing files at once.
    #[arg(long, default_value_t = 8)]
    threads: usize,
    /// Bytes per file.
    #[arg(long, default_value_t = 50_000)]
    file_bytes: usize,
    /// Files to store, all threads together.
    #[arg(long, default_value_t = 4000)]
    files: u64,
    /// Also attach a 200-byte extended attribute before the fsync, as
    /// inlet-uploads does with a file's metadata.
    #[arg(long)]
    xattr: bool,
}

/// One run's figures.
#[derive(Serialize)]
pub struct Report {
    target: &'static str,
    threads: usize,
    file_bytes: usize,
    xattr: bool,
    files: u64,
    seconds: f64,
    files_per_s: f64,
}

/// Stores files from every thread until the time is up.
pub fn run(args: Args) -> std::io::Result<Report> {
    std::fs::create_dir_all(&args.dir)?;
    let body: Vec<u8> = (0..args.file_bytes).map(|i| (i % 251) as u8).collect();
    let claimed = AtomicU64::new(0);
    let started = Instant::now();
    let files = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.threads)
            .map(|thread| {
                let (dir, body, with_xattr) = (&args.dir, &body, args.xattr);
                let (claimed, total) = (&claimed, args.files);
                scope.spawn(move || -> std::io::Result<u64> {
                    let folder = File::open(dir)?;
                    let mut stored = 0;
                    while claimed.fetch_add(1, Ordering::Relaxed) < total {
                        let temp = dir.join(format!(".incoming-{thread}-{stored}"));
                        let mut file = OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .open(&temp)?;
                        file.write_all(body)?;
                        if with_xattr {
                            file.set_xattr("user.inlet.upload", &[b'x'; 200])?;
                        }
                        file.sync_all()?;
                        std::fs::hard_link(&temp, dir.join(format!("f-{thread}-{stored}")))?;
                        std::fs::remove_file(&temp)?;
                        folder.sync_all()?;
                        stored += 1;
                    }
                    Ok(stored)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a ceiling thread panicked"))
            .sum::<std::io::Result<u64>>()
    })?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Report {
        target: "fsync-ceiling",
        threads: args.threads,
        file_bytes: args.file_bytes,
        xattr: args.xattr,
        files,
        seconds,
        files_per_s: files as f64 / seconds,
    })
}
