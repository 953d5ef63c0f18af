//! The controller: checks the target, starts the workers, moves the run through its phases
//! (register, traffic, de-register), prints progress, handles Ctrl-C, and gathers the
//! measurements at the end.
#![allow(clippy::disallowed_methods)] // the controller owns the clock

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::cli::{Plan, Scenario};
use crate::dashboard::{Command, Live, RunView};
use crate::hlog::HistogramLog;
use crate::metrics::Metrics;
use crate::report::{self, Ending};
use crate::shared::{Phase, Shared};
use crate::signals::next_signal;
use crate::worker::{Worker, due};

/// What stops a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The input does not allow a run: unreachable target, no socket (exit status 2).
    #[error(transparent)]
    Input(anyhow::Error),
    /// The run itself failed (exit status 1).
    #[error(transparent)]
    Runtime(anyhow::Error),
}

/// How often the controller looks at the run while a phase may end (and always with the
/// dashboard).
const POLL: Duration = Duration::from_millis(50);
/// Longest the controller sleeps without the dashboard, even when nothing can end sooner.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often the controller looks at a paced de-registration before its last user's turn.
const DEREGISTER_POLL: Duration = Duration::from_millis(250);
/// Interval of latency.hlog.
const HLOG_INTERVAL: Duration = Duration::from_secs(1);
/// How often the dashboard redraws (and at once after a key).
const FRAME: Duration = Duration::from_millis(250);

