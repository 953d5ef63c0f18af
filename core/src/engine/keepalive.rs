//! CRLF keep-alives on TCP flows (RFC 5626 §4.4.1): while an account is registered over
//! TCP, a ping (`CRLF CRLF`) goes out on its flow at a random 80-100 % of
//! [`EngineConfig::keepalive`](super::EngineConfig::keepalive); the peer answers with a
//! pong (`CRLF`). A flow whose peer has answered pings before and then leaves one
//! unanswered for 10 s has failed: the engine reports
//! [`StreamFailure::KeepAliveTimeout`](super::StreamFailure::KeepAliveTimeout) (the
//! driver drops the connection) and the accounts on it register again over a new one.
//! A peer that never answers pings is not held to it: the pings still keep NAT bindings
//! open.
//!
//! Several accounts on one flow (connection reuse) share its pings: one ping per
//! interval, whichever account's timer comes first.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::transport::Transport;
use crate::ua::{AccountId, RegistrationState};

use super::event::{Event, StreamFailure};
use super::hub::{Engine, Target};

/// How long a pong may take before the flow counts as failed (RFC 5626 §4.4.1).
pub(super) const PONG_WAIT: Duration = Duration::from_secs(10);

/// What the engine knows of one TCP flow's keep-alives.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Flow {
    /// When the unanswered ping went out.
    ping_sent: Option<Instant>,
    /// When the last ping went out.
    last_ping: Option<Instant>,
    /// The peer has answered a ping on this flow.
    answers: bool,
}

impl Engine {
    /// Starts (or restarts) an account's keep-alives after a successful registration.
    pub(super) fn start_keepalive(&mut self, now: Instant, id: AccountId) {
        let Some(interval) = self.config.keepalive else {
            return;
        };
        let at = now + self.jittered(interval);
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        if account.transport != Transport::Tcp || account.keepalive_at.is_some() {
            return; // none on UDP; already running after a refresh
        }
        account.keepalive_at = Some(at);
        self.schedule(at, Target::KeepAlive(id));
    }

    /// A pong arrived on the flow with `remote`.
    pub(super) fn pong(&mut self, remote: SocketAddr) {
        self.stats.keepalive_pongs += 1;
        if let Some(flow) = self.flows.get_mut(&remote) {
            flow.ping_sent = None;
            flow.answers = true;
        }
    }

    /// An account's keep-alive timer fired.
    pub(super) fn keepalive_timer(&mut self, now: Instant, id: AccountId, at: Instant) {
        let Some(interval) = self.config.keepalive else {
            return;
        };
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        if account.keepalive_at != Some(at) {
            return; // rescheduled since
        }
        account.keepalive_at = None;
        if account.transport != Transport::Tcp
            || !matches!(
                account.registration.state,
                RegistrationState::Registered { .. }
            )
        {
            return; // the next successful registration starts them again
        }
        let (local, remote) = (account.local, account.registration.next_hop);
        let mut flow = self.flows.get(&remote).copied().unwrap_or_default();
        let next = match flow.ping_sent {
            Some(sent) if now >= sent + PONG_WAIT => {
                flow.ping_sent = None;
                if flow.answers {
                    self.flow_failed(now, remote);
                    return;
                }
                // A peer that does not answer pings: keep pinging, expect nothing.
                sent + self.jittered(interval)
            }
            // Another account's ping on this flow is still waiting for its pong.
            Some(sent) => sent + PONG_WAIT,
            None => match flow.last_ping {
                Some(last) if now < last + interval / 2 => last + self.jittered(interval),
                _ => {
                    flow.ping_sent = Some(now);
                    flow.last_ping = Some(now);
                    self.stats.keepalive_pings += 1;
                    self.queue(Transport::Tcp, local, remote, b"\r\n\r\n".to_vec());
                    // The pong check, or the next ping when the interval is shorter.
                    (now + self.jittered(interval)).min(now + PONG_WAIT)
                }
            },
        };
        self.flows.insert(remote, flow);
        if let Some(account) = self.accounts.get_mut(id.index()) {
            account.keepalive_at = Some(next);
            self.schedule(next, Target::KeepAlive(id));
        }
    }

    /// No pong in time: the connection is given up and its registrations are sent again
    /// once the driver has dropped it (a timer at `now`, so the REGISTER is queued after
    /// the driver has seen the event and opens a new connection).
    fn flow_failed(&mut self, now: Instant, remote: SocketAddr) {
        tracing::warn!(%remote, "no pong within 10 s; the TCP flow has failed");
        self.stats.flows_failed += 1;
        self.flows.remove(&remote);
        self.streams.remove(&remote);
        self.events.push_back(Event::StreamError {
            remote,
            error: StreamFailure::KeepAliveTimeout,
        });
        for id in self.registered_over(remote) {
            if let Some(account) = self.accounts.get_mut(id.index()) {
                account.keepalive_at = None;
                account.registration.wake_at = Some(now);
                self.schedule(now, Target::Account(id));
            }
        }
    }

    /// A random 80-100 % of `interval` (RFC 5626 §4.4.1).
    fn jittered(&mut self, interval: Duration) -> Duration {
        let fraction = 0.8 + 0.2 * (self.rng.next_u32() as f64 / f64::from(u32::MAX));
        interval.mul_f64(fraction)
    }
}
