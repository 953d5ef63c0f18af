//! What the controller and the workers share: the phase of the run and a few counters,
//! all atomics (no lock on the hot path).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

/// The phases of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Users register at the registration rate.
    Register,
    /// The scenario runs (register: the users stay registered).
    Traffic,
    /// Users de-register.
    Deregister,
}

impl Phase {
    /// Its name in progress lines.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Register => "register",
            Phase::Traffic => "traffic",
            Phase::Deregister => "deregister",
        }
    }
}

/// State shared by the controller and every worker.
#[derive(Debug)]
pub struct Shared {
    /// When the run started; every time in the reports counts from here.
    pub start: Instant,
    phase: AtomicU8,
    /// When the current phase began, microseconds since `start`.
    phase_began: AtomicU64,
    /// Users registered right now.
    pub registered: AtomicUsize,
    /// Users that registered at least once or failed for good (the register phase ends
    /// when all have).
    pub settled: AtomicUsize,
    /// Users by state, one counter per slot of `VuState::COUNTED` (idle users are the
    /// rest): for the dashboard.
    pub vus: [AtomicUsize; 7],
    /// Workers done with the traffic phase (their share sent and answered).
    pub traffic_done: AtomicUsize,
    /// Workers done (every user de-registered).
    pub finished: AtomicUsize,
    /// De-register without pacing (Ctrl-C).
    pub hurry: AtomicBool,
    /// Stop at once (the stop timeout passed, or a second Ctrl-C).
    pub abort: AtomicBool,
    /// The arrival clock of the phase (pause and rate from the dashboard's keys).
    pacing: RwLock<Pacing>,
}

/// The arrival clock of a phase: arrivals are due on it, and it runs at `percent` of real
/// time (0 while paused). Only the controller changes it, so a lock read is uncontended.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pacing {
    /// Real time of the last change, since the run started.
    anchor: Duration,
    /// The arrival clock at `anchor`, since its phase began.
    paced: Duration,
    /// Speed in percent of real time.
    percent: u32,
    /// Stopped.
    paused: bool,
}

impl Pacing {
    fn at(&self, since_start: Duration) -> Duration {
        if self.paused {
            return self.paced;
        }
        let real = since_start.saturating_sub(self.anchor);
        self.paced + real.mul_f64(f64::from(self.percent) / 100.0)
    }
}

impl Shared {
    /// A run starting now, in the register phase.
    pub fn new(start: Instant) -> Shared {
        Shared {
            start,
            phase: AtomicU8::new(0),
            phase_began: AtomicU64::new(0),
            registered: AtomicUsize::new(0),
            settled: AtomicUsize::new(0),
            vus: Default::default(),
            traffic_done: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            hurry: AtomicBool::new(false),
            abort: AtomicBool::new(false),
            pacing: RwLock::new(Pacing {
                anchor: Duration::ZERO,
                paced: Duration::ZERO,
                percent: 100,
                paused: false,
            }),
        }
    }

    /// The arrival clock of the current phase at `since_start`: the time since the phase
    /// began, stopped while paused and scaled by the rate percent.
    pub fn paced_elapsed(&self, since_start: Duration) -> Duration {
        self.pacing
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .at(since_start)
    }

    /// When the arrival clock reaches `paced` (`None` while paused).
    pub fn paced_deadline(&self, paced: Duration) -> Option<Instant> {
        let pacing = *self.pacing.read().unwrap_or_else(PoisonError::into_inner);
        if pacing.paused || pacing.percent == 0 {
            return None;
        }
        let ahead = paced
            .saturating_sub(pacing.paced)
            .mul_f64(100.0 / f64::from(pacing.percent));
        self.start.checked_add(pacing.anchor.checked_add(ahead)?)
    }

    /// Pauses or resumes arrivals and sets their rate in percent, from `now` on.
    pub fn set_pacing(&self, now: Instant, paused: bool, percent: u32) {
        let since_start = now.saturating_duration_since(self.start);
        let mut pacing = self.pacing.write().unwrap_or_else(PoisonError::into_inner);
        *pacing = Pacing {
            anchor: since_start,
            paced: pacing.at(since_start),
            percent: percent.max(1),
            paused,
        };
    }

    /// (paused, rate percent).
    pub fn pacing(&self) -> (bool, u32) {
        let pacing = self.pacing.read().unwrap_or_else(PoisonError::into_inner);
        (pacing.paused, pacing.percent)
    }

    /// The phase and when it began (since the start).
    pub fn phase(&self) -> (Phase, Duration) {
        // Read the time first: `enter` stores the time before the phase.
        let began = Duration::from_micros(self.phase_began.load(Ordering::Acquire));
        let phase = match self.phase.load(Ordering::Acquire) {
            0 => Phase::Register,
            1 => Phase::Traffic,
            _ => Phase::Deregister,
        };
        (phase, began)
    }

    /// Moves to `phase` at `now` (never backwards).
    pub fn enter(&self, phase: Phase, now: Instant) {
        let code = match phase {
            Phase::Register => 0,
            Phase::Traffic => 1,
            Phase::Deregister => 2,
        };
        if self.phase.load(Ordering::Acquire) >= code {
            return;
        }
        let since_start = now.saturating_duration_since(self.start);
        // The arrival clock starts again with the phase (before the phase is visible: a
        // worker still in the old phase then sees a clock at zero and waits).
        {
            let mut pacing = self.pacing.write().unwrap_or_else(PoisonError::into_inner);
            pacing.anchor = since_start;
            pacing.paced = Duration::ZERO;
        }
        let micros = u64::try_from(since_start.as_micros()).unwrap_or(u64::MAX);
        self.phase_began.store(micros, Ordering::Release);
        self.phase.store(code, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // an origin for the clock
    fn the_arrival_clock_follows_the_phase_pause_and_rate() {
        let start = Instant::now();
        let shared = Shared::new(start);
        let at = |s: u64| start + Duration::from_secs(s);
        let secs = |s: u64| Duration::from_secs(s);
        assert_eq!(shared.paced_elapsed(secs(4)), secs(4));
        assert_eq!(shared.paced_deadline(secs(6)), Some(at(6)));
        // Paused at 4 s: stays at 4 s.
        shared.set_pacing(at(4), true, 100);
        assert_eq!(shared.paced_elapsed(secs(9)), secs(4));
        assert_eq!(shared.paced_deadline(secs(5)), None);
        // Resumed at 10 s at 200 %: 4 s + 2 × real.
        shared.set_pacing(at(10), false, 200);
        assert_eq!(shared.paced_elapsed(secs(12)), secs(8));
        assert_eq!(shared.paced_deadline(secs(8)), Some(at(12)));
        assert_eq!(shared.pacing(), (false, 200));
        // A new phase starts the clock at zero, at the same rate.
        shared.enter(Phase::Traffic, at(20));
        assert_eq!(shared.paced_elapsed(secs(20)), Duration::ZERO);
        assert_eq!(shared.paced_elapsed(secs(23)), secs(6));
        // Half rate from 23 s.
        shared.set_pacing(at(23), false, 50);
        assert_eq!(shared.paced_elapsed(secs(27)), secs(8));
        assert_eq!(shared.paced_deadline(secs(9)), Some(at(29)));
    }
}
