//! The Secrets view: its rows, its order, and the batches its keys ask for.

use super::super::action::Command;
use super::super::state::{Confirmed, Overlay, SecretsView, State};
use crate::ops::secrets::SecretsChange;
use crate::services::secrets::ops::FileInfo;

pub(super) fn loaded(state: &mut State, result: Result<Vec<FileInfo>, String>) {
    match result {
        Ok(rows) => {
            state.secrets.rows = Some(rows);
            state.secrets.error = None;
        }
        Err(e) => state.secrets.error = Some(e),
    }
    let n = state.secrets.rows.as_ref().map_or(0, Vec::len);
    state.secrets.selected = state.secrets.selected.min(n.saturating_sub(1));
    sort(&mut state.secrets);
}

/// `r` rotate the selected file, `R` every stale one, `a` all, `+`/`-` a recipient.
pub(super) fn command(state: &mut State, cmd: Command) {
    if state.overlay != Some(Overlay::Secrets) {
        return;
    }
    let rows = state.secrets.rows.clone().unwrap_or_default();
    match cmd {
        Command::Rotate => {
            if let Some(f) = rows.get(state.secrets.selected) {
                ask_rotate(state, vec![f.path.clone()]);
            }
        }
        Command::RotateStale => ask_rotate(
            state,
            rows.iter()
                .filter(|f| f.stale)
                .map(|f| f.path.clone())
                .collect(),
        ),
        Command::RotateAll => ask_rotate(state, rows.iter().map(|f| f.path.clone()).collect()),
        Command::AddRecipient | Command::RemoveRecipient if !rows.is_empty() => {
            state.overlay = Some(Overlay::Recipient {
                add: cmd == Command::AddRecipient,
                input: String::new(),
                error: None,
            });
        }
        _ => {}
    }
}

/// `o`: oldest first, or by path.
pub(super) fn toggle_order(state: &mut State) {
    state.secrets.by_age = !state.secrets.by_age;
    sort(&mut state.secrets);
}

fn sort(view: &mut SecretsView) {
    if let Some(rows) = &mut view.rows {
        if view.by_age {
            rows.sort_by_key(|f| std::cmp::Reverse(f.age_days.unwrap_or(i64::MAX)));
        } else {
            rows.sort_by(|a, b| a.path.cmp(&b.path));
        }
    }
}

fn ask_rotate(state: &mut State, files: Vec<std::path::PathBuf>) {
    if files.is_empty() {
        state.status = Some("secrets: nothing to rotate".into());
        return;
    }
    let mut lines: Vec<String> = files
        .iter()
        .take(4)
        .map(|p| format!("  {}", p.display()))
        .collect();
    if files.len() > 4 {
        lines.push(format!("  … and {} more", files.len() - 4));
    }
    lines.push("a new data key; values re-encrypted; files replaced atomically".into());
    state.overlay = Some(Overlay::Confirm {
        title: "Rotate data keys".into(),
        lines,
        typed: None,
        input: String::new(),
        then: Confirmed::Secrets {
            files,
            op: SecretsChange::Rotate,
        },
    });
}

/// Enter in the recipient field.
pub(super) fn submit_recipient(state: &mut State, add: bool, input: String) {
    match recipient_change(state, add, input.trim()) {
        Ok(op) => ask_recipient_change(state, op),
        Err(error) => {
            state.overlay = Some(Overlay::Recipient {
                add,
                input,
                error: Some(error),
            });
        }
    }
}

/// The change a typed recipient means: a valid age recipient to add, or (for a removal) the one
/// recipient of the listed files that contains what was typed.
fn recipient_change(state: &State, add: bool, typed: &str) -> Result<SecretsChange, String> {
    if typed.is_empty() {
        return Err("type or paste an age recipient (age1…)".into());
    }
    if add {
        crate::services::secrets::keys::parse_recipient(typed).map_err(|e| e.to_string())?;
        return Ok(SecretsChange::AddRecipient(typed.to_owned()));
    }
    let listed: std::collections::BTreeSet<&str> = state
        .secrets
        .rows
        .iter()
        .flatten()
        .flat_map(|f| f.recipients.iter().map(String::as_str))
        .collect();
    let matching: Vec<&str> = listed.into_iter().filter(|r| r.contains(typed)).collect();
    match matching.as_slice() {
        [one] => Ok(SecretsChange::RemoveRecipient {
            recipient: (*one).to_owned(),
            rotate: true,
            // Taking out the last key of mine is allowed only after its fingerprint is typed.
            force: !locked_out(state, one).is_empty(),
        }),
        [] => Err(format!("no listed file has a recipient matching `{typed}`")),
        many => Err(format!(
            "`{typed}` matches {} recipients; type more of it",
            many.len()
        )),
    }
}

/// Asks before a recipient change: an addition goes to every listed file, a removal to the
/// files that have the recipient.
fn ask_recipient_change(state: &mut State, op: SecretsChange) {
    let files: Vec<std::path::PathBuf> = state
        .secrets
        .rows
        .iter()
        .flatten()
        .filter(|f| match &op {
            SecretsChange::RemoveRecipient { recipient, .. } => {
                f.recipients.iter().any(|x| x == recipient)
            }
            _ => true,
        })
        .map(|f| f.path.clone())
        .collect();
    let (title, lines) = match &op {
        SecretsChange::AddRecipient(r) => (
            "Add an age recipient".to_owned(),
            vec![
                r.clone(),
                format!(
                    "gets access to {} file(s); the data keys stay as they are",
                    files.len()
                ),
            ],
        ),
        SecretsChange::RemoveRecipient { recipient, .. } => {
            let mut lines = vec![
                recipient.clone(),
                format!(
                    "loses access to {} file(s); their data keys are rotated so an old copy opens nothing new",
                    files.len()
                ),
            ];
            let locked = locked_out(state, recipient);
            if !locked.is_empty() {
                lines.push(format!(
                    "{}it is the last key you hold for {}: nobody here could open {} after this",
                    crate::app::update::WARN,
                    locked.join(", "),
                    if locked.len() == 1 { "it" } else { "them" }
                ));
            }
            ("Remove an age recipient".to_owned(), lines)
        }
        SecretsChange::Rotate | SecretsChange::Updatekeys { .. } => {
            ("Rotate data keys".to_owned(), Vec::new())
        }
    };
    // Locking myself out is typed: the recipient's last eight characters (its fingerprint).
    let typed = match &op {
        SecretsChange::RemoveRecipient {
            recipient,
            force: true,
            ..
        } => Some(fingerprint(recipient)),
        _ => None,
    };
    state.overlay = Some(Overlay::Confirm {
        title,
        lines,
        typed,
        input: String::new(),
        then: Confirmed::Secrets { files, op },
    });
}

/// The listed files whose only recipient I hold is `recipient` (by the path the table shows).
fn locked_out(state: &State, recipient: &str) -> Vec<String> {
    let base = state.secrets_base.as_deref();
    state
        .secrets
        .rows
        .iter()
        .flatten()
        .filter(|f| f.mine.iter().all(|m| m == recipient) && f.mine.iter().any(|m| m == recipient))
        .map(|f| {
            base.and_then(|b| f.path.strip_prefix(b).ok())
                .unwrap_or(&f.path)
                .display()
                .to_string()
        })
        .collect()
}

/// The last eight characters of a recipient: what the cockpit asks to be typed.
fn fingerprint(recipient: &str) -> String {
    let chars: Vec<char> = recipient.chars().collect();
    chars[chars.len().saturating_sub(8)..].iter().collect()
}
