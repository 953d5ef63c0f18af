//! What a benchmark measures: per step and scenario type the attempts, how they ended,
//! how many were inadequately handled, and a latency histogram of the successful ones.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::profile::{ScenarioType, StepOutcome};

/// One scenario type within one step.
#[derive(Debug, Clone)]
pub struct ScenarioStats {
    /// Attempts started.
    pub attempts: u64,
    /// Ended with a 2xx.
    pub succeeded: u64,
    /// Ended otherwise.
    pub failed: u64,
    /// Of the failures: no final response in time.
    pub timeouts: u64,
    /// Succeeded, but later than the threshold.
    pub over_threshold: u64,
    /// Inadequately handled: failed, or over the threshold (also while still in flight).
    pub inadequate: u64,
    /// Attempts whose fate is known (ended, or in flight past the threshold).
    pub decided: u64,
    /// Final responses by status code.
    pub by_code: BTreeMap<u16, u64>,
    /// Latency of the successful attempts, microseconds.
    pub latency: Histogram<u64>,
    /// Arrivals of this type that found no user in the state the scenario needs (not
    /// attempted, not counted in `attempts`).
    pub skipped: u64,
}

impl Default for ScenarioStats {
    fn default() -> Self {
        ScenarioStats {
            attempts: 0,
            succeeded: 0,
            failed: 0,
            timeouts: 0,
            over_threshold: 0,
            inadequate: 0,
            decided: 0,
            by_code: BTreeMap::new(),
            latency: crate::metrics::new_histogram(),
            skipped: 0,
        }
    }
}

impl ScenarioStats {
    fn merge(&mut self, other: &ScenarioStats) {
        self.attempts += other.attempts;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.timeouts += other.timeouts;
        self.over_threshold += other.over_threshold;
        self.inadequate += other.inadequate;
        self.decided += other.decided;
        self.skipped += other.skipped;
        for (code, count) in &other.by_code {
            *self.by_code.entry(*code).or_default() += count;
        }
        // Same bounds on both sides: add cannot fail.
        let _ = self.latency.add(&other.latency);
    }

    /// The latency at `quantile` in milliseconds (0 when nothing succeeded).
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        if self.latency.is_empty() {
            0.0
        } else {
            self.latency.value_at_quantile(quantile) as f64 / 1000.0
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// A final response with this status (2xx: success).
    Status(u16),
    /// No final response in time.
    Timeout,
    /// Failed otherwise (transport, local).
    Error,
}

/// The measurements of one worker (or, merged, of the run): per step, per scenario type.
#[derive(Debug, Clone, Default)]
pub struct BenchMetrics {
    /// Per step, per scenario type (by [`ScenarioType::index`]).
    pub steps: Vec<[ScenarioStats; 4]>,
    /// Preamble: registrations that succeeded and that failed.
    pub preamble_registered: u64,
    /// Preamble registrations that failed.
    pub preamble_failed: u64,
    /// MESSAGEs the users received (the other end of the messaging scenario).
    pub messages_received: u64,
    /// Final de-registrations that succeeded.
    pub final_deregistered: u64,
    /// Final de-registrations that failed.
    pub final_failed: u64,
    /// The engines' counters, summed: retransmissions.
    pub retransmissions: u64,
    /// The engines' counters, summed: client transactions timed out.
    pub engine_timeouts: u64,
}

impl BenchMetrics {
    /// The stats of `scenario` in `step` (created on first use).
    pub fn stats(&mut self, step: usize, scenario: ScenarioType) -> &mut ScenarioStats {
        if self.steps.len() <= step {
            self.steps.resize_with(step + 1, Default::default);
        }
        &mut self.steps[step][scenario.index()]
    }

    /// An attempt started.
    pub fn started(&mut self, step: usize, scenario: ScenarioType) {
        self.stats(step, scenario).attempts += 1;
    }

    /// An attempt still in flight passed its threshold: inadequately handled, whatever
    /// comes of it.
    pub fn late(&mut self, step: usize, scenario: ScenarioType) {
        let stats = self.stats(step, scenario);
        stats.inadequate += 1;
        stats.decided += 1;
    }

