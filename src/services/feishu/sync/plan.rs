//! Working out a sync without writing anything: who each chat should have, who it has, and
//! how every GitHub login is found in Feishu.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::inventory::Membership;
use crate::services::TaskCtl;
use crate::services::feishu::Result;
use crate::services::feishu::github::TeamMember;

use super::{BATCH, MemberSync, check, chunk};

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

/// How a login is to be found in Feishu.
pub(super) enum Lookup {
    OpenId(String),
    Emails(Vec<String>, &'static str),
    Mobile(String),
    Nothing(String),
}

impl MemberSync {
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
    pub(super) async fn batch_lookup(
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
}
