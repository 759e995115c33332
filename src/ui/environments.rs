//! Environments: per env the tag git wants, the image that runs, Argo CD sync and health.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::style::{block, dim, feed_line};
use crate::app::State;

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let title = match state.selected_app() {
        Some(app) => format!("Environments: {app}"),
        None => "Environments".to_owned(),
    };
    let block = block(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    // Wide enough for the whole split in the cell; otherwise the cell shows the canary and its
    // weight, and the note under the table spells out the selected env's split.
    let wide = inner.width >= WIDE;
    let with_phase = inner.width >= WITH_PHASE;
    let mut head = vec!["env", "git tag", "live", "sync", "health"];
    if with_phase {
        head.push("rollout");
    }
    // Every app when they all fit with room for a note, else the focused one: `h`/`l` switch
    // which app the selection, the other panels and the keys are about.
    let focused_app = state.selected_app().unwrap_or_default();
    let per_app = state.envs.len() + 1;
    let all_fit =
        state.apps.len() > 1 && 1 + per_app * state.apps.len() + 2 <= usize::from(inner.height);
    let shown: Vec<&str> = if all_fit {
        state.apps.iter().map(String::as_str).collect()
    } else {
        vec![focused_app]
    };
    // The cells in full first: the columns are sized by what they hold, then cut with `…`.
    let blocks: Vec<(&str, Vec<Cells>)> = shown
        .iter()
        .map(|app| {
            (
                *app,
                app_rows(state, app, *app == focused_app, wide, with_phase),
            )
        })
        .collect();
    let mut notes: Vec<Line> = Vec::new();
    // A stale backup is a warning about the env whatever app is selected: it comes first.
    notes.extend(backup_lines(state));
    // What the cluster is doing now comes next: the panel may have room for two lines only.
    if let (Some(app), Some(env)) = (state.selected_app(), state.selected_env()) {
        let live = state.live.env_live(app, &env.name);
        if let Some(split) = live
            .as_ref()
            .and_then(|l| l.split.as_ref())
            .filter(|_| !wide)
        {
            notes.push(Line::raw(format!("{}: {split}", env.name)));
        }
        if !with_phase && let Some(phase) = live.and_then(|l| l.rollout_status) {
            notes.push(Line::styled(
                format!("{}: rollout {phase}", env.name),
                dim(),
            ));
        }
        if let Some(a) = state.live.argo_app(app, &env.name) {
            let mut policy = format!("{}: {}", env.name, crate::app::update::auto_sync_line(a));
            if let Some(w) = crate::app::update::window_line(state, a, false) {
                policy = format!("{policy} · {w}");
            }
            let blocked = policy.contains("sync blocked");
            notes.push(Line::styled(
                policy,
                if blocked {
                    Style::default().fg(Color::Yellow)
                } else {
                    dim()
                },
            ));
        }
        for d in denied_lines(state, &env.name) {
            notes.push(Line::styled(d, Style::default().fg(Color::Yellow)));
        }
    }
    // What the selected env's promote pair would bring (`stg → prod: 12 commits, 5 PRs ahead`).
    if let Some((base, head)) = state
        .selected_env()
        .and_then(|e| crate::app::update::pair_of(state, e))
    {
        let tag = |env: &str| {
            state
                .envs
                .iter()
                .find(|e| e.name == env)
                .and_then(|e| e.git_tag.clone())
        };
        if let (Some(bt), Some(ht)) = (tag(&base), tag(&head)) {
            let what = match state.changes_cache.get(&(bt.clone(), ht.clone())) {
                _ if bt == ht => Some("same tag, nothing to promote".to_owned()),
                Some(Some(Ok(s))) => Some(s.headline.clone()),
                Some(Some(Err(e))) => Some(format!("changes unknown: {e}")),
                Some(None) => Some("asking GitHub…".to_owned()),
                None => None,
            };
            if let Some(what) = what {
                notes.push(Line::styled(format!("{head} → {base}: {what} (c)"), dim()));
            }
        }
    }
    if let Some(changed) = state
        .selected_env()
        .and_then(|e| state.git_for(&e.name))
        .and_then(|t| t.changed.as_ref())
    {
        let now = i64::try_from(state.clock.now_ms / 1000).unwrap_or(i64::MAX);
        notes.push(Line::from(vec![
            Span::styled(
                format!(
                    "{} set {} by {} · ",
                    state.selected_env().map_or("", |e| e.name.as_str()),
                    crate::app::update::ago(now, changed.unix),
                    changed.author
                ),
                dim(),
            ),
            Span::raw(changed.short.clone()),
            Span::styled(format!(" {}", changed.subject), dim()),
        ]));
    }
    if let (Some(app), Some(env)) = (state.selected_app(), state.selected_env())
        && let Some(why) = state.drift(app, &env.name)
    {
        notes.push(Line::styled(
            format!("{}: {why}", env.name),
            Style::default().fg(Color::Yellow),
        ));
    }
    if let Some(problem) = state
        .selected_env()
        .and_then(|e| state.git_for(&e.name))
        .and_then(|t| t.problem.clone())
    {
        notes.push(Line::styled(problem, Style::default().fg(Color::Red)));
    }
    notes.extend(
        [
            feed_line("git", &state.gitops),
            feed_line("cluster", &state.cluster),
        ]
        .into_iter()
        .flatten(),
    );
    let rows_h = blocks.iter().map(|(_, r)| r.len()).sum::<usize>()
        + if blocks.len() > 1 { blocks.len() } else { 0 };
    let table_h = u16::try_from(rows_h + 1)
        .unwrap_or(u16::MAX)
        .min(inner.height);
    let want: Vec<usize> = (0..head.len())
        .map(|c| {
            super::fit::widest(
                blocks
                    .iter()
                    .flat_map(|(_, rows)| rows.iter().map(move |r| r[c].0.as_str()))
                    .chain([head[c]]),
            )
        })
        .collect();
    let widths = super::fit::columns(usize::from(inner.width), &want, &[4, 7, 7, 4, 4, 4]);
    let constraints: Vec<Constraint> = widths
        .iter()
        .map(|w| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)))
        .collect();
    let header = Row::new(head).style(Style::default().add_modifier(Modifier::BOLD));
    // The header, then per app its name (with more than one) and its rows.
    let bottom = inner.y + table_h;
    let mut y = inner.y;
    let mut place = |frame: &mut Frame<'_>, h: usize, draw: &dyn Fn(&mut Frame<'_>, Rect)| {
        let h = u16::try_from(h)
            .unwrap_or(u16::MAX)
            .min(bottom.saturating_sub(y));
        if h > 0 {
            draw(
                frame,
                Rect {
                    y,
                    height: h,
                    ..inner
                },
            );
            y += h;
        }
    };
    place(frame, 1, &|f, r| {
        f.render_widget(
            Table::new(Vec::<Row>::new(), constraints.clone()).header(header.clone()),
            r,
        );
    });
    for (app, rows) in &blocks {
        let is_focused = *app == focused_app;
        if blocks.len() > 1 {
            let line = if is_focused {
                Line::styled(
                    format!("▾ {app}"),
                    Style::default().add_modifier(Modifier::BOLD),
                )
            } else {
                Line::styled(format!("  {app}"), dim())
            };
            place(frame, 1, &|f, r| {
                f.render_widget(Paragraph::new(line.clone()), r);
            });
        }
        let table_rows: Vec<Row> = rows
            .iter()
            .enumerate()
            .map(|(i, cells)| {
                let row = Row::new(
                    cells
                        .iter()
                        .zip(&widths)
                        .map(|((text, style), w)| {
                            Cell::from(Span::styled(super::fit::cut(text, *w), *style))
                        })
                        .collect::<Vec<_>>(),
                );
                if is_focused && i == state.selected_env && focused {
                    row.style(Style::default().add_modifier(Modifier::REVERSED))
                } else {
                    row
                }
            })
            .collect();
        place(frame, rows.len(), &|f, r| {
            f.render_widget(Table::new(table_rows.clone(), constraints.clone()), r);
        });
    }
    let rest = Rect {
        y: inner.y + table_h,
        height: inner.height.saturating_sub(table_h),
        ..inner
    };
    if rest.height > 0 && !notes.is_empty() {
        let mut lines = vec![Line::from("")];
        lines.extend(notes);
        frame.render_widget(
            Paragraph::new(lines)
                .style(dim())
                .wrap(ratatui::widgets::Wrap { trim: true }),
            rest,
        );
    }
}

