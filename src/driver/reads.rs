//! Effects that only read: git snapshots, tags, history, gates, secrets, tmp and Feishu plans.
//! Each answer comes back as an Action; nothing here changes anything outside.

use super::Runner;
use crate::app::Action;
use crate::app::state::{CandidateGates, TmpRow};
use crate::services::TaskCtl;
use crate::services::gitops::GitopsEngine;

impl Runner {
    pub(super) fn fetch_gates(&self, env: String, tag: String, required: Vec<String>) {
        let Some(svc) = self.services.gates.clone() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = svc
                .report_for_tag(&tag, &required)
                .await
                .map_err(|e| e.to_string());
            let _ = tx.send(Action::GatesLoaded { env, tag, result });
        });
    }

    /// The fleet's gates: each tag against its env's required checks, one batched GitHub
    /// query per 50 commits and env (settled commits come from the service's cache).
    pub(super) fn fleet_gates(&self, wanted: Vec<(String, String)>) {
        let Some(svc) = self.services.gates.clone() else {
            return;
        };
        let inv = self.services.inventory.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut by_env: std::collections::BTreeMap<String, Vec<String>> =
                std::collections::BTreeMap::new();
            for (tag, env) in wanted {
                by_env.entry(env).or_default().push(tag);
            }
            for (env, tags) in by_env {
                let required = inv
                    .environments
                    .get(&env)
                    .map(|e| e.required_checks.clone())
                    .unwrap_or_default();
                let results = svc
                    .reports_for_tags(&tags, &required)
                    .await
                    .into_iter()
                    .map(|(tag, r)| ((tag, env.clone()), r.map_err(|e| e.to_string())))
                    .collect();
                // Each env's answers as they come: the first column fills before the last.
                if tx.send(Action::FleetGates(results)).is_err() {
                    return;
                }
            }
        });
    }

    /// What `head` (env, tag) brings to `base`, every line of it (the view filters and the
    /// dialogs take the first few).
    pub(super) fn load_changes(&self, app: String, base: (String, String), head: (String, String)) {
        let Some(svc) = self.services.gates.clone() else {
            return;
        };
        let care = self
            .services
            .inventory
            .github
            .as_ref()
            .map(crate::inventory::GithubConfig::care_labels)
            .unwrap_or_default();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let changes = svc
                .env_changes(
                    app.as_str(),
                    (base.0.as_str(), base.1.as_str()),
                    (head.0.as_str(), head.1.as_str()),
                )
                .await;
            let care: Vec<&str> = care.iter().map(String::as_str).collect();
            let result = changes
                .map(|c| c.summary(usize::MAX, &care))
                .map_err(|e| e.to_string());
            let _ = tx.send(Action::ChangesLoaded {
                base_tag: base.1,
                head_tag: head.1,
                result,
            });
        });
    }

    /// The SLO of `app` in `env`, canary vs stable, from Prometheus.
    pub(super) fn read_slo(&self, app: String, env: String, since: Option<f64>, seq: u64) {
        let (Some(svc), inv, tx) = (
            self.services.slo.clone(),
            self.services.inventory.clone(),
            self.tx.clone(),
        ) else {
            return;
        };
        tokio::spawn(async move {
            let target = inv
                .environments
                .get(&env)
                .map(|_| inv.namespace_of(&app, &env))
                .zip(inv.apps.get(&app).map(crate::inventory::App::slo));
            let result = match target {
                Some((namespace, slo)) => svc
                    .read(&app, &env, &namespace, &slo, since)
                    .await
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "no app `{app}` or environment `{env}` in the inventory"
                )),
            };
            let _ = tx.send(Action::SloLoaded {
                app,
                env,
                seq,
                result,
            });
        });
    }

    pub(super) fn fetch_candidate_gates(&self, env: String, tag: String) {
        let (Some(svc), inv, tx) = (
            self.services.gates.clone(),
            self.services.inventory.clone(),
            self.tx.clone(),
        ) else {
            return;
        };
        tokio::spawn(async move {
            let required = inv
                .environments
                .get(&env)
                .map(|e| e.required_checks.clone())
                .unwrap_or_default();
            let result = match svc.sha_for_tag(&tag) {
                Ok(sha) => svc.fresh_report(&sha, &required).await,
                Err(e) => Err(e),
            }
            .map_err(|e| e.to_string());
            let _ = tx.send(Action::CandidateGates(CandidateGates { env, tag, result }));
        });
    }

    fn git(&self) -> Result<crate::ops::gitops::GitopsHandle, String> {
        self.services
            .ops
            .gitops()
            .cloned()
            .map_err(|e| e.to_string())
    }

    pub(super) fn refresh_git(&self) {
        let (git, tx) = (self.git(), self.tx.clone());
        tokio::spawn(async move {
            let (result, tip) = match git {
                Ok(g) => {
                    let read = g
                        .with(|e| Ok((e.snapshot()?, e.fetched_tip())))
                        .await
                        .map_err(|e| e.to_string());
                    match read {
                        Ok((tags, tip)) => (Ok(tags), tip),
                        Err(e) => (Err(e), None),
                    }
                }
                Err(e) => (Err(e), None),
            };
            let _ = tx.send(Action::GitSnapshot(result));
            if let Some(tip) = tip {
                let _ = tx.send(Action::GitFetched(tip));
            }
        });
    }

    pub(super) fn check_git_ref(&self) {
        let (git, tx) = (self.git(), self.tx.clone());
        tokio::spawn(async move {
            let result = match git {
                Ok(g) => g
                    .with(GitopsEngine::remote_tip)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            let _ = tx.send(Action::GitRef(result));
        });
    }

    pub(super) fn load_known_tags(&self, app: String) {
        let (git, tx) = (self.git(), self.tx.clone());
        tokio::spawn(async move {
            let a = app.clone();
            let result = match git {
                Ok(g) => g
                    .with(move |e| e.known_tags(&a))
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            let _ = tx.send(Action::KnownTags { app, result });
        });
    }

    pub(super) fn load_history(&self, app: String, env: String) {
        let (git, tx) = (self.git(), self.tx.clone());
        tokio::spawn(async move {
            let (a, e) = (app.clone(), env.clone());
            let result = match git {
                Ok(g) => g
                    .with(move |g| g.history(&a, &e))
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            let _ = tx.send(Action::History { app, env, result });
        });
    }

    pub(super) fn load_secrets(&self) {
        let (ops, inv, tx) = (
            self.services.ops.clone(),
            self.services.inventory.clone(),
            self.tx.clone(),
        );
        tokio::spawn(async move {
            let result = tokio::task::spawn_blocking(move || {
                let Some(cfg) = &inv.secrets else {
                    return Err("no `secrets:` section in the inventory".to_owned());
                };
                let roots: Vec<std::path::PathBuf> =
                    cfg.paths.iter().map(|p| inv.resolve(p)).collect();
                let ids = crate::ops::secrets::identities(&ops).map_err(|e| e.to_string())?;
                let files = crate::services::secrets::ops::discover(&roots);
                Ok(crate::services::secrets::ops::list(
                    &files,
                    &ids,
                    cfg.rotation_days,
                    jiff::Timestamp::now(),
                ))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            let _ = tx.send(Action::SecretsLoaded(result));
        });
    }

    pub(super) fn plan_tmp(&self) {
        let (inv, tx, slot) = (
            self.services.inventory.clone(),
            self.tx.clone(),
            self.tmp_plan.clone(),
        );
        tokio::spawn(async move {
            let planned = tokio::task::spawn_blocking(move || {
                let cfg = inv
                    .tmp
                    .as_ref()
                    .ok_or(crate::services::tmpclean::TmpError::NotConfigured)?;
                crate::services::tmpclean::plan(
                    cfg,
                    inv.base_dir(),
                    &crate::services::tmpclean::PlanOptions::default(),
                    &TaskCtl::detached(),
                )
            })
            .await;
            let result = match planned {
                Ok(Ok(plan)) => {
                    let view = TmpRow::of_plan(&plan);
                    *slot
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(plan);
                    Ok(view)
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(Action::TmpPlanned(result));
        });
    }

    pub(super) fn plan_feishu(&self) {
        let (inv, tx, slot) = (
            self.services.inventory.clone(),
            self.tx.clone(),
            self.feishu_plan.clone(),
        );
        tokio::spawn(async move {
            let result = match member_sync(&inv).await {
                Err(e) => Err(e),
                Ok(sync) => match sync.plan(&TaskCtl::detached()).await {
                    Err(e) => Err(e.to_string()),
                    Ok(plan) => {
                        let lines = crate::ops::feishu::plan_text(&plan)
                            .lines()
                            .map(str::to_owned)
                            .collect();
                        let writes = plan.writes();
                        *slot
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) =
                            Some((sync, plan));
                        Ok((lines, writes))
                    }
                },
            };
            let _ = tx.send(Action::FeishuPlanned(result));
        });
    }
}

async fn member_sync(
    inv: &crate::inventory::Inventory,
) -> Result<crate::services::feishu::MemberSync, String> {
    let cfg = inv
        .feishu
        .as_ref()
        .ok_or("no `feishu:` section in the inventory")?;
    let creds = crate::services::feishu::Credentials::from_env(cfg, inv.base_dir())
        .map_err(|e| e.to_string())?;
    crate::services::feishu::MemberSync::from_config(
        cfg,
        inv.github.as_ref(),
        inv.base_dir(),
        &creds,
    )
    .await
    .map_err(|e| e.to_string())
}
