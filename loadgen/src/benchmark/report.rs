//! The benchmark's results: the DOC line, the end-of-run summary on stdout, and with
//! `--report DIR` summary.json and report.html (self-contained: inline CSS and SVG).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::config::Config;
use super::metrics::{BenchMetrics, ScenarioStats};
use super::profile::{Profile, ScenarioType, StepOutcome, Verdict};

/// summary.json.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The DOC line (the first line of the summary and of the HTML report).
    pub headline: String,
    /// The DOC in SAPS (`None`: even the first step exceeded the IHS limit, or none
    /// was evaluated).
    pub doc_saps: Option<f64>,
    /// The step (from 1) whose SAPS is the DOC.
    pub doc_step: Option<usize>,
    /// The first step (from 1) over the IHS limit, if one was.
    pub failed_step: Option<usize>,
    /// The IHS limit, percent.
    pub ihs_limit_percent: f64,
    /// How the run ended.
    pub ending: &'static str,
    /// The target as given.
    pub target: String,
    /// The subscriber population.
    pub users: usize,
    /// Worker threads.
    pub workers: usize,
    /// The seed, when given.
    pub seed: Option<u64>,
    /// The profile asked for.
    pub profile: Profile,
    /// The traffic set: weight per scenario type.
    pub traffic: BTreeMap<&'static str, f64>,
    /// Threshold per scenario type, milliseconds.
    pub thresholds_ms: BTreeMap<&'static str, f64>,
    /// The preamble.
    pub preamble: Preamble,
    /// Each step that started.
    pub steps: Vec<Step>,
    /// The final de-registration.
    pub final_deregistration: FinalDeregistration,
    /// MESSAGEs the users received (each message attempt's other end).
    pub messages_received: u64,
    /// Retransmissions by the engines.
    pub retransmissions: u64,
    /// Client transactions the engines timed out.
    pub engine_timeouts: u64,
    /// Wall time, seconds.
    pub elapsed_s: f64,
}

/// The preamble in summary.json.
#[derive(Debug, Serialize)]
pub struct Preamble {
    /// Users it registers.
    pub users: usize,
    /// Registered.
    pub registered: u64,
    /// Failed.
    pub failed: u64,
    /// Seconds it took.
    pub duration_s: f64,
}

/// The final de-registration in summary.json.
#[derive(Debug, Serialize)]
pub struct FinalDeregistration {
    /// De-registered.
    pub deregistered: u64,
    /// Failed.
    pub failed: u64,
    /// Still registered when the run ended (0 after a clean end).
    pub left_registered: usize,
}

/// One step in summary.json.
#[derive(Debug, Serialize)]
pub struct Step {
    /// From 1.
    pub step: usize,
    /// SAPS asked.
    pub saps: f64,
    /// Attempts per second started over the step's real duration.
    pub achieved_saps: f64,
    /// Seconds since the run started when it began.
    pub began_s: f64,
    /// Seconds it ran.
    pub duration_s: f64,
    /// Ran its whole duration.
    pub completed: bool,
    /// The stopping rule looked at it.
    pub evaluated: bool,
    /// Within the IHS limit (when evaluated).
    pub passed: Option<bool>,
    /// Scenario attempts started.
    pub attempts: u64,
    /// Of those, inadequately handled.
    pub inadequate: u64,
    /// IHS %.
    pub ihs_percent: f64,
    /// Arrivals that found no user in the state their scenario needs (not attempted).
    pub skipped: u64,
    /// Per scenario type (those with a weight).
    pub scenarios: BTreeMap<&'static str, ScenarioSummary>,
}

/// One scenario type within a step.
#[derive(Debug, Serialize)]
pub struct ScenarioSummary {
    /// Attempts started.
    pub attempts: u64,
    /// SAPS of this type: attempts over the step's real duration.
    pub saps: f64,
    /// Ended with a 2xx.
    pub succeeded: u64,
    /// Ended otherwise.
    pub failed: u64,
    /// Of the failures: no final response.
    pub timeouts: u64,
    /// Succeeded later than the threshold.
    pub over_threshold: u64,
    /// Inadequately handled.
    pub inadequate: u64,
    /// IHS % of this type.
    pub ihs_percent: f64,
    /// Not attempted: no user in the needed state.
    pub skipped: u64,
    /// The threshold, milliseconds.
    pub threshold_ms: f64,
    /// Final responses by code.
    pub by_code: BTreeMap<String, u64>,
    /// Latency of the successful attempts, milliseconds.
    pub latency_ms: crate::report::Latency,
}

