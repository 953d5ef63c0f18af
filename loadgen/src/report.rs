//! Reports: the progress line (stderr), the end-of-run table (stdout), and with
//! `--report DIR` summary.json, timeseries.csv (one row per second) and report.html
//! (`html.rs`); latency.hlog is
//! written as the run goes (`hlog.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::cli::Plan;
use crate::metrics::{Kind, KindStats, Metrics};
use crate::mix::MixScenario;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    /// The duration or count was reached and every user de-registered.
    Completed,
    /// Ctrl-C; users were de-registered.
    Interrupted,
    /// The stop timeout passed (or a second Ctrl-C) before every user was de-registered.
    Aborted,
}

/// summary.json.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The scenario.
    pub scenario: &'static str,
    /// The target as given.
    pub target: String,
    /// udp or tcp.
    pub transport: String,
    /// Users in the run.
    pub users: usize,
    /// Worker threads.
    pub workers: usize,
    /// How it ended.
    pub ending: Ending,
    /// Wall time of the run, seconds.
    pub elapsed_s: f64,
    /// Failed attempts of every type.
    pub failures: u64,
    /// Per transaction type.
    pub transactions: BTreeMap<&'static str, TransactionSummary>,
    /// A `mixed` run's arrivals per scenario (absent for the other scenarios).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenarios: Option<BTreeMap<&'static str, ScenarioSummary>>,
    /// What the users received.
    pub received: Received,
    /// The engines' counters.
    pub engine: EngineSummary,
}

/// One transaction type in summary.json.
#[derive(Debug, Serialize)]
pub struct TransactionSummary {
    /// Attempts started.
    pub started: u64,
    /// REGISTER requests sent for them, retransmissions not counted: an attempt
    /// challenged once sends 2 (registrations and refreshes only; the engine tells of
    /// no de-registration REGISTER).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Ended with a 2xx.
    pub succeeded: u64,
    /// Ended otherwise.
    pub failed: u64,
    /// Of the failures: no final response.
    pub timeouts: u64,
    /// Of the failures: transport errors.
    pub transport_errors: u64,
    /// Of the failures: local errors.
    pub local_errors: u64,
    /// Final responses by code.
    pub by_code: BTreeMap<String, u64>,
    /// Final responses by class (`2xx`, `4xx`, ...).
    pub by_class: BTreeMap<String, u64>,
    /// Latency of the successful attempts, milliseconds.
    pub latency_ms: Latency,
    /// Attempts per second asked for (`None`: not paced, e.g. refreshes).
    pub requested_rate: Option<f64>,
    /// Attempts per second achieved (first to last start).
    pub achieved_rate: Option<f64>,
}

