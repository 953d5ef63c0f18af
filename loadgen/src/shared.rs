//! What the controller and the workers share: the phase of the run and a few counters,
//! all atomics (no lock on the hot path).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
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
    /// Workers done with the traffic phase (their share sent and answered).
    pub traffic_done: AtomicUsize,
    /// Workers done (every user de-registered).
    pub finished: AtomicUsize,
    /// De-register without pacing (Ctrl-C).
    pub hurry: AtomicBool,
    /// Stop at once (the stop timeout passed, or a second Ctrl-C).
    pub abort: AtomicBool,
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
            traffic_done: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            hurry: AtomicBool::new(false),
            abort: AtomicBool::new(false),
        }
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
        let micros = u64::try_from(now.saturating_duration_since(self.start).as_micros())
            .unwrap_or(u64::MAX);
        self.phase_began.store(micros, Ordering::Release);
        self.phase.store(code, Ordering::Release);
    }
}
