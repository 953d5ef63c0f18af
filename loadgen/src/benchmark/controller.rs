//! The benchmark's controller: checks the target, starts the workers, runs the preamble,
//! moves through the steps, applies the stopping rule as each step is decided, stops and
//! de-registers everyone, and writes the results.
#![allow(clippy::disallowed_methods)] // the controller owns the clock

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Parser as _;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::config::{Args, Config};
use super::metrics::BenchMetrics;
use super::profile::StepOutcome;
use super::report::{self, StepRun};
use super::worker::{BenchShared, BenchWorker, NO_STEP, Stage};
use crate::run::RunError;
use crate::signals::next_signal;

/// How often the controller looks at the run.
const POLL: Duration = Duration::from_millis(20);
/// A step not decided this long after its end (plus the largest threshold) is decided
/// with its open attempts counted as inadequate (the workers mark them at the threshold,
/// so this only covers a stalled worker).
const DECIDE_SLACK: Duration = Duration::from_secs(5);

/// `imsload benchmark ...`: `argv` as the process got it (the program, `benchmark`, then
/// the benchmark's own arguments).
pub fn main(argv: Vec<OsString>) -> ExitCode {
    // Usage errors exit with status 2 from clap.
    let args = Args::parse_from(
        argv.into_iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, a)| a),
    );
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("imsload benchmark: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("imsload benchmark: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(config)) {
        Ok(code) => code,
        Err(crate::run::RunError::Input(error)) => {
            eprintln!("imsload benchmark: {error:#}");
            ExitCode::from(2)
        }
        Err(crate::run::RunError::Runtime(error)) => {
            eprintln!("imsload benchmark: {error:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(config: Config) -> Result<ExitCode, RunError> {
    let config = Arc::new(config);
    // Before anything is sent: too few file descriptors is bad input, like the options.
    if config.ports.per_user() {
        crate::udp::raise_file_limit(config.users.len()).map_err(|e| RunError::Input(e.into()))?;
    }
    let local_ip = ims_core::driver::route_address(config.target)
        .map_err(|e| RunError::Input(anyhow::anyhow!("no route to {}: {e}", config.target)))?;
    let domain = config
        .users
        .first()
        .map(|u| u.domain.clone())
        .unwrap_or_default();
    crate::net::probe(
        config.target,
        local_ip,
        &domain,
        false,
        config.probe_timeout,
    )
    .map_err(|e| RunError::Input(e.into()))?;
    let seed = match config.seed {
        Some(seed) => seed,
        None => {
            let bytes = ims_core::driver::os_seed().map_err(|e| RunError::Runtime(e.into()))?;
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(word)
        }
    };
    let workers = config.workers;
    let total = config.users.len();
    let shared = Arc::new(BenchShared::new(Instant::now()));
    let mut metrics = Vec::with_capacity(workers);
    let mut threads = Vec::with_capacity(workers);
    for index in 0..workers {
        let range = index * total / workers..(index + 1) * total / workers;
        let sockets = crate::net::bind_worker(
            local_ip,
            false,
            config.ports,
            config.steers_answers,
            range.clone(),
        )
        .map_err(|e| RunError::Input(e.into()))?;
        let worker_seed = seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut engine_seed = [0u8; 32];
        StdRng::seed_from_u64(worker_seed).fill_bytes(&mut engine_seed);
        let worker_metrics = Arc::new(Mutex::new(BenchMetrics::default()));
        let worker = BenchWorker::new(
            index,
            Arc::clone(&config),
            Arc::clone(&shared),
            Arc::clone(&worker_metrics),
            sockets,
            range,
            engine_seed,
            worker_seed.rotate_left(17),
        )
        .map_err(|e| RunError::Input(e.into()))?;
        metrics.push(worker_metrics);
        threads.push(worker.spawn().map_err(|e| {
            RunError::Runtime(anyhow::anyhow!("cannot start a worker thread: {e}"))
        })?);
    }
    let preamble_users = shared.preamble_users.load(Ordering::Acquire);
    tracing::info!(users = total, workers, preamble_users, target = %config.target, "benchmark started");
    let outcome = control(&config, &shared, &metrics, preamble_users).await;
    for thread in threads {
        if thread.join().is_err() {
            tracing::error!("a worker thread panicked");
        }
    }
    let mut merged = BenchMetrics::default();
    for worker in &metrics {
        merged.merge(&worker.lock().unwrap_or_else(PoisonError::into_inner));
    }
    let summary = report::summary(
        &config,
        &merged,
        &outcome.runs,
        preamble_users,
        outcome.preamble_s,
        shared.registered.load(Ordering::Acquire),
        outcome.ending,
        shared.start.elapsed().as_secs_f64(),
    );
    print!("{}", report::table(&summary));
    if let Some(dir) = &config.report {
        report::write(dir, &summary).map_err(RunError::Runtime)?;
    }
    let clean = outcome.ending == "completed" && summary.final_deregistration.left_registered == 0;
    Ok(if clean && summary.doc_saps.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What the controller saw.
struct Outcome {
    runs: Vec<StepRun>,
    preamble_s: f64,
    ending: &'static str,
}

fn totals(metrics: &[Arc<Mutex<BenchMetrics>>], step: usize) -> (u64, u64, u64) {
    metrics.iter().fold((0, 0, 0), |(a, i, d), worker| {
        let (wa, wi, wd) = worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .step_totals(step);
        (a + wa, i + wi, d + wd)
    })
}

async fn control(
    config: &Config,
    shared: &BenchShared,
    metrics: &[Arc<Mutex<BenchMetrics>>],
    preamble_users: usize,
) -> Outcome {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let profile = config.profile;
    let largest_threshold = config.thresholds.iter().copied().max().unwrap_or_default();
    let preamble_limit = Duration::from_secs_f64(preamble_users as f64 / config.register_rate)
        + config.register_timeout;
    // Steps: (began, ended) per started step; the next to decide.
    let mut spans: Vec<(Instant, Option<Instant>)> = Vec::new();
    let mut decided: Vec<StepOutcome> = Vec::new();
    let mut preamble_s = 0.0;
    let mut interrupted = false;
    let mut stop_deadline: Option<Instant> = None;
    let mut last_progress = Instant::now();
    loop {
        let mut stop_asked = false;
        tokio::select! {
            _ = ticker.tick() => {}
            () = next_signal(&mut interrupt, &mut terminate) => stop_asked = true,
        }
        let now = Instant::now();
        if stop_asked {
            if interrupted {
                eprintln!(
                    "imsload benchmark: second Ctrl-C: stopping without waiting for de-registrations"
                );
                shared.abort.store(true, Ordering::Release);
                return finish(
                    &spans,
                    decided.len(),
                    profile.step_duration,
                    preamble_s,
                    "aborted",
                );
            }
            interrupted = true;
            eprintln!(
                "imsload benchmark: Ctrl-C: stopping and de-registering every user (at most {:?}; Ctrl-C again to stop at once)",
                config.stop_timeout
            );
            shared.hurry.store(true, Ordering::Release);
            close_open_step(&mut spans, now);
            shared.enter(Stage::Stop, now);
        }
        let (stage, stage_began) = shared.stage();
        match stage {
            Stage::Preamble => {
                let settled = shared.preamble_settled.load(Ordering::Acquire);
                let elapsed = now.saturating_duration_since(stage_began);
                if settled >= preamble_users || elapsed >= preamble_limit {
                    if settled < preamble_users {
                        eprintln!(
                            "imsload benchmark: the preamble settled only {settled} of {preamble_users} users in {elapsed:.1?}; measuring anyway"
                        );
                    }
                    preamble_s = elapsed.as_secs_f64();
                    eprintln!(
                        "preamble: {} of {} users registered in {:.1} s",
                        shared.registered.load(Ordering::Acquire),
                        config.users.len(),
                        preamble_s
                    );
                    shared.enter(Stage::Steps, now);
                    shared.begin_step(0, now);
                    spans.push((now, None));
                } else if now.duration_since(last_progress) >= Duration::from_secs(2) {
                    last_progress = now;
                    eprintln!("preamble: {settled} of {preamble_users} settled");
                }
            }
            Stage::Steps => {
                // End the running step at its time; start the next unless the profile
                // is done.
                let (step, began) = shared.step();
                if step != NO_STEP && now.saturating_duration_since(began) >= profile.step_duration
                {
                    if let Some(span) = spans.get_mut(step) {
                        span.1 = Some(now);
                    }
                    if step + 1 < profile.max_steps {
                        shared.begin_step(step + 1, now);
                        spans.push((now, None));
                    } else {
                        shared.begin_step(NO_STEP, now);
                    }
                }
                // Decide the ended steps in order.
                while let Some(&(_, Some(ended))) = spans.get(decided.len()) {
                    let index = decided.len();
                    let (attempts, inadequate, known) = totals(metrics, index);
                    let since_end = now.saturating_duration_since(ended);
                    let overdue = since_end > largest_threshold + DECIDE_SLACK;
                    // One poll after the end at least: an arrival a worker was starting
                    // as the step ended is counted by then.
                    if since_end < POLL || (known < attempts && !overdue) {
                        break;
                    }
                    let outcome = StepOutcome {
                        saps: profile.saps(index),
                        attempts,
                        // Undecided attempts of an overdue step count as inadequate.
                        inadequate: inadequate + attempts.saturating_sub(known),
                    };
                    decided.push(outcome);
                    progress_line(config, metrics, index, outcome, &spans);
                    if !outcome.passes(config.ihs_limit) {
                        close_open_step(&mut spans, now);
                        shared.enter(Stage::Stop, now);
                        break;
                    }
                }
                if decided.len() == profile.max_steps {
                    shared.enter(Stage::Stop, now);
                }
            }
            Stage::Stop => {
                let deadline = *stop_deadline.get_or_insert_with(|| {
                    let registered = shared.registered.load(Ordering::Acquire);
                    now + Duration::from_secs_f64(registered as f64 / config.register_rate)
                        + config.stop_timeout
                });
                if shared.finished.load(Ordering::Acquire) >= config.workers {
                    let ending = if interrupted {
                        "interrupted"
                    } else {
                        "completed"
                    };
                    return finish(
                        &spans,
                        decided.len(),
                        profile.step_duration,
                        preamble_s,
                        ending,
                    );
                }
                if now >= deadline {
                    eprintln!(
                        "imsload benchmark: the stop timeout passed with {} users still registered",
                        shared.registered.load(Ordering::Acquire)
                    );
                    shared.abort.store(true, Ordering::Release);
                    // Let the workers see the abort before their counters are read.
                    while shared.finished.load(Ordering::Acquire) < config.workers {
                        tokio::time::sleep(POLL).await;
                    }
                    return finish(
                        &spans,
                        decided.len(),
                        profile.step_duration,
                        preamble_s,
                        "aborted",
                    );
                }
            }
        }
    }
}

/// Closes the step running at a stop (cut short).
fn close_open_step(spans: &mut [(Instant, Option<Instant>)], now: Instant) {
    if let Some(span) = spans.last_mut()
        && span.1.is_none()
    {
        span.1 = Some(now);
    }
}

fn finish(
    spans: &[(Instant, Option<Instant>)],
    decided: usize,
    step_duration: Duration,
    preamble_s: f64,
    ending: &'static str,
) -> Outcome {
    let first = spans.first().map(|(began, _)| *began);
    let runs = spans
        .iter()
        .enumerate()
        .map(|(i, (began, ended))| {
            let ended = ended.unwrap_or(*began);
            let duration = ended.saturating_duration_since(*began);
            StepRun {
                began_s: first.map_or(0.0, |first| {
                    began.saturating_duration_since(first).as_secs_f64() + preamble_s
                }),
                duration_s: duration.as_secs_f64(),
                // The controller ends a step within one poll of its time.
                completed: duration + POLL >= step_duration,
                evaluated: i < decided,
            }
        })
        .collect();
    Outcome {
        runs,
        preamble_s,
        ending,
    }
}

fn progress_line(
    config: &Config,
    metrics: &[Arc<Mutex<BenchMetrics>>],
    index: usize,
    outcome: StepOutcome,
    spans: &[(Instant, Option<Instant>)],
) {
    let mut merged = BenchMetrics::default();
    for worker in metrics {
        merged.merge(&worker.lock().unwrap_or_else(PoisonError::into_inner));
    }
    let duration = spans
        .get(index)
        .and_then(|(began, ended)| ended.map(|e| e.saturating_duration_since(*began)))
        .unwrap_or_default();
    let run = StepRun {
        began_s: 0.0,
        duration_s: duration.as_secs_f64(),
        completed: true,
        evaluated: true,
    };
    let mut runs = vec![
        StepRun {
            began_s: 0.0,
            duration_s: 0.0,
            completed: true,
            evaluated: true
        };
        index
    ];
    runs.push(run);
    let summary = report::summary(config, &merged, &runs, 0, 0.0, 0, "running", 0.0);
    if let Some(step) = summary.steps.last() {
        let mut line = report::step_line(step, config.profile.max_steps, config.ihs_limit);
        line.push_str(if !outcome.passes(config.ihs_limit) {
            " -> over the limit: stop"
        } else if index + 1 < config.profile.max_steps {
            " -> next step"
        } else {
            " -> last step"
        });
        eprintln!("{line}");
    }
}
