//! `mixed` runs: each arrival takes the next scenario from the worker's [`Mixer`] and a
//! local user that can run it now, and runs the scenario's own steps (a text as in
//! `message` or `group-chat`, a re-registration through the engine's refresh, a reg-event
//! subscription in a new dialog). Each arrival is counted under its scenario when it
//! starts and when it ends.
//!
//! A reg-event arrival is what a UE does as it comes online: SUBSCRIBE to its own
//! registration state (RFC 3680), and the attempt succeeds once both the 200 and the
//! first NOTIFY (the full reginfo) have come, in either order. The user then ends the
//! subscription (SUBSCRIBE with Expires: 0, counted as an `unsubscribe` transaction) and
//! takes no other re-registration until that is answered. So every arrival costs the
//! S-CSCF the same work (a new subscription, not a refresh of an old one), any number
//! of them can run on a fixed set of users, and no subscription is left at the end of
//! the run.

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
    /// Re-registrations and reg-event subscriptions in flight, and unsubscriptions.
    outstanding: usize,
    /// How long an attempt may take, a NOTIFY included, before it is given up.
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

/// A re-registration or reg-event subscription a `mixed` arrival started on a user.
#[derive(Debug, Clone, Copy)]
pub struct MixAttempt {
    scenario: MixScenario,
    /// reg-event: the SUBSCRIBE's 200 came.
    answered: bool,
    /// reg-event: the first NOTIFY came.
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
            // Any registered user, one attempt at a time.
            MixScenario::Refresh | MixScenario::RegEvent => local(&|_| true),
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
            // A REGISTER and its challenged repeat, each up to Timer F, then the NOTIFY
            // (a SUBSCRIBE takes one Timer F at most).
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
            MixScenario::Refresh => self.start_reregistration(now, index),
            MixScenario::RegEvent => self.start_reg_event(now, index),
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
            // Registered, with no attempt and no unsubscription in flight.
            _ if vu.state == VuState::Registered
                && vu.attempt.is_none()
                && vu.unsubscribing.is_none() =>
            {
                Availability::Free
            }
            _ => Availability::Later,
        }
    }

    /// Starts an attempt of `scenario` on local user `index`; its account.
    fn begin_attempt(
        &mut self,
        now: Instant,
        index: usize,
        scenario: MixScenario,
    ) -> Option<ims_core::ua::AccountId> {
        let mix = self.mix.as_mut()?;
        let vu = self.vus.get_mut(index)?;
        let deadline = now + mix.give_up;
        mix.next_deadline = Some(mix.next_deadline.map_or(deadline, |d| d.min(deadline)));
        vu.attempt = Some(MixAttempt {
            scenario,
            answered: false,
            notified: false,
            deadline,
        });
        mix.outstanding += 1;
        Some(vu.account)
    }

    /// A registered user registers again now; the engine's refresh does it (its REGISTER
    /// is measured as a refresh).
    fn start_reregistration(&mut self, now: Instant, index: usize) {
        let Some(account) = self.begin_attempt(now, index, MixScenario::Refresh) else {
            return;
        };
        if !self.command(now, Command::Refresh { account }) {
            self.end_attempt(index, Outcome::Local);
        }
    }

    /// A registered user subscribes to its registration state in a new dialog (measured
    /// as a `subscribe` transaction, up to the 200).
    fn start_reg_event(&mut self, now: Instant, index: usize) {
        let Some(account) = self.begin_attempt(now, index, MixScenario::RegEvent) else {
            return;
        };
        self.start_subscription(now, index);
        if !self.command(now, Command::SubscribeRegEvent { account }) {
            self.end_subscription(now, account, Outcome::Local);
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
            tracing::debug!(worker = self.index, index, "mixed attempt given up");
            self.finish_attempt(now, index, Outcome::Timeout);
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
    /// with it.
    pub(crate) fn mixed_registration_ended(&mut self, index: usize, outcome: Outcome) {
        self.end_attempt_of(index, MixScenario::Refresh, outcome);
    }

    /// Local user `index`'s reg-event SUBSCRIBE got its 200: a reg-event attempt ends
    /// if its first NOTIFY has come too.
    pub(crate) fn mixed_subscribed(&mut self, now: Instant, index: usize) {
        self.reg_event_step(now, index, |attempt| attempt.answered = true);
    }

    /// A NOTIFY of local user `index`'s reg-event subscription came: a reg-event attempt
    /// ends if the SUBSCRIBE's 200 has come too.
    pub(crate) fn mixed_notified(&mut self, now: Instant, index: usize) {
        self.reg_event_step(now, index, |attempt| attempt.notified = true);
    }

    fn reg_event_step(&mut self, now: Instant, index: usize, step: impl FnOnce(&mut MixAttempt)) {
        let Some(attempt) = self.vus.get_mut(index).and_then(|vu| vu.attempt.as_mut()) else {
            return;
        };
        if attempt.scenario != MixScenario::RegEvent {
            return;
        }
        step(attempt);
        if attempt.answered && attempt.notified {
            self.finish_attempt(now, index, Outcome::Status(200));
        }
    }

    /// Local user `index`'s reg-event subscription failed: a reg-event attempt waiting for
    /// its NOTIFY will not get one, and ends with that failure.
    pub(crate) fn mixed_subscription_failed(&mut self, index: usize, outcome: Outcome) {
        self.end_attempt_of(index, MixScenario::RegEvent, outcome);
    }

    /// Ends local user `index`'s attempt with `outcome` when it is one of `scenario`.
    fn end_attempt_of(&mut self, index: usize, scenario: MixScenario, outcome: Outcome) {
        let running = self
            .vus
            .get(index)
            .and_then(|vu| vu.attempt.as_ref())
            .is_some_and(|attempt| attempt.scenario == scenario);
        if running {
            self.end_attempt(index, outcome);
        }
    }

    /// Local user `index` de-registers (the run ends, or Ctrl-C): a re-registration of a
    /// `mixed` arrival still waiting ends as failed.
    pub(crate) fn mixed_interrupted(&mut self, index: usize) {
        self.end_attempt(index, Outcome::Local);
    }

    /// Ends local user `index`'s attempt; a reg-event attempt whose subscription is
    /// active ends it (the user stays busy until that is answered).
    fn finish_attempt(&mut self, now: Instant, index: usize, outcome: Outcome) {
        let ended = self.end_attempt(index, outcome);
        let subscribed = self.vus.get(index).is_some_and(|vu| vu.subscribed);
        if ended == Some(MixScenario::RegEvent) && subscribed {
            self.unsubscribe(now, index);
        }
    }

    /// Local user `index` ends its reg-event subscription.
    fn unsubscribe(&mut self, now: Instant, index: usize) {
        let Some(vu) = self.vus.get_mut(index) else {
            return;
        };
        vu.unsubscribing = Some(now);
        let account = vu.account;
        if let Some(mix) = self.mix.as_mut() {
            mix.outstanding += 1;
        }
        if !self.command(now, Command::UnsubscribeRegEvent { account }) {
            self.unsubscribed(now, index, None);
        }
    }

    /// Local user `index`'s unsubscription ended: with the status of its answer (408:
    /// none), or `None` when nothing was sent (the subscription was no longer active).
    pub(crate) fn unsubscribed(&mut self, now: Instant, index: usize, status: Option<u16>) {
        let Some(vu) = self.vus.get_mut(index) else {
            return;
        };
        vu.subscribed = false;
        let Some(since) = vu.unsubscribing.take() else {
            return;
        };
        if let Some(mix) = self.mix.as_mut() {
            mix.outstanding = mix.outstanding.saturating_sub(1);
        }
        let Some(status) = status else {
            tracing::debug!(worker = self.index, index, "no subscription left to end");
            return;
        };
        let outcome = if status == 408 {
            Outcome::Timeout
        } else {
            Outcome::Status(status)
        };
        let at = self.since_start(since);
        let mut metrics = self.metrics.lock().unwrap_or_else(PoisonError::into_inner);
        metrics.unsubscribe.start(at);
        metrics
            .unsubscribe
            .end(outcome, now.saturating_duration_since(since));
    }

    /// Ends local user `index`'s attempt (if any) with `outcome`; its scenario.
    fn end_attempt(&mut self, index: usize, outcome: Outcome) -> Option<MixScenario> {
        let attempt = self.vus.get_mut(index).and_then(|vu| vu.attempt.take())?;
        if let Some(mix) = self.mix.as_mut() {
            mix.outstanding = mix.outstanding.saturating_sub(1);
        }
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .scenario_ended(attempt.scenario, outcome);
        Some(attempt.scenario)
    }
}
