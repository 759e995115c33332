//! The command palette's fuzzy matching.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

use super::super::action::Command;

/// Commands matching a palette query, best first (all of them for an empty query).
pub fn fuzzy(query: &str) -> Vec<Command> {
    let commands = Command::ALL.iter().filter(|c| !c.view_only());
    if query.trim().is_empty() {
        return commands.copied().collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut score =
        |text: &str| pattern.score(nucleo_matcher::Utf32Str::new(text, &mut buf), &mut matcher);
    // A hit in the name counts for more than one in the description: `rol` means rollback.
    let mut scored: Vec<(u32, Command)> = commands
        .filter_map(|c| {
            let name = score(c.name()).map(|s| s * 3);
            let desc = score(c.describe());
            let best = name.into_iter().chain(desc).max()?;
            Some((best, *c))
        })
        .collect();
    scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    scored.into_iter().map(|(_, c)| c).collect()
}
