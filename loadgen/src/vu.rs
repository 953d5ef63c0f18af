//! A virtual user's state, and how the worker turns engine events into its transitions
//! and measurements: a registration attempt runs from the first REGISTER to the 2xx (a
//! Digest challenge included), a text from the command to its (first) 2xx.
#![allow(clippy::disallowed_methods)] // events are stamped with the worker's clock

use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ims_core::engine::{Command, Event};
use ims_core::ua::{
    AccountId, GroupMode, GroupTarget, MessageError, OutgoingMessage, RegistrationError,
};

use crate::cli::{GroupModeArg, Scenario};
use crate::metrics::{Kind, Outcome};
use crate::worker::Worker;

mod mixed;
mod reg_event;

pub use mixed::MixState;

/// Where a virtual user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VuState {
    /// Not started.
    Idle,
    /// A registration attempt (first, or again after a failure) since the instant.
    Registering {
        /// When it started.
        since: Instant,
        /// Register (never registered yet) or Refresh.
        kind: Kind,
    },
    /// Registered; the engine refreshes by itself.
    Registered,
    /// A refresh since the instant.
    Refreshing {
        /// When it started.
        since: Instant,
    },
    /// The engine retries after a failure.
    Retrying,
    /// A de-registration since the instant.
    Unregistering {
        /// When it started.
        since: Instant,
    },
    /// De-registered (or never registered and stopped).
    Done,
    /// Gave up (a permanent failure).
    Failed,
}

impl VuState {
    /// The states counted in `Shared::vus`, by slot (idle users are the rest).
    pub const COUNTED: [&'static str; 7] = [
        "registering",
        "registered",
        "refreshing",
        "retrying",
        "unregistering",
        "de-registered",
        "failed",
    ];

    /// Its slot in `Shared::vus` (`None`: idle, not counted).
    pub fn slot(self) -> Option<usize> {
        match self {
            VuState::Idle => None,
            VuState::Registering { .. } => Some(0),
            VuState::Registered => Some(1),
            VuState::Refreshing { .. } => Some(2),
            VuState::Retrying => Some(3),
            VuState::Unregistering { .. } => Some(4),
            VuState::Done => Some(5),
            VuState::Failed => Some(6),
        }
    }
}

/// One virtual user.
#[derive(Debug)]
pub struct Vu {
    /// Its account in the worker's engine.
    pub account: AccountId,
    /// Where it is.
    pub state: VuState,
    /// It registered at least once (or failed for good): counted in `Shared::settled`.
    pub settled: bool,
    /// Counted in `Shared::registered` now.
    pub counted: bool,
    /// Its reg-event subscription is awaited since (reg-event runs).
    pub subscribing: Option<Instant>,
    /// Its reg-event subscription is active.
    pub subscribed: bool,
    /// The re-registration or reg-event subscription a `mixed` arrival started on it,
    /// in flight.
    pub attempt: Option<mixed::MixAttempt>,
    /// `mixed`: the end of its reg-event subscription is awaited since.
    pub unsubscribing: Option<Instant>,
}

impl Vu {
    /// A user not started yet.
    pub fn new(account: AccountId) -> Vu {
        Vu {
            account,
            state: VuState::Idle,
            settled: false,
            counted: false,
            subscribing: None,
            subscribed: false,
            attempt: None,
            unsubscribing: None,
        }
    }
}

/// A text in flight.
#[derive(Debug)]
pub struct Pending {
    /// Message or GroupMessage.
    pub kind: Kind,
    /// When it was commanded.
    pub since: Instant,
    /// Copies not answered yet (fan-out: one per member).
    pub outstanding: usize,
    /// A 2xx came (the attempt is recorded).
    pub accepted: bool,
    /// The last failure, recorded if no copy succeeds.
    pub failure: Option<Outcome>,
}

/// The outcome a registration error stands for.
fn registration_outcome(error: &RegistrationError) -> Outcome {
    match error {
        RegistrationError::Rejected { status, .. }
        | RegistrationError::Unavailable { status, .. } => Outcome::Status(*status),
        RegistrationError::NoUsableChallenge { status } => Outcome::Status(*status),
        RegistrationError::AuthenticationFailed { .. } | RegistrationError::ChallengeLoop => {
            Outcome::Status(401)
        }
        RegistrationError::IntervalTooBrief => Outcome::Status(423),
        RegistrationError::Timeout { .. } => Outcome::Timeout,
        RegistrationError::Transport { .. } => Outcome::Transport,
        _ => Outcome::Local,
    }
}