/// Runs the plan to its end; the exit status is 0 when every transaction succeeded.
pub async fn run(plan: Plan) -> Result<ExitCode, RunError> {
    let plan = Arc::new(plan);
    // Before anything is sent: too few file descriptors is bad input, like the options.
    if plan.ports.per_user() {
        crate::udp::raise_file_limit(plan.users.len()).map_err(|e| RunError::Input(e.into()))?;
    }
    let local_ip = ims_core::driver::route_address(plan.target)
        .map_err(|e| RunError::Input(anyhow::anyhow!("no route to {}: {e}", plan.target)))?;
    let domain = plan
        .users
        .first()
        .map(|u| u.domain.clone())
        .unwrap_or_default();
    let tcp = plan.transport == ims_core::transport::Transport::Tcp;
    crate::net::probe(plan.target, local_ip, &domain, tcp, plan.probe_timeout)
        .map_err(|e| RunError::Input(e.into()))?;

    let workers = plan.workers;
    let total = plan.users.len();
    let shared = Arc::new(Shared::new(Instant::now()));
    let mut hlog = match &plan.report {
        Some(dir) => Some(
            HistogramLog::create(dir, SystemTime::now(), plan.scenario.name()).map_err(|e| {
                RunError::Input(anyhow::anyhow!(
                    "cannot write the report in {}: {e}",
                    dir.display()
                ))
            })?,
        ),
        None => None,
    };
    let mut metrics = Vec::with_capacity(workers);
    let mut threads = Vec::with_capacity(workers);
    for index in 0..workers {
        let range = index * total / workers..(index + 1) * total / workers;
        // TCP is always there with a shared socket: a request too large for UDP (a
        // fan-out with its member list) goes over TCP (RFC 3261 §18.1.1).
        let sockets = crate::net::bind_worker(
            local_ip,
            true,
            plan.ports,
            plan.steers_answers(),
            range.clone(),
        )
        .map_err(|e| RunError::Input(e.into()))?;
        let seed = match plan.seed {
            Some(seed) => {
                let mut bytes = [0u8; 32];
                StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                    .fill_bytes(&mut bytes);
                bytes
            }
            None => ims_core::driver::os_seed().map_err(|e| RunError::Runtime(e.into()))?,
        };
        let worker_metrics = Arc::new(Mutex::new(Metrics::default()));
        let worker = Worker::new(
            index,
            Arc::clone(&plan),
            Arc::clone(&shared),
            Arc::clone(&worker_metrics),
            sockets,
            range,
            seed,
        )
        .map_err(|e| RunError::Input(e.into()))?;
        metrics.push(worker_metrics);
        threads.push(worker.spawn().map_err(|e| {
            RunError::Runtime(anyhow::anyhow!("cannot start a worker thread: {e}"))
        })?);
    }
    tracing::info!(users = total, workers, target = %plan.target, "started");

    // The dashboard when stdout is a terminal; dropped (the terminal restored) before
    // the summary prints.
    let mut live =
        (!plan.no_tui && std::io::IsTerminal::is_terminal(&std::io::stdout())).then(Live::enter);
    let ending = control(&plan, &shared, &metrics, hlog.as_mut(), live.as_mut()).await;
    drop(live);
    for thread in threads {
        if thread.join().is_err() {
            tracing::error!("a worker thread panicked");
        }
    }
    let elapsed = shared.start.elapsed();
    let mut total_metrics = Metrics::default();
    for worker in &metrics {
        total_metrics.merge(&worker.lock().unwrap_or_else(PoisonError::into_inner));
    }
    total_metrics.in_flight = 0;
    if let Some(hlog) = hlog.as_mut() {
        hlog.interval(&total_metrics, elapsed)
            .map_err(|e| RunError::Runtime(anyhow::anyhow!("writing latency.hlog: {e}")))?;
    }
    let summary = report::summary(&plan, &total_metrics, ending, elapsed);
    print!("{}", report::table(&summary));
    if let Some(dir) = &plan.report {
        report::write(dir, &summary, &total_metrics).map_err(RunError::Runtime)?;
    }
    Ok(if ending != Ending::Aborted && summary.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Moves the run through its phases until every worker is finished (or the stop timeout
/// passes); shows the dashboard or prints progress lines meanwhile.
async fn control(
    plan: &Plan,
    shared: &Shared,
    metrics: &[Arc<Mutex<Metrics>>],
    mut hlog: Option<&mut HistogramLog>,
    mut live: Option<&mut Live>,
) -> Ending {
    let mut last_interval = Instant::now();
    let mut answered_at: Option<Instant> = None;
    let workers = plan.workers;
    let total = plan.users.len();
    let per_worker = total.div_ceil(workers.max(1)) as u64;
    let mut interrupted = false;
    let mut stop_deadline: Option<Instant> = None;
    let mut last_progress = Instant::now();
    let mut last_frame: Option<Instant> = None;
    let mut previous: Option<([u64; 5], Duration)> = Some(([0; 5], Duration::ZERO));
    // The workers' measurements merged at each look, cleared in place each time (fresh
    // ones would allocate and zero seven 170 kB histograms per look).
    let mut totals = Metrics::default();
    // Ctrl-C (SIGINT) and SIGTERM both stop the run cleanly; listening from the start
    // means none is missed between two looks.
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut next_look = Instant::now() + POLL;
    loop {
        // Stops asked: a signal, or the dashboard's q / Ctrl-C (raw mode turns Ctrl-C
        // into a key), all on the same path.
        let mut stops = 0;
        tokio::select! {
            () = tokio::time::sleep_until(next_look.into()) => {}
            () = next_signal(&mut interrupt, &mut terminate) => stops += 1,
        }
        if let Some(live) = live.as_deref_mut() {
            for command in live.commands() {
                match command {
                    Command::Quit => stops += 1,
                    Command::Abort => stops += 2,
                    Command::Pause(paused) => {
                        shared.set_pacing(Instant::now(), paused, shared.pacing().1);
                    }
                    Command::Rate(percent) => {
                        shared.set_pacing(Instant::now(), shared.pacing().0, percent);
                    }
                }
            }
        }
        // The dashboard shows the stop; the messages are for progress-line runs.
        let quiet = live.is_some();
        for _ in 0..stops {
            if interrupted {
                if !quiet {
                    eprintln!(
                        "imsload: second Ctrl-C: stopping without waiting for de-registrations"
                    );
                }
                shared.abort.store(true, Ordering::Release);
                return Ending::Aborted;
            }
            interrupted = true;
            if !quiet {
                eprintln!(
                    "imsload: Ctrl-C: de-registering every user (at most {:?}; Ctrl-C again to stop at once)",
                    plan.stop_timeout
                );
            }
            shared.hurry.store(true, Ordering::Release);
            shared.enter(Phase::Deregister, Instant::now());
            stop_deadline = Some(Instant::now() + plan.stop_timeout);
        }
        let now = Instant::now();
        let (phase, began) = shared.phase();
        let phase_elapsed = now.saturating_duration_since(shared.start + began);
        match phase {
            Phase::Register => {
                let arrivals = due(
                    per_worker,
                    plan.registration_rate() / workers as f64,
                    ramp(plan),
                );
                if shared.settled.load(Ordering::Acquire) >= total
                    || shared.paced_elapsed(now.saturating_duration_since(shared.start))
                        >= arrivals + plan.register_timeout
                {
                    shared.enter(Phase::Traffic, now);
                }
            }
            Phase::Traffic => {
                let over = match plan.scenario {
                    Scenario::Register => phase_elapsed >= plan.duration.unwrap_or_default(),
                    _ => {
                        if shared.traffic_done.load(Ordering::Acquire) >= workers {
                            // Every text is answered; copies still on their way (other
                            // branches of a fork, retransmissions) get --drain to arrive.
                            *answered_at.get_or_insert(now) + plan.drain <= now
                        } else {
                            plan.duration
                                .is_some_and(|d| phase_elapsed >= d + drain_limit(plan.t1))
                        }
                    }
                };
                if over {
                    shared.enter(Phase::Deregister, now);
                }
            }
            Phase::Deregister => {
                let deadline = *stop_deadline.get_or_insert_with(|| {
                    let rate = plan.register_rate.max(plan.registration_rate()) / workers as f64;
                    now + due(per_worker, rate, Duration::ZERO) + plan.stop_timeout
                });
                if shared.finished.load(Ordering::Acquire) >= workers {
                    return if interrupted {
                        Ending::Interrupted
                    } else {
                        Ending::Completed
                    };
                }
                if now >= deadline {
                    if let Some(live) = live.as_deref_mut() {
                        live.leave();
                    }
                    eprintln!(
                        "imsload: the stop timeout passed with {} users still registered",
                        shared.registered.load(Ordering::Acquire)
                    );
                    shared.abort.store(true, Ordering::Release);
                    return Ending::Aborted;
                }
            }
        }
        if let Some(log) = hlog.as_deref_mut()
            && now.duration_since(last_interval) >= HLOG_INTERVAL
        {
            last_interval = now;
            totals.clear();
            for worker in metrics {
                totals.merge_latency(&worker.lock().unwrap_or_else(PoisonError::into_inner));
            }
            if let Err(error) = log.interval(&totals, now.saturating_duration_since(shared.start)) {
                tracing::warn!(%error, "cannot write latency.hlog; no more intervals");
                hlog = None;
            }
        }
        if let Some(live) = live.as_deref_mut() {
            if live.dirty() || last_frame.is_none_or(|at| now.duration_since(at) >= FRAME) {
                last_frame = Some(now);
                totals.clear();
                for worker in metrics {
                    totals.merge(&worker.lock().unwrap_or_else(PoisonError::into_inner));
                }
                live.draw(&RunView {
                    plan,
                    shared,
                    metrics: &totals,
                    elapsed: now.saturating_duration_since(shared.start),
                    stop_left: stop_deadline
                        .filter(|_| phase == Phase::Deregister)
                        .map(|deadline| deadline.saturating_duration_since(now)),
                });
            }
        } else if now.duration_since(last_progress) >= plan.progress_interval {
            last_progress = now;
            let elapsed = now.saturating_duration_since(shared.start);
            totals.clear();
            for worker in metrics {
                let worker = worker.lock().unwrap_or_else(PoisonError::into_inner);
                totals.merge_counts(&worker);
            }
            let bar = crate::dashboard::progress(&RunView {
                plan,
                shared,
                metrics: &totals,
                elapsed,
                stop_left: None,
            })
            .map(|ratio| format!("{} ", crate::dashboard::progress_bar(ratio)))
            .unwrap_or_default();
            eprintln!(
                "{bar}{}",
                report::progress(
                    elapsed,
                    phase.name(),
                    shared.registered.load(Ordering::Acquire),
                    total,
                    &totals,
                    previous,
                )
            );
            previous = Some((report::started_counts(&totals), elapsed));
        }
        let now = Instant::now();
        next_look = if live.is_some() || interrupted {
            now + POLL
        } else {
            let mut next = now + phase_end_earliest(plan, shared, now).max(POLL);
            next = next.min(last_progress + plan.progress_interval);
            if hlog.is_some() {
                next = next.min(last_interval + HLOG_INTERVAL);
            }
            next.min(now + IDLE_POLL)
        };
    }
}

/// How long the current phase cannot end from now (zero: it may end any time, so the
/// controller looks every [`POLL`]). Without it, the controller would wake every `POLL`
/// all run long while the workers pace their arrivals: a register phase cannot end before
/// its last arrival is due, nor a timed register run's traffic phase before its duration.
/// A paced de-registration usually ends at its last user's turn, but sooner when users
/// never registered: there the controller looks every [`DEREGISTER_POLL`] at most.
fn phase_end_earliest(plan: &Plan, shared: &Shared, now: Instant) -> Duration {
    let workers = plan.workers.max(1);
    let per_worker = plan.users.len().div_ceil(workers) as u64;
    let (phase, began) = shared.phase();
    let phase_start = shared.start + began;
    let earliest = match phase {
        Phase::Register => {
            // The last user of the fullest worker is due then (later with --max-concurrent).
            let last = due(
                per_worker.saturating_sub(1),
                plan.registration_rate() / workers as f64,
                ramp(plan),
            );
            shared.paced_deadline(last)
        }
        Phase::Traffic if plan.scenario == Scenario::Register => {
            Some(phase_start + plan.duration.unwrap_or_default())
        }
        Phase::Traffic => None,
        Phase::Deregister if shared.hurry.load(Ordering::Acquire) => None,
        Phase::Deregister => {
            let rate = plan.register_rate.max(plan.registration_rate()) / workers as f64;
            let last = phase_start + due(per_worker.saturating_sub(1), rate, Duration::ZERO);
            Some(last.min(now + DEREGISTER_POLL))
        }
    };
    earliest.map_or(Duration::ZERO, |at| at.saturating_duration_since(now))
}

/// After the last text of a timed run, how long answers may still take: 64*T1, the
/// longest a non-INVITE transaction lives (Timer F, RFC 3261 §17.1.2.2; 32 s at the
/// default T1 of 500 ms), so it follows `--t1`.
fn drain_limit(t1: Duration) -> Duration {
    t1.saturating_mul(64)
}

fn ramp(plan: &Plan) -> Duration {
    match plan.scenario {
        Scenario::Register => plan.ramp_up,
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drain_limit_is_timer_f_of_the_runs_t1() {
        assert_eq!(
            drain_limit(Duration::from_millis(500)),
            Duration::from_secs(32)
        );
        assert_eq!(
            drain_limit(Duration::from_millis(50)),
            Duration::from_millis(3200)
        );
        assert_eq!(
            drain_limit(Duration::from_secs(2)),
            Duration::from_secs(128)
        );
    }
}
