//! The changes between two environments as people read them: the text report (`Display`,
//! what `shipdeck changes` prints) and Markdown release notes ready to paste.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use super::changes::{EnvChanges, EnvSide};
use super::compare::CommitList;

impl EnvChanges {
    /// Release notes ready to paste: a heading, the pull requests (links, authors, labels),
    /// then the commits in none; a downgrade lists what it takes out.
    pub fn markdown(&self) -> String {
        let c = &self.changes;
        let mut out = format!(
            "## {}: {} → {}\n\n{} · `{}` → `{}`",
            md(&self.app),
            md(&self.to.env),
            md(&self.from.env),
            c.headline(),
            md(&self.from.tag),
            md(&self.to.tag)
        );
        if let Some(url) = &c.compare_url {
            let _ = write!(out, " · [compare on GitHub]({url})");
        }
        out.push('\n');
        md_list(
            &mut out,
            &c.ahead,
            "Pull requests",
            "Commits not in a pull request",
        );
        if c.behind_by > 0 {
            let _ = write!(
                out,
                "\n### Taken out: in {} but not in {}\n",
                md(&self.from.env),
                md(&self.to.env)
            );
            md_list(
                &mut out,
                &c.behind,
                "Pull requests taken out",
                "Commits taken out",
            );
        }
        out
    }
}

fn md_list(out: &mut String, list: &CommitList, prs: &str, direct: &str) {
    if !list.pull_requests.is_empty() {
        let _ = write!(out, "\n### {prs}\n\n");
        for p in &list.pull_requests {
            let _ = write!(out, "- [#{}]({}) {}", p.number, p.url, md(&p.title));
            if let Some(a) = &p.author {
                let _ = write!(out, " (@{})", md(a));
            }
            for l in &p.labels {
                let _ = write!(out, " `{}`", l.replace('`', "'"));
            }
            out.push('\n');
        }
    }
    let mut direct_commits = list.direct().peekable();
    if direct_commits.peek().is_some() {
        let _ = write!(out, "\n### {direct}\n\n");
        for c in direct_commits {
            match &c.url {
                Some(u) => {
                    let _ = write!(out, "- [`{}`]({u}) {}", c.short, md(&c.title));
                }
                None => {
                    let _ = write!(out, "- `{}` {}", c.short, md(&c.title));
                }
            }
            if let Some(a) = c.author() {
                let _ = write!(out, " ({})", md(a));
            }
            out.push('\n');
        }
    }
    if let Some(why) = list.not_listed_why() {
        let _ = writeln!(out, "\n_{} more not listed ({why})._", list.not_listed);
    }
}

/// Text with Markdown's inline markup characters escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for EnvChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.changes;
        writeln!(f, "{}", self.headline())?;
        write!(f, "{}, {}", side(&self.from), side(&self.to))?;
        if c.ahead_by > 0 {
            let files = if c.files_capped { "300+" } else { "" };
            let n = if c.files_capped {
                String::new()
            } else {
                c.files_changed.to_string()
            };
            write!(f, " · {n}{files} files changed")?;
        }
        writeln!(f)?;
        if let Some(url) = &c.compare_url {
            writeln!(f, "{url}")?;
        }
        text_list(f, &c.ahead, "")?;
        if c.behind_by > 0 {
            writeln!(
                f,
                "\nTaken out ({} has them, {} does not):",
                self.from.env, self.to.env
            )?;
            text_list(f, &c.behind, "taken out ")?;
        }
        Ok(())
    }
}

/// `prod runs 71be0e3`, or `prod runs v1.4.2-71be0e3 (71be0e3)` when the tag is not the SHA.
fn side(s: &EnvSide) -> String {
    let short = s.sha.get(..7).unwrap_or(&s.sha);
    if s.sha.starts_with(&s.tag.to_ascii_lowercase()) {
        format!("{} runs {}", s.env, s.tag)
    } else {
        format!("{} runs {} ({short})", s.env, s.tag)
    }
}

