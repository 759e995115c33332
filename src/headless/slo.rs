//! `shipdeck slo APP --env E [--since D] [--watch]` (issue 17): canary against stable for the
//! error rate and p50/p90/p99, each with its threshold. Exit 1 when any is breached (for
//! scripts and the auto-rollback guard), 4 when Prometheus does not answer.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::slo::SloArgs;
use crate::services::prometheus::{PromError, SloReport, SloService, slo::shown};

/// How often `--watch` reads again.
const WATCH_EVERY: Duration = Duration::from_secs(10);

pub async fn run(ctx: &Ctx, args: SloArgs) -> Outcome {
    let inv = ctx.inventory()?;
    let app = inv.app(&args.app)?;
    inv.env(&args.env)?;
    let namespace = inv.namespace_of(&args.app, &args.env);
    let slo = app.slo();
    let service = SloService::from_inventory(&inv, ctx.timeout).map_err(|e| failure(&e, &args))?;
    #[allow(clippy::cast_precision_loss)]
    let back = args.since as f64;
    let read = || async {
        let since = unix_now() - back;
        service
            .read(&args.app, &args.env, &namespace, &slo, Some(since))
            .await
            .map_err(|e| failure(&e, &args))
    };
    if !args.watch {
        let report = read().await?;
        ctx.emit(&report, human);
        return verdict(&report);
    }
    loop {
        // A far end that stops answering is said once per read and the watch goes on.
        match read().await {
            Ok(report) => {
                if !ctx.emit_record(&report, human) {
                    // The reader has gone (`| head`): end quietly with the last verdict.
                    return verdict(&report);
                }
                if report.breached {
                    eprintln!(
                        "shipdeck: {}",
                        verdict(&report)
                            .err()
                            .map(|f| f.message)
                            .unwrap_or_default()
                    );
                }
            }
            Err(f) => eprintln!("shipdeck: {}", f.message),
        }
        tokio::select! {
            () = tokio::time::sleep(WATCH_EVERY) => {}
            _ = tokio::signal::ctrl_c() => {
                // As every command ended by ctrl-c: 130, nothing more to say.
                return Err(Failure::new(Exit::Interrupted, ""));
            }
        }
    }
}

/// Exit 1 naming the breaches, after the report.
fn verdict(r: &SloReport) -> Outcome {
    if r.breached {
        Err(Failure::new(
            Exit::Failed,
            format!(
                "SLO breached for {} in {}: {}",
                r.app,
                r.env,
                r.breaches().join("; ")
            ),
        )
        .after_output())
    } else {
        Ok(())
    }
}

/// Maps a service error to the exit codes, saying what was being done.
fn failure(e: &PromError, args: &SloArgs) -> Failure {
    let exit = if e.is_bad_input() {
        Exit::BadInput
    } else {
        Exit::Remote
    };
    if e.is_bad_input() {
        Failure::new(exit, e.to_string())
    } else {
        Failure::new(
            exit,
            format!("reading the SLO of {} in {}: {e}", args.app, args.env),
        )
    }
}

/// The table people read.
pub fn human(r: &SloReport) -> String {
    let mut out = format!(
        "{} {}: SLO canary vs stable ({} queries to {} in {} ms)\n",
        r.app, r.env, r.queries, r.endpoint, r.elapsed_ms
    );
    let _ = writeln!(
        out,
        "  {:<10}  {:>9}  {:<12}  {:>9}  {:<12}  {:>10}",
        "metric", "canary", "", "stable", "", "threshold"
    );
    for m in &r.metrics {
        let mark = |b: bool| if b { "✘" } else { " " };
        let threshold = m.threshold.map_or_else(
            || "-".to_owned(),
            |t| format!("< {}", shown(m.metric, Some(t))),
        );
        let _ = writeln!(
            out,
            "  {:<10}  {:>9}{} {:<12}  {:>9}{} {:<12}  {:>10}{}",
            m.metric.label(),
            shown(m.metric, m.canary.current),
            mark(m.canary.breached),
            sparkline(&m.canary.series),
            shown(m.metric, m.stable.current),
            mark(m.stable.breached),
            sparkline(&m.stable.series),
            threshold,
            if m.breached { "  breached" } else { "" },
        );
    }
    if r.breached {
        let _ = write!(out, "breached: {}", r.breaches().join("; "));
    } else {
        out.push_str("within the SLO");
    }
    out
}

/// The last 12 points of a series as block characters, scaled to its own range.
fn sparkline(points: &[crate::services::prometheus::Point]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail: Vec<f64> = points
        .iter()
        .rev()
        .take(12)
        .rev()
        .map(|p| p.v)
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = tail
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    tail.iter()
        .map(|v| {
            let at = if hi > lo {
                (v - lo) / (hi - lo) * 7.0
            } else {
                0.0
            };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            BARS[(at.round() as usize).min(7)]
        })
        .collect()
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
