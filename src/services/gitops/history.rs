//! Tag history from git: walk the first-parent chain, and where a file's blob changed, read the
//! tag before and after. Blobs are parsed once each, so long histories stay cheap.

use std::collections::HashMap;

use git2::{Oid, Repository};

use super::edit::{TagSpot, read_tag};
use super::repo::blob_at;
use super::{CommitInfo, Result, TagChange};

/// One file and spot to follow.
pub(crate) struct Target<'a> {
    pub path: String,
    pub spot: TagSpot<'a>,
}

/// The commit as shown in panels.
pub(crate) fn commit_info(c: &git2::Commit<'_>) -> CommitInfo {
    let sha = c.id().to_string();
    let author = c.author();
    let seconds = author.when().seconds();
    CommitInfo {
        short: sha.chars().take(7).collect(),
        sha,
        author: author.name().unwrap_or("?").to_owned(),
        author_email: author.email().unwrap_or("").to_owned(),
        time: jiff::Timestamp::from_second(seconds)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        unix: seconds,
        subject: c.summary().ok().flatten().unwrap_or("").to_owned(),
    }
}

/// The `Shipdeck-Action` trailer of a commit, if shipdeck wrote it.
fn action_of(c: &git2::Commit<'_>) -> Option<String> {
    c.message()
        .ok()?
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("Shipdeck-Action: "))
        .map(|s| s.trim().to_owned())
}

/// Changes per target, newest first. A target stops collecting once `enough(index, changes)`
/// is true; the walk stops when all have stopped or history ends.
pub(crate) fn walk(
    repo: &Repository,
    tip: Oid,
    targets: &[Target<'_>],
    enough: &dyn Fn(usize, &[TagChange]) -> bool,
) -> Result<Vec<Vec<TagChange>>> {
    let mut out: Vec<Vec<TagChange>> = vec![Vec::new(); targets.len()];
    let mut active: Vec<bool> = vec![true; targets.len()];
    let mut tags: HashMap<Oid, Option<String>> = HashMap::new();
    let mut tag_of = |blob: Option<Oid>, spot: TagSpot<'_>, path: &str| -> Option<String> {
        let id = blob?;
        tags.entry(id)
            .or_insert_with(|| {
                let b = repo.find_blob(id).ok()?;
                let text = std::str::from_utf8(b.content()).ok()?;
                read_tag(text, spot, path).ok()
            })
            .clone()
    };
    let mut commit = repo.find_commit(tip)?;
    let mut blobs: Vec<Option<Oid>> = {
        let tree = commit.tree()?;
        targets.iter().map(|t| blob_at(&tree, &t.path)).collect()
    };
    loop {
        let parent = commit.parents().next();
        let parent_tree = parent.as_ref().map(git2::Commit::tree).transpose()?;
        for (i, t) in targets.iter().enumerate() {
            let before = parent_tree.as_ref().and_then(|pt| blob_at(pt, &t.path));
            if active[i] && before != blobs[i] {
                let now = tag_of(blobs[i], t.spot, &t.path);
                let then = tag_of(before, t.spot, &t.path);
                if let Some(tag) = now.filter(|n| Some(n) != then.as_ref()) {
                    out[i].push(TagChange {
                        tag,
                        previous: then,
                        commit: commit_info(&commit),
                        action: action_of(&commit),
                    });
                    if enough(i, &out[i]) {
                        active[i] = false;
                    }
                }
            }
            blobs[i] = before;
        }
        match parent {
            Some(p) if active.iter().any(|a| *a) => commit = p,
            _ => break,
        }
    }
    Ok(out)
}
