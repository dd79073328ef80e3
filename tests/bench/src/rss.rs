//! A server's memory and threads, from `/proc/<pid>/status`.

/// `/proc/<pid>/status` of `pid`, if it still runs.
pub fn status(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).ok()
}

/// The number in the `name` line of a status text (`VmRSS:` is in KiB,
/// `Threads:` a count).
pub fn field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// `VmRSS` (now) and `VmHWM` (the peak since start) of `pid`, in bytes.
pub fn rss_and_peak(pid: u32) -> Option<(u64, u64)> {
    let status = status(pid)?;
    Some((
        field(&status, "VmRSS:")? * 1024,
        field(&status, "VmHWM:")? * 1024,
    ))
}
