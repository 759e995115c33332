//! The keys of the cluster's news already told, kept in the state folder so a restarted
//! cockpit does not tell them again. One key per line; the list is cut to its newest
//! entries when it is read.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::paths::Paths;

/// Keys kept when the list is read; older ones concern objects long gone.
const KEEP: usize = 2000;

fn file(paths: &Paths) -> PathBuf {
    paths.state_dir.join("cluster-news.seen")
}

/// The keys told before (none if the file is missing or unreadable: at worst a fact is told
/// twice). A list grown past twice [`KEEP`] is rewritten with its newest keys.
pub fn load(paths: &Paths) -> HashSet<String> {
    let path = file(paths);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return HashSet::new();
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let keep = &lines[lines.len().saturating_sub(KEEP)..];
    if lines.len() > 2 * KEEP {
        let mut out = keep.join("\n");
        out.push('\n');
        if let Err(e) = std::fs::write(&path, out) {
            tracing::warn!("cannot trim {}: {e}", path.display());
        }
    }
    keep.iter().map(|s| (*s).to_owned()).collect()
}

/// Appends keys, off the UI task.
pub fn remember(paths: &Paths, keys: Vec<String>) {
    let path = file(paths);
    tokio::spawn(async move {
        if let Err(e) = append(&path, &keys).await {
            tracing::warn!("cannot record cluster news in {}: {e}", path.display());
        }
    });
}

async fn append(path: &Path, keys: &[String]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    let mut text = keys.join("\n");
    text.push('\n');
    f.write_all(text.as_bytes()).await
}
