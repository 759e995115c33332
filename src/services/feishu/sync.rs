//! GitHub team → Feishu chat member sync: [`MemberSync::plan`] reads everything and writes
//! nothing; [`MemberSync::apply`] performs a reviewed plan in batches of ≤ 50, one chat at a
//! time and one call at a time (concurrent adds to one chat fail with 232019).
//!
//! Who is removed: only members the sync *manages*, i.e. Feishu users it can tie to a GitHub
//! login (a mapping file entry, or a member of a synced team), who are no longer in any team
//! feeding the chat; never anyone on the protected list; and only with `prune` on. Everyone
//! else in the chat (people without GitHub, bots, guests) is left alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use secrecy::SecretString;
use serde::Serialize;

use super::api::{ApiStats, FeishuApi, RetryPolicy};
use super::config::Membership;
use super::github::{GithubTeams, TeamMember};
use super::mapping::Mapping;
use super::{Credentials, FeishuError, Result};
use crate::inventory::Inventory;
use crate::services::TaskCtl;

/// Feishu's per-call limit for batch_get_id and member add/remove.
pub const BATCH: usize = 50;

/// One chat the sync manages.
#[derive(Debug, Clone)]
pub struct SyncChat {
    pub name: String,
    pub chat_id: String,
    /// Team slugs whose members belong in the chat.
    pub teams: Vec<String>,
}

/// Everything the sync needs, resolved (credentials included).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub feishu_api: String,
    pub app_id: SecretString,
    pub app_secret: SecretString,
    pub github_api: String,
    pub github_token: Option<SecretString>,
    pub org: String,
    pub membership: Membership,
    pub mapping: Mapping,
    pub verified_domain_emails: bool,
    pub chats: Vec<SyncChat>,
    pub prune: bool,
    pub protected: Vec<String>,
    pub retry: RetryPolicy,
}

impl SyncSettings {
    /// From the inventory's `feishu:` (and `github:`) sections. `github_token` is resolved by
    /// the caller (`services::github::resolve_token` at the edge).
    pub fn from_inventory(
        inv: &Inventory,
        creds: &Credentials,
        github_token: Option<SecretString>,
    ) -> Result<Self> {
        let cfg = inv
            .feishu
            .as_ref()
            .ok_or_else(|| FeishuError::NotConfigured("no `feishu:` section".to_owned()))?;
        let sync = cfg.sync.as_ref().ok_or_else(|| {
            FeishuError::NotConfigured("no `feishu.sync:` section (teams → chats)".to_owned())
        })?;
        let github = inv.github.as_ref();
        let org = sync
            .org
            .clone()
            .or_else(|| github.map(|g| g.owner.clone()))
            .ok_or_else(|| {
                FeishuError::NotConfigured(
                    "feishu.sync.org (or github.owner) names the GitHub organisation".to_owned(),
                )
            })?;
        let mut by_chat: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (team, chats) in &sync.teams {
            for c in chats {
                by_chat.entry(c.clone()).or_default().push(team.clone());
            }
        }
        if by_chat.is_empty() {
            return Err(FeishuError::NotConfigured(
                "feishu.sync.teams maps no team to a chat".to_owned(),
            ));
        }
        let mut chats = Vec::new();
        for (name, teams) in by_chat {
            let chat = cfg
                .chats
                .get(&name)
                .ok_or_else(|| FeishuError::UnknownChat(name.clone()))?;
            let chat_id = chat.chat_id.clone().ok_or_else(|| {
                FeishuError::NotConfigured(format!("feishu.chats.{name} has no chat_id"))
            })?;
            chats.push(SyncChat {
                name,
                chat_id,
                teams,
            });
        }
        let mapping = match &sync.mapping_file {
            Some(f) => Mapping::load(&resolve(inv.base_dir(), f))?,
            None => Mapping::default(),
        };
        Ok(SyncSettings {
            feishu_api: cfg
                .api_url
                .clone()
                .unwrap_or_else(|| "https://open.feishu.cn".to_owned()),
            app_id: creds.require(cfg.app_id_env.as_deref(), "Feishu app id")?,
            app_secret: creds.require(cfg.app_secret_env.as_deref(), "Feishu app secret")?,
            github_api: github
                .and_then(|g| g.api_url.clone())
                .unwrap_or_else(|| "https://api.github.com".to_owned()),
            github_token,
            org,
            membership: sync.membership,
            mapping,
            verified_domain_emails: sync.verified_domain_emails,
            chats,
            prune: sync.prune,
            protected: sync.protected.clone(),
            retry: RetryPolicy::default(),
        })
    }
}

