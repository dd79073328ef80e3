//! This machine's ceiling for the durable steps of storing a small file,
//! with no server in the way: write it under a temporary name, fsync it,
//! name it (a hard link, as inlet-uploads does) and drop the temporary name,
//! fsync the folder. Several threads at once, each its own file, one folder.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

/// `inlet-bench ceiling`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder to write in (on the filesystem to measure); emptied first.
    #[arg(long)]
    dir: PathBuf,
    /// Threads storing files at once.
    #[arg(long, default_value_t = 8)]
    threads: usize,
    /// Bytes per file.
    #[arg(long, default_value_t = 50_000)]
    file_bytes: usize,
    /// How long to store files.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// One run's figures.
#[derive(Serialize)]
pub struct Report {
    target: &'static str,
    threads: usize,
    file_bytes: usize,
    files: u64,
    seconds: f64,
    files_per_s: f64,
}

/// Stores files from every thread until the time is up.
pub fn run(args: Args) -> std::io::Result<Report> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir)?;
    let body: Vec<u8> = (0..args.file_bytes).map(|i| (i % 251) as u8).collect();
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let files = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.threads)
            .map(|thread| {
                let (dir, body) = (&args.dir, &body);
                scope.spawn(move || -> std::io::Result<u64> {
                    let folder = File::open(dir)?;
                    let mut stored = 0;
                    while Instant::now() < until {
                        let temp = dir.join(format!(".incoming-{thread}-{stored}"));
                        let mut file = OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .open(&temp)?;
                        file.write_all(body)?;
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
    let _ = std::fs::remove_dir_all(&args.dir);
    Ok(Report {
        target: "fsync-ceiling",
        threads: args.threads,
        file_bytes: args.file_bytes,
        files,
        seconds,
        files_per_s: files as f64 / seconds,
    })
}
