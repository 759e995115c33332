//! The full-screen views' own state (tmp, Changes, Feishu, Secrets): what each shows and how it
//! is ordered or filtered, kept apart from the main screen's.

/// One entry of the tmp cleanup preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpRow {
    /// Position in the plan (what the driver applies by).
    pub idx: usize,
    pub path: String,
    pub size: u64,
    pub age_secs: u64,
    pub rule: String,
    pub reason: String,
}

impl TmpRow {
    /// The preview rows and summary lines of a tmp plan.
    pub fn of_plan(plan: &crate::services::tmpclean::Plan) -> (Vec<TmpRow>, Vec<String>) {
        use crate::services::tmpclean::format_bytes;
        let rows = plan
            .candidates
            .iter()
            .enumerate()
            .map(|(idx, c)| TmpRow {
                idx,
                path: c.path.display().to_string(),
                size: c.size,
                age_secs: c.age_secs,
                rule: c.rule.clone(),
                reason: c.reason.clone(),
            })
            .collect();
        let mode = match plan.mode {
            crate::services::tmpclean::CleanMode::Trash => "to the trash",
            crate::services::tmpclean::CleanMode::Delete => "deleted",
        };
        let mut summary = vec![format!(
            "{}: {} entries, {} ({mode})",
            plan.root.display(),
            plan.total_files,
            format_bytes(plan.total_bytes),
        )];
        summary.extend(plan.totals.iter().map(|t| {
            format!(
                "  {:<28} {:>6} files {:>10}",
                t.rule,
                t.files,
                format_bytes(t.bytes)
            )
        }));
        (rows, summary)
    }
}

/// How the tmp preview is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TmpSort {
    #[default]
    Size,
    Age,
    Rule,
}

/// The Changes view (`c`): what the head env's tag brings to the base env's (a promote
/// `head` → `base`). Its data is `State::changes_cache` under the two tags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangesView {
    pub app: String,
    pub base_env: String,
    pub head_env: String,
    pub base_tag: String,
    pub head_tag: String,
    /// Rows whose id, title, author or labels contain this (case aside).
    pub filter: String,
    /// `/` was pressed: keys type into the filter until enter or esc.
    pub filtering: bool,
    pub selected: usize,
}

/// What GitHub said about the changes between two tags: `None` while it is being asked.
pub type ChangesEntry = Option<Result<crate::services::github::ChangeSummary, String>>;

/// The tmp view (`t`): what the cleanup would remove, before it does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TmpView {
    pub rows: Option<Vec<TmpRow>>,
    /// Root, mode and totals per rule, one line each.
    pub summary: Vec<String>,
    pub error: Option<String>,
    pub selected: usize,
    pub sort: TmpSort,
    /// Plan positions the user toggled off.
    pub skip: std::collections::BTreeSet<usize>,
}

/// The Feishu view (`f`): the member sync's plan, before it is applied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeishuView {
    /// The plan, as lines (per chat: adds, removes; unmatched users with the reason).
    pub lines: Option<Vec<String>>,
    /// Writes the plan needs (0: nothing to do).
    pub writes: usize,
    pub error: Option<String>,
    pub scroll: u16,
}

/// The Secrets view (`s`): every SOPS file with recipients and age.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretsView {
    pub rows: Option<Vec<crate::services::secrets::ops::FileInfo>>,
    pub error: Option<String>,
    pub selected: usize,
    /// Oldest first (else by path).
    pub by_age: bool,
}
