//! Argo CD sync windows (an AppProject's `spec.syncWindows`), evaluated as Argo CD does: a
//! window is active when a start of its cron schedule, in its time zone, lies within the last
//! `duration`; an active deny blocks (manual syncs pass only if every active deny allows them);
//! otherwise an active allow lets a sync through; otherwise allow windows that exist but are
//! closed block (manual syncs pass if one of them allows them). Shared by the cockpit, the
//! headless commands and the sandbox's controller, so they cannot disagree.

use jiff::{SignedDuration, Timestamp, civil, tz::TimeZone};
use serde::{Deserialize, Serialize};

/// One window as the AppProject holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SyncWindow {
    /// `allow` or `deny`.
    pub kind: String,
    /// Cron, five fields (`0 22 * * *`) or a descriptor (`@daily`).
    pub schedule: String,
    /// Go duration: `1h`, `30m`, `1h30m`.
    pub duration: String,
    pub applications: Vec<String>,
    pub namespaces: Vec<String>,
    pub clusters: Vec<String>,
    /// Manual syncs may run while this window blocks.
    pub manual_sync: bool,
    /// IANA zone; empty is UTC.
    pub time_zone: String,
}

/// Where an Application deploys, as windows match it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub application: &'a str,
    pub namespace: &'a str,
    pub server: &'a str,
    pub cluster_name: &'a str,
}

/// What the windows say about a sync now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// No window applies, or one lets it through.
    Open,
    /// Blocked, with why and, when known, until when.
    Blocked {
        why: String,
        until: Option<Timestamp>,
    },
}

impl Verdict {
    pub fn is_open(&self) -> bool {
        matches!(self, Verdict::Open)
    }
}

impl SyncWindow {
    fn is_deny(&self) -> bool {
        self.kind.eq_ignore_ascii_case("deny")
    }

    /// Whether the window names the Application (by name, destination namespace or cluster).
    pub fn matches(&self, t: Target<'_>) -> bool {
        self.applications.iter().any(|g| glob(g, t.application))
            || self.namespaces.iter().any(|g| glob(g, t.namespace))
            || self.clusters.iter().any(|g| {
                (!t.server.is_empty() && glob(g, t.server))
                    || (!t.cluster_name.is_empty() && glob(g, t.cluster_name))
            })
    }

    fn zone(&self) -> Result<TimeZone, String> {
        if self.time_zone.is_empty() {
            return Ok(TimeZone::UTC);
        }
        TimeZone::get(&self.time_zone).map_err(|e| format!("time zone `{}`: {e}", self.time_zone))
    }

    fn length(&self) -> Result<SignedDuration, String> {
        self.duration
            .parse::<SignedDuration>()
            .map_err(|e| format!("duration `{}`: {e}", self.duration))
    }

    /// When the window is open at `now`: until when (the latest end of the starts that cover
    /// `now`). `None` when it is closed.
    pub fn open_until(&self, now: Timestamp) -> Result<Option<Timestamp>, String> {
        let zone = self.zone()?;
        let length = self.length()?;
        let cron = parse(&self.schedule)?;
        let local = now.to_zoned(zone.clone()).datetime();
        let from = local
            .checked_sub(length)
            .map_err(|e| format!("duration `{}`: {e}", self.duration))?;
        let mut until = None;
        for start in cron.iter_after(naive(from)) {
            let start = civil_of(start.naive_utc());
            if start >= local {
                break;
            }
            let end = start.checked_add(length).map_err(|e| e.to_string())?;
            let end = zone.to_timestamp(end).map_err(|e| e.to_string())?;
            until = Some(until.map_or(end, |u: Timestamp| u.max(end)));
        }
        Ok(until)
    }

    /// The next start after `now`.
    pub fn next_start(&self, now: Timestamp) -> Result<Option<Timestamp>, String> {
        let zone = self.zone()?;
        let cron = parse(&self.schedule)?;
        let local = now.to_zoned(zone.clone()).datetime();
        let next = cron
            .find_next_occurrence(&naive(local), false)
            .map_err(|e| format!("schedule `{}`: {e}", self.schedule))?;
        Ok(zone.to_timestamp(civil_of(next.naive_utc())).ok())
    }

