//! Client transactions: INVITE (RFC 3261 §17.1.1, with RFC 6026's Accepted state) and
//! non-INVITE (§17.1.2).

use std::time::{Duration, Instant};

use super::TransactionKind;
use super::timers::{TimerAction, TimerConfig};

/// Where a client transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// INVITE sent, nothing heard (Timers A and B run).
    Calling,
    /// Non-INVITE sent, nothing heard (Timers E and F run).
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; retransmissions of it are absorbed (Timers D, K).
    Completed,
    /// A 2xx to INVITE arrived; further 2xx go to the transaction user (RFC 6026 Timer M).
    Accepted,
    /// Done; the engine forgets the transaction.
    Terminated,
}

/// What to do with a response the transaction matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseAction {
    /// Hand the response to the transaction user.
    pub deliver: bool,
    /// Send (or send again) the ACK for a non-2xx final response to INVITE.
    pub send_ack: bool,
}

/// One client transaction: the request it retransmits and its timers.
#[derive(Debug)]
pub struct ClientTransaction {
    kind: TransactionKind,
    state: ClientState,
    reliable: bool,
    interval: Duration,
    /// Timer A or E.
    retransmit_at: Option<Instant>,
    /// Timer B or F.
    timeout_at: Option<Instant>,
    /// Timer D, K or M.
    terminate_at: Option<Instant>,
}

