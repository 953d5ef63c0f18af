//! `mixed` runs: each arrival takes the next scenario from the worker's [`Mixer`] and a
//! local user that can run it now, and runs the scenario's own steps (a text as in
//! `message` or `group-chat`, a re-registration through the engine's refresh). Each
//! arrival is counted under its scenario when it starts and when it ends.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use ims_core::engine::Command;

use crate::cli::Plan;
use crate::metrics::{Kind, Outcome};
use crate::mix::{MixScenario, Mixer};
use crate::vu::VuState;
use crate::worker::Worker;

/// A worker's share of a `mixed` run.
#[derive(Debug)]
pub struct MixState {
    mixer: Mixer,
    /// The local users each scenario takes, by [`MixScenario::index`], in turn.
    users: [Vec<usize>; 4],
    cursors: [usize; 4],
    /// Re-registrations (refresh, reg-event) in flight.
    outstanding: usize,
    /// How long a re-registration may take, its NOTIFY included, before it is given up.
    give_up: Duration,
    /// The last arrival found no free user for its scenario.
    waiting: bool,
    /// No re-registration in flight is past its deadline before this (a lower bound:
    /// attempts that ended early leave it stale, which costs one scan that renews it).
    next_deadline: Option<Instant>,
}

/// Whether a user can run a scenario.
enum Availability {
    /// Now.
    Free,
    /// Once its registration (or attempt) in flight has ended.
    Later,
    /// Not in this run.
    Never,
}

/// A re-registration a `mixed` arrival started on a user.
#[derive(Debug, Clone, Copy)]
pub struct MixAttempt {
    scenario: MixScenario,
    /// The REGISTER's 200 came.
    registered: bool,
    /// A NOTIFY with news of the registration came (reg-event).
    notified: bool,
    deadline: Instant,
}

/// A worker has no user for a scenario with a weight.
#[derive(Debug, thiserror::Error)]
#[error(
    "no user of this worker can run {scenario} (users {first}..{last}); give more users or fewer --workers"
)]
pub struct NoUserFor {
    scenario: &'static str,
    first: usize,
    last: usize,
}

impl MixState {
    /// The mixed share of the worker holding global users `range` (`None` when the run is
    /// not `mixed`).
    pub fn new(plan: &Plan, range: std::ops::Range<usize>) -> Result<Option<MixState>, NoUserFor> {
        let Some(weights) = plan.mix else {
            return Ok(None);
        };
        let first = range.start;
        let local = |keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
            range
                .clone()
                .filter(|&global| keep(global))
                .map(|global| global - first)
                .collect()
        };
        let users = MixScenario::ALL.map(|scenario| match scenario {
            MixScenario::Message => local(&|global| (global ^ 1) < plan.users.len()),
            MixScenario::GroupChat => local(&|global| plan.group_of(global).len() >= 2),
            MixScenario::Refresh => local(&|global| !plan.subscribes(global)),
            MixScenario::RegEvent => local(&|global| plan.subscribes(global)),
        });
        for scenario in MixScenario::ALL {
            if weights.of(scenario) > 0 && users[scenario.index()].is_empty() {
                return Err(NoUserFor {
                    scenario: scenario.name(),
                    first,
                    last: range.end.saturating_sub(1),
                });
            }
        }
        Ok(Some(MixState {
            mixer: Mixer::new(weights),
            users,
            cursors: [0; 4],
            outstanding: 0,
            // A REGISTER and its challenged repeat, each up to Timer F, then the NOTIFY.
            give_up: plan.t1.saturating_mul(64 * 3),
            waiting: false,
            next_deadline: None,
        }))
    }
}