    /// `0 22 * * * for 8h (Asia/Shanghai, manual sync allowed)` (the kind is said before).
    pub fn describe(&self) -> String {
        let mut s = format!("{} for {}", self.schedule, self.duration);
        let mut extra = Vec::new();
        if !self.time_zone.is_empty() {
            extra.push(self.time_zone.clone());
        }
        if self.manual_sync {
            extra.push("manual sync allowed".to_owned());
        }
        if !extra.is_empty() {
            s = format!("{s} ({})", extra.join(", "));
        }
        s
    }
}

/// The windows of `windows` that name `t`.
pub fn matching<'w>(windows: &'w [SyncWindow], t: Target<'_>) -> Vec<&'w SyncWindow> {
    windows.iter().filter(|w| w.matches(t)).collect()
}

/// Argo CD's `CanSync` over the windows that match the Application. A window that cannot be
/// read (a bad schedule or zone) blocks, naming the problem: Argo CD treats it as an error.
pub fn verdict(windows: &[&SyncWindow], now: Timestamp, manual: bool) -> Verdict {
    if windows.is_empty() {
        return Verdict::Open;
    }
    let mut active_deny = Vec::new();
    let mut active_allow = false;
    let mut closed_allow = Vec::new();
    for w in windows {
        match w.open_until(now) {
            Err(e) => {
                return Verdict::Blocked {
                    why: format!("sync window `{}` cannot be read: {e}", w.describe()),
                    until: None,
                };
            }
            Ok(Some(until)) if w.is_deny() => active_deny.push((*w, until)),
            Ok(Some(_)) => active_allow = true,
            Ok(None) if !w.is_deny() => closed_allow.push(*w),
            Ok(None) => {}
        }
    }
    if !active_deny.is_empty() {
        if manual && active_deny.iter().all(|(w, _)| w.manual_sync) {
            return Verdict::Open;
        }
        let until = active_deny.iter().map(|(_, u)| *u).max();
        let names: Vec<String> = active_deny.iter().map(|(w, _)| w.describe()).collect();
        return Verdict::Blocked {
            why: format!("deny window {}", names.join("; ")),
            until,
        };
    }
    if active_allow || closed_allow.is_empty() {
        return Verdict::Open;
    }
    if manual && closed_allow.iter().any(|w| w.manual_sync) {
        return Verdict::Open;
    }
    let until = closed_allow
        .iter()
        .filter_map(|w| w.next_start(now).ok().flatten())
        .min();
    let names: Vec<String> = closed_allow.iter().map(|w| w.describe()).collect();
    Verdict::Blocked {
        why: format!("outside allow window {}", names.join("; ")),
        until,
    }
}

/// Argo CD's schedules are standard five-field cron (day-of-month and day-of-week OR-ed, as
/// Vixie cron and robfig/cron do) or descriptors.
fn parse(schedule: &str) -> Result<croner::Cron, String> {
    croner::Cron::new(schedule)
        .parse()
        .map_err(|e| format!("schedule `{schedule}`: {e}"))
}

// croner works on chrono date-times; the window's wall clock is carried through it as a
// zone-less time (marked UTC) and turned back into the zone's instant by jiff.
fn naive(d: civil::DateTime) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone as _;
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::from(d.year()),
        u32::try_from(d.month()).unwrap_or(1),
        u32::try_from(d.day()).unwrap_or(1),
    )
    .unwrap_or_default();
    let time = chrono::NaiveTime::from_hms_opt(
        u32::try_from(d.hour()).unwrap_or(0),
        u32::try_from(d.minute()).unwrap_or(0),
        u32::try_from(d.second()).unwrap_or(0),
    )
    .unwrap_or_default();
    chrono::Utc.from_utc_datetime(&date.and_time(time))
}

fn civil_of(n: chrono::NaiveDateTime) -> civil::DateTime {
    use chrono::{Datelike as _, Timelike as _};
    let narrow = |v: u32| i8::try_from(v).unwrap_or(0);
    civil::date(
        i16::try_from(n.year()).unwrap_or(1970),
        narrow(n.month()),
        narrow(n.day()),
    )
    .at(narrow(n.hour()), narrow(n.minute()), narrow(n.second()), 0)
}