impl ClientTransaction {
    /// Starts a transaction whose request is being sent now. `reliable` is true over
    /// TCP/TLS, where nothing is retransmitted.
    pub fn start(
        kind: TransactionKind,
        reliable: bool,
        now: Instant,
        timers: &TimerConfig,
    ) -> ClientTransaction {
        let state = match kind {
            TransactionKind::Invite => ClientState::Calling,
            TransactionKind::NonInvite => ClientState::Trying,
        };
        ClientTransaction {
            kind,
            state,
            reliable,
            interval: timers.t1,
            retransmit_at: (!reliable).then(|| now + timers.t1),
            timeout_at: Some(now + timers.t1_x64()),
            terminate_at: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// INVITE or non-INVITE.
    pub fn kind(&self) -> TransactionKind {
        self.kind
    }

    /// The earliest time a timer of this transaction fires.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.terminate_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// A response with `status` matched this transaction.
    pub fn on_response(
        &mut self,
        now: Instant,
        status: u16,
        timers: &TimerConfig,
    ) -> ResponseAction {
        let deliver_only = ResponseAction {
            deliver: true,
            send_ack: false,
        };
        let absorb = ResponseAction {
            deliver: false,
            send_ack: false,
        };
        let provisional = status < 200;
        match (self.kind, self.state) {
            (_, ClientState::Terminated) => absorb,
            (TransactionKind::NonInvite, ClientState::Trying | ClientState::Proceeding) => {
                if provisional {
                    self.state = ClientState::Proceeding;
                } else {
                    self.complete(
                        now,
                        if self.reliable {
                            Duration::ZERO
                        } else {
                            timers.t4
                        },
                    );
                }
                deliver_only
            }
            (TransactionKind::NonInvite, _) => absorb,
            (TransactionKind::Invite, ClientState::Calling | ClientState::Proceeding) => {
                if provisional {
                    // Timer A stops once a provisional arrives (§17.1.1.2).
                    self.state = ClientState::Proceeding;
                    self.retransmit_at = None;
                    deliver_only
                } else if status < 300 {
                    self.state = ClientState::Accepted;
                    self.retransmit_at = None;
                    self.timeout_at = None;
                    self.terminate_at = Some(now + timers.t1_x64());
                    deliver_only
                } else {
                    let linger = if self.reliable {
                        Duration::ZERO
                    } else {
                        timers.timer_d
                    };
                    self.complete(now, linger);
                    ResponseAction {
                        deliver: true,
                        send_ack: true,
                    }
                }
            }
            (TransactionKind::Invite, ClientState::Completed) => ResponseAction {
                deliver: false,
                send_ack: status >= 300,
            },
            // RFC 6026 §7.2: retransmitted 2xx go up so the dialog can ACK them again.
            (TransactionKind::Invite, ClientState::Accepted) => ResponseAction {
                deliver: (200..300).contains(&status),
                send_ack: false,
            },
            (TransactionKind::Invite, ClientState::Trying) => absorb,
        }
    }

    fn complete(&mut self, now: Instant, linger: Duration) {
        self.state = ClientState::Completed;
        self.retransmit_at = None;
        self.timeout_at = None;
        self.terminate_at = Some(now + linger);
        if linger.is_zero() {
            self.state = ClientState::Terminated;
        }
    }

    /// The transport could not send the request: the transaction ends (§17.1.4).
    pub fn on_transport_error(&mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.retransmit_at = None;
        self.timeout_at = None;
        self.terminate_at = None;
    }

    /// Runs the timers due at `now`. Call again until it returns [`TimerAction::Nothing`]
    /// when several may be due.
    pub fn on_timer(&mut self, now: Instant, timers: &TimerConfig) -> TimerAction {
        if self.state == ClientState::Terminated {
            return TimerAction::Terminated;
        }
        if self.terminate_at.is_some_and(|at| at <= now) {
            self.terminate();
            return TimerAction::Terminated;
        }
        if self.timeout_at.is_some_and(|at| at <= now) {
            self.terminate();
            return TimerAction::Timeout;
        }
        match self.retransmit_at {
            Some(at) if at <= now => {
                self.interval = match (self.kind, self.state) {
                    // Timer A doubles without a cap (§17.1.1.2).
                    (TransactionKind::Invite, _) => self.interval.saturating_mul(2),
                    // Timer E doubles up to T2 in Trying, and is T2 in Proceeding (§17.1.2.2).
                    (TransactionKind::NonInvite, ClientState::Proceeding) => timers.t2,
                    (TransactionKind::NonInvite, _) => {
                        self.interval.saturating_mul(2).min(timers.t2)
                    }
                };
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

    fn fire_all(
        t: &mut ClientTransaction,
        start: Instant,
        until: Duration,
    ) -> Vec<(u128, TimerAction)> {
        let timers = TimerConfig::default();
        let mut out = Vec::new();
        while let Some(at) = t.next_deadline() {
            if at > start + until {
                break;
            }
            loop {
                let action = t.on_timer(at, &timers);
                if action == TimerAction::Nothing {
                    break;
                }
                out.push(((at - start).as_millis(), action));
                if matches!(action, TimerAction::Timeout | TimerAction::Terminated) {
                    return out;
                }
            }
        }
        out
    }

    #[allow(clippy::disallowed_methods)]
    fn now() -> Instant {
        Instant::now()
    }

    #[test]
    fn timer_e_doubles_to_t2_then_timer_f_fires_at_64_t1() {
        let start = now();
        let mut t = ClientTransaction::start(
            TransactionKind::NonInvite,
            false,
            start,
            &TimerConfig::default(),
        );
        let fired = fire_all(&mut t, start, Duration::from_secs(60));
        let times: Vec<u128> = fired.iter().map(|(ms, _)| *ms).collect();
        // 500, 1500, 3500, 7500, then every 4 s until 32 s.
        assert_eq!(
            times,
            vec![
                500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500, 32000
            ]
        );
        assert_eq!(fired.last().map(|f| f.1), Some(TimerAction::Timeout));
    }

    #[test]
    fn timer_a_doubles_without_cap_and_stops_on_provisional() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ClientTransaction::start(TransactionKind::Invite, false, start, &timers);
        let fired = fire_all(&mut t, start, Duration::from_secs(8));
        let times: Vec<u128> = fired.iter().map(|(ms, _)| *ms).collect();
        assert_eq!(times, vec![500, 1500, 3500, 7500]);
        let action = t.on_response(start + Duration::from_secs(9), 180, &timers);
        assert!(action.deliver);
        assert_eq!(t.state(), ClientState::Proceeding);
        // Only Timer B remains: it fires at 32 s.
        assert_eq!(t.next_deadline(), Some(start + Duration::from_secs(32)));
    }

    #[test]
    fn non_invite_final_completes_then_absorbs_until_timer_k() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ClientTransaction::start(TransactionKind::NonInvite, false, start, &timers);
        assert!(t.on_response(start, 100, &timers).deliver);
        assert_eq!(t.state(), ClientState::Proceeding);
        assert!(t.on_response(start, 200, &timers).deliver);
        assert_eq!(t.state(), ClientState::Completed);
        assert!(
            !t.on_response(start, 200, &timers).deliver,
            "retransmission absorbed"
        );
        assert_eq!(t.next_deadline(), Some(start + timers.t4));
        assert_eq!(
            t.on_timer(start + timers.t4, &timers),
            TimerAction::Terminated
        );
    }

    #[test]
    fn reliable_transport_never_retransmits_and_terminates_at_once() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ClientTransaction::start(TransactionKind::NonInvite, true, start, &timers);
        assert_eq!(t.next_deadline(), Some(start + timers.t1_x64()));
        t.on_response(start, 200, &timers);
        assert_eq!(t.state(), ClientState::Terminated);
    }

    #[test]
    fn invite_error_response_acks_each_retransmission_until_timer_d() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ClientTransaction::start(TransactionKind::Invite, false, start, &timers);
        let first = t.on_response(start, 486, &timers);
        assert!(first.deliver && first.send_ack);
        let again = t.on_response(start, 486, &timers);
        assert!(!again.deliver && again.send_ack);
        assert_eq!(t.next_deadline(), Some(start + timers.timer_d));
    }

    #[test]
    fn invite_2xx_enters_accepted_and_passes_retransmitted_2xx_up() {
        let start = now();
        let timers = TimerConfig::default();
        let mut t = ClientTransaction::start(TransactionKind::Invite, false, start, &timers);
        assert!(t.on_response(start, 200, &timers).deliver);
        assert_eq!(t.state(), ClientState::Accepted);
        assert!(t.on_response(start, 200, &timers).deliver);
        assert!(!t.on_response(start, 180, &timers).deliver);
        assert_eq!(
            t.on_timer(start + timers.t1_x64(), &timers),
            TimerAction::Terminated
        );
    }
}