fn resolve(base: &Path, f: &str) -> std::path::PathBuf {
    let p = Path::new(f);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// A Feishu user in a plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PlannedMember {
    pub open_id: String,
    pub login: Option<String>,
    pub name: Option<String>,
}

/// A GitHub member the sync could not tie to a Feishu user, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    pub login: String,
    pub teams: Vec<String>,
    pub reason: String,
}

/// What the sync would do to one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatPlan {
    pub chat: String,
    pub chat_id: String,
    pub teams: Vec<String>,
    /// Members now (bots are not listed by Feishu).
    pub current: usize,
    /// Matched team members who belong in the chat.
    pub desired: usize,
    pub add: Vec<PlannedMember>,
    /// Empty unless `prune` is on.
    pub remove: Vec<PlannedMember>,
    /// Managed members no longer in a team, kept because `prune` is off.
    pub stale: Vec<PlannedMember>,
    /// Members who would be removed but are protected.
    pub protected: Vec<PlannedMember>,
    /// Members the sync does not manage (left alone).
    pub unmanaged: usize,
}

impl ChatPlan {
    /// Add and remove calls this chat needs.
    pub fn writes(&self) -> usize {
        self.add.len().div_ceil(BATCH) + self.remove.len().div_ceil(BATCH)
    }
}

/// The dry run: per chat adds/removes, and the unmatched users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncPlan {
    pub org: String,
    pub membership: Membership,
    pub prune: bool,
    /// Distinct GitHub members across the synced teams.
    pub github_members: usize,
    pub matched: usize,
    pub chats: Vec<ChatPlan>,
    pub unmatched: Vec<Unmatched>,
}

impl SyncPlan {
    pub fn adds(&self) -> usize {
        self.chats.iter().map(|c| c.add.len()).sum()
    }

    pub fn removes(&self) -> usize {
        self.chats.iter().map(|c| c.remove.len()).sum()
    }

    /// Write calls an apply will make.
    pub fn writes(&self) -> usize {
        self.chats.iter().map(ChatPlan::writes).sum()
    }

    pub fn is_noop(&self) -> bool {
        self.writes() == 0
    }
}

/// What applying did to one chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChatResult {
    pub chat: String,
    pub added: usize,
    pub removed: usize,
    /// Add/remove calls made.
    pub writes: usize,
    /// Ids Feishu refused (resigned, invisible to the app, not existing).
    pub invalid: Vec<String>,
    /// Adds waiting for an owner's approval.
    pub pending_approval: Vec<String>,
    /// The chat stopped on this error (other chats went on).
    pub error: Option<String>,
}

/// The result of [`MemberSync::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub chats: Vec<ChatResult>,
    pub writes: usize,
    pub cancelled: bool,
    pub api: ApiStats,
}

impl SyncSummary {
    pub fn failed(&self) -> bool {
        self.chats.iter().any(|c| c.error.is_some())
    }

    pub fn added(&self) -> usize {
        self.chats.iter().map(|c| c.added).sum()
    }

    pub fn removed(&self) -> usize {
        self.chats.iter().map(|c| c.removed).sum()
    }
}

/// The member sync. Cheap to clone; one per inventory.
#[derive(Debug, Clone)]
pub struct MemberSync {
    settings: Arc<SyncSettings>,
    api: Arc<FeishuApi>,
    github: GithubTeams,
}

/// How a login is to be found in Feishu.
enum Lookup {
    OpenId(String),
    Emails(Vec<String>, &'static str),
    Mobile(String),
    Nothing(String),
}

impl MemberSync {
    /// The sync the inventory describes, with the GitHub token found the usual way
    /// (`services::github::resolve_token`): what the cockpit and `feishu sync` both run.
    pub async fn for_inventory(inv: &Inventory, creds: &Credentials) -> Result<Self> {
        let (token_env, api) = match &inv.github {
            Some(g) => (
                g.token_env.as_deref(),
                g.api_url.as_deref().unwrap_or("https://api.github.com"),
            ),
            None => (None, "https://api.github.com"),
        };
        let github_token = crate::services::github::resolve_token(token_env, api).await;
        Self::new(SyncSettings::from_inventory(inv, creds, github_token)?)
    }