    /// An attempt ended after `latency`; `late` when [`BenchMetrics::late`] already
    /// counted it.
    pub fn ended(
        &mut self,
        step: usize,
        scenario: ScenarioType,
        end: End,
        latency: Duration,
        threshold: Duration,
        late: bool,
    ) {
        let stats = self.stats(step, scenario);
        let success = matches!(end, End::Status(200..=299));
        match end {
            End::Status(code) => *stats.by_code.entry(code).or_default() += 1,
            End::Timeout => stats.timeouts += 1,
            End::Error => {}
        }
        if success {
            stats.succeeded += 1;
            let micros = u64::try_from(latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            let _ = stats.latency.record(micros.min(600_000_000));
            if latency > threshold {
                stats.over_threshold += 1;
            }
        } else {
            stats.failed += 1;
        }
        if !late {
            stats.decided += 1;
            if !success || latency > threshold {
                stats.inadequate += 1;
            }
        }
    }

    /// An arrival found no user for its scenario.
    pub fn skipped(&mut self, step: usize, scenario: ScenarioType) {
        self.stats(step, scenario).skipped += 1;
    }

    /// Adds another worker's measurements.
    pub fn merge(&mut self, other: &BenchMetrics) {
        if self.steps.len() < other.steps.len() {
            self.steps.resize_with(other.steps.len(), Default::default);
        }
        for (mine, theirs) in self.steps.iter_mut().zip(&other.steps) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                a.merge(b);
            }
        }
        self.preamble_registered += other.preamble_registered;
        self.preamble_failed += other.preamble_failed;
        self.messages_received += other.messages_received;
        self.final_deregistered += other.final_deregistered;
        self.final_failed += other.final_failed;
        self.retransmissions += other.retransmissions;
        self.engine_timeouts += other.engine_timeouts;
    }

    /// Step `step` over every scenario type: (attempts, inadequate, decided).
    pub fn step_totals(&self, step: usize) -> (u64, u64, u64) {
        self.steps.get(step).map_or((0, 0, 0), |scenarios| {
            scenarios.iter().fold((0, 0, 0), |(a, i, d), s| {
                (a + s.attempts, i + s.inadequate, d + s.decided)
            })
        })
    }

    /// Step `step` for the stopping rule.
    pub fn outcome(&self, step: usize, saps: f64) -> StepOutcome {
        let (attempts, inadequate, _) = self.step_totals(step);
        StepOutcome {
            saps,
            attempts,
            inadequate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_or_a_late_answer_is_inadequate_and_counted_once() {
        let mut metrics = BenchMetrics::default();
        let threshold = Duration::from_millis(500);
        for _ in 0..4 {
            metrics.started(1, ScenarioType::Message);
        }
        let ms = Duration::from_millis;
        metrics.ended(
            1,
            ScenarioType::Message,
            End::Status(200),
            ms(3),
            threshold,
            false,
        );
        metrics.ended(
            1,
            ScenarioType::Message,
            End::Status(200),
            ms(501),
            threshold,
            false,
        );
        metrics.ended(
            1,
            ScenarioType::Message,
            End::Status(404),
            ms(2),
            threshold,
            false,
        );
        // Still in flight past the threshold: decided at once, then its answer comes.
        metrics.late(1, ScenarioType::Message);
        assert_eq!(metrics.step_totals(1), (4, 3, 4));
        metrics.ended(
            1,
            ScenarioType::Message,
            End::Status(200),
            ms(900),
            threshold,
            true,
        );
        assert_eq!(metrics.step_totals(1), (4, 3, 4), "not counted twice");
        let stats = &metrics.steps[1][ScenarioType::Message.index()];
        assert_eq!(
            (stats.succeeded, stats.failed, stats.over_threshold),
            (3, 1, 2)
        );
        assert_eq!(stats.latency.len(), 3);
        assert!((metrics.outcome(1, 10.0).ihs_percent() - 75.0).abs() < 1e-9);
        // A 0 ms threshold makes every success late.
        metrics.started(0, ScenarioType::Register);
        metrics.ended(
            0,
            ScenarioType::Register,
            End::Status(200),
            ms(1),
            Duration::ZERO,
            false,
        );
        assert_eq!(metrics.step_totals(0), (1, 1, 1));
        let mut total = BenchMetrics::default();
        total.merge(&metrics);
        total.merge(&metrics);
        assert_eq!(total.step_totals(1), (8, 6, 8));
    }
}