fn message_outcome(error: &MessageError) -> Outcome {
    match error {
        MessageError::Rejected { status, .. } => Outcome::Status(*status),
        MessageError::Timeout => Outcome::Timeout,
        MessageError::Transport => Outcome::Transport,
        _ => Outcome::Local,
    }
}

impl Worker {
    /// Registers local user `index`.
    pub(crate) fn start_registration(&mut self, now: Instant, index: usize) {
        let Some(account) = self.account(index) else {
            return;
        };
        self.set_state(
            index,
            VuState::Registering {
                since: now,
                kind: Kind::Register,
            },
        );
        self.record_started(Kind::Register, now);
        if !self.command(now, Command::Register { account }) {
            self.record_ended(Kind::Register, Outcome::Local, now, now);
            self.set_state(index, VuState::Failed);
            self.settle(index);
        }
    }

    /// De-registers local user `index` (registered, or waiting to retry).
    pub(crate) fn start_deregistration(&mut self, now: Instant, index: usize) {
        let Some(vu) = self.vus.get(index) else {
            return;
        };
        let account = vu.account;
        // A mixed re-registration still waiting (for its NOTIFY) ends unfinished.
        self.mixed_interrupted(index);
        if self.state(index) == Some(VuState::Registered) {
            self.set_state(index, VuState::Unregistering { since: now });
            self.record_started(Kind::Deregister, now);
        } else {
            // Waiting to retry: nothing is registered; the engine just stops retrying.
            self.set_state(index, VuState::Done);
        }
        if !self.command(now, Command::Unregister { account }) {
            if matches!(self.state(index), Some(VuState::Unregistering { .. })) {
                self.record_ended(Kind::Deregister, Outcome::Local, now, now);
            }
            self.set_state(index, VuState::Done);
        }
    }

    /// Sends the next text of the scenario from local user `index`.
    pub(crate) fn send_text(&mut self, now: Instant, index: usize) {
        self.send_text_as(now, index, self.plan.scenario == Scenario::GroupChat);
    }

    /// Sends a text from local user `index`: to its group (`group`), or to its peer.
    pub(crate) fn send_text_as(&mut self, now: Instant, index: usize, group: bool) {
        let Some(account) = self.account(index) else {
            return;
        };
        let global = self.first + index;
        let id = self.next_message;
        self.next_message += 1;
        let body = format!("imsload {} #{id} from user {global}", self.index).into_bytes();
        let (kind, to, group, copies) = if group {
            let members = self.plan.group_of(global);
            let group = global / self.plan.group_size.max(2);
            let uri = self.plan.group_uri(group);
            let (mode, copies) = match self.plan.group_mode {
                GroupModeArg::Network => (GroupMode::Network, 1),
                GroupModeArg::FanOut => {
                    let members: Vec<String> = members
                        .filter(|&member| member != global)
                        .filter_map(|member| self.aor(member))
                        .collect();
                    let copies = members.len();
                    (GroupMode::FanOut { members }, copies)
                }
            };
            let target = GroupTarget {
                name: format!("imsload group {group}"),
                uri: uri.clone(),
                mode,
            };
            (Kind::GroupMessage, uri, Some(target), copies)
        } else {
            let Some(peer) = self.aor(global ^ 1) else {
                return;
            };
            (Kind::Message, peer, None, 1)
        };
        self.record_started(kind, now);
        self.pending.insert(
            id,
            Pending {
                kind,
                since: now,
                outstanding: copies.max(1),
                accepted: false,
                failure: None,
            },
        );
        let message = OutgoingMessage {
            id,
            to,
            body,
            content_type: "text/plain;charset=UTF-8".to_owned(),
            call_id: None,
            cseq: None,
            group,
            headers: Vec::new(),
        };
        if !self.command(now, Command::SendMessage { account, message }) {
            self.pending.remove(&id);
            self.record_ended(kind, Outcome::Local, now, now);
        }
    }