/// Shell-style glob with `*` and `?`, as Argo CD matches names.
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn window(kind: &str, schedule: &str, duration: &str) -> SyncWindow {
        SyncWindow {
            kind: kind.into(),
            schedule: schedule.into(),
            duration: duration.into(),
            applications: vec!["*".into()],
            ..SyncWindow::default()
        }
    }

    const APP: Target<'static> = Target {
        application: "miker-web-prod",
        namespace: "miker-prod",
        server: "https://kubernetes.default.svc",
        cluster_name: "",
    };

    #[test]
    fn a_deny_window_blocks_until_it_ends() {
        let w = window("deny", "0 12 * * *", "2h");
        assert_eq!(
            w.open_until(at("2026-12-07T13:00:00Z")).unwrap(),
            Some(at("2026-12-07T14:00:00Z"))
        );
        assert_eq!(w.open_until(at("2026-12-07T14:00:01Z")).unwrap(), None);
        assert_eq!(w.open_until(at("2026-12-07T11:59:00Z")).unwrap(), None);
        let v = verdict(&[&w], at("2026-12-07T13:00:00Z"), false);
        assert_eq!(
            v,
            Verdict::Blocked {
                why: "deny window 0 12 * * * for 2h".into(),
                until: Some(at("2026-12-07T14:00:00Z"))
            }
        );
        assert_eq!(
            verdict(&[&w], at("2026-12-07T15:00:00Z"), false),
            Verdict::Open
        );
    }

    #[test]
    fn manual_syncs_pass_a_deny_only_when_every_active_deny_allows_them() {
        let mut a = window("deny", "0 12 * * *", "2h");
        a.manual_sync = true;
        let b = window("deny", "30 12 * * *", "1h");
        let now = at("2026-12-07T13:00:00Z");
        assert_eq!(verdict(&[&a], now, true), Verdict::Open);
        assert!(!verdict(&[&a], now, false).is_open());
        assert!(!verdict(&[&a, &b], now, true).is_open());
    }

    #[test]
    fn a_closed_allow_window_blocks_until_it_opens() {
        let w = window("allow", "0 9 * * 1-5", "8h");
        // Sunday 2026-12-06 at 20:00 UTC: closed until Monday 09:00.
        let v = verdict(&[&w], at("2026-12-06T20:00:00Z"), false);
        assert_eq!(
            v,
            Verdict::Blocked {
                why: "outside allow window 0 9 * * 1-5 for 8h".into(),
                until: Some(at("2026-12-07T09:00:00Z"))
            }
        );
        assert!(verdict(&[&w], at("2026-12-07T10:00:00Z"), false).is_open());
        // An active allow lets a sync through whatever other allows say.
        let other = window("allow", "0 3 * * *", "1h");
        assert!(verdict(&[&w, &other], at("2026-12-07T10:00:00Z"), false).is_open());
    }

    #[test]
    fn the_window_is_read_in_its_time_zone() {
        let mut w = window("deny", "0 22 * * *", "8h");
        w.time_zone = "Asia/Shanghai".into();
        // 22:00 in Shanghai is 14:00 UTC; the window runs to 06:00 Shanghai = 22:00 UTC.
        assert_eq!(
            w.open_until(at("2026-12-07T15:00:00Z")).unwrap(),
            Some(at("2026-12-07T22:00:00Z"))
        );
        assert_eq!(w.open_until(at("2026-12-07T13:00:00Z")).unwrap(), None);
    }

    #[test]
    fn windows_match_by_name_namespace_or_cluster() {
        let mut w = window("deny", "@daily", "1h");
        w.applications = vec!["miker-*-prod".into()];
        assert!(w.matches(APP));
        w.applications = vec!["other".into()];
        assert!(!w.matches(APP));
        w.namespaces = vec!["miker-?rod".into()];
        assert!(w.matches(APP));
        w.namespaces.clear();
        w.clusters = vec!["https://kubernetes.*".into()];
        assert!(w.matches(APP));
        assert_eq!(matching(&[w], APP).len(), 1);
    }

    #[test]
    fn an_unreadable_window_blocks_and_says_why() {
        let w = window("deny", "61 * * * *", "1h");
        let Verdict::Blocked { why, until } = verdict(&[&w], at("2026-12-07T13:00:00Z"), false)
        else {
            panic!("blocked")
        };
        assert!(why.contains("cannot be read"), "{why}");
        assert_eq!(until, None);
        let w = window("deny", "0 12 * * *", "two hours");
        assert!(w.open_until(at("2026-12-07T13:00:00Z")).is_err());
    }
}
