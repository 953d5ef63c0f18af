//! What the benchmark's controller and workers share: the stage, the running step and a
//! few counters, all atomics.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The stages of a benchmark, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The preamble registers its share of the population.
    Preamble,
    /// The steps run.
    Steps,
    /// No more arrivals: attempts in flight end, then every user de-registers.
    Stop,
}

/// No step is running (between the last step and the stop).
pub const NO_STEP: usize = usize::MAX;

/// What the controller and the workers share.
#[derive(Debug)]
pub struct BenchShared {
    /// When the run started.
    pub start: Instant,
    stage: AtomicU8,
    /// Microseconds since `start` when the stage began.
    stage_began: AtomicU64,
    step: AtomicUsize,
    /// Microseconds since `start` when the step began.
    step_began: AtomicU64,
    /// Preamble users registered or failed.
    pub preamble_settled: AtomicUsize,
    /// Users the preamble registers, over all workers.
    pub preamble_users: AtomicUsize,
    /// Workers done (every user de-registered).
    pub finished: AtomicUsize,
    /// Users registered right now.
    pub registered: AtomicUsize,
    /// De-register at once, without waiting for attempts in flight (Ctrl-C).
    pub hurry: AtomicBool,
    /// Stop at once.
    pub abort: AtomicBool,
}

fn micros(since: Duration) -> u64 {
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

impl BenchShared {
    /// A run starting now, in the preamble.
    pub fn new(start: Instant) -> BenchShared {
        BenchShared {
            start,
            stage: AtomicU8::new(0),
            stage_began: AtomicU64::new(0),
            step: AtomicUsize::new(NO_STEP),
            step_began: AtomicU64::new(0),
            preamble_settled: AtomicUsize::new(0),
            preamble_users: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            registered: AtomicUsize::new(0),
            hurry: AtomicBool::new(false),
            abort: AtomicBool::new(false),
        }
    }

    /// The stage and when it began.
    pub fn stage(&self) -> (Stage, Instant) {
        let began = self.start + Duration::from_micros(self.stage_began.load(Ordering::Acquire));
        let stage = match self.stage.load(Ordering::Acquire) {
            0 => Stage::Preamble,
            1 => Stage::Steps,
            _ => Stage::Stop,
        };
        (stage, began)
    }

    /// Moves to `stage` at `now` (never backwards).
    pub fn enter(&self, stage: Stage, now: Instant) {
        let code = match stage {
            Stage::Preamble => 0,
            Stage::Steps => 1,
            Stage::Stop => 2,
        };
        if self.stage.load(Ordering::Acquire) >= code {
            return;
        }
        if stage == Stage::Stop {
            self.step.store(NO_STEP, Ordering::Release);
        }
        self.stage_began.store(
            micros(now.saturating_duration_since(self.start)),
            Ordering::Release,
        );
        self.stage.store(code, Ordering::Release);
    }

    /// The step running and when it began (`NO_STEP`: none).
    pub fn step(&self) -> (usize, Instant) {
        let began = self.start + Duration::from_micros(self.step_began.load(Ordering::Acquire));
        (self.step.load(Ordering::Acquire), began)
    }

    /// Starts step `step` at `now` (`NO_STEP`: arrivals stop).
    pub fn begin_step(&self, step: usize, now: Instant) {
        self.step_began.store(
            micros(now.saturating_duration_since(self.start)),
            Ordering::Release,
        );
        self.step.store(step, Ordering::Release);
    }
}
