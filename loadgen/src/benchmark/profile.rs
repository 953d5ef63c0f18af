//! The pure parts of the benchmark: the scenario types of the traffic set and their
//! weighted choice, the Poisson arrival process, the stepwise SAPS profile, and the rule
//! that stops the run and names the DOC.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The scenario types of the traffic set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioType {
    /// A user not registered registers (REGISTER, challenge, REGISTER, 2xx).
    Register,
    /// A registered user registers again (a refresh of its binding).
    ReRegister,
    /// A registered user de-registers (REGISTER with Expires: 0).
    DeRegister,
    /// A registered user sends a MESSAGE to another registered user, answered 2xx.
    Message,
}

impl ScenarioType {
    /// Every type, in report order.
    pub const ALL: [ScenarioType; 4] = [
        ScenarioType::Register,
        ScenarioType::ReRegister,
        ScenarioType::DeRegister,
        ScenarioType::Message,
    ];

    /// Its name on the command line, in the TOML file and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ScenarioType::Register => "register",
            ScenarioType::ReRegister => "re-register",
            ScenarioType::DeRegister => "de-register",
            ScenarioType::Message => "message",
        }
    }

    /// The type named `name`.
    pub fn from_name(name: &str) -> Option<ScenarioType> {
        ScenarioType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Its position in [`ScenarioType::ALL`].
    pub fn index(self) -> usize {
        match self {
            ScenarioType::Register => 0,
            ScenarioType::ReRegister => 1,
            ScenarioType::DeRegister => 2,
            ScenarioType::Message => 3,
        }
    }

    /// The default latency threshold of its transaction: a registration is two REGISTER
    /// round trips (the challenge and its answer), the others one.
    pub fn default_threshold(self) -> Duration {
        match self {
            ScenarioType::Register | ScenarioType::ReRegister => Duration::from_millis(1000),
            ScenarioType::DeRegister | ScenarioType::Message => Duration::from_millis(500),
        }
    }
}

/// The weights of the traffic set, one per scenario type (not all zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights(pub [f64; 4]);

impl Weights {
    /// The default mix: 10 % register, 30 % re-register, 10 % de-register, 50 % message.
    pub const DEFAULT: Weights = Weights([10.0, 30.0, 10.0, 50.0]);

    /// The scenario type for a uniform draw `u` in [0, 1).
    pub fn pick(&self, u: f64) -> ScenarioType {
        let total: f64 = self.0.iter().sum();
        let mut left = u * total;
        for scenario in ScenarioType::ALL {
            let weight = self.0[scenario.index()];
            if weight > 0.0 && left < weight {
                return scenario;
            }
            left -= weight;
        }
        // Rounding at the top end: the last type with a weight.
        ScenarioType::ALL
            .into_iter()
            .rev()
            .find(|s| self.0[s.index()] > 0.0)
            .unwrap_or(ScenarioType::Message)
    }
}

/// A Poisson arrival process: exponential gaps between arrivals at a rate per second,
/// drawn from a seeded RNG.
#[derive(Debug)]
pub struct Poisson {
    rng: StdRng,
}

impl Poisson {
    /// A process whose gaps come from `seed`.
    pub fn new(seed: u64) -> Poisson {
        Poisson {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The time to the next arrival at `rate` per second (inverse transform of the
    /// exponential distribution: -ln(1 - U) / rate, U uniform in [0, 1)).
    pub fn gap(&mut self, rate: f64) -> Duration {
        if rate.is_nan() || rate <= 0.0 || !rate.is_finite() {
            return Duration::MAX;
        }
        let u: f64 = self.rng.random();
        let seconds = -(1.0 - u).ln() / rate;
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
    }

    /// A uniform draw in [0, 1) from the same RNG (the scenario type and the user).
    pub fn uniform(&mut self) -> f64 {
        self.rng.random()
    }

    /// A uniform index below `n` (n > 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }
}

/// The stepwise load profile.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Profile {
    /// SAPS of the first step.
    pub base_saps: f64,
    /// SAPS added per step.
    pub step_saps: f64,
    /// How long each step is held.
    #[serde(serialize_with = "seconds")]
    pub step_duration: Duration,
    /// Most steps.
    pub max_steps: usize,
}

fn seconds<S: serde::Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(value.as_secs_f64())
}

impl Profile {
    /// The SAPS of step `step` (from 0).
    pub fn saps(&self, step: usize) -> f64 {
        self.base_saps + self.step_saps * step as f64
    }
}

/// One finished step, as the stopping rule sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// Its SAPS.
    pub saps: f64,
    /// Scenario attempts started in it.
    pub attempts: u64,
    /// Of those, inadequately handled (failed, or a transaction over its threshold).
    pub inadequate: u64,
}

impl StepOutcome {
    /// IHS %: the share of inadequately handled attempts, in percent (0 without attempts).
    pub fn ihs_percent(&self) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            100.0 * self.inadequate as f64 / self.attempts as f64
        }
    }

    /// Within the limit (IHS % at most `limit` percent).
    pub fn passes(&self, limit_percent: f64) -> bool {
        self.ihs_percent() <= limit_percent
    }
}

/// What the stopping rule concludes from the steps evaluated so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// The DOC: the index (from 0) and SAPS of the highest step within the limit, when
    /// one is.
    pub doc: Option<(usize, f64)>,
    /// The first step over the limit (the run stops there).
    pub failed: Option<usize>,
}