/// A step as the controller saw it.
#[derive(Debug, Clone, Copy)]
pub struct StepRun {
    /// Seconds since the start when it began.
    pub began_s: f64,
    /// Seconds it ran.
    pub duration_s: f64,
    /// Ran its whole duration.
    pub completed: bool,
    /// Looked at by the stopping rule.
    pub evaluated: bool,
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn percent(part: u64, whole: u64) -> f64 {
    StepOutcome {
        saps: 0.0,
        attempts: whole,
        inadequate: part,
    }
    .ihs_percent()
}

fn scenario_summary(
    stats: &ScenarioStats,
    duration_s: f64,
    config: &Config,
    scenario: ScenarioType,
) -> ScenarioSummary {
    ScenarioSummary {
        attempts: stats.attempts,
        saps: if duration_s > 0.0 {
            round(stats.attempts as f64 / duration_s)
        } else {
            0.0
        },
        succeeded: stats.succeeded,
        failed: stats.failed,
        timeouts: stats.timeouts,
        over_threshold: stats.over_threshold,
        inadequate: stats.inadequate,
        ihs_percent: round(percent(stats.inadequate, stats.attempts)),
        skipped: stats.skipped,
        threshold_ms: config.threshold(scenario).as_secs_f64() * 1000.0,
        by_code: stats
            .by_code
            .iter()
            .map(|(code, count)| (code.to_string(), *count))
            .collect(),
        latency_ms: crate::report::Latency {
            p50: stats.quantile_ms(0.5),
            p90: stats.quantile_ms(0.9),
            p99: stats.quantile_ms(0.99),
            p99_9: stats.quantile_ms(0.999),
            max: if stats.latency.is_empty() {
                0.0
            } else {
                stats.latency.max() as f64 / 1000.0
            },
            mean: round(stats.latency.mean() / 1000.0),
        },
    }
}

/// The DOC line.
pub fn headline(verdict: &Verdict, steps: &[StepOutcome], planned: usize, limit: f64) -> String {
    let failed = verdict.failed.and_then(|i| steps.get(i).map(|s| (i, s)));
    match (verdict.doc, failed) {
        (Some((i, saps)), None) => format!(
            "DOC: {} SAPS (step {} of {planned}; IHS {:.2} % <= {limit:.2} %; no step exceeded the limit{})",
            short(saps),
            i + 1,
            steps.get(i).map_or(0.0, StepOutcome::ihs_percent),
            if i + 1 == planned {
                ": the capacity may be higher, raise --max-steps"
            } else {
                ""
            }
        ),
        (Some((i, saps)), Some((f, over))) => format!(
            "DOC: {} SAPS (step {} of {planned}; IHS {:.2} % <= {limit:.2} %; step {} at {} SAPS exceeded it with IHS {:.2} %)",
            short(saps),
            i + 1,
            steps.get(i).map_or(0.0, StepOutcome::ihs_percent),
            f + 1,
            short(over.saps),
            over.ihs_percent()
        ),
        (None, Some((_, first))) => format!(
            "DOC: none: even the first step ({} SAPS) exceeded the IHS limit (IHS {:.2} % > {limit:.2} %)",
            short(first.saps),
            first.ihs_percent()
        ),
        (None, None) => "DOC: none: no step was evaluated (the run stopped first)".to_owned(),
    }
}

fn short(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// Builds the summary of a finished benchmark.
#[allow(clippy::too_many_arguments)]
pub fn summary(
    config: &Config,
    metrics: &BenchMetrics,
    runs: &[StepRun],
    preamble_users: usize,
    preamble_s: f64,
    left_registered: usize,
    ending: &'static str,
    elapsed_s: f64,
) -> Summary {
    let evaluated: Vec<StepOutcome> = runs
        .iter()
        .enumerate()
        .take_while(|(_, run)| run.evaluated)
        .map(|(i, _)| metrics.outcome(i, config.profile.saps(i)))
        .collect();
    let verdict = Verdict::of(&evaluated, config.ihs_limit);
    let steps = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let outcome = metrics.outcome(i, config.profile.saps(i));
            let empty: [ScenarioStats; 4] = Default::default();
            let stats = metrics.steps.get(i).unwrap_or(&empty);
            Step {
                step: i + 1,
                saps: outcome.saps,
                achieved_saps: if run.duration_s > 0.0 {
                    round(outcome.attempts as f64 / run.duration_s)
                } else {
                    0.0
                },
                began_s: round(run.began_s),
                duration_s: round(run.duration_s),
                completed: run.completed,
                evaluated: run.evaluated,
                passed: run.evaluated.then(|| outcome.passes(config.ihs_limit)),
                attempts: outcome.attempts,
                inadequate: outcome.inadequate,
                ihs_percent: round(outcome.ihs_percent()),
                skipped: stats.iter().map(|s| s.skipped).sum(),
                scenarios: ScenarioType::ALL
                    .into_iter()
                    .filter(|s| config.weights.0[s.index()] > 0.0)
                    .map(|s| {
                        (
                            s.name(),
                            scenario_summary(&stats[s.index()], run.duration_s, config, s),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    Summary {
        headline: headline(
            &verdict,
            &evaluated,
            config.profile.max_steps,
            config.ihs_limit,
        ),
        doc_saps: verdict.doc.map(|(_, saps)| saps),
        doc_step: verdict.doc.map(|(i, _)| i + 1),
        failed_step: verdict.failed.map(|i| i + 1),
        ihs_limit_percent: config.ihs_limit,
        ending,
        target: config.target_text.clone(),
        users: config.users.len(),
        workers: config.workers,
        seed: config.seed,
        profile: config.profile,
        traffic: ScenarioType::ALL
            .into_iter()
            .map(|s| (s.name(), config.weights.0[s.index()]))
            .collect(),
        thresholds_ms: ScenarioType::ALL
            .into_iter()
            .map(|s| (s.name(), config.threshold(s).as_secs_f64() * 1000.0))
            .collect(),
        preamble: Preamble {
            users: preamble_users,
            registered: metrics.preamble_registered,
            failed: metrics.preamble_failed,
            duration_s: round(preamble_s),
        },
        steps,
        final_deregistration: FinalDeregistration {
            deregistered: metrics.final_deregistered,
            failed: metrics.final_failed,
            left_registered,
        },
        messages_received: metrics.messages_received,
        retransmissions: metrics.retransmissions,
        engine_timeouts: metrics.engine_timeouts,
        elapsed_s: round(elapsed_s),
    }
}

/// The progress line of one evaluated step.
pub fn step_line(step: &Step, planned: usize, limit: f64) -> String {
    let mut line = format!(
        "step {}/{planned}: {} SAPS asked, {:.1} achieved, {} attempts, {} inadequate, IHS {:.2} % {} {limit:.2} %",
        step.step,
        short(step.saps),
        step.achieved_saps,
        step.attempts,
        step.inadequate,
        step.ihs_percent,
        if step.passed == Some(false) {
            ">"
        } else {
            "<="
        },
    );
    for (name, s) in &step.scenarios {
        let _ = write!(
            line,
            " | {name} {} p99 {:.1} ms",
            s.attempts, s.latency_ms.p99
        );
    }
    if step.skipped > 0 {
        let _ = write!(
            line,
            " | {} skipped (no user in the needed state)",
            step.skipped
        );
    }
    line
}

/// The end-of-run summary: the DOC line first, then one row per step and scenario type.
pub fn table(summary: &Summary) -> String {
    let mut out = format!("{}\n", summary.headline);
    let _ = writeln!(
        out,
        "imsload benchmark: {} users ({} registered by the preamble, {} failed), {} workers, to {}, {:.1} s, {}",
        summary.users,
        summary.preamble.registered,
        summary.preamble.failed,
        summary.workers,
        summary.target,
        summary.elapsed_s,
        summary.ending
    );
    let _ = writeln!(
        out,
        "{:<5} {:<12} {:>8} {:>9} {:>8} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>9}  result",
        "step",
        "scenario",
        "SAPS",
        "achieved",
        "attempts",
        "failed",
        "over",
        "IHS %",
        "thr ms",
        "p50 ms",
        "p99 ms",
        "max ms",
    );
    for step in &summary.steps {
        let result = match (step.evaluated, step.passed, step.completed) {
            (true, Some(true), _) => "within the limit",
            (true, _, _) => "OVER THE LIMIT",
            (false, _, false) => "cut short, not evaluated",
            (false, _, true) => "not evaluated",
        };
        let _ = writeln!(
            out,
            "{:<5} {:<12} {:>8} {:>9.1} {:>8} {:>7} {:>7} {:>8.2} {:>8} {:>9} {:>9} {:>9}  {result}",
            step.step,
            "all",
            short(step.saps),
            step.achieved_saps,
            step.attempts,
            step.scenarios.values().map(|s| s.failed).sum::<u64>(),
            step.scenarios
                .values()
                .map(|s| s.over_threshold)
                .sum::<u64>(),
            step.ihs_percent,
            "",
            "",
            "",
            "",
        );
        for (name, s) in &step.scenarios {
            let _ = writeln!(
                out,
                "{:<5} {:<12} {:>8} {:>9.1} {:>8} {:>7} {:>7} {:>8.2} {:>8.0} {:>9.2} {:>9.2} {:>9.2}",
                "",
                name,
                "",
                s.saps,
                s.attempts,
                s.failed,
                s.over_threshold,
                s.ihs_percent,
                s.threshold_ms,
                s.latency_ms.p50,
                s.latency_ms.p99,
                s.latency_ms.max
            );
        }
    }
    let _ = writeln!(
        out,
        "end: {} de-registered, {} failed, {} left registered; {} messages received; retransmissions {}, engine timeouts {}",
        summary.final_deregistration.deregistered,
        summary.final_deregistration.failed,
        summary.final_deregistration.left_registered,
        summary.messages_received,
        summary.retransmissions,
        summary.engine_timeouts
    );
    out
}

/// Writes summary.json and report.html into `dir` (created if missing).
pub fn write(dir: &Path, summary: &Summary) -> anyhow::Result<()> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(summary).context("encoding summary.json")?;
    let path = dir.join("summary.json");
    std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    let path = dir.join("report.html");
    std::fs::write(&path, html(summary)).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLORS: [&str; 4] = ["#1f77b4", "#2ca02c", "#9467bd", "#d62728"];

/// A chart over the steps: one polyline (with dots) per series; an optional dashed
/// horizontal line (the IHS limit).
fn step_chart(
    title: &str,
    y_label: &str,
    steps: usize,
    series: &[(&str, &str, Vec<f64>)],
    limit: Option<f64>,
) -> String {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 280.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 150.0;
    const TOP: f64 = 30.0;
    const BOTTOM: f64 = 40.0;
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y_max = series
        .iter()
        .flat_map(|(_, _, values)| values.iter().copied())
        .chain(limit)
        .fold(0.0f64, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.15 } else { 1.0 };
    let n = steps.max(1) as f64;
    let sx = |i: usize| LEFT + (i as f64 + 0.5) / n * plot_width;
    let sy = |y: f64| TOP + plot_height - y / y_max * plot_height;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">\n\
         <text x=\"{LEFT}\" y=\"18\" class=\"title\">{}</text>\n\
         <rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_width}\" height=\"{plot_height}\" class=\"plot\"/>\n",
        escape(title)
    );
    for i in 0..=4 {
        let y = y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{at:.1}\" y2=\"{at:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            LEFT + plot_width,
            LEFT - 6.0,
            sy(y) + 4.0,
            if y >= 10.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.2}")
            },
            at = sy(y),
        );
    }
    for i in 0..steps {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            sx(i),
            TOP + plot_height + 16.0,
            i + 1
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">step</text>\
         <text x=\"14\" y=\"{mid:.1}\" class=\"label\" text-anchor=\"middle\" transform=\"rotate(-90 14 {mid:.1})\">{}</text>",
        LEFT + plot_width / 2.0,
        HEIGHT - 6.0,
        escape(y_label),
        mid = TOP + plot_height / 2.0,
    );
    if let Some(limit) = limit {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d62728\" stroke-dasharray=\"5,4\"/><text x=\"{}\" y=\"{:.1}\" class=\"tick\">limit {limit} %</text>",
            LEFT + plot_width,
            WIDTH - RIGHT + 14.0,
            sy(limit) + 4.0,
            y = sy(limit),
        );
    }
    for (n, (name, color, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", sx(i), sy(*v)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\"/>",
            points.join(" ")
        );
        for (i, v) in values.iter().enumerate() {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                sx(i),
                sy(*v)
            );
        }
        let legend_y = TOP + 14.0 + 18.0 * n as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{legend_y:.1}\" class=\"tick\">{}</text>",
            WIDTH - RIGHT + 14.0,
            legend_y - 4.0,
            WIDTH - RIGHT + 32.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// report.html: the DOC line first, the settings, a table per step and scenario type,
/// and charts of SAPS, IHS % and p99 latency per step.
pub fn html(summary: &Summary) -> String {
    let mut page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n<style>\
         body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}}th:first-child,td:first-child,td.l{{text-align:left}}\
         tr.step td{{font-weight:bold;border-top:2px solid #bbb}}.over{{color:#b00}}\
         .title{{font-size:14px;font-weight:bold}}.tick{{font-size:11px;fill:#444}}.label{{font-size:12px;fill:#222}}\
         .plot{{fill:#fafafa;stroke:#999}}.grid{{stroke:#e4e4e4}}svg{{display:block;margin:1.5em 0}}\
         </style></head><body>\n<h1>{}</h1>\n",
        escape(&summary.headline),
        escape(&summary.headline)
    );
    let traffic: Vec<String> = summary
        .traffic
        .iter()
        .filter(|(_, w)| **w > 0.0)
        .map(|(name, w)| format!("{name} {w}"))
        .collect();
    let thresholds: Vec<String> = summary
        .thresholds_ms
        .iter()
        .map(|(name, ms)| format!("{name} {ms} ms"))
        .collect();
    let _ = writeln!(
        page,
        "<p>imsload benchmark (ETSI TS 186 008 method) against {}: {} users, {} registered by the preamble ({} failed), {} workers; \
         steps of {:.1} s from {} SAPS, +{} per step, at most {}; IHS limit {} %; traffic set: {}; thresholds: {}; \
         ending: {}, {:.1} s; {} de-registered at the end, {} left registered.</p>",
        escape(&summary.target),
        summary.users,
        summary.preamble.registered,
        summary.preamble.failed,
        summary.workers,
        summary.profile.step_duration.as_secs_f64(),
        short(summary.profile.base_saps),
        short(summary.profile.step_saps),
        summary.profile.max_steps,
        summary.ihs_limit_percent,
        escape(&traffic.join(", ")),
        escape(&thresholds.join(", ")),
        summary.ending,
        summary.elapsed_s,
        summary.final_deregistration.deregistered,
        summary.final_deregistration.left_registered,
    );
    page.push_str(
        "<table><tr><th>step</th><th>scenario</th><th>SAPS asked</th><th>achieved</th><th>attempts</th><th>failed</th>\
         <th>over threshold</th><th>inadequate</th><th>IHS %</th><th>threshold ms</th><th>p50 ms</th><th>p90 ms</th>\
         <th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>codes</th></tr>\n",
    );
    for step in &summary.steps {
        let result = match (step.evaluated, step.passed) {
            (true, Some(true)) => "within the limit",
            (true, _) => "over the limit",
            _ => "not evaluated",
        };
        let _ = writeln!(
            page,
            "<tr class=\"step\"><td>{}</td><td class=\"l\">all ({result})</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{:.2}</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>",
            step.step,
            short(step.saps),
            step.achieved_saps,
            step.attempts,
            step.scenarios.values().map(|s| s.failed).sum::<u64>(),
            step.scenarios
                .values()
                .map(|s| s.over_threshold)
                .sum::<u64>(),
            step.inadequate,
            if step.passed == Some(false) {
                " class=\"over\""
            } else {
                ""
            },
            step.ihs_percent,
        );
        for (name, s) in &step.scenarios {
            let codes: Vec<String> = s.by_code.iter().map(|(c, n)| format!("{c}: {n}")).collect();
            let _ = writeln!(
                page,
                "<tr><td></td><td class=\"l\">{name}</td><td></td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.0}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td class=\"l\">{}</td></tr>",
                s.saps,
                s.attempts,
                s.failed,
                s.over_threshold,
                s.inadequate,
                s.ihs_percent,
                s.threshold_ms,
                s.latency_ms.p50,
                s.latency_ms.p90,
                s.latency_ms.p99,
                s.latency_ms.p99_9,
                s.latency_ms.max,
                escape(&codes.join(", ")),
            );
        }
    }
    page.push_str("</table>\n");
    let steps = summary.steps.len();
    page.push_str(&step_chart(
        "SAPS per step",
        "scenario attempts / s",
        steps,
        &[
            (
                "asked",
                COLORS[0],
                summary.steps.iter().map(|s| s.saps).collect(),
            ),
            (
                "achieved",
                COLORS[1],
                summary.steps.iter().map(|s| s.achieved_saps).collect(),
            ),
        ],
        None,
    ));
    page.push_str(&step_chart(
        "IHS % per step",
        "IHS %",
        steps,
        &[(
            "IHS %",
            COLORS[3],
            summary.steps.iter().map(|s| s.ihs_percent).collect(),
        )],
        Some(summary.ihs_limit_percent),
    ));
    let latency: Vec<(&str, &str, Vec<f64>)> = ScenarioType::ALL
        .into_iter()
        .zip(COLORS)
        .filter(|(s, _)| {
            summary
                .steps
                .iter()
                .any(|step| step.scenarios.contains_key(s.name()))
        })
        .map(|(s, color)| {
            (
                s.name(),
                color,
                summary
                    .steps
                    .iter()
                    .map(|step| {
                        step.scenarios
                            .get(s.name())
                            .map_or(0.0, |x| x.latency_ms.p99)
                    })
                    .collect(),
            )
        })
        .collect();
    page.push_str(&step_chart(
        "p99 latency per step and scenario",
        "ms",
        steps,
        &latency,
        None,
    ));
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(saps: f64, attempts: u64, inadequate: u64) -> StepOutcome {
        StepOutcome {
            saps,
            attempts,
            inadequate,
        }
    }

    #[test]
    fn the_headline_states_the_doc_or_that_the_first_step_failed() {
        let steps = [
            step(50.0, 500, 0),
            step(100.0, 1000, 1),
            step(150.0, 1500, 9),
        ];
        let verdict = Verdict::of(&steps, 0.1);
        assert_eq!(
            headline(&verdict, &steps, 6, 0.1),
            "DOC: 100 SAPS (step 2 of 6; IHS 0.10 % <= 0.10 %; step 3 at 150 SAPS exceeded it with IHS 0.60 %)"
        );
        let steps = [step(50.0, 500, 3)];
        let verdict = Verdict::of(&steps, 0.1);
        assert_eq!(
            headline(&verdict, &steps, 6, 0.1),
            "DOC: none: even the first step (50 SAPS) exceeded the IHS limit (IHS 0.60 % > 0.10 %)"
        );
        let steps = [step(50.0, 500, 0), step(100.0, 1000, 0)];
        let verdict = Verdict::of(&steps, 0.1);
        assert!(
            headline(&verdict, &steps, 2, 0.1)
                .starts_with("DOC: 100 SAPS (step 2 of 2; IHS 0.00 % <= 0.10 %"),
            "{}",
            headline(&verdict, &steps, 2, 0.1)
        );
    }
}
