//! Server transactions: INVITE (RFC 3261 §17.2.1, with RFC 6026's Accepted state) and
//! non-INVITE (§17.2.2).

use std::time::{Duration, Instant};

use super::TransactionKind;
use super::timers::{TimerAction, TimerConfig};

/// Where a server transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE received, nothing sent yet: retransmissions are absorbed.
    Trying,
    /// A provisional response was sent (an INVITE starts here).
    Proceeding,
    /// A final response was sent (INVITE: 300–699, retransmitted by Timer G until ACK).
    Completed,
    /// INVITE only: the ACK arrived; Timer I absorbs its retransmissions.
    Confirmed,
    /// INVITE only: a 2xx was sent; retransmitted INVITEs are absorbed (RFC 6026 Timer L).
    Accepted,
    /// Done; the engine forgets the transaction.
    Terminated,
}

/// What to do with a request that matched a server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestAction {
    /// Absorb it silently.
    Absorb,
    /// Send the last response again.
    ResendResponse,
    /// An ACK for a 2xx (RFC 6026): it belongs to the dialog, hand it up.
    DeliverAck,
}

/// One server transaction: its state and timers. The engine keeps the last response.
#[derive(Debug)]
pub struct ServerTransaction {
    kind: TransactionKind,
    state: ServerState,
    reliable: bool,
    interval: Duration,
    /// Timer G.
    retransmit_at: Option<Instant>,
    /// Timer H.
    timeout_at: Option<Instant>,
    /// Timers I, J, L.
    terminate_at: Option<Instant>,
}