impl Verdict {
    /// Applies the rule to `steps` in order: the first step whose IHS % exceeds
    /// `limit_percent` stops the run; the DOC is the step before it (none when it is the
    /// first), or the last step when none failed.
    pub fn of(steps: &[StepOutcome], limit_percent: f64) -> Verdict {
        let failed = steps.iter().position(|s| !s.passes(limit_percent));
        let passed = failed.unwrap_or(steps.len());
        let doc = passed
            .checked_sub(1)
            .and_then(|i| steps.get(i).map(|s| (i, s.saps)));
        Verdict { doc, failed }
    }
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
    fn the_doc_is_the_step_before_the_first_over_the_limit() {
        let steps = [
            step(10.0, 1000, 0),
            step(20.0, 2000, 2), // 0.1 %: within (the limit is inclusive)
            step(30.0, 3000, 4), // 0.133 %: over
            step(40.0, 4000, 0), // after the failure: not looked at
        ];
        assert_eq!(
            Verdict::of(&steps, 0.1),
            Verdict {
                doc: Some((1, 20.0)),
                failed: Some(2)
            }
        );
        assert!((steps[2].ihs_percent() - 0.1333).abs() < 1e-3);
    }

    #[test]
    fn no_step_failing_gives_the_last_and_a_failing_first_step_gives_none() {
        let steps = [step(10.0, 100, 0), step(20.0, 200, 0), step(30.0, 300, 0)];
        assert_eq!(
            Verdict::of(&steps, 0.1),
            Verdict {
                doc: Some((2, 30.0)),
                failed: None
            }
        );
        let steps = [step(10.0, 100, 1), step(20.0, 200, 0)];
        assert_eq!(
            Verdict::of(&steps, 0.1),
            Verdict {
                doc: None,
                failed: Some(0)
            }
        );
        assert_eq!(
            Verdict::of(&[], 0.1),
            Verdict {
                doc: None,
                failed: None
            }
        );
        // A step without attempts has IHS 0 %.
        assert_eq!(step(5.0, 0, 0).ihs_percent(), 0.0);
    }

    #[test]
    fn the_profile_rises_by_the_increment() {
        let profile = Profile {
            base_saps: 50.0,
            step_saps: 25.0,
            step_duration: Duration::from_secs(10),
            max_steps: 4,
        };
        let saps: Vec<f64> = (0..4).map(|s| profile.saps(s)).collect();
        assert_eq!(saps, [50.0, 75.0, 100.0, 125.0]);
    }

    /// The gaps of a Poisson process at rate λ are exponential with mean 1/λ and standard
    /// deviation 1/λ; over n = 200,000 gaps the sample mean's standard error is
    /// 1/(λ √n) ≈ 0.22 % of the mean, so a 1 % tolerance is more than 4 standard errors.
    /// The count of arrivals in one second is Poisson(λ): its variance equals its mean
    /// (within 5 % over 2,000 one-second windows at λ = 100).
    #[test]
    fn poisson_gaps_have_the_asked_mean_and_counts_their_variance() {
        let mut process = Poisson::new(186_008);
        let rate = 250.0;
        let n = 200_000;
        let total: f64 = (0..n).map(|_| process.gap(rate).as_secs_f64()).sum();
        let mean = total / f64::from(n);
        assert!(
            (mean * rate - 1.0).abs() < 0.01,
            "mean gap {mean} s at {rate}/s"
        );
        // Memoryless: the share of gaps above the mean is e^-1.
        let above = (0..n)
            .filter(|_| process.gap(rate).as_secs_f64() > 1.0 / rate)
            .count();
        let share = above as f64 / f64::from(n);
        assert!((share - (-1.0f64).exp()).abs() < 0.005, "{share}");
        // Counts per one-second window.
        let rate = 100.0;
        let windows = 2000;
        let mut counts = vec![0u32; windows];
        let mut t = 0.0;
        loop {
            t += process.gap(rate).as_secs_f64();
            let Some(count) = counts.get_mut(t as usize) else {
                break;
            };
            *count += 1;
        }
        let mean = counts.iter().map(|c| f64::from(*c)).sum::<f64>() / windows as f64;
        let variance = counts
            .iter()
            .map(|c| (f64::from(*c) - mean).powi(2))
            .sum::<f64>()
            / (windows - 1) as f64;
        assert!((mean - rate).abs() < 1.0, "mean count {mean}");
        assert!(
            (variance / mean - 1.0).abs() < 0.1,
            "variance {variance}, mean {mean}"
        );
        // Seeded: the same seed gives the same gaps.
        let a: Vec<Duration> = (0..5).map(|_| Poisson::new(9).gap(10.0)).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(Poisson::new(1).gap(0.0), Duration::MAX);
    }

    #[test]
    fn weights_pick_in_proportion_and_skip_zeros() {
        let weights = Weights([1.0, 0.0, 1.0, 2.0]);
        assert_eq!(weights.pick(0.0), ScenarioType::Register);
        assert_eq!(weights.pick(0.24), ScenarioType::Register);
        assert_eq!(weights.pick(0.25), ScenarioType::DeRegister);
        assert_eq!(weights.pick(0.5), ScenarioType::Message);
        assert_eq!(weights.pick(0.999_999), ScenarioType::Message);
        let mut process = Poisson::new(3);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[weights.pick(process.uniform()).index()] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(
            (f64::from(counts[3]) / 40_000.0 - 0.5).abs() < 0.01,
            "{counts:?}"
        );
        for s in ScenarioType::ALL {
            assert_eq!(ScenarioType::from_name(s.name()), Some(s));
        }
        assert_eq!(ScenarioType::from_name("invite"), None);
    }
}
