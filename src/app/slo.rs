//! What the cockpit holds of the SLO read: one entry per app × env, the last good report kept
//! beside a newer error (a panel shows it as stale rather than blank), and a request number so
//! the answer to an older request never replaces a newer one.

use std::collections::HashMap;

use crate::services::prometheus::SloReport;

/// The SLO reads of every app × env asked for so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SloView {
    /// The inventory names a Prometheus; without one nothing is ever asked.
    pub configured: bool,
    /// Why the client could not be built (e.g. `prometheus.token_env` unset), when it could not.
    pub unavailable: Option<String>,
    pub entries: HashMap<(String, String), SloEntry>,
    /// The last request's number.
    pub seq: u64,
}

/// One app × env.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SloEntry {
    /// The last report that arrived.
    pub report: Option<SloReport>,
    /// The last read failed, and why (the report, if any, is older).
    pub error: Option<String>,
    /// A read is out.
    pub loading: bool,
    /// The request whose answer counts.
    pub seq: u64,
    /// When it was last asked or answered (the cockpit's clock): the panel's clock counts
    /// from there.
    pub asked_ms: u64,
}

impl SloView {
    /// The entry of `app` in `env`, if it was ever asked for.
    pub fn get(&self, app: &str, env: &str) -> Option<&SloEntry> {
        self.entries.get(&(app.to_owned(), env.to_owned()))
    }
}