/// From this width the live cell holds a canary's whole split.
const WIDE: u16 = 92;
/// From this width the rollout's phase has a column of its own beside Argo CD's health.
const WITH_PHASE: u16 = 56;

/// What the server refused to show in `env` (one line per kind), for both of its watches.
fn denied_lines(state: &State, env: &str) -> Vec<String> {
    use crate::services::kube::FeedId;
    [
        FeedId::Cluster(env.to_owned()),
        FeedId::ArgoCd(env.to_owned()),
    ]
    .iter()
    .flat_map(|f| state.live.denied(f))
    .map(|d| format!("{env}: {d}"))
    .collect()
}

/// The cluster of `env` is being watched but has not delivered its first snapshot.
fn connecting(state: &State, env: &str) -> bool {
    use crate::app::state::Feed;
    use crate::services::kube::Conn;
    matches!(state.cluster, Feed::Connecting | Feed::Live)
        && state
            .live
            .envs
            .get(env)
            .is_none_or(|e| matches!(e.cluster, Conn::Connecting))
}

/// A row's cells in full, each with its style (cut to the column when drawn).
type Cells = Vec<(String, Style)>;

/// One app's rows: per env its name, git tag, live image, sync, health (and rollout phase).
fn app_rows(
    state: &State,
    app: &str,
    is_focused: bool,
    wide: bool,
    with_phase: bool,
) -> Vec<Cells> {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
    state
        .envs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let marker = if is_focused && i == state.selected_env {
                "▸"
            } else {
                " "
            };
            let name = if e.protected {
                format!("{marker}{}⚿", e.name)
            } else {
                format!("{marker}{}", e.name)
            };
            // The focused app's row holds its git tag; another app's is read from the snapshot.
            let git_tag = if is_focused {
                e.git_tag.clone()
            } else {
                state
                    .git
                    .get(&(app.to_owned(), e.name.clone()))
                    .and_then(|t| t.tag.clone())
            };
            // What the cluster watches say wins over anything cached in the row.
            let live = state.live.env_live(app, &e.name);
            let denied = state.live.rollouts_denied(&e.name).is_some();
            let (live_tag, sync, health, phase) = match &live {
                Some(l) => (
                    match &l.split {
                        Some(s) if wide => Some(s.to_string()),
                        Some(s) => Some(format!("{} {}%", s.canary_tag, s.canary_weight)),
                        None => l.live_tag.clone(),
                    },
                    l.sync.clone(),
                    // Argo CD's own health; the rollout's phase has its column (or, when narrow,
                    // the Rollout panel beside this one).
                    l.health.clone(),
                    l.rollout_status.clone(),
                ),
                // Asked, not answered yet: say so rather than show a phase from nowhere.
                None if connecting(state, &e.name) => {
                    (Some("connecting".to_owned()), None, None, None)
                }
                None => (None, None, None, None),
            };
            let phase = if denied {
                Some("not permitted".to_owned())
            } else {
                phase
            };
            let disconnected = live.as_ref().is_some_and(|l| l.stale_since.is_some());
            // A disagreement is only drift once it outlives the grace (a sync takes a moment).
            let drift = state.drift(app, &e.name).is_some();
            let live_style = if drift {
                Style::default().fg(Color::Yellow)
            } else {
                Style::default()
            };
            let stale_mark = if disconnected { " (stale)" } else { "" };
            let plain = Style::default();
            let mut cells = vec![
                (name, plain),
                (dash(&git_tag), plain),
                (
                    format!("{}{}", dash(&live_tag), if drift { " ≠" } else { "" }),
                    live_style,
                ),
                (
                    format!("{}{}", dash(&sync), sync_marks(state, app, &e.name)),
                    plain,
                ),
            ];
            if with_phase {
                cells.push((dash(&health), plain));
                cells.push((format!("{}{stale_mark}", dash(&phase)), plain));
            } else {
                cells.push((format!("{}{stale_mark}", dash(&health)), plain));
            }
            cells
        })
        .collect()
}

