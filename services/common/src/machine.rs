//! This machine's name, for files several replicas write into one shared
//! folder: each marks its own, so a starting replica clears only what it
//! (or a crash of it) left, never another's file under way.

/// This machine's name (in a container, the container's own), if the
/// system tells it.
pub fn name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}
