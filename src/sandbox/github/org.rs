//! The organisation the sandbox's GraphQL endpoint serves: teams (with parents) and members.

/// A member's role in a team (GraphQL `TeamMemberRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamRole {
    Maintainer,
    Member,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Maintainer => "MAINTAINER",
            TeamRole::Member => "MEMBER",
        }
    }
}

/// One user of the organisation.
#[derive(Debug, Clone)]
pub struct UserSeed {
    pub login: String,
    pub name: Option<String>,
    /// The public profile email (GraphQL returns `""` when there is none).
    pub email: Option<String>,
    /// Emails on the organisation's verified domains (`organizationVerifiedDomainEmails`).
    pub verified_emails: Vec<String>,
}

/// One team; `members` are its immediate members.
#[derive(Debug, Clone)]
pub struct TeamSeed {
    pub slug: String,
    pub name: String,
    /// Slug of the parent team: its `ALL` membership includes this team's members.
    pub parent: Option<String>,
    pub members: Vec<(String, TeamRole)>,
}

/// The organisation as GraphQL shows it.
#[derive(Debug, Clone)]
pub struct OrgSeed {
    pub login: String,
    pub name: String,
    pub teams: Vec<TeamSeed>,
    pub users: Vec<UserSeed>,
}

impl OrgSeed {
    /// The demo's small organisation: a platform team, a web team below it, release managers.
    pub fn demo() -> Self {
        let people = [
            ("alice", "Alice Liu", Some("alice@example.com"), true),
            ("bob", "Bob Chen", None, true),
            ("carol", "Carol Wang", Some("carol@example.com"), false),
            ("dave", "Dave Zhao", None, false),
            ("erin", "Erin Sun", None, true),
            ("frank", "Frank Wu", Some("frank@example.com"), true),
        ];
        let users = people
            .iter()
            .map(|(login, name, email, verified)| UserSeed {
                login: (*login).to_owned(),
                name: Some((*name).to_owned()),
                email: email.map(str::to_owned),
                verified_emails: if *verified {
                    vec![format!("{login}@corp.example.com")]
                } else {
                    Vec::new()
                },
            })
            .collect();
        let team =
            |slug: &str, name: &str, parent: Option<&str>, members: &[(&str, TeamRole)]| TeamSeed {
                slug: slug.to_owned(),
                name: name.to_owned(),
                parent: parent.map(str::to_owned),
                members: members.iter().map(|(l, r)| ((*l).to_owned(), *r)).collect(),
            };
        OrgSeed {
            login: "example-org".to_owned(),
            name: "Example Org".to_owned(),
            teams: vec![
                team(
                    "platform",
                    "Platform",
                    None,
                    &[("alice", TeamRole::Maintainer), ("bob", TeamRole::Member)],
                ),
                team(
                    "web",
                    "Web",
                    Some("platform"),
                    &[
                        ("carol", TeamRole::Maintainer),
                        ("dave", TeamRole::Member),
                        ("erin", TeamRole::Member),
                    ],
                ),
                team(
                    "release-managers",
                    "Release managers",
                    None,
                    &[("alice", TeamRole::Member), ("frank", TeamRole::Maintainer)],
                ),
            ],
            users,
        }
    }

    /// A large generated organisation: `members` users `user0000`… spread over `teams` teams
    /// `team-0`… (user i is in team i % teams; every 10th user is also in the next team; the
    /// first user of each team is its maintainer). The last team is a child of the first, so
    /// `ALL` and `IMMEDIATE` differ for `team-0`. Emails by i % 4: 0 public only, 1 verified
    /// domain only, 2 both, 3 none (such users can only be matched through a mapping file).
    pub fn generated(login: &str, teams: usize, members: usize) -> Self {
        let teams = teams.max(1);
        let users: Vec<UserSeed> = (0..members)
            .map(|i| {
                let login = format!("user{i:04}");
                let public = matches!(i % 4, 0 | 2).then(|| format!("{login}@users.example.com"));
                let verified = if matches!(i % 4, 1 | 2) {
                    vec![format!("{login}@corp.example.com")]
                } else {
                    Vec::new()
                };
                UserSeed {
                    name: Some(format!("User {i:04}")),
                    email: public,
                    verified_emails: verified,
                    login,
                }
            })
            .collect();
        let mut team_seeds: Vec<TeamSeed> = (0..teams)
            .map(|t| TeamSeed {
                slug: format!("team-{t}"),
                name: format!("Team {t}"),
                parent: (teams >= 2 && t == teams - 1).then(|| "team-0".to_owned()),
                members: Vec::new(),
            })
            .collect();
        for (i, u) in users.iter().enumerate() {
            let t = i % teams;
            let role = if i < teams {
                TeamRole::Maintainer
            } else {
                TeamRole::Member
            };
            team_seeds[t].members.push((u.login.clone(), role));
            if i % 10 == 0 && teams > 1 {
                team_seeds[(t + 1) % teams]
                    .members
                    .push((u.login.clone(), TeamRole::Member));
            }
        }
        OrgSeed {
            login: login.to_owned(),
            name: login.to_owned(),
            teams: team_seeds,
            users,
        }
    }

    pub(crate) fn user(&self, login: &str) -> Option<&UserSeed> {
        self.users.iter().find(|u| u.login == login)
    }

    pub(crate) fn team(&self, slug: &str) -> Option<&TeamSeed> {
        self.teams.iter().find(|t| t.slug == slug)
    }

    /// A team's members for a `TeamMembershipType`: `IMMEDIATE`, `CHILD_TEAM` or `ALL`.
    pub(crate) fn members(&self, team: &TeamSeed, membership: &str) -> Vec<(String, TeamRole)> {
        let mut out: Vec<(String, TeamRole)> = Vec::new();
        let push = |list: &[(String, TeamRole)], out: &mut Vec<(String, TeamRole)>| {
            for (login, role) in list {
                if !out.iter().any(|(l, _)| l == login) {
                    out.push((login.clone(), *role));
                }
            }
        };
        if membership != "CHILD_TEAM" {
            push(&team.members, &mut out);
        }
        if membership != "IMMEDIATE" {
            for child in self.descendants(&team.slug) {
                push(&child.members, &mut out);
            }
        }
        out
    }

    fn descendants(&self, slug: &str) -> Vec<&TeamSeed> {
        let mut out = Vec::new();
        let mut frontier = vec![slug.to_owned()];
        while let Some(parent) = frontier.pop() {
            for t in self
                .teams
                .iter()
                .filter(|t| t.parent.as_deref() == Some(parent.as_str()))
            {
                // A cycle in a hand-written seed must not loop forever.
                if t.slug != slug && !out.iter().any(|o: &&TeamSeed| o.slug == t.slug) {
                    out.push(t);
                    frontier.push(t.slug.clone());
                }
            }
        }
        out
    }
}
