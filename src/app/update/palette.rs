//! The command palette: fuzzy matching of its first word, and the arguments after it
//! (`release stg 71be0e3`, `app miker-api`, `env prod`).

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

use super::super::action::{Command, Effect};
use super::super::state::{Overlay, State};

/// Commands matching a palette query's first word, best first (all of them for an empty
/// query). The words after it are arguments, not part of the match.
pub fn fuzzy(query: &str) -> Vec<Command> {
    let (head, _) = split(query);
    let commands = Command::ALL.iter().filter(|c| !c.view_only());
    if head.is_empty() {
        return commands.copied().collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(head, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut score =
        |text: &str| pattern.score(nucleo_matcher::Utf32Str::new(text, &mut buf), &mut matcher);
    let lower = head.to_lowercase();
    // A hit in the name counts for more than one in the description: `rol` means rollback.
    // A description counts only where a word of it starts with the query: letters scattered
    // over a sentence ("api" in "abort + previous … in git") are no match.
    let mut scored: Vec<(u32, Command)> = commands
        .filter_map(|c| {
            let name = if c.name() == lower {
                Some(u32::MAX)
            } else {
                score(c.name()).map(|s| s.saturating_mul(3))
            };
            let desc = starts_a_word(c.describe(), &lower)
                .then(|| score(c.describe()))
                .flatten();
            let best = name.into_iter().chain(desc).max()?;
            Some((best, *c))
        })
        .collect();
    scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    scored.into_iter().map(|(_, c)| c).collect()
}

fn starts_a_word(text: &str, prefix: &str) -> bool {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.starts_with(prefix))
}

/// The first word and the arguments after it.
fn split(query: &str) -> (&str, Vec<&str>) {
    let mut words = query.split_whitespace();
    (words.next().unwrap_or(""), words.collect())
}

/// What enter in the palette would do: the command with its arguments resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub command: Command,
    pub app: Option<usize>,
    pub env: Option<usize>,
    pub tag: Option<String>,
}

impl Plan {
    /// One line for the palette: what enter does.
    pub fn describe(&self, state: &State) -> String {
        let app = state.selected_app().unwrap_or_default();
        let env = self
            .env
            .and_then(|i| state.envs.get(i))
            .or_else(|| state.selected_env())
            .map_or("", |e| e.name.as_str());
        match self.command {
            Command::App => self.app.and_then(|i| state.apps.get(i)).map_or_else(
                || format!("app NAME: {}", state.apps.join(", ")),
                |a| format!("show {a}"),
            ),
            Command::Env if self.env.is_some() => format!("select {env} of {app}"),
            Command::Env => {
                let names: Vec<&str> = state.envs.iter().map(|e| e.name.as_str()).collect();
                format!("env NAME: {}", names.join(", "))
            }
            cmd if takes_env(cmd) => {
                let tag = self
                    .tag
                    .as_ref()
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default();
                format!("{}{tag} on {env} of {app}", cmd.name())
            }
            cmd => cmd.name().to_owned(),
        }
    }
}

/// Commands that act on one env (the selected one, or the one named after them).
fn takes_env(cmd: Command) -> bool {
    matches!(
        cmd,
        Command::Release
            | Command::Promote
            | Command::PromoteFull
            | Command::Abort
            | Command::Retry
            | Command::Pause
            | Command::Restart
            | Command::Rollback
    )
}

/// Resolves the selected match and the query's arguments, or says what is wrong with them.
pub fn plan(state: &State, query: &str, selected: usize) -> Result<Plan, String> {
    let (_, args) = split(query);
    let Some(command) = fuzzy(query).get(selected).copied() else {
        return Err("no action matches".to_owned());
    };
    let mut plan = Plan {
        command,
        app: None,
        env: None,
        tag: None,
    };
    let name = command.name();
    match (command, args.as_slice()) {
        (Command::App | Command::Env, []) => {}
        (Command::App, [wanted]) => plan.app = Some(find(&state.apps, wanted, "app")?),
        (Command::App, _) => return Err("app takes the name of one app: app NAME".to_owned()),
        (Command::Env, [wanted]) => plan.env = Some(find_env(state, wanted)?),
        (Command::Env, _) => return Err("env takes the name of one env: env NAME".to_owned()),
        // `release TAG` on the selected env, or `release ENV [TAG]`.
        (Command::Release, [first, rest @ ..]) if rest.len() <= 1 => match find_env(state, first) {
            Ok(i) => {
                plan.env = Some(i);
                plan.tag = rest.first().map(|t| (*t).to_owned());
            }
            Err(_) if rest.is_empty() => plan.tag = Some((*first).to_owned()),
            Err(e) => return Err(e),
        },
        (Command::Release, [_, ..]) => {
            return Err("release takes an env and a tag: release [ENV] [TAG]".to_owned());
        }
        (cmd, [wanted]) if takes_env(cmd) => plan.env = Some(find_env(state, wanted)?),
        (cmd, [_, _, ..]) if takes_env(cmd) => {
            return Err(format!("{name} takes at most an env: {name} [ENV]"));
        }
        (_, []) => {}
        (_, _) => return Err(format!("{name} takes no arguments")),
    }
    Ok(plan)
}

fn find_env(state: &State, wanted: &str) -> Result<usize, String> {
    let names: Vec<String> = state.envs.iter().map(|e| e.name.clone()).collect();
    find(&names, wanted, "env")
}

/// An exact name, or the one name starting with `wanted`.
fn find(names: &[String], wanted: &str, what: &str) -> Result<usize, String> {
    if let Some(i) = names.iter().position(|n| n == wanted) {
        return Ok(i);
    }
    let starts: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].starts_with(wanted))
        .collect();
    match starts.as_slice() {
        [i] => Ok(*i),
        _ => Err(format!(
            "no {what} `{wanted}`: {}",
            if names.is_empty() {
                "there are none".to_owned()
            } else {
                names.join(", ")
            }
        )),
    }
}

/// Enter in the palette: run the plan, or keep the palette open with what is wrong.
pub(super) fn submit(state: &mut State, query: String, selected: usize, effects: &mut Vec<Effect>) {
    let plan = match plan(state, &query, selected) {
        Ok(plan) => plan,
        Err(why) => {
            state.status = Some(why);
            state.overlay = Some(Overlay::Palette { query, selected });
            return;
        }
    };
    // `app` / `env` with nothing after them: ask for the name in the palette itself.
    if matches!(plan.command, Command::App | Command::Env)
        && plan.app.is_none()
        && plan.env.is_none()
    {
        ask_name(state, plan.command);
        return;
    }
    if let Some(i) = plan.app {
        state.selected_app = i;
        super::git::sync_rows(state, effects);
    }
    if let Some(i) = plan.env {
        state.selected_env = i;
        state.selected_gate = 0;
    }
    if matches!(plan.command, Command::App | Command::Env) {
        return;
    }
    super::command(state, plan.command, effects);
    if let (Some(tag), Some(Overlay::Release { .. })) = (plan.tag, &state.overlay) {
        let Some(Overlay::Release {
            app,
            env,
            known,
            error,
            ..
        }) = state.overlay.take()
        else {
            return;
        };
        let overlay = Overlay::Release {
            app,
            env,
            input: tag,
            known,
            selected: None,
            error,
        };
        super::git::submit_release(state, overlay, effects);
    }
}

/// `app` or `env` without a name (a key bound to it, or the palette): the palette, primed.
pub(super) fn ask_name(state: &mut State, command: Command) {
    state.overlay = Some(Overlay::Palette {
        query: format!("{} ", command.name()),
        selected: 0,
    });
}
