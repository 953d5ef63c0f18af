//! The `mixed` scenario's traffic set: which scenarios its arrivals run, by weight, and
//! the order they come in (smooth weighted round robin: with weights 6, 2, 1, 1 every
//! ten arrivals hold six, two, one and one, spread out rather than in runs).

use std::fmt;

/// A scenario an arrival of a `mixed` run can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MixScenario {
    /// A MESSAGE from a user to its peer (as `message`).
    Message,
    /// A text from a user to its group (as `group-chat`).
    GroupChat,
    /// A registered user refreshes its registration now (a re-registration).
    Refresh,
    /// A registered user subscribes to its own registration state (RFC 3680) in a new
    /// dialog; the attempt ends once the 200 and the first NOTIFY have come, then the
    /// user unsubscribes (what a UE does as it comes online, undone so that every
    /// arrival starts from the same state at the S-CSCF).
    RegEvent,
}

impl MixScenario {
    /// Every scenario, in report order.
    pub const ALL: [MixScenario; 4] = [
        MixScenario::Message,
        MixScenario::GroupChat,
        MixScenario::Refresh,
        MixScenario::RegEvent,
    ];

    /// Its name in `--weights` and in the reports.
    pub fn name(self) -> &'static str {
        match self {
            MixScenario::Message => "message",
            MixScenario::GroupChat => "group-chat",
            MixScenario::Refresh => "refresh",
            MixScenario::RegEvent => "reg-event",
        }
    }

    /// Its slot in per-scenario arrays.
    pub fn index(self) -> usize {
        match self {
            MixScenario::Message => 0,
            MixScenario::GroupChat => 1,
            MixScenario::Refresh => 2,
            MixScenario::RegEvent => 3,
        }
    }

    /// The scenario called `name`.
    pub fn from_name(name: &str) -> Option<MixScenario> {
        MixScenario::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The names `--weights` knows, for error messages.
const KNOWN: &str = "message, group-chat, refresh, reg-event";

/// Weights of the scenarios of a `mixed` run, by [`MixScenario::index`]; at least one is
/// above zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights(pub [u32; 4]);

/// Weights that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    /// A name `--weights` does not know.
    #[error("--weights: unknown scenario {name:?} (known: {KNOWN})")]
    UnknownName {
        /// As given.
        name: String,
    },
    /// Not a whole number >= 0.
    #[error("--weights {name}={value}: not a weight; give a whole number >= 0")]
    BadNumber {
        /// The scenario.
        name: String,
        /// As given.
        value: String,
    },
    /// A pair without `=`.
    #[error("--weights {pair:?}: expected NAME=WEIGHT, e.g. message=6")]
    NoValue {
        /// As given.
        pair: String,
    },
    /// The same name twice.
    #[error("--weights: {name} is given twice")]
    Twice {
        /// The scenario.
        name: String,
    },
    /// Nothing would ever be sent.
    #[error("--weights: the weights add up to zero; give at least one scenario a weight above 0")]
    ZeroTotal,
}

impl Weights {
    /// The default traffic set, as `--weights` text: message 6, group-chat 2, refresh 2
    /// (reg-event 0: it needs a registrar that serves the reg event package, such as an
    /// IMS S-CSCF).
    pub const DEFAULT_TEXT: &'static str = "message=6,group-chat=2,refresh=2";

    /// Weights from `(name, weight)` pairs; scenarios left out weigh 0.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, u32)>,
    ) -> Result<Weights, WeightsError> {
        let mut weights = [None; 4];
        for (name, weight) in pairs {
            let Some(scenario) = MixScenario::from_name(name) else {
                return Err(WeightsError::UnknownName {
                    name: name.to_owned(),
                });
            };
            let slot = &mut weights[scenario.index()];
            if slot.is_some() {
                return Err(WeightsError::Twice {
                    name: name.to_owned(),
                });
            }
            *slot = Some(weight);
        }
        let weights = Weights(weights.map(|w| w.unwrap_or(0)));
        if weights.total() == 0 {
            return Err(WeightsError::ZeroTotal);
        }
        Ok(weights)
    }

    /// `message=6,group-chat=2,...` (spaces around the parts allowed).
    pub fn parse(text: &str) -> Result<Weights, WeightsError> {
        let mut pairs = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(WeightsError::NoValue {
                    pair: pair.to_owned(),
                });
            };
            let (name, value) = (name.trim(), value.trim());
            let weight = value.parse::<u32>().map_err(|_| WeightsError::BadNumber {
                name: name.to_owned(),
                value: value.to_owned(),
            })?;
            pairs.push((name, weight));
        }
        Weights::from_pairs(pairs)
    }

    /// The weight of `scenario`.
    pub fn of(&self, scenario: MixScenario) -> u32 {
        self.0[scenario.index()]
    }

    /// The sum of the weights.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|&w| u64::from(w)).sum()
    }
}

impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scenario in MixScenario::ALL {
            let weight = self.of(scenario);
            if weight > 0 {
                write!(
                    f,
                    "{}{}={weight}",
                    if first { "" } else { "," },
                    scenario.name()
                )?;
                first = false;
            }
        }
        Ok(())
    }
}

/// The order of a worker's arrivals: smooth weighted round robin over the weights, so
/// that any run of `total` arrivals holds each scenario exactly its weight's times.
#[derive(Debug, Clone)]
pub struct Mixer {
    weights: Weights,
    current: [i64; 4],
}

impl Mixer {
    /// A mixer at the start of its cycle.
    pub fn new(weights: Weights) -> Mixer {
        Mixer {
            weights,
            current: [0; 4],
        }
    }

    /// The scenario of the next arrival (`None` only when every weight is zero, which
    /// [`Weights::from_pairs`] refuses).
    pub fn next(&mut self) -> Option<MixScenario> {
        let total = i64::try_from(self.weights.total()).unwrap_or(i64::MAX);
        let mut best: Option<MixScenario> = None;
        for scenario in MixScenario::ALL {
            let weight = i64::from(self.weights.of(scenario));
            if weight == 0 {
                continue;
            }
            let slot = scenario.index();
            self.current[slot] += weight;
            if best.is_none_or(|b| self.current[slot] > self.current[b.index()]) {
                best = Some(scenario);
            }
        }
        let chosen = best?;
        self.current[chosen.index()] -= total;
        Some(chosen)
    }

    /// The scenario `next` would give, without taking it.
    pub fn peek(&self) -> Option<MixScenario> {
        self.clone().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_and_refuse_what_is_wrong() {
        assert_eq!(
            Weights::parse("message=6, group-chat=2,refresh=1,reg-event=1"),
            Ok(Weights([6, 2, 1, 1]))
        );
        assert_eq!(Weights::parse("refresh=3"), Ok(Weights([0, 0, 3, 0])));
        let default = Weights::parse(Weights::DEFAULT_TEXT).unwrap();
        assert_eq!(default, Weights([6, 2, 2, 0]));
        assert_eq!(default.to_string(), Weights::DEFAULT_TEXT, "round trip");
        for (text, needle) in [
            ("invite=1", "unknown scenario \"invite\""),
            ("message=0,refresh=0", "add up to zero"),
            ("", "add up to zero"),
            ("message=x", "message=x: not a weight"),
            ("message=-1", "message=-1: not a weight"),
            ("message=1.5", "message=1.5: not a weight"),
            ("message", "expected NAME=WEIGHT"),
            ("message=1,message=2", "given twice"),
        ] {
            let error = Weights::parse(text).unwrap_err().to_string();
            assert!(error.contains(needle), "{text:?}: {error}");
        }
    }

    #[test]
    fn every_cycle_holds_each_scenario_its_weight_spread_out() {
        let weights = Weights([6, 2, 1, 1]);
        let mut mixer = Mixer::new(weights);
        let order: Vec<MixScenario> = (0..30).map(|_| mixer.next().unwrap()).collect();
        for cycle in order.chunks(10) {
            for scenario in MixScenario::ALL {
                let count = cycle.iter().filter(|s| **s == scenario).count();
                assert_eq!(count as u32, weights.of(scenario), "{cycle:?}");
            }
        }
        // Spread: no more than two messages in a row.
        assert!(
            !order
                .windows(3)
                .any(|w| w.iter().all(|s| *s == MixScenario::Message)),
            "{order:?}"
        );
        assert_eq!(order[0], MixScenario::Message);
        let mut only = Mixer::new(Weights([0, 0, 5, 0]));
        assert_eq!(only.peek(), Some(MixScenario::Refresh));
        assert!((0..7).all(|_| only.next() == Some(MixScenario::Refresh)));
    }
}