impl ServerTransaction {
    /// A new request arrived. INVITE starts in Proceeding (the engine sends 100 Trying at
    /// once, §17.2.1), anything else in Trying.
    pub fn start(kind: TransactionKind, reliable: bool, timers: &TimerConfig) -> ServerTransaction {
        ServerTransaction {
            kind,
            state: match kind {
                TransactionKind::Invite => ServerState::Proceeding,
                TransactionKind::NonInvite => ServerState::Trying,
            },
            reliable,
            interval: timers.t1,
            retransmit_at: None,
            timeout_at: None,
            terminate_at: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// INVITE or non-INVITE.
    pub fn kind(&self) -> TransactionKind {
        self.kind
    }

    /// Whether the transaction user may still send a response.
    pub fn can_respond(&self) -> bool {
        matches!(self.state, ServerState::Trying | ServerState::Proceeding)
    }

    /// The earliest time a timer of this transaction fires.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.terminate_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// The same request arrived again (or, for INVITE, its ACK when `is_ack`).
    pub fn on_request(
        &mut self,
        now: Instant,
        is_ack: bool,
        timers: &TimerConfig,
    ) -> RequestAction {
        match (self.kind, self.state, is_ack) {
            (TransactionKind::Invite, ServerState::Completed, true) => {
                self.state = ServerState::Confirmed;
                self.retransmit_at = None;
                self.timeout_at = None;
                let linger = if self.reliable {
                    Duration::ZERO
                } else {
                    timers.t4
                };
                self.terminate_at = Some(now + linger);
                RequestAction::Absorb
            }
            (TransactionKind::Invite, ServerState::Accepted, true) => RequestAction::DeliverAck,
            (_, _, true) => RequestAction::Absorb,
            (TransactionKind::Invite, ServerState::Proceeding | ServerState::Completed, false) => {
                RequestAction::ResendResponse
            }
            (
                TransactionKind::NonInvite,
                ServerState::Proceeding | ServerState::Completed,
                false,
            ) => RequestAction::ResendResponse,
            _ => RequestAction::Absorb,
        }
    }

    /// The transaction user sends a response with `status`. Returns false (and changes
    /// nothing) when the transaction can no longer respond.
    pub fn on_send_response(&mut self, now: Instant, status: u16, timers: &TimerConfig) -> bool {
        if !self.can_respond() {
            return false;
        }
        if status < 200 {
            self.state = ServerState::Proceeding;
            return true;
        }
        match self.kind {
            TransactionKind::NonInvite => {
                self.state = ServerState::Completed;
                if self.reliable {
                    self.state = ServerState::Terminated;
                } else {
                    self.terminate_at = Some(now + timers.t1_x64()); // Timer J
                }
            }
            TransactionKind::Invite if status < 300 => {
                self.state = ServerState::Accepted;
                self.terminate_at = Some(now + timers.t1_x64()); // Timer L
            }
            TransactionKind::Invite => {
                self.state = ServerState::Completed;
                if !self.reliable {
                    self.retransmit_at = Some(now + timers.t1); // Timer G
                }
                self.timeout_at = Some(now + timers.t1_x64()); // Timer H
            }
        }
        true
    }

    /// The transport failed to deliver a response: the transaction ends (§17.2.4).
    pub fn on_transport_error(&mut self) {
        self.state = ServerState::Terminated;
        self.retransmit_at = None;
        self.timeout_at = None;
        self.terminate_at = None;
    }

    /// Runs the timers due at `now`.
    pub fn on_timer(&mut self, now: Instant, timers: &TimerConfig) -> TimerAction {
        if self.state == ServerState::Terminated {
            return TimerAction::Terminated;
        }
        if self.terminate_at.is_some_and(|at| at <= now) {
            self.on_transport_error();
            return TimerAction::Terminated;
        }
        if self.timeout_at.is_some_and(|at| at <= now) {
            // Timer H: the ACK never came.
            self.on_transport_error();
            return TimerAction::Timeout;
        }
        match self.retransmit_at {
            Some(at) if at <= now => {
                self.interval = self.interval.saturating_mul(2).min(timers.t2);
                self.retransmit_at = Some(at + self.interval);
                TimerAction::Retransmit
            }
            _ => TimerAction::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn now() -> Instant {
        Instant::now()
    }

    #[test]
    fn non_invite_absorbs_in_trying_and_resends_final_until_timer_j() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ServerTransaction::start(TransactionKind::NonInvite, false, &timers);
        assert_eq!(t.on_request(start, false, &timers), RequestAction::Absorb);
        assert!(t.on_send_response(start, 200, &timers));
        assert_eq!(t.state(), ServerState::Completed);
        assert_eq!(
            t.on_request(start, false, &timers),
            RequestAction::ResendResponse
        );
        assert!(
            !t.on_send_response(start, 500, &timers),
            "one final response only"
        );
        assert_eq!(t.next_deadline(), Some(start + Duration::from_secs(32)));
        assert_eq!(
            t.on_timer(start + Duration::from_secs(32), &timers),
            TimerAction::Terminated
        );
    }

    #[test]
    fn invite_error_retransmits_on_timer_g_until_ack_then_timer_i() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ServerTransaction::start(TransactionKind::Invite, false, &timers);
        assert!(t.on_send_response(start, 486, &timers));
        let mut fired = Vec::new();
        while let Some(at) = t.next_deadline() {
            if at > start + Duration::from_secs(10) {
                break;
            }
            assert_eq!(t.on_timer(at, &timers), TimerAction::Retransmit);
            fired.push((at - start).as_millis());
        }
        assert_eq!(fired, vec![500, 1500, 3500, 7500]);
        assert_eq!(
            t.on_request(start + Duration::from_secs(10), true, &timers),
            RequestAction::Absorb
        );
        assert_eq!(t.state(), ServerState::Confirmed);
        assert_eq!(t.next_deadline(), Some(start + Duration::from_secs(15)));
    }

    #[test]
    fn invite_error_without_ack_times_out_on_timer_h() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ServerTransaction::start(TransactionKind::Invite, false, &timers);
        t.on_send_response(start, 603, &timers);
        let mut last = TimerAction::Nothing;
        while let Some(at) = t.next_deadline() {
            last = t.on_timer(at, &timers);
            if last != TimerAction::Retransmit {
                assert_eq!(at, start + Duration::from_secs(32));
                break;
            }
        }
        assert_eq!(last, TimerAction::Timeout);
    }

    #[test]
    fn invite_2xx_is_accepted_and_hands_acks_up() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ServerTransaction::start(TransactionKind::Invite, false, &timers);
        assert_eq!(
            t.on_request(start, false, &timers),
            RequestAction::ResendResponse
        );
        t.on_send_response(start, 200, &timers);
        assert_eq!(t.state(), ServerState::Accepted);
        assert_eq!(t.on_request(start, false, &timers), RequestAction::Absorb);
        assert_eq!(
            t.on_request(start, true, &timers),
            RequestAction::DeliverAck
        );
    }
}
