//! What is on disk under a test's data folder.

use std::path::{Path, PathBuf};

/// Every file under `dir`, in its subfolders too.
pub fn under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in
            std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// The files under `dir` whose bytes contain `needle` anywhere (what
/// `grep -rl` finds).
pub fn containing(dir: &Path, needle: &str) -> Vec<String> {
    under(dir)
        .into_iter()
        .filter(|path| {
            std::fs::read(path)
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
        })
        .map(|path| path.display().to_string())
        .collect()
}