impl Worker {
    /// Starts the next arrival of a `mixed` run: false when no user can run its scenario
    /// now (a re-registration needs a registered user with none in flight); it is
    /// tried again at the next step. When no user ever could (their registrations or
    /// reg-event subscriptions failed for good), the arrival fails at once rather than
    /// wait for ever.
    pub(crate) fn mixed_arrival(&mut self, now: Instant) -> bool {
        let Some(mix) = self.mix.as_ref() else {
            return false;
        };
        let Some(scenario) = mix.mixer.peek() else {
            return false;
        };
        let slot = scenario.index();
        let users = &mix.users[slot];
        let mut chosen = None;
        let mut later = false;
        for step in 0..users.len() {
            let turn = (mix.cursors[slot] + step) % users.len();
            let Some(&index) = users.get(turn) else {
                break;
            };
            match self.availability(scenario, index) {
                Availability::Free => {
                    chosen = Some((turn, index));
                    break;
                }
                Availability::Later => later = true,
                Availability::Never => {}
            }
        }
        let Some(mix) = self.mix.as_mut() else {
            return false;
        };
        mix.waiting = chosen.is_none() && later;
        if mix.waiting {
            return false;
        }
        mix.mixer.next();
        if let Some((turn, _)) = chosen {
            mix.cursors[slot] = turn + 1;
        }
        let mut metrics = self.metrics.lock().unwrap_or_else(PoisonError::into_inner);
        metrics.scenario_started(scenario);
        let Some((_, index)) = chosen else {
            metrics.scenario_ended(scenario, Outcome::Local);
            drop(metrics);
            tracing::debug!(
                worker = self.index,
                scenario = scenario.name(),
                "no user can run it"
            );
            return true;
        };
        drop(metrics);
        match scenario {
            MixScenario::Message => self.send_text_as(now, index, false),
            MixScenario::GroupChat => self.send_text_as(now, index, true),
            MixScenario::Refresh | MixScenario::RegEvent => {
                self.start_reregistration(now, index, scenario);
            }
        }
        true
    }

    /// Whether local user `index` can run `scenario` now, later, or never.
    fn availability(&self, scenario: MixScenario, index: usize) -> Availability {
        let Some(vu) = self.vus.get(index) else {
            return Availability::Never;
        };
        match scenario {
            MixScenario::Message | MixScenario::GroupChat => Availability::Free,
            _ if matches!(vu.state, VuState::Failed | VuState::Done) => Availability::Never,
            // Registered, and its subscription neither active nor awaited: refused or
            // unanswered, which the engine does not try again.
            MixScenario::RegEvent
                if vu.state == VuState::Registered
                    && !vu.subscribed
                    && vu.subscribing.is_none() =>
            {
                Availability::Never
            }
            // Its SUBSCRIBE is still on its way: no NOTIFY would tell of a re-registration
            // before the subscription is active.
            MixScenario::RegEvent if !vu.subscribed => Availability::Later,
            _ if vu.state == VuState::Registered && vu.attempt.is_none() => Availability::Free,
            _ => Availability::Later,
        }
    }

    /// A registered user registers again now; the engine's refresh does it (its REGISTER
    /// is measured as a refresh).
    fn start_reregistration(&mut self, now: Instant, index: usize, scenario: MixScenario) {
        let Some(mix) = self.mix.as_mut() else {
            return;
        };
        let deadline = now + mix.give_up;
        mix.next_deadline = Some(mix.next_deadline.map_or(deadline, |d| d.min(deadline)));
        let Some(vu) = self.vus.get_mut(index) else {
            return;
        };
        vu.attempt = Some(MixAttempt {
            scenario,
            registered: false,
            notified: false,
            deadline,
        });
        mix.outstanding += 1;
        let account = vu.account;
        if !self.command(now, Command::Refresh { account }) {
            self.end_attempt(index, Outcome::Local);
        }
    }

    /// The next arrival of a `mixed` run waits for a user to become free.
    pub(crate) fn mixed_waiting(&self) -> bool {
        self.mix.as_ref().is_some_and(|mix| mix.waiting)
    }

    /// No re-registration of a `mixed` arrival is in flight.
    pub(crate) fn mixed_idle(&self) -> bool {
        self.mix.as_ref().is_none_or(|mix| mix.outstanding == 0)
    }

