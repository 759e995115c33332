//! The SLO block of the Rollout panel while a canary is in flight: per metric the canary's and
//! the stable's value now, a sparkline of each since the canary started (one scale for both, so
//! they compare at a glance), the threshold and a breach mark. Prometheus' word, marked stale
//! when the last read failed; the AnalysisRun's own verdict stays above it.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::State;
use crate::services::prometheus::slo::shown;
use crate::services::prometheus::{Point, SloMetric};

use super::style::dim;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The lines for `app` in `env`, `None` when nothing is there to show (no Prometheus, or no
/// canary on screen).
pub fn lines(state: &State, width: usize) -> Option<Vec<Line<'static>>> {
    let (app, env, _) = crate::app::update::slo_visible(state)?;
    if !state.slo.configured {
        return None;
    }
    if let Some(why) = &state.slo.unavailable {
        return Some(vec![Line::styled(format!("SLO: {why}"), dim())]);
    }
    let Some(entry) = state.slo.get(&app, &env) else {
        return Some(vec![Line::styled("SLO: asking Prometheus…", dim())]);
    };
    let Some(report) = &entry.report else {
        return Some(vec![match &entry.error {
            Some(e) => Line::styled(format!("SLO: {e}"), Style::default().fg(Color::Yellow)),
            None => Line::styled("SLO: asking Prometheus…", dim()),
        }]);
    };
    let now = std::time::Duration::from_millis(state.clock.now_ms).as_secs_f64();
    let age = (now - report.at).max(0.0);
    let mut head = vec![
        Span::styled(
            "SLO canary vs stable",
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("  Prometheus, {} ago", ago(age)), dim()),
    ];
    if report.breached {
        head.push(Span::styled(
            "  ✖ breached",
            Style::default().fg(Color::Red),
        ));
    }
    let mut out = vec![Line::from(head)];
    if let Some(e) = &entry.error {
        out.push(Line::styled(
            format!("stale: the last read failed: {e}"),
            Style::default().fg(Color::Yellow),
        ));
    }
    // label 10, two values 9 each, marks and the threshold ~14: the rest is sparkline.
    let spark = width.saturating_sub(10 + 2 * 10 + 16) / 2;
    let spark = spark.clamp(0, 40);
    for m in &report.metrics {
        out.push(if width < 44 {
            narrow_line(m)
        } else {
            metric_line(m, spark)
        });
    }
    Some(out)
}

fn metric_line(m: &SloMetric, spark: usize) -> Line<'static> {
    let (lo, hi) = range(&m.canary.series, &m.stable.series);
    let side = |v: Option<f64>, series: &[Point], breached: bool| {
        let value_style = if breached {
            Style::default().fg(Color::Red)
        } else {
            Style::default()
        };
        vec![
            Span::styled(format!("{:>9}", shown(m.metric, v)), value_style),
            Span::raw(" "),
            Span::styled(sparkline(series, spark, lo, hi), dim()),
            Span::styled(
                if breached { "✖" } else { " " }.to_owned(),
                Style::default().fg(Color::Red),
            ),
        ]
    };
    let mut spans = vec![Span::raw(format!("{:<10}", m.metric.label()))];
    spans.extend(side(m.canary.current, &m.canary.series, m.canary.breached));
    spans.push(Span::styled(" │", dim()));
    spans.extend(side(m.stable.current, &m.stable.series, m.stable.breached));
    if let Some(t) = m.threshold {
        spans.push(Span::styled(
            format!(" ≤ {}", shown(m.metric, Some(t))),
            dim(),
        ));
    }
    Line::from(spans)
}

/// A narrow panel: the values and the marks only (`errors  6.00 %✖   0.10 %`).
fn narrow_line(m: &SloMetric) -> Line<'static> {
    let label = match m.metric.label() {
        "error rate" => "errors",
        other => other,
    };
    let mark = |b: bool| if b { "✖" } else { " " };
    let red = Style::default().fg(Color::Red);
    Line::from(vec![
        Span::raw(format!("{label:<6}")),
        Span::raw(format!("{:>9}", shown(m.metric, m.canary.current))),
        Span::styled(mark(m.canary.breached), red),
        Span::raw(format!("{:>9}", shown(m.metric, m.stable.current))),
        Span::styled(mark(m.stable.breached), red),
    ])
}

/// One scale for both sides.
fn range(a: &[Point], b: &[Point]) -> (f64, f64) {
    let finite = a.iter().chain(b).map(|p| p.v).filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo.is_finite() {
        (lo.min(0.0), hi)
    } else {
        (0.0, 0.0)
    }
}

/// The last `width` points as bars (a gap where a value is not a number).
fn sparkline(series: &[Point], width: usize, lo: f64, hi: f64) -> String {
    if width == 0 {
        return String::new();
    }
    let tail = &series[series.len().saturating_sub(width)..];
    let mut s: String = tail
        .iter()
        .map(|p| {
            if !p.v.is_finite() {
                return ' ';
            }
            let frac = if hi > lo { (p.v - lo) / (hi - lo) } else { 0.0 };
            // The first bar whose upper edge the value reaches (no float-to-int cast).
            let level = (frac * 7.0).round();
            BARS.iter()
                .zip(0u8..)
                .find(|(_, i)| level <= f64::from(*i))
                .map_or(BARS[7], |(b, _)| *b)
        })
        .collect();
    while s.chars().count() < width {
        s.insert(0, ' ');
    }
    s
}

fn ago(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        format!("{:.0} min", secs / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[f64]) -> Vec<Point> {
        v.iter()
            .zip(0u32..)
            .map(|(v, i)| Point {
                t: f64::from(i),
                v: *v,
            })
            .collect()
    }

    #[test]
    fn both_sides_share_one_scale_and_gaps_stay_gaps() {
        let canary = pts(&[0.0, 0.05, 0.1]);
        let stable = pts(&[0.0, f64::NAN, 0.0]);
        let (lo, hi) = range(&canary, &stable);
        assert_eq!(sparkline(&canary, 3, lo, hi), "▁▅█");
        assert_eq!(sparkline(&stable, 4, lo, hi), " ▁ ▁");
        assert_eq!(sparkline(&[], 2, lo, hi), "  ");
    }
}
