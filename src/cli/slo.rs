//! Arguments of `shipdeck slo` (issue 17).

use clap::Args;

/// Exit status of `shipdeck slo`, shown in its `--help`.
pub const SLO_EXIT: &str = "\
Exit status: 0 when canary and stable are within every threshold, 1 when any is breached,
2 for bad input (unknown app/env, no `prometheus:` in the inventory, a token_env that is not
set), 4 when Prometheus cannot be reached or does not answer in time. With --watch it reads
every 10 s until interrupted (130), saying each breach and each failed read on stderr.";

#[derive(Debug, Args)]
#[command(after_help = SLO_EXIT)]
pub struct SloArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment whose canary and stable pods to read.
    #[arg(long)]
    pub env: String,
    /// Series since this long ago (e.g. 30m, 2h, 90s), shown as a sparkline.
    #[arg(long, default_value = "30m", value_parser = parse_since)]
    pub since: u64,
    /// Read again every 10 s until interrupted (JSON: one document per line).
    #[arg(long)]
    pub watch: bool,
}

/// `90s`, `30m`, `2h`, `1d` or plain seconds.
fn parse_since(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 30m"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: use s, m, h or d")),
    };
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!(
            "`{s}` must be more than zero and less than forever"
        )),
        Some(v) => Ok(v),
    }
}
