//! `shipdeck gates APP --env E [--sha S | --tag T]` (issue 6): the gates of a commit against
//! the environment's required checks. Exit 0 when all passed, 5 (refused) when not.

use std::fmt::Write;
use std::time::Duration;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::gates::GatesArgs;
use crate::services::github::{
    GateReport, GatesService, GithubError, GithubSettings, resolve_token,
};

/// A rate limit that ends within this is waited out; a longer one is reported.
const MAX_RATE_WAIT: Duration = Duration::from_secs(60);

pub async fn run(ctx: &Ctx, args: GatesArgs) -> Outcome {
    let inv = ctx.inventory()?;
    inv.app(&args.app)?;
    let env = inv.env(&args.env)?;
    let cfg = inv
        .github
        .as_ref()
        .ok_or_else(|| Failure::bad_input(GithubError::NotConfigured.to_string()))?;
    let api_url = cfg.api_url.as_deref().unwrap_or("https://api.github.com");
    let token = resolve_token(cfg.token_env.as_deref(), api_url).await;
    let settings = GithubSettings::from_config(cfg, token).map_err(|e| failure(&e))?;
    let service = GatesService::new(settings).map_err(|e| failure(&e))?;
    let sha = match (&args.sha, &args.tag) {
        (Some(sha), _) => sha.clone(),
        (None, Some(tag)) => service.sha_for_tag(tag).map_err(|e| failure(&e))?,
        // The commit the env runs: the tag git says it runs.
        (None, None) => {
            let tag = git_tag(ctx, &inv, &args.app, &args.env).await?;
            service.sha_for_tag(&tag).map_err(|e| failure(&e))?
        }
    };
    let report = service
        .report_waiting(&sha, &env.required_checks, MAX_RATE_WAIT)
        .await
        .map_err(|e| failure(&e))?;
    ctx.emit(&report, |r| human(&args.app, &args.env, r));
    if report.all_passed {
        Ok(())
    } else {
        let failing: Vec<String> = report
            .failing()
            .map(|g| format!("{} {}", g.name, g.state.label()))
            .collect();
        Err(Failure::refused(format!(
            "gates of {} for {} not passed: {}",
            report.short_sha(),
            args.env,
            failing.join(", ")
        ))
        .after_output())
    }
}

/// Maps a service error to the headless exit codes.
pub fn failure(e: &GithubError) -> Failure {
    let exit = match e {
        GithubError::NotConfigured
        | GithubError::BadTag { .. }
        | GithubError::BadRegex { .. }
        | GithubError::BadUrl(_)
        | GithubError::BadToken => Exit::BadInput,
        _ => Exit::Remote,
    };
    Failure::new(exit, e.to_string())
}

/// The table people read.
pub fn human(app: &str, env: &str, r: &GateReport) -> String {
    let mut out = format!("{app} {env}: gates of {} ({})\n", r.short_sha(), r.sha);
    let width = r
        .gates
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(4);
    for g in &r.gates {
        let duration = g.duration_s.map(fmt_duration).unwrap_or_default();
        let detail = g
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {:<width$}  {:<8}{detail} {:>7}  {}",
            g.state.symbol(),
            g.name,
            g.state.label(),
            duration,
            g.url.as_deref().unwrap_or(""),
        );
    }
    if r.gates.is_empty() {
        out.push_str("  (no checks reported and none required)\n");
    }
    out.push_str(&r.summary);
    if let Some(until) = r.rate_limited_until {
        let _ = write!(
            out,
            "\nrate limited until {until}: gates as of {}",
            r.fetched_at
        );
    }
    out
}

/// `35s`, `4m05s`, `1h02m`.
pub fn fmt_duration(s: u64) -> String {
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The tag the GitOps repo says `app` runs in `env`.
async fn git_tag(
    ctx: &Ctx,
    inv: &crate::inventory::Inventory,
    app: &str,
    env: &str,
) -> Result<String, Failure> {
    let (inv, paths) = (inv.clone(), ctx.paths.clone());
    let tags = tokio::task::spawn_blocking(move || {
        crate::services::gitops::GitopsEngine::open(&inv, &paths)?.snapshot()
    })
    .await
    .map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
    .map_err(|e| crate::headless::gitops::failure(&e))?;
    tags.into_iter()
        .find(|t| t.app == app && t.env == env)
        .and_then(|t| t.tag)
        .ok_or_else(|| {
            Failure::bad_input(format!(
                "no tag for {app} in {env} in the GitOps repo; pass --sha or --tag"
            ))
        })
}
