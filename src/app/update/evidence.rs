//! What a confirmation says about the tag going in: the source env's record for a promote
//! (how long it has run the tag, its health, its last analysis verdict) and a downgrade.
//! Lines starting with `⚠` are warnings (the dialog shows them in yellow).

use super::super::state::State;
use crate::services::gitops::KnownTag;

/// A warning line's mark, for the dialog to colour.
pub const WARN: &str = "⚠ ";

/// The source env's evidence for promoting its tag, and whether it is bad enough that the
/// confirmation must be typed (Paused, Degraded, or aborted there).
pub(super) fn promote(state: &State, app: &str, source: &str, tag: &str) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    let now = i64::try_from(state.clock.now_ms / 1000).unwrap_or(i64::MAX);
    let since = state
        .git
        .get(&(app.to_owned(), source.to_owned()))
        .and_then(|t| t.changed.as_ref())
        .map(|c| format!(" for {}", how_long(now.saturating_sub(c.unix))));
    let live = state.live.env_live(app, source);
    let rollout = state.live.rollout(app, source);
    let runs_it = live
        .as_ref()
        .and_then(|l| l.live_tag.as_deref())
        .is_some_and(|t| t == tag);
    let health = live.as_ref().and_then(|l| {
        l.rollout_status
            .clone()
            .or_else(|| l.health.clone())
            .map(|h| (h, l.stale_since.is_some()))
    });
    let mut bad = false;
    match (&health, runs_it) {
        (Some((h, watch_down)), true) => lines.push(format!(
            "{source} has run {tag}{}: {h}{}",
            since.clone().unwrap_or_default(),
            if *watch_down {
                " (stale: its watch is down)"
            } else {
                ""
            }
        )),
        (Some((h, _)), false) => lines.push(format!(
            "{WARN}{source} does not run {tag} yet in the cluster (its rollout: {h})"
        )),
        (None, _) => lines.push(format!(
            "{source}: no word from its cluster yet: its health is unknown"
        )),
    }
    if let Some(r) = rollout {
        let verdict = r
            .current_analysis_runs()
            .max_by_key(|a| a.created)
            .map(|a| format!("last analysis {} {}", a.name, a.status));
        if let Some(v) = verdict {
            lines.push(format!("{source}: {v}"));
        }
        let why = if r.aborted {
            Some("its canary was aborted")
        } else if r.status == "Degraded" {
            Some("it is Degraded")
        } else if r.status == "Paused" {
            Some("its canary is Paused, not finished")
        } else {
            None
        };
        if let Some(why) = why {
            bad = true;
            lines.push(format!(
                "{WARN}{source} is not a clean source: {why}; type the env's name to go ahead"
            ));
        }
    }
    (lines, bad)
}

/// A warning when `new` is an older build than `current`: it first reached git earlier.
pub(super) fn downgrade(known: &[KnownTag], current: Option<&str>, new: &str) -> Option<String> {
    let first = |t: &str| known.iter().find(|k| k.tag == t).map(|k| k.first_seen_unix);
    let current = current?;
    let (old, new_first) = (first(current)?, first(new)?);
    (new_first < old).then(|| {
        format!(
            "{WARN}downgrade: {new} first reached git {}, before {current} ({})",
            day(new_first),
            day(old)
        )
    })
}

/// Where a tag failed before: rolled back, or aborted by analysis in some env now.
pub(super) fn failed_before(
    state: &State,
    app: &str,
    known: &[KnownTag],
    tag: &str,
) -> Option<String> {
    let mut marks = Vec::new();
    if let Some(k) = known.iter().find(|k| k.tag == tag)
        && !k.rolled_back_in.is_empty()
    {
        marks.push(format!("rolled back in {}", k.rolled_back_in.join(", ")));
    }
    let aborted = state.aborted_in(app, tag);
    if !aborted.is_empty() {
        marks.push(format!("aborted in {}", aborted.join(", ")));
    }
    (!marks.is_empty()).then(|| format!("{WARN}{tag} failed before: {}", marks.join("; ")))
}

/// `2026-11-30` of a unix time.
fn day(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map_or_else(|_| unix.to_string(), |t| t.strftime("%Y-%m-%d").to_string())
}

/// `5m`, `3h 20m`, `2d 4h`: how long something has held.
fn how_long(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => "under a minute".to_owned(),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h {:02}m", s / 3_600, s % 3_600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3_600),
    }
}