/// One scenario of a `mixed` run in summary.json.
#[derive(Debug, Serialize)]
pub struct ScenarioSummary {
    /// Its weight in --weights.
    pub weight: u32,
    /// Arrivals that ran it.
    pub started: u64,
    /// Ended well (the text answered 2xx; the re-registration accepted, and for reg-event
    /// told by a NOTIFY).
    pub succeeded: u64,
    /// Ended otherwise.
    pub failed: u64,
    /// Of the failures: nothing (or no NOTIFY) in time.
    pub timeouts: u64,
    /// Share of all arrivals, percent.
    pub share_percent: f64,
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// What the users received.
#[derive(Debug, Serialize)]
pub struct Received {
    /// 1:1 MESSAGEs.
    pub messages: u64,
    /// Group texts (each member's copy).
    pub group_messages: u64,
    /// Other requests.
    pub other_requests: u64,
    /// reg-event NOTIFYs with a reginfo document (reg-event runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reg_notifies: Option<u64>,
}

/// The engines' counters in summary.json.
#[derive(Debug, Serialize)]
pub struct EngineSummary {
    /// Retransmissions.
    pub retransmissions: u64,
    /// Client transactions timed out.
    pub timeouts: u64,
    /// Messages sent.
    pub messages_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Unparseable input.
    pub malformed: u64,
    /// Responses matching no transaction.
    pub stray_responses: u64,
}

/// The name of the reg-event SUBSCRIBEs in the report.
pub const SUBSCRIBE: &str = "subscribe";
/// The name of the SUBSCRIBEs with Expires: 0 that end `mixed` reg-event subscriptions.
pub const UNSUBSCRIBE: &str = "unsubscribe";

/// The rate a kind was paced at (in a `mixed` run, its scenario's share of the rate).
fn requested_rate(plan: &Plan, kind: Kind) -> Option<f64> {
    let share = |scenario: MixScenario| {
        plan.mix.map_or(1.0, |weights| {
            f64::from(weights.of(scenario)) / weights.total().max(1) as f64
        })
    };
    match kind {
        Kind::Register => Some(plan.registration_rate()),
        Kind::Deregister => Some(plan.register_rate.max(plan.registration_rate())),
        Kind::Message => Some(plan.rate * share(MixScenario::Message)),
        Kind::GroupMessage => Some(plan.rate * share(MixScenario::GroupChat)),
        Kind::Refresh => plan
            .mix
            .map(|_| plan.rate * (share(MixScenario::Refresh) + share(MixScenario::RegEvent))),
    }
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn transaction(plan: &Plan, kind: Kind, stats: &KindStats) -> TransactionSummary {
    transaction_of(
        stats,
        requested_rate(plan, kind),
        matches!(kind, Kind::Register | Kind::Refresh).then_some(stats.requests),
    )
}

fn transaction_of(
    stats: &KindStats,
    requested_rate: Option<f64>,
    requests: Option<u64>,
) -> TransactionSummary {
    let mut by_class = BTreeMap::new();
    for (code, count) in &stats.by_code {
        *by_class.entry(format!("{}xx", code / 100)).or_default() += count;
    }
    TransactionSummary {
        started: stats.started,
        requests,
        succeeded: stats.succeeded,
        failed: stats.failed,
        timeouts: stats.timeouts,
        transport_errors: stats.transport_errors,
        local_errors: stats.local_errors,
        by_code: stats
            .by_code
            .iter()
            .map(|(code, count)| (code.to_string(), *count))
            .collect(),
        by_class,
        latency_ms: Latency {
            p50: stats.quantile_ms(0.5),
            p90: stats.quantile_ms(0.9),
            p99: stats.quantile_ms(0.99),
            p99_9: stats.quantile_ms(0.999),
            max: stats.max_ms(),
            mean: round(stats.mean_ms()),
        },
        requested_rate,
        achieved_rate: stats.achieved_rate().map(round),
    }
}

/// Builds the summary of a finished run.
pub fn summary(plan: &Plan, metrics: &Metrics, ending: Ending, elapsed: Duration) -> Summary {
    let mut transactions: BTreeMap<&'static str, TransactionSummary> = Kind::ALL
        .iter()
        .filter(|kind| metrics.kind(**kind).started > 0 || always_listed(plan, **kind))
        .map(|kind| (kind.name(), transaction(plan, *kind, metrics.kind(*kind))))
        .collect();
    if plan.any_subscribes() {
        // reg-event: one SUBSCRIBE per user as it registers, paced by the registrations;
        // mixed: one per reg-event arrival, and its end.
        transactions.insert(SUBSCRIBE, transaction_of(&metrics.subscribe, None, None));
        if plan.mix.is_some() {
            transactions.insert(
                UNSUBSCRIBE,
                transaction_of(&metrics.unsubscribe, None, None),
            );
        }
    }
    let engine = metrics.engine;
    let arrivals: u64 = metrics.scenarios.iter().map(|s| s.started).sum();
    let scenarios = plan.mix.map(|weights| {
        MixScenario::ALL
            .into_iter()
            .filter(|scenario| weights.of(*scenario) > 0)
            .map(|scenario| {
                let counts = metrics.scenarios[scenario.index()];
                let share = if arrivals == 0 {
                    0.0
                } else {
                    round(100.0 * counts.started as f64 / arrivals as f64)
                };
                (
                    scenario.name(),
                    ScenarioSummary {
                        weight: weights.of(scenario),
                        started: counts.started,
                        succeeded: counts.succeeded,
                        failed: counts.failed,
                        timeouts: counts.timeouts,
                        share_percent: share,
                    },
                )
            })
            .collect()
    });
    Summary {
        scenario: plan.scenario_name(),
        target: plan.target_text.clone(),
        transport: plan.transport.to_string().to_ascii_lowercase(),
        users: plan.users.len(),
        workers: plan.workers,
        ending,
        elapsed_s: round(elapsed.as_secs_f64()),
        failures: metrics.failures(),
        transactions,
        scenarios,
        received: Received {
            messages: metrics.messages_received,
            group_messages: metrics.group_messages_received,
            other_requests: metrics.other_requests,
            reg_notifies: plan.any_subscribes().then_some(metrics.reg_notifies),
        },
        engine: EngineSummary {
            retransmissions: engine.retransmissions,
            timeouts: engine.timeouts,
            messages_sent: engine.messages_sent,
            messages_received: engine.messages_received,
            malformed: engine.malformed,
            stray_responses: engine.stray_responses,
        },
    }
}

/// The kinds a scenario always lists (zero counts included).
fn always_listed(plan: &Plan, kind: Kind) -> bool {
    match kind {
        Kind::Register | Kind::Deregister => true,
        Kind::Message => match plan.mix {
            Some(weights) => weights.of(MixScenario::Message) > 0,
            None => plan.scenario == crate::cli::Scenario::Message,
        },
        Kind::GroupMessage => plan.sends_group_texts(),
        Kind::Refresh => plan.mix.is_some_and(|weights| {
            weights.of(MixScenario::Refresh) + weights.of(MixScenario::RegEvent) > 0
        }),
    }
}

/// The end-of-run table.
pub fn table(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "imsload {}: {} users, {} workers, {} to {}, {:.1} s, {}",
        summary.scenario,
        summary.users,
        summary.workers,
        summary.transport,
        summary.target,
        summary.elapsed_s,
        match summary.ending {
            Ending::Completed => "completed",
            Ending::Interrupted => "interrupted (Ctrl-C)",
            Ending::Aborted => "ABORTED before every user was de-registered",
        }
    );
    let _ = writeln!(
        out,
        "{:<14} {:>8} {:>8} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "type",
        "started",
        "ok",
        "failed",
        "timeout",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "rate/s",
        "asked/s"
    );
    for (name, t) in Kind::ALL
        .iter()
        .map(|kind| kind.name())
        .chain([SUBSCRIBE, UNSUBSCRIBE])
        .filter_map(|name| summary.transactions.get(name).map(|t| (name, t)))
    {
        let rate = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.1}"));
        let _ = writeln!(
            out,
            "{:<14} {:>8} {:>8} {:>7} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9} {:>9}",
            name,
            t.started,
            t.succeeded,
            t.failed,
            t.timeouts,
            t.latency_ms.p50,
            t.latency_ms.p90,
            t.latency_ms.p99,
            t.latency_ms.p99_9,
            t.latency_ms.max,
            rate(t.achieved_rate),
            rate(t.requested_rate),
        );
    }
    if let Some(scenarios) = &summary.scenarios {
        let parts: Vec<String> = scenarios
            .iter()
            .map(|(name, s)| {
                format!(
                    "{name} {} ({:.1} %, weight {}): {} ok, {} failed",
                    s.started, s.share_percent, s.weight, s.succeeded, s.failed
                )
            })
            .collect();
        let _ = writeln!(out, "scenarios: {}", parts.join("; "));
    }
    let mut codes: BTreeMap<&str, u64> = BTreeMap::new();
    for t in summary.transactions.values() {
        for (code, count) in &t.by_code {
            if !code.starts_with('2') {
                *codes.entry(code.as_str()).or_default() += count;
            }
        }
    }
    let mut errors: Vec<String> = codes.iter().map(|(c, n)| format!("{c} x{n}")).collect();
    for (what, count) in [
        (
            "timeout",
            summary
                .transactions
                .values()
                .map(|t| t.timeouts)
                .sum::<u64>(),
        ),
        (
            "transport",
            summary
                .transactions
                .values()
                .map(|t| t.transport_errors)
                .sum(),
        ),
        (
            "local",
            summary.transactions.values().map(|t| t.local_errors).sum(),
        ),
    ] {
        if count > 0 {
            errors.push(format!("{what} x{count}"));
        }
    }
    let notifies = summary
        .received
        .reg_notifies
        .map(|n| format!(", {n} reg-event NOTIFYs"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "received: {} messages, {} group copies, {} other requests{notifies}; retransmissions {}, engine timeouts {}",
        summary.received.messages,
        summary.received.group_messages,
        summary.received.other_requests,
        summary.engine.retransmissions,
        summary.engine.timeouts,
    );
    let _ = writeln!(
        out,
        "errors by code: {}",
        if errors.is_empty() {
            "none".to_owned()
        } else {
            errors.join(", ")
        }
    );
    out
}

/// The per-second time series as CSV: for each type started, ok, failed, mean latency.
pub fn time_series(metrics: &Metrics) -> String {
    let mut out = String::from("second");
    for kind in Kind::ALL {
        let name = kind.name();
        let _ = write!(
            out,
            ",{name}_started,{name}_ok,{name}_failed,{name}_mean_ms"
        );
    }
    out.push('\n');
    for (second, row) in metrics.seconds.iter().enumerate() {
        let _ = write!(out, "{second}");
        for i in 0..Kind::ALL.len() {
            let ok = row.succeeded[i];
            let mean = if ok == 0 {
                0.0
            } else {
                row.latency_sum[i] as f64 / ok as f64 / 1000.0
            };
            let _ = write!(
                out,
                ",{},{},{},{:.3}",
                row.started[i], ok, row.failed[i], mean
            );
        }
        out.push('\n');
    }
    out
}

/// Writes summary.json, timeseries.csv and report.html into `dir` (created if missing).
pub fn write(dir: &Path, summary: &Summary, metrics: &Metrics) -> anyhow::Result<()> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(summary).context("encoding summary.json")?;
    let path = dir.join("summary.json");
    std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    let path = dir.join("timeseries.csv");
    std::fs::write(&path, time_series(metrics))
        .with_context(|| format!("writing {}", path.display()))?;
    let path = dir.join("report.html");
    std::fs::write(&path, crate::html::render(summary, metrics))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// One progress line.
pub fn progress(
    elapsed: Duration,
    phase: &str,
    registered: usize,
    users: usize,
    metrics: &Metrics,
    previous: Option<([u64; 5], Duration)>,
) -> String {
    let mut line = format!(
        "[{:>7.1} s] {phase:<10} registered {registered}/{users}",
        elapsed.as_secs_f64()
    );
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        let (started, ok, failed) = metrics.counts(kind);
        if started == 0 {
            continue;
        }
        let rate = previous
            .map(|(before, at)| {
                let span = elapsed.saturating_sub(at).as_secs_f64();
                let earlier = before[i];
                if span > 0.0 {
                    (started - earlier.min(started)) as f64 / span
                } else {
                    0.0
                }
            })
            .unwrap_or(0.0);
        let _ = write!(
            line,
            " | {} {ok}/{started} ok, {failed} failed, {rate:.0}/s",
            kind.name()
        );
    }
    let arrivals: Vec<String> = MixScenario::ALL
        .into_iter()
        .filter_map(|scenario| {
            let started = metrics.scenarios[scenario.index()].started;
            (started > 0).then(|| format!("{} {started}", scenario.name()))
        })
        .collect();
    if !arrivals.is_empty() {
        let _ = write!(line, " | arrivals: {}", arrivals.join(", "));
    }
    let _ = write!(
        line,
        " | in flight {}, retransmissions {}",
        metrics.in_flight, metrics.engine.retransmissions
    );
    line
}

