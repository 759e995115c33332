//! The text `kubectl argo rollouts get rollout NAME --no-color` prints, from a `RolloutInfo`:
//! the header block and the revision tree. Used by `shipdeck rollout get` and by the tests that
//! hold our derivations against the plugin's own expected output.

use jiff::Timestamp;

use super::info::{AnalysisRunInfo, ExperimentInfo, ReplicaSetInfo, RolloutInfo, human_duration};

const ICON_ROLLOUT: &str = "⟳";
const ICON_REVISION: &str = "#";
const ICON_REPLICA_SET: &str = "⧉";
const ICON_POD: &str = "□";
const ICON_JOB: &str = "⊞";
const ICON_EXPERIMENT: &str = "Σ";
const ICON_ANALYSIS: &str = "α";

fn field(out: &mut String, label: &str, value: impl std::fmt::Display) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "{label:<17}{value}");
}

/// The header block (Name … Replicas).
pub fn header(info: &RolloutInfo) -> String {
    let mut out = String::new();
    field(&mut out, "Name:", &info.name);
    field(&mut out, "Namespace:", &info.namespace);
    field(
        &mut out,
        "Status:",
        format!("{} {}", info.icon, info.status),
    );
    if !info.message.is_empty() {
        field(&mut out, "Message:", &info.message);
    }
    field(&mut out, "Strategy:", &info.strategy);
    if info.strategy == "Canary" {
        field(&mut out, "  Step:", &info.step);
        field(
            &mut out,
            "  SetWeight:",
            info.set_weight.map(|w| w.to_string()).unwrap_or_default(),
        );
        field(
            &mut out,
            "  ActualWeight:",
            info.actual_weight
                .map(|w| w.to_string())
                .unwrap_or_default(),
        );
    }
    for (i, img) in info.images.iter().enumerate() {
        let text = if img.tags.is_empty() {
            img.image.clone()
        } else {
            format!("{} ({})", img.image, img.tags.join(", "))
        };
        field(&mut out, if i == 0 { "Images:" } else { "" }, text);
    }
    out.push_str("Replicas:\n");
    let r = info.replicas;
    field(&mut out, "  Desired:", r.desired);
    field(&mut out, "  Current:", r.current);
    field(&mut out, "  Updated:", r.updated);
    field(&mut out, "  Ready:", r.ready);
    field(&mut out, "  Available:", r.available);
    trim_lines(&out)
}

fn prefixes(last: bool, sub: &str) -> (String, String) {
    if last {
        (format!("{sub}└──"), format!("{sub}   "))
    } else {
        (format!("{sub}├──"), format!("{sub}│  "))
    }
}

/// Rows of NAME, KIND, STATUS, AGE, INFO before alignment.
struct Rows<'a> {
    cells: Vec<[String; 5]>,
    now: Timestamp,
    age_of: &'a dyn Fn(Option<Timestamp>) -> String,
}

