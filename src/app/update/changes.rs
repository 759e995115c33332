//! What a promote brings: the env pairs' changes (asked of GitHub once per pair of tags), the
//! Changes view (`c`) with its filter and links, and the lines confirmations show.

use super::super::action::Effect;
use super::super::state::{ChangesView, EnvRow, Feed, Overlay, State};
use crate::services::github::{ChangeSummary, SummaryLine};

/// The pair a promote of `env` is about: (base, head) env names. The env that promotes from
/// the selected one is the base (stg selected: stg → prod); an env nothing promotes from is
/// the base of its own source (prod selected: stg → prod).
pub fn pair_of(state: &State, env: &EnvRow) -> Option<(String, String)> {
    if let Some(down) = state
        .envs
        .iter()
        .find(|e| e.promote_from.as_deref() == Some(env.name.as_str()))
    {
        return Some((down.name.clone(), env.name.clone()));
    }
    env.promote_from
        .clone()
        .map(|source| (env.name.clone(), source))
}

fn tag_of(state: &State, env: &str) -> Option<String> {
    state
        .envs
        .iter()
        .find(|e| e.name == env)
        .and_then(|e| e.git_tag.clone())
}

/// Asks GitHub for the changes between two tags unless it was asked already.
pub(super) fn want(
    state: &mut State,
    base: (&str, &str),
    head: (&str, &str),
    effects: &mut Vec<Effect>,
) {
    if matches!(state.github, Feed::NotConnected(_)) || base.1 == head.1 {
        return;
    }
    let Some(app) = state.selected_app().map(str::to_owned) else {
        return;
    };
    let key = (base.1.to_owned(), head.1.to_owned());
    if state.changes_cache.contains_key(&key) {
        return;
    }
    state.changes_cache.insert(key, None);
    effects.push(Effect::LoadChanges {
        app,
        base: (base.0.to_owned(), base.1.to_owned()),
        head: (head.0.to_owned(), head.1.to_owned()),
    });
}

/// Every promote pair of the focused app whose two tags are known: the Environments panel
/// says what each would bring.
pub(super) fn want_pairs(state: &mut State, effects: &mut Vec<Effect>) {
    let pairs: Vec<(String, String)> = state
        .envs
        .iter()
        .filter_map(|e| Some((e.name.clone(), e.promote_from.clone()?)))
        .collect();
    for (base, head) in pairs {
        if let (Some(bt), Some(ht)) = (tag_of(state, &base), tag_of(state, &head)) {
            want(state, (&base, &bt), (&head, &ht), effects);
        }
    }
}

pub(super) fn loaded(
    state: &mut State,
    base_tag: String,
    head_tag: String,
    result: Result<ChangeSummary, String>,
) {
    if result.is_ok() {
        state.github = Feed::Live;
    }
    state
        .changes_cache
        .insert((base_tag, head_tag), Some(result));
}

/// `c`: the Changes view for the selected env's promote pair.
pub(super) fn open(state: &mut State, effects: &mut Vec<Effect>) {
    let Some((app, env)) = state.selection() else {
        return;
    };
    let Some((base, head)) = pair_of(state, &env) else {
        state.status = Some(format!(
            "changes: nothing promotes from or into {}",
            env.name
        ));
        return;
    };
    let (Some(base_tag), Some(head_tag)) = (tag_of(state, &base), tag_of(state, &head)) else {
        state.status = Some(format!(
            "changes: the tags of {base} and {head} are not known yet (git not read)"
        ));
        return;
    };
    want(state, (&base, &base_tag), (&head, &head_tag), effects);
    state.changes = ChangesView {
        app,
        base_env: base,
        head_env: head,
        base_tag,
        head_tag,
        ..ChangesView::default()
    };
    state.overlay = Some(Overlay::Changes);
}

/// The view's rows after its filter.
pub fn rows(state: &State) -> Vec<&SummaryLine> {
    let view = &state.changes;
    let Some(Some(Ok(summary))) = state
        .changes_cache
        .get(&(view.base_tag.clone(), view.head_tag.clone()))
    else {
        return Vec::new();
    };
    let needle = view.filter.to_lowercase();
    summary
        .lines
        .iter()
        .filter(|l| {
            needle.is_empty()
                || l.id.to_lowercase().contains(&needle)
                || l.title.to_lowercase().contains(&needle)
                || l.author
                    .as_deref()
                    .is_some_and(|a| a.to_lowercase().contains(&needle))
                || l.labels.iter().any(|x| x.to_lowercase().contains(&needle))
        })
        .collect()
}

/// `o` / enter on a row: its pull request or commit on GitHub.
pub(super) fn open_link(state: &mut State, effects: &mut Vec<Effect>) {
    let url = rows(state)
        .get(state.changes.selected)
        .map(|l| (l.id.clone(), l.url.clone()));
    match url {
        Some((_, Some(url))) => {
            state.status = Some(format!("opening {url}"));
            effects.push(Effect::OpenUrl(url));
        }
        Some((id, None)) => state.status = Some(format!("{id}: no link")),
        None => state.status = Some("changes: no row selected".to_owned()),
    }
}

pub(super) fn move_selection(state: &mut State, delta: i32) {
    let n = rows(state).len();
    state.changes.selected = super::step(state.changes.selected, delta, n);
}

/// What a confirmation says about the changes of a release or promote: the headline, the
/// first lines, and a warning per label that needs care. Empty when the tags are unknown.
pub fn confirm_lines(state: &State, base_tag: &str, head_tag: &str) -> Vec<String> {
    match state
        .changes_cache
        .get(&(base_tag.to_owned(), head_tag.to_owned()))
    {
        None => Vec::new(),
        Some(None) => vec!["changes: asking GitHub…".to_owned()],
        Some(Some(Err(e))) => vec![format!("changes: {e}")],
        Some(Some(Ok(s))) => {
            let mut lines = vec![format!("changes: {}", s.headline)];
            for l in s.lines.iter().take(3) {
                lines.push(format!("  {} {}", l.id, l.title));
            }
            if s.lines.len() > 3 {
                lines.push(format!("  … and {} more (c lists them)", s.lines.len() - 3));
            }
            for care in care_hits(state, s) {
                lines.push(format!("{}{care}", super::evidence::WARN));
            }
            lines
        }
    }
}

/// `label breaking on #482, #490` for each care label the changes carry.
pub fn care_hits(state: &State, s: &ChangeSummary) -> Vec<String> {
    s.labels
        .iter()
        .filter(|l| {
            state
                .care_labels
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&l.label))
        })
        .map(|l| {
            let prs: Vec<String> = l.pull_requests.iter().map(|n| format!("#{n}")).collect();
            format!("label {} on {}", l.label, prs.join(", "))
        })
        .collect()
}
