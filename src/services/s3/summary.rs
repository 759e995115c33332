//! What a listing means for a gate (a build's artifacts) and for a warning (backup age).

use std::time::Duration;

use serde::Serialize;

use super::Listing;

/// One build's artifacts: how many, how big, how recent; none means missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrefixSummary {
    pub bucket: String,
    pub prefix: String,
    pub objects: u64,
    pub bytes: u64,
    pub newest: Option<jiff::Timestamp>,
    /// Requests the listing took.
    pub requests: u32,
}

impl PrefixSummary {
    pub fn of(bucket: &str, prefix: &str, listing: &Listing) -> Self {
        PrefixSummary {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            objects: listing.objects.len() as u64,
            bytes: listing.objects.iter().map(|o| o.size).sum(),
            newest: listing.objects.iter().filter_map(|o| o.last_modified).max(),
            requests: listing.requests,
        }
    }

    pub fn missing(&self) -> bool {
        self.objects == 0
    }

    /// `s3://bucket/prefix`, as the refusal names it.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// `12 objects, 48.2 MiB, newest 13:02` or `missing (s3://…)`.
    pub fn line(&self) -> String {
        if self.missing() {
            return format!("missing ({})", self.location());
        }
        let newest = self
            .newest
            .map(|t| {
                format!(
                    ", newest {}",
                    t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%m-%d %H:%M")
                )
            })
            .unwrap_or_default();
        format!(
            "{} object{}, {}{newest}",
            self.objects,
            if self.objects == 1 { "" } else { "s" },
            bytes(self.bytes)
        )
    }
}

/// How fresh one env's newest backup is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupAge {
    /// Said once by the read that holds it ([`super::BackupRead`]).
    #[serde(skip)]
    pub env: String,
    pub bucket: String,
    pub prefix: String,
    /// The newest object's key (`None`: no backup at all).
    pub newest_key: Option<String>,
    pub newest: Option<jiff::Timestamp>,
    /// Seconds since the newest backup (`None`: no backup).
    pub age_secs: Option<u64>,
    pub max_age_secs: u64,
    /// Older than allowed, or none at all.
    pub stale: bool,
    pub objects: u64,
}

impl BackupAge {
    /// `newest 3h ago` / `STALE: newest 2d 4h ago (max 26h)` / `STALE: no backup under …`.
    pub fn line(&self) -> String {
        match self.age_secs {
            None => format!(
                "stale: no backup under s3://{}/{}",
                self.bucket, self.prefix
            ),
            Some(age) if self.stale => format!(
                "stale: newest {} ago (max {})",
                age_word(age),
                age_word(self.max_age_secs)
            ),
            Some(age) => format!("newest {} ago", age_word(age)),
        }
    }
}

/// The newest backup of `listing` against `max_age`, at `now`.
pub fn backup_age(
    env: &str,
    bucket: &str,
    prefix: &str,
    listing: &Listing,
    now: jiff::Timestamp,
    max_age: Duration,
) -> BackupAge {
    let newest = listing
        .objects
        .iter()
        .filter(|o| o.last_modified.is_some())
        .max_by_key(|o| o.last_modified);
    let age_secs = newest
        .and_then(|o| o.last_modified)
        .map(|t| u64::try_from(now.duration_since(t).as_secs()).unwrap_or(0));
    BackupAge {
        env: env.to_owned(),
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        newest_key: newest.map(|o| o.key.clone()),
        newest: newest.and_then(|o| o.last_modified),
        stale: age_secs.is_none_or(|a| a > max_age.as_secs()),
        age_secs,
        max_age_secs: max_age.as_secs(),
        objects: listing.objects.len() as u64,
    }
}

/// `3h`, `2d 4h`, `45m`, `30s`.
pub fn age_word(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        // Up to two days in hours: `26h` reads as the inventory wrote it.
        s if s < 172_800 => format!("{}h", s / 3600),
        s if s % 86_400 < 3600 => format!("{}d", s / 86_400),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// `812 B`, `4.0 KiB`, `48.2 MiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    // Display only: the rounding of a u64 to f64 does not matter at one decimal.
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::s3::Object;

    fn listing(ages: &[(&str, u64, i64)], now: jiff::Timestamp) -> Listing {
        Listing {
            objects: ages
                .iter()
                .map(|(k, size, ago)| Object {
                    key: (*k).to_owned(),
                    size: *size,
                    last_modified: Some(now - jiff::SignedDuration::from_secs(*ago)),
                })
                .collect(),
            ..Listing::default()
        }
    }

    #[test]
    fn a_backup_is_stale_past_its_max_age_or_when_there_is_none() {
        let now = jiff::Timestamp::now();
        let max = Duration::from_secs(26 * 3600);
        let fresh = listing(&[("a", 1, 30 * 3600), ("b", 1, 3 * 3600)], now);
        let b = backup_age("stg", "bk", "p/", &fresh, now, max);
        assert_eq!(b.newest_key.as_deref(), Some("b"));
        assert!(!b.stale);
        assert_eq!(b.line(), "newest 3h ago");
        let old = listing(&[("a", 1, 52 * 3600)], now);
        let b = backup_age("prod", "bk", "p/", &old, now, max);
        assert!(b.stale);
        assert_eq!(b.line(), "stale: newest 2d 4h ago (max 26h)");
        let none = backup_age("dev", "bk", "p/", &Listing::default(), now, max);
        assert!(none.stale);
        assert_eq!(none.line(), "stale: no backup under s3://bk/p/");
    }

    #[test]
    fn artifacts_summarise_count_size_and_newest() {
        let now = jiff::Timestamp::now();
        let l = listing(&[("x", 1024 * 1024 * 3, 60), ("y", 512, 10)], now);
        let s = PrefixSummary::of("b", "miker/staging/abc/", &l);
        assert_eq!(s.objects, 2);
        assert!(s.line().starts_with("2 objects, 3.0 MiB, newest "));
        let m = PrefixSummary::of("b", "miker/staging/abc/", &Listing::default());
        assert_eq!(m.line(), "missing (s3://b/miker/staging/abc/)");
    }
}