    /// Gives up the re-registrations past their deadline (no answer, or no NOTIFY).
    pub(crate) fn mixed_expire(&mut self, now: Instant) {
        // Called on every turn of the worker's loop: the users are walked only once the
        // earliest deadline has come.
        let due = |mix: &MixState| {
            mix.outstanding > 0 && mix.next_deadline.is_some_and(|deadline| deadline <= now)
        };
        if !self.mix.as_ref().is_some_and(due) {
            return;
        }
        let mut late = Vec::new();
        let mut next_deadline: Option<Instant> = None;
        for (index, vu) in self.vus.iter().enumerate() {
            let Some(attempt) = vu.attempt else { continue };
            if attempt.deadline <= now {
                late.push(index);
            } else {
                next_deadline =
                    Some(next_deadline.map_or(attempt.deadline, |d| d.min(attempt.deadline)));
            }
        }
        if let Some(mix) = self.mix.as_mut() {
            mix.next_deadline = next_deadline;
        }
        for index in late {
            tracing::debug!(worker = self.index, index, "mixed re-registration given up");
            self.end_attempt(index, Outcome::Timeout);
        }
    }

    /// A text of a `mixed` run ended (the text's first 2xx, or its last failure).
    pub(crate) fn mixed_text_ended(&mut self, kind: Kind, outcome: Outcome) {
        if self.mix.is_none() {
            return;
        }
        let scenario = match kind {
            Kind::GroupMessage => MixScenario::GroupChat,
            _ => MixScenario::Message,
        };
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .scenario_ended(scenario, outcome);
    }

    /// Local user `index`'s REGISTER ended (accepted or not): a refresh attempt ends
    /// with it; a reg-event attempt once its NOTIFY has come too.
    pub(crate) fn mixed_registration_ended(&mut self, index: usize, outcome: Outcome) {
        let Some(attempt) = self.vus.get_mut(index).and_then(|vu| vu.attempt.as_mut()) else {
            return;
        };
        let success = matches!(outcome, Outcome::Status(200..=299));
        attempt.registered = true;
        if !success || attempt.scenario == MixScenario::Refresh || attempt.notified {
            self.end_attempt(index, outcome);
        }
    }

    /// A NOTIFY of local user `index`'s reg-event subscription brought news.
    pub(crate) fn mixed_notified(&mut self, index: usize) {
        let Some(attempt) = self.vus.get_mut(index).and_then(|vu| vu.attempt.as_mut()) else {
            return;
        };
        if attempt.scenario != MixScenario::RegEvent {
            return;
        }
        attempt.notified = true;
        if attempt.registered {
            self.end_attempt(index, Outcome::Status(200));
        }
    }

    /// Local user `index`'s reg-event subscription failed: a reg-event attempt waiting for
    /// its NOTIFY will not get one, and ends with that failure.
    pub(crate) fn mixed_subscription_failed(&mut self, index: usize, outcome: Outcome) {
        let reg_event = self
            .vus
            .get(index)
            .and_then(|vu| vu.attempt.as_ref())
            .is_some_and(|attempt| attempt.scenario == MixScenario::RegEvent);
        if reg_event {
            self.end_attempt(index, outcome);
        }
    }

    /// Local user `index` de-registers (the run ends, or Ctrl-C): a re-registration of a
    /// `mixed` arrival still waiting ends as failed.
    pub(crate) fn mixed_interrupted(&mut self, index: usize) {
        self.end_attempt(index, Outcome::Local);
    }

    fn end_attempt(&mut self, index: usize, outcome: Outcome) {
        let Some(attempt) = self.vus.get_mut(index).and_then(|vu| vu.attempt.take()) else {
            return;
        };
        if let Some(mix) = self.mix.as_mut() {
            mix.outstanding = mix.outstanding.saturating_sub(1);
        }
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .scenario_ended(attempt.scenario, outcome);
    }
}
