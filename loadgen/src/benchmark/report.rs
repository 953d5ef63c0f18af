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
    /// Attempts per second started over the step's real duration (`None` for a step cut
    /// short, too brief to say).
    pub achieved_saps: Option<f64>,
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
    /// SAPS of this type: attempts over the step's real duration (`None` for a step cut
    /// short).
    pub saps: Option<f64>,
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
        saps: (duration_s > 0.0).then(|| round(stats.attempts as f64 / duration_s)),
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

/// A SAPS value: whole numbers without decimals.
pub(super) fn short(value: f64) -> String {
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
                achieved_saps: (run.completed && run.duration_s > 0.0)
                    .then(|| round(outcome.attempts as f64 / run.duration_s)),
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
                            scenario_summary(
                                &stats[s.index()],
                                if run.completed { run.duration_s } else { 0.0 },
                                config,
                                s,
                            ),
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

/// An achieved rate, or `-` for a step cut short.
pub(super) fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// The progress line of one evaluated step.
pub fn step_line(step: &Step, planned: usize, limit: f64) -> String {
    let mut line = format!(
        "step {}/{planned}: {} SAPS asked, {} achieved, {} attempts, {} inadequate, IHS {:.2} % {} {limit:.2} %",
        step.step,
        short(step.saps),
        rate(step.achieved_saps),
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
            "{:<5} {:<12} {:>8} {:>9} {:>8} {:>7} {:>7} {:>8.2} {:>8} {:>9} {:>9} {:>9}  {result}",
            step.step,
            "all",
            short(step.saps),
            rate(step.achieved_saps),
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
                "{:<5} {:<12} {:>8} {:>9} {:>8} {:>7} {:>7} {:>8.2} {:>8.0} {:>9.2} {:>9.2} {:>9.2}",
                "",
                name,
                "",
                rate(s.saps),
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
    std::fs::write(&path, super::html::render(summary))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
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