/// The started counts of every kind, for the next progress line's rates.
pub fn started_counts(metrics: &Metrics) -> [u64; 5] {
    Kind::ALL.map(|kind| metrics.counts(kind).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Outcome;
    use clap::Parser as _;

    #[test]
    fn a_mixed_run_reports_each_scenario() {
        let args = crate::cli::Args::try_parse_from([
            "imsload",
            "mixed",
            "-t",
            "127.0.0.1:5060",
            "--users",
            "vu{0..9}@ims.test",
            "--password",
            "p",
            "--weights",
            "message=3,refresh=1",
            "-r",
            "40",
        ])
        .unwrap();
        let plan = Plan::from_args(args).unwrap();
        let mut metrics = Metrics::default();
        for _ in 0..3 {
            metrics.scenario_started(MixScenario::Message);
        }
        metrics.scenario_ended(MixScenario::Message, Outcome::Status(200));
        metrics.scenario_ended(MixScenario::Message, Outcome::Status(200));
        metrics.scenario_ended(MixScenario::Message, Outcome::Status(404));
        metrics.scenario_started(MixScenario::Refresh);
        metrics.scenario_ended(MixScenario::Refresh, Outcome::Timeout);
        let summary = summary(&plan, &metrics, Ending::Completed, Duration::from_secs(3));
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(
            json["scenarios"],
            serde_json::json!({
                "message": { "weight": 3, "started": 3, "succeeded": 2, "failed": 1,
                             "timeouts": 0, "share_percent": 75.0 },
                "refresh": { "weight": 1, "started": 1, "succeeded": 0, "failed": 1,
                             "timeouts": 1, "share_percent": 25.0 },
            })
        );
        // The rate each type was asked for: its scenario's share of --rate.
        assert_eq!(json["transactions"]["message"]["requested_rate"], 30.0);
        assert_eq!(json["transactions"]["refresh"]["requested_rate"], 10.0);
        assert!(json["transactions"].get("group_message").is_none());
        let table = table(&summary);
        assert!(
            table.contains(
                "scenarios: message 3 (75.0 %, weight 3): 2 ok, 1 failed; refresh 1 (25.0 %, weight 1): 0 ok, 1 failed"
            ),
            "{table}"
        );
        let line = progress(Duration::from_secs(2), "traffic", 10, 10, &metrics, None);
        assert!(
            line.contains("| arrivals: message 3, refresh 1 |"),
            "{line}"
        );
        let html = crate::html::render(&summary, &metrics);
        assert!(
            html.contains("<tr><td>refresh</td><td>1</td><td>1</td><td>25.0</td><td>0</td><td>1</td><td>1</td></tr>"),
            "{html}"
        );
    }
}