    /// Turns one engine event into state changes and measurements.
    pub(crate) fn handle_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Registering { account } => self.on_registering(now, account),
            Event::Registered { account, .. } => self.on_registered(now, account),
            Event::RegistrationFailed {
                account,
                reason,
                retry_in,
            } => self.on_registration_failed(now, account, &reason, retry_in.is_some()),
            Event::Unregistered { account } => self.on_unregistered(now, account),
            Event::RegEventSubscribed { account, .. } => {
                self.on_reg_event_subscribed(now, account);
            }
            Event::RegEventFailed {
                account, status, ..
            } => self.on_reg_event_failed(now, account, status),
            Event::RegEventUnsubscribed { account, status } => {
                self.unsubscribed(now, account.index(), status);
            }
            Event::RegInfo { account, .. } => self.on_reg_info(now, account),
            Event::MessageAccepted { id, status, .. } => {
                self.on_message_answer(now, id, Outcome::Status(status));
            }
            Event::MessageFailed { id, reason, .. } => {
                tracing::debug!(worker = self.index, id, %reason, "message failed");
                self.on_message_answer(now, id, message_outcome(&reason));
            }
            Event::MessageReceived(incoming) => {
                {
                    let mut metrics = self.metrics.lock().unwrap_or_else(PoisonError::into_inner);
                    if incoming.group.is_some() {
                        metrics.group_messages_received += 1;
                    } else {
                        metrics.messages_received += 1;
                    }
                }
                self.respond(now, incoming.transaction, 200);
            }
            Event::IncomingRequest(request) => {
                self.metrics
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .other_requests += 1;
                let status = status_for_request(request.method.as_str());
                self.respond(now, request.transaction, status);
            }
            _ => {}
        }
    }

    fn respond(
        &mut self,
        now: Instant,
        transaction: ims_core::transaction::TransactionKey,
        status: u16,
    ) {
        self.command(now, plain_response(transaction, status));
    }

    fn on_registering(&mut self, now: Instant, account: AccountId) {
        let index = account.index();
        match self.state(index) {
            Some(VuState::Registered) => {
                self.set_state(index, VuState::Refreshing { since: now });
                self.record_started(Kind::Refresh, now);
            }
            Some(VuState::Retrying | VuState::Idle) => {
                let kind = if self.vus.get(index).is_some_and(|vu| vu.settled) {
                    Kind::Refresh
                } else {
                    Kind::Register
                };
                self.set_state(index, VuState::Registering { since: now, kind });
                self.record_started(kind, now);
            }
            // A challenge answer or a de-registration: the attempt goes on.
            _ => {}
        }
        // The first REGISTER of an attempt or an answer to a challenge.
        let kind = match self.state(index) {
            Some(VuState::Registering { kind, .. }) => Some(kind),
            Some(VuState::Refreshing { .. }) => Some(Kind::Refresh),
            _ => None,
        };
        if let Some(kind) = kind {
            self.metrics
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .request_sent(kind);
        }
    }

    fn on_registered(&mut self, now: Instant, account: AccountId) {
        let index = account.index();
        match self.state(index) {
            Some(VuState::Registering { since, kind }) => {
                self.record_ended(kind, Outcome::Status(200), since, now);
                if kind == Kind::Register {
                    self.expect_subscription(now, index);
                }
            }
            Some(VuState::Refreshing { since }) => {
                self.record_ended(Kind::Refresh, Outcome::Status(200), since, now);
            }
            _ => {}
        }
        if !matches!(
            self.state(index),
            Some(VuState::Unregistering { .. } | VuState::Done)
        ) {
            self.set_state(index, VuState::Registered);
            self.count_registered(index, true);
            self.settle(index);
        }
        self.mixed_registration_ended(index, Outcome::Status(200));
    }

    fn on_registration_failed(
        &mut self,
        now: Instant,
        account: AccountId,
        reason: &RegistrationError,
        retrying: bool,
    ) {
        let index = account.index();
        let outcome = registration_outcome(reason);
        let next = if retrying {
            VuState::Retrying
        } else {
            VuState::Failed
        };
        match self.state(index) {
            Some(VuState::Registering { since, kind }) => {
                self.record_ended(kind, outcome, since, now);
                self.set_state(index, next);
            }
            Some(VuState::Refreshing { since }) => {
                self.record_ended(Kind::Refresh, outcome, since, now);
                self.set_state(index, next);
            }
            Some(VuState::Unregistering { since }) => {
                self.record_ended(Kind::Deregister, outcome, since, now);
                self.set_state(index, VuState::Done);
            }
            Some(VuState::Registered) => self.set_state(index, next),
            _ => {}
        }
        self.count_registered(index, false);
        if !retrying {
            self.settle(index);
        }
        self.mixed_registration_ended(index, outcome);
    }

    fn on_unregistered(&mut self, now: Instant, account: AccountId) {
        let index = account.index();
        let next = match self.state(index) {
            Some(VuState::Unregistering { since }) => {
                self.record_ended(Kind::Deregister, Outcome::Status(200), since, now);
                VuState::Done
            }
            _ if self.shared.phase().0 == crate::shared::Phase::Deregister => VuState::Done,
            // The registrar dropped the binding: the engine registers again by itself.
            _ => VuState::Idle,
        };
        self.set_state(index, next);
        self.count_registered(index, false);
    }

    fn on_message_answer(&mut self, now: Instant, id: u64, outcome: Outcome) {
        let Some(pending) = self.pending.get_mut(&id) else {
            return;
        };
        pending.outstanding = pending.outstanding.saturating_sub(1);
        let success = matches!(outcome, Outcome::Status(200..=299));
        let (kind, since) = (pending.kind, pending.since);
        let first_success = success && !pending.accepted;
        if success {
            pending.accepted = true;
        } else {
            pending.failure = Some(outcome);
        }
        let finished = pending.outstanding == 0;
        let failure = (!pending.accepted).then_some(pending.failure).flatten();
        if finished {
            self.pending.remove(&id);
        }
        if first_success {
            self.record_ended(kind, outcome, since, now);
            self.mixed_text_ended(kind, outcome);
        } else if finished && let Some(failure) = failure {
            self.record_ended(kind, failure, since, now);
            self.mixed_text_ended(kind, failure);
        }
    }

    pub(crate) fn state(&self, index: usize) -> Option<VuState> {
        self.vus.get(index).map(|vu| vu.state)
    }

    fn set_state(&mut self, index: usize, state: VuState) {
        if let Some(vu) = self.vus.get_mut(index) {
            let (from, to) = (vu.state.slot(), state.slot());
            vu.state = state;
            if from != to {
                if let Some(slot) = from.and_then(|slot| self.shared.vus.get(slot)) {
                    slot.fetch_sub(1, Ordering::Relaxed);
                }
                if let Some(slot) = to.and_then(|slot| self.shared.vus.get(slot)) {
                    slot.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn settle(&mut self, index: usize) {
        if let Some(vu) = self.vus.get_mut(index)
            && !vu.settled
        {
            vu.settled = true;
            self.shared.settled.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn count_registered(&mut self, index: usize, registered: bool) {
        if let Some(vu) = self.vus.get_mut(index)
            && vu.counted != registered
        {
            vu.counted = registered;
            if registered {
                self.shared.registered.fetch_add(1, Ordering::AcqRel);
            } else {
                self.shared.registered.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

/// The status a virtual user answers a request other than MESSAGE with: 200 to OPTIONS and
/// NOTIFY (a reg-event NOTIFY included), 501 to anything else.
pub(crate) fn status_for_request(method: &str) -> u16 {
    if matches!(method, "OPTIONS" | "NOTIFY") {
        200
    } else {
        501
    }
}

/// A response with only a status: no reason phrase of our own, no header, no body.
pub(crate) fn plain_response(
    transaction: ims_core::transaction::TransactionKey,
    status: u16,
) -> Command {
    Command::Respond {
        transaction,
        status,
        reason: None,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_but_idle_has_its_own_slot() {
        let now = Instant::now();
        let states = [
            VuState::Registering {
                since: now,
                kind: Kind::Register,
            },
            VuState::Registered,
            VuState::Refreshing { since: now },
            VuState::Retrying,
            VuState::Unregistering { since: now },
            VuState::Done,
            VuState::Failed,
        ];
        let slots: Vec<_> = states.iter().map(|state| state.slot()).collect();
        assert_eq!(
            slots,
            (0..VuState::COUNTED.len()).map(Some).collect::<Vec<_>>()
        );
        assert_eq!(VuState::Idle.slot(), None);
    }
}