impl Rows<'_> {
    fn age(&self, t: Option<Timestamp>) -> String {
        (self.age_of)(t)
    }

    fn push(&mut self, cells: [String; 5]) {
        self.cells.push(cells);
    }

    fn replica_set(&mut self, rs: &ReplicaSetInfo, prefix: &str, sub: &str) {
        let mut info: Vec<String> = rs.roles().into_iter().map(str::to_owned).collect();
        if !rs.scale_down_deadline.is_empty() {
            info.push(format!(
                "delay:{}",
                super::info::scale_down_delay(rs, self.now)
            ));
        }
        self.push([
            format!("{prefix}{ICON_REPLICA_SET} {}", rs.name),
            "ReplicaSet".into(),
            format!("{} {}", rs.icon, rs.status),
            self.age(rs.created),
            info.join(","),
        ]);
        for (i, pod) in rs.pods.iter().enumerate() {
            let (p, _) = prefixes(i + 1 == rs.pods.len(), sub);
            let mut cols = vec![format!("ready:{}", pod.ready)];
            if pod.restarts > 0 {
                cols.push(format!("restarts:{}", pod.restarts));
            }
            self.push([
                format!("{p}{ICON_POD} {}", pod.name),
                "Pod".into(),
                format!("{} {}", pod.icon, pod.status),
                self.age(pod.created),
                cols.join(","),
            ]);
        }
    }

    fn analysis_run(&mut self, ar: &AnalysisRunInfo, prefix: &str, sub: &str) {
        self.push([
            format!("{prefix}{ICON_ANALYSIS} {}", ar.name),
            "AnalysisRun".into(),
            format!("{} {}", ar.icon, ar.status),
            self.age(ar.created),
            ar.counts(),
        ]);
        for (i, job) in ar.jobs.iter().enumerate() {
            let (p, _) = prefixes(i + 1 == ar.jobs.len(), sub);
            self.push([
                format!("{p}{ICON_JOB} {}", job.name),
                "Job".into(),
                format!("{} {}", job.icon, job.status),
                self.age(job.created),
                String::new(),
            ]);
        }
    }

    fn experiment(&mut self, e: &ExperimentInfo, prefix: &str, sub: &str) {
        self.push([
            format!("{prefix}{ICON_EXPERIMENT} {}", e.name),
            "Experiment".into(),
            format!("{} {}", e.icon, e.status),
            self.age(e.created),
            String::new(),
        ]);
        let total = e.replica_sets.len() + e.analysis_runs.len();
        let mut n = 0;
        for rs in &e.replica_sets {
            n += 1;
            let (p, s) = prefixes(n == total, sub);
            self.replica_set(rs, &p, &s);
        }
        for ar in &e.analysis_runs {
            n += 1;
            let (p, s) = prefixes(n == total, sub);
            self.analysis_run(ar, &p, &s);
        }
    }
}

/// The revision tree, aligned like Go's tabwriter (padding 2), ages relative to `now`.
pub fn tree(info: &RolloutInfo, now: Timestamp) -> String {
    let age = |t: Option<Timestamp>| {
        t.map(|t| human_duration(now.duration_since(t)))
            .unwrap_or_default()
    };
    tree_with(info, now, &age)
}

/// The tree with a caller-chosen AGE column (tests pin it; the plugin's own tests do the same).
pub fn tree_with(
    info: &RolloutInfo,
    now: Timestamp,
    age_of: &dyn Fn(Option<Timestamp>) -> String,
) -> String {
    let mut rows = Rows {
        age_of,
        cells: vec![[
            "NAME".into(),
            "KIND".into(),
            "STATUS".into(),
            "AGE".into(),
            "INFO".into(),
        ]],
        now,
    };
    rows.push([
        format!("{ICON_ROLLOUT} {}", info.name),
        "Rollout".into(),
        format!("{} {}", info.icon, info.status),
        rows.age(info.created),
        String::new(),
    ]);
    for (i, rev) in info.revisions.iter().enumerate() {
        let (prefix, sub) = prefixes(i + 1 == info.revisions.len(), "");
        rows.push([
            format!("{prefix}{ICON_REVISION} revision:{}", rev.revision),
            String::new(),
            " ".into(),
            String::new(),
            String::new(),
        ]);
        let total = rev.replica_sets.len() + rev.experiments.len() + rev.analysis_runs.len();
        let mut n = 0;
        for rs in &rev.replica_sets {
            n += 1;
            let (p, s) = prefixes(n == total, &sub);
            rows.replica_set(rs, &p, &s);
        }
        for e in &rev.experiments {
            n += 1;
            let (p, s) = prefixes(n == total, &sub);
            rows.experiment(e, &p, &s);
        }
        for ar in &rev.analysis_runs {
            n += 1;
            let (p, s) = prefixes(n == total, &sub);
            rows.analysis_run(ar, &p, &s);
        }
    }
    align(&rows.cells)
}

fn align(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 4];
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, w) in widths.iter().enumerate() {
            line.push_str(&r[i]);
            line.push_str(&" ".repeat(w + 2 - r[i].chars().count()));
        }
        line.push_str(&r[4]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn trim_lines(s: &str) -> String {
    let mut out = String::new();
    for l in s.lines() {
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

/// Header, a blank line, then the tree: what the plugin prints.
pub fn get_rollout(info: &RolloutInfo, now: Timestamp) -> String {
    format!("{}\n{}", header(info), tree(info, now))
}