    pub fn new(settings: SyncSettings) -> Result<Self> {
        let api = FeishuApi::new(
            &settings.feishu_api,
            settings.app_id.clone(),
            settings.app_secret.clone(),
            settings.retry,
        )?;
        let github = GithubTeams::new(
            &settings.github_api,
            settings.github_token.clone(),
            &settings.org,
        )?;
        Ok(MemberSync {
            settings: Arc::new(settings),
            api: Arc::new(api),
            github,
        })
    }

    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }

    /// Requests, rate-limit waits and server errors seen so far.
    pub fn api_stats(&self) -> ApiStats {
        self.api.stats()
    }

    /// Reads GitHub and Feishu and works out what to change. Writes nothing.
    pub async fn plan(&self, ctl: &TaskCtl) -> Result<SyncPlan> {
        let s = &*self.settings;
        let teams: BTreeSet<&String> = s.chats.iter().flat_map(|c| &c.teams).collect();
        let steps = (teams.len() + s.chats.len() + 1) as u64;
        let mut step = 0;
        let mut team_members: BTreeMap<String, Vec<TeamMember>> = BTreeMap::new();
        for t in teams {
            check(ctl)?;
            ctl.report(step, Some(steps), format!("GitHub team {t}"));
            team_members.insert(t.clone(), self.github.members(t, s.membership).await?);
            step += 1;
        }
        // Distinct members with the teams they are in.
        let mut people: BTreeMap<String, (TeamMember, Vec<String>)> = BTreeMap::new();
        for (team, members) in &team_members {
            for m in members {
                people
                    .entry(m.login.to_ascii_lowercase())
                    .or_insert_with(|| (m.clone(), Vec::new()))
                    .1
                    .push(team.clone());
            }
        }
        let lookup_for = |login: &str, verified: &[String]| -> Lookup {
            if let Some(e) = s.mapping.get(login) {
                if let Some(id) = &e.open_id {
                    return Lookup::OpenId(id.clone());
                }
                if let Some(email) = &e.email {
                    return Lookup::Emails(vec![email.clone()], "mapping email");
                }
                if let Some(m) = &e.mobile {
                    return Lookup::Mobile(m.clone());
                }
            }
            if s.verified_domain_emails && !verified.is_empty() {
                return Lookup::Emails(verified.to_vec(), "verified-domain email");
            }
            Lookup::Nothing(if s.verified_domain_emails {
                "no mapping entry and no email on the organisation's verified domains \
                 (public profile emails are not trusted)"
                    .to_owned()
            } else {
                "no mapping entry (verified-domain emails are switched off)".to_owned()
            })
        };
        let mut lookups: BTreeMap<String, Lookup> = BTreeMap::new();
        for (login, (m, _)) in &people {
            lookups.insert(login.clone(), lookup_for(login, &m.verified_emails));
        }
        // Mapping entries outside the teams are managed too: that is how people who left a
        // team are recognised as ours to remove.
        for (login, _) in s.mapping.iter() {
            lookups
                .entry(login.clone())
                .or_insert_with(|| lookup_for(login, &[]));
        }
        let mut emails = BTreeSet::new();
        let mut mobiles = BTreeSet::new();
        for l in lookups.values() {
            match l {
                Lookup::Emails(list, _) => {
                    emails.extend(list.iter().map(|e| e.to_ascii_lowercase()));
                }
                Lookup::Mobile(m) => {
                    mobiles.insert(m.clone());
                }
                _ => {}
            }
        }
        check(ctl)?;
        ctl.report(
            step,
            Some(steps),
            format!(
                "Feishu ids of {} emails, {} mobiles",
                emails.len(),
                mobiles.len()
            ),
        );
        let found = self.batch_lookup(emails, mobiles, ctl).await?;
        step += 1;

        // login → open_id, and the unmatched with their reason.
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        let mut reasons: BTreeMap<String, String> = BTreeMap::new();
        for (login, l) in &lookups {
            match l {
                Lookup::OpenId(id) => {
                    ids.insert(login.clone(), id.clone());
                }
                Lookup::Mobile(m) => match found.get(m) {
                    Some(id) => {
                        ids.insert(login.clone(), id.clone());
                    }
                    None => {
                        reasons.insert(
                            login.clone(),
                            format!("mapping mobile {m} is not a Feishu user the app can see"),
                        );
                    }
                },
                Lookup::Emails(list, source) => {
                    let hits: BTreeSet<&String> = list
                        .iter()
                        .filter_map(|e| found.get(&e.to_ascii_lowercase()))
                        .collect();
                    match hits.len() {
                        1 => {
                            if let Some(id) = hits.into_iter().next() {
                                ids.insert(login.clone(), id.clone());
                            }
                        }
                        0 => {
                            reasons.insert(
                                login.clone(),
                                format!(
                                    "{source} {} not found in Feishu (outside the app's contact scope, an alias, or resigned)",
                                    list.join(", ")
                                ),
                            );
                        }
                        _ => {
                            reasons.insert(
                                login.clone(),
                                format!(
                                    "ambiguous: {source}s {} belong to different Feishu users",
                                    list.join(", ")
                                ),
                            );
                        }
                    }
                }
                Lookup::Nothing(why) => {
                    reasons.insert(login.clone(), why.clone());
                }
            }
        }
        let managed: BTreeSet<&String> = ids.values().collect();
        let login_of: BTreeMap<&String, &String> = ids.iter().map(|(l, id)| (id, l)).collect();
        let protected: BTreeSet<String> = s
            .protected
            .iter()
            .filter_map(|p| {
                if p.starts_with("ou_") {
                    Some(p.clone())
                } else {
                    ids.get(&p.to_ascii_lowercase()).cloned()
                }
            })
            .collect();
        let display = |login: &str| {
            people
                .get(login)
                .map_or_else(|| login.to_owned(), |(m, _)| m.login.clone())
        };

        let mut chats = Vec::new();
        for chat in &s.chats {
            check(ctl)?;
            ctl.report(step, Some(steps), format!("members of chat {}", chat.name));
            let mut desired: BTreeMap<String, PlannedMember> = BTreeMap::new();
            for (login, (m, teams)) in &people {
                if !teams.iter().any(|t| chat.teams.contains(t)) {
                    continue;
                }
                if let Some(id) = ids.get(login) {
                    desired.insert(
                        id.clone(),
                        PlannedMember {
                            open_id: id.clone(),
                            login: Some(m.login.clone()),
                            name: m.name.clone(),
                        },
                    );
                }
            }
            let current = self.api.list_members(&chat.chat_id).await?;
            let current_ids: BTreeSet<&String> = current.iter().map(|m| &m.open_id).collect();
            let add: Vec<PlannedMember> = desired
                .values()
                .filter(|m| !current_ids.contains(&m.open_id))
                .cloned()
                .collect();
            let mut remove = Vec::new();
            let mut stale = Vec::new();
            let mut kept = Vec::new();
            let mut unmanaged = 0;
            for m in &current {
                if desired.contains_key(&m.open_id) {
                    continue;
                }
                if !managed.contains(&m.open_id) {
                    unmanaged += 1;
                    continue;
                }
                let pm = PlannedMember {
                    open_id: m.open_id.clone(),
                    login: login_of.get(&m.open_id).map(|l| display(l)),
                    name: m.name.clone(),
                };
                if protected.contains(&m.open_id) {
                    kept.push(pm);
                } else if s.prune {
                    remove.push(pm);
                } else {
                    stale.push(pm);
                }
            }
            chats.push(ChatPlan {
                chat: chat.name.clone(),
                chat_id: chat.chat_id.clone(),
                teams: chat.teams.clone(),
                current: current.len(),
                desired: desired.len(),
                add,
                remove,
                stale,
                protected: kept,
                unmanaged,
            });
            step += 1;
        }
        let unmatched = people
            .iter()
            .filter_map(|(login, (m, teams))| {
                reasons.get(login).map(|r| Unmatched {
                    login: m.login.clone(),
                    teams: teams.clone(),
                    reason: r.clone(),
                })
            })
            .collect();
        ctl.report(steps, Some(steps), "plan ready");
        Ok(SyncPlan {
            org: s.org.clone(),
            membership: s.membership,
            prune: s.prune,
            github_members: people.len(),
            matched: people.keys().filter(|l| ids.contains_key(*l)).count(),
            chats,
            unmatched,
        })
    }