fn text_list(f: &mut fmt::Formatter<'_>, list: &CommitList, what: &str) -> fmt::Result {
    let width = |it: &mut dyn Iterator<Item = usize>| it.max().unwrap_or(0).min(16);
    if !list.pull_requests.is_empty() {
        writeln!(f, "\nPull requests {what}({}):", list.pull_requests.len())?;
        let aw = width(
            &mut list
                .pull_requests
                .iter()
                .map(|p| p.author.as_deref().unwrap_or("-").chars().count()),
        );
        let nw = width(
            &mut list
                .pull_requests
                .iter()
                .map(|p| p.number.to_string().len()),
        );
        let tw = list
            .pull_requests
            .iter()
            .map(|p| p.title.chars().count())
            .max()
            .unwrap_or(0)
            .min(48);
        for p in &list.pull_requests {
            let mut line = format!(
                "  #{:<nw$} {:<aw$}  {:<tw$}",
                p.number,
                p.author.as_deref().unwrap_or("-"),
                p.title
            );
            if !p.labels.is_empty() {
                let _ = write!(line, "  [{}]", p.labels.join(", "));
            }
            if let Some(m) = &p.merged_by {
                let _ = write!(line, "  merged by {m}");
            }
            writeln!(f, "{}", line.trim_end())?;
        }
    }
    if !list.commits.is_empty() {
        writeln!(f, "\nCommits {what}({}):", list.total)?;
        let aw = width(
            &mut list
                .commits
                .iter()
                .map(|c| c.author().unwrap_or("-").chars().count()),
        );
        let numbers: HashSet<u64> = list.pull_requests.iter().map(|p| p.number).collect();
        for c in &list.commits {
            let date = c
                .date
                .map_or_else(|| "-".repeat(10), |d| d.strftime("%Y-%m-%d").to_string());
            write!(
                f,
                "  {} {date} {:<aw$}  {}",
                c.short,
                c.author().unwrap_or("-"),
                c.title
            )?;
            let prs: Vec<String> = c
                .pull_requests
                .iter()
                .filter(|n| numbers.contains(n))
                .map(|n| format!("#{n}"))
                .collect();
            if !prs.is_empty() {
                write!(f, "  ({})", prs.join(", "))?;
            }
            writeln!(f)?;
        }
    }
    if let Some(why) = list.not_listed_why() {
        writeln!(f, "  … {} more not listed ({why})", list.not_listed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::changes::tests::{changes, commit, pr};
    use super::*;

    #[test]
    fn markdown_escapes_and_links() {
        let env = EnvChanges {
            app: "web".into(),
            from: EnvSide {
                env: "prod".into(),
                tag: "aaaaaaa".into(),
                sha: "a".repeat(40),
            },
            to: EnvSide {
                env: "stg".into(),
                tag: "bbbbbbb".into(),
                sha: "b".repeat(40),
            },
            changes: changes(
                vec![
                    commit("1111111", "carol", &[7]),
                    commit("2222222", "bob", &[]),
                ],
                vec![pr(7, &["breaking"])],
                0,
            ),
        };
        let md = env.markdown();
        assert!(md.starts_with("## web: stg → prod\n"), "{md}");
        assert!(
            md.contains("- [#7](https://gh/pull/7) PR \\*7\\* (@carol) `breaking`"),
            "{md}"
        );
        assert!(md.contains("### Commits not in a pull request\n\n- [`2222222`](https://gh/c/2222222) title of 2222222 (bob)"), "{md}");
        let text = env.to_string();
        assert!(
            text.starts_with("web stg → prod: 2 commits, 1 PR ahead\n"),
            "{text}"
        );
        assert!(
            text.contains("  #7 carol  PR *7*  [breaking]  merged by alice"),
            "{text}"
        );
        assert!(
            text.contains("prod runs aaaaaaa, stg runs bbbbbbb"),
            "{text}"
        );
    }
}