/// `↻` when auto-sync is on, `⊘` when a sync window holds automated syncs back now.
fn sync_marks(state: &State, app: &str, env: &str) -> &'static str {
    let Some(a) = state.live.argo_app(app, env) else {
        return "";
    };
    let now = crate::app::update::argocd_now(state);
    match (
        a.auto_sync.is_some(),
        a.window_verdict(now, false).is_open(),
    ) {
        (true, true) => " ↻",
        (true, false) => " ↻⊘",
        (false, true) => "",
        (false, false) => " ⊘",
    }
}

/// `⚠ prod backup stale: newest 30h ago (max 26h)` per stale env; an unreadable store is
/// said as such (its freshness is unknown, not fine).
fn backup_lines(state: &State) -> Vec<Line<'static>> {
    let warn = Style::default().fg(Color::Yellow);
    match &state.pipeline.backups {
        None => Vec::new(),
        Some(Err(e)) => vec![Line::styled(format!("backups: unreadable ({e})"), warn)],
        // Stale ones first: a small panel may show only the first line.
        Some(Ok(reads)) => {
            let too_old = reads.iter().filter_map(|b| {
                let a = b.age.as_ref().filter(|a| a.stale)?;
                Some(Line::styled(
                    format!("⚠ {} backup {}", b.env, a.line()),
                    warn,
                ))
            });
            let unreadable = reads.iter().filter_map(|b| {
                let e = b.error.as_ref()?;
                Some(Line::styled(
                    format!("{} backup: unreadable ({e})", b.env),
                    warn,
                ))
            });
            too_old.chain(unreadable).collect()
        }
    }
}