    /// Emails (lower-cased) and mobiles → open_id, for those Feishu knows.
    async fn batch_lookup(
        &self,
        emails: BTreeSet<String>,
        mobiles: BTreeSet<String>,
        ctl: &TaskCtl,
    ) -> Result<BTreeMap<String, String>> {
        let emails: Vec<String> = emails.into_iter().collect();
        let mobiles: Vec<String> = mobiles.into_iter().collect();
        let mut found = BTreeMap::new();
        let calls = emails
            .len()
            .div_ceil(BATCH)
            .max(mobiles.len().div_ceil(BATCH));
        for i in 0..calls {
            check(ctl)?;
            let e = chunk(&emails, i);
            let m = chunk(&mobiles, i);
            for (key, id) in self.api.batch_get_id(e, m).await? {
                if let Some(id) = id {
                    let key = if key.contains('@') {
                        key.to_ascii_lowercase()
                    } else {
                        key
                    };
                    found.insert(key, id);
                }
            }
        }
        Ok(found)
    }

    /// Performs `plan`: per chat, adds then removes, ≤ 50 per call, strictly one call at a
    /// time. A chat that fails is reported and the others go on. Cancellation stops between
    /// calls and returns what was done.
    pub async fn apply(&self, plan: &SyncPlan, ctl: &TaskCtl) -> Result<SyncSummary> {
        let total = plan.writes() as u64;
        let mut done = 0u64;
        let mut out = Vec::new();
        let mut cancelled = false;
        for chat in &plan.chats {
            let mut r = ChatResult {
                chat: chat.chat.clone(),
                ..ChatResult::default()
            };
            let adds: Vec<String> = chat.add.iter().map(|m| m.open_id.clone()).collect();
            let removes: Vec<String> = chat.remove.iter().map(|m| m.open_id.clone()).collect();
            let result: Result<()> = async {
                for batch in adds.chunks(BATCH) {
                    if ctl.is_cancelled() {
                        return Err(FeishuError::Cancelled);
                    }
                    let o = self.api.add_members(&chat.chat_id, batch).await?;
                    r.writes += 1;
                    done += 1;
                    let refused = o.invalid.len() + o.not_existed.len() + o.pending_approval.len();
                    r.added += batch.len().saturating_sub(refused);
                    r.invalid.extend(o.invalid);
                    r.invalid.extend(o.not_existed);
                    r.pending_approval.extend(o.pending_approval);
                    ctl.report(
                        done,
                        Some(total),
                        format!("{}: added {}", chat.chat, r.added),
                    );
                }
                for batch in removes.chunks(BATCH) {
                    if ctl.is_cancelled() {
                        return Err(FeishuError::Cancelled);
                    }
                    let invalid = self.api.remove_members(&chat.chat_id, batch).await?;
                    r.writes += 1;
                    done += 1;
                    r.removed += batch.len().saturating_sub(invalid.len());
                    r.invalid.extend(invalid);
                    ctl.report(
                        done,
                        Some(total),
                        format!("{}: removed {}", chat.chat, r.removed),
                    );
                }
                Ok(())
            }
            .await;
            match result {
                Ok(()) => {}
                Err(FeishuError::Cancelled) => {
                    cancelled = true;
                    out.push(r);
                    break;
                }
                Err(e) => {
                    tracing::warn!(chat = %chat.chat, error = %e, "feishu sync: chat failed");
                    r.error = Some(e.to_string());
                }
            }
            out.push(r);
        }
        Ok(SyncSummary {
            writes: out.iter().map(|c| c.writes).sum(),
            chats: out,
            cancelled,
            api: self.api.stats(),
        })
    }
}

fn chunk(list: &[String], i: usize) -> &[String] {
    let start = (i * BATCH).min(list.len());
    let end = ((i + 1) * BATCH).min(list.len());
    &list[start..end]
}

fn check(ctl: &TaskCtl) -> Result<()> {
    if ctl.is_cancelled() {
        Err(FeishuError::Cancelled)
    } else {
        Ok(())
    }
}
