//! `shipdeck changes APP --from ENV --to ENV` (issue 16): what `--to`'s tag would bring to
//! `--from` (the env promoted into), read from GitHub's compare API; the tags come from the
//! GitOps repo as `status` reads them. Text, JSON, or Markdown release notes.

use std::future::Future;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::OutputFormat;
use crate::cli::changes::ChangesArgs;
use crate::inventory::Inventory;
use crate::services::github::{GatesService, GithubError, GithubSettings, resolve_token};
use crate::services::gitops::{EnvTag, GitopsEngine};

pub async fn run(ctx: &Ctx, args: ChangesArgs) -> Outcome {
    let inv = ctx.inventory()?;
    inv.app(&args.app)?;
    let (from, to) = envs(&inv, &args)?;
    let cfg = inv.github.as_ref().ok_or_else(|| {
        Failure::bad_input(
            "the inventory has no `github:` section (owner, repo): the changes are read from \
             GitHub's compare API",
        )
    })?;
    let api_url = cfg
        .api_url
        .clone()
        .unwrap_or_else(|| "https://api.github.com".to_owned());
    let token = resolve_token(cfg.token_env.as_deref(), &api_url).await;
    let service = GithubSettings::from_config(cfg, token)
        .and_then(GatesService::new)
        .map_err(|e| failure(&e))?;
    // `--timeout` bounds the whole command: the git read, then GitHub.
    let deadline = ctx.timeout.map(|t| tokio::time::Instant::now() + t);
    let secs = ctx.timeout.map_or(0, |t| t.as_secs());
    let remote = crate::redact::url(&inv.gitops_url());
    let tags = within(deadline, env_tags(ctx, &inv), || {
        format!("the GitOps remote {remote} did not answer within {secs} s while fetching")
    })
    .await??;
    let from_tag = tag_of(&tags, &args.app, &from)?;
    let to_tag = tag_of(&tags, &args.app, &to)?;
    let asked = service.env_changes(&args.app, (&from, &from_tag), (&to, &to_tag));
    let report = within(deadline, asked, || {
        format!(
            "GitHub at {} did not answer within {secs} s while comparing {from} {from_tag}...{to} {to_tag}",
            crate::redact::url(&api_url)
        )
    })
    .await?
    .map_err(|e| failure(&e))?;
    let markdown = ctx.output == OutputFormat::Markdown;
    ctx.emit(&report, |r| {
        if markdown {
            r.markdown()
        } else {
            r.to_string()
        }
    });
    Ok(())
}

/// `--from` and `--to`, the missing one taken from the promote chain.
fn envs(inv: &Inventory, args: &ChangesArgs) -> Result<(String, String), Failure> {
    let (from, to) = match (&args.from, &args.to) {
        (Some(f), Some(t)) => (f.clone(), t.clone()),
        (Some(f), None) => {
            let source = inv.env(f)?.promote_from().ok_or_else(|| {
                Failure::bad_input(format!(
                    "`{f}` has no promote_from in the inventory: say which env's tag to compare with --to"
                ))
            })?;
            (f.clone(), source.to_owned())
        }
        (None, Some(t)) => {
            inv.env(t)?;
            let target = inv
                .environments
                .iter()
                .find(|(_, e)| e.promote_from() == Some(t.as_str()))
                .map(|(name, _)| name.clone())
                .ok_or_else(|| {
                    Failure::bad_input(format!(
                        "no environment promotes from `{t}`: say which env it goes to with --from"
                    ))
                })?;
            (target, t.clone())
        }
        (None, None) => return Err(Failure::bad_input("give --from ENV, --to ENV, or both")),
    };
    inv.env(&from)?;
    inv.env(&to)?;
    Ok((from, to))
}

/// Every app × env tag after one fetch: the GitOps engine's read, as `status` does it.
async fn env_tags(ctx: &Ctx, inv: &Inventory) -> Result<Vec<EnvTag>, Failure> {
    let (inv, paths) = (inv.clone(), ctx.paths.clone());
    tokio::task::spawn_blocking(move || GitopsEngine::open(&inv, &paths)?.snapshot())
        .await
        .map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
        .map_err(|e| super::gitops::failure(&e))
}

fn tag_of(tags: &[EnvTag], app: &str, env: &str) -> Result<String, Failure> {
    let row = tags.iter().find(|t| t.app == app && t.env == env);
    row.and_then(|t| t.tag.clone()).ok_or_else(|| {
        let why = row
            .and_then(|t| t.problem.clone())
            .unwrap_or_else(|| "no tag in the GitOps repo".to_owned());
        Failure::bad_input(format!("{app} {env} has no tag to compare: {why}"))
    })
}

/// `fut`, unless `deadline` passes first: then exit 4 with `late()`'s words.
async fn within<T>(
    deadline: Option<tokio::time::Instant>,
    fut: impl Future<Output = T>,
    late: impl FnOnce() -> String,
) -> Result<T, Failure> {
    match deadline {
        None => Ok(fut.await),
        Some(d) => tokio::time::timeout_at(d, fut)
            .await
            .map_err(|_| Failure::new(Exit::Remote, late())),
    }
}

/// A tag that names no commit is bad input (2); GitHub unreachable or answering an error is 4.
fn failure(e: &GithubError) -> Failure {
    match e {
        GithubError::TagNoCommit { .. } | GithubError::UnknownCommit { .. } => {
            Failure::bad_input(e.to_string())
        }
        _ => super::gates::failure(e),
    }
}
