//! The engine's side of registration: sending REGISTERs, acting on the registration's
//! decisions, refresh and retry timers, shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::sip::SipMessage;
use crate::sip::typed::Via;
use crate::transaction::TransactionKey;
use crate::transport::Transport;
use crate::ua::account::refresh_after;
use crate::ua::registration::{Goal, Next, push_decimal};
use crate::ua::{AccountId, RegistrationError, RegistrationState};

use super::event::Event;
use super::hub::{Engine, Owner, Target, hex_word};

impl Engine {
    /// `Command::Register`.
    pub(super) fn register(&mut self, now: Instant, id: AccountId) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let registration = &mut account.registration;
        registration.goal = Goal::Registered;
        if registration.transaction.is_some() {
            return; // the answer in flight decides what follows
        }
        match registration.state {
            RegistrationState::Registered { .. } => {}
            _ => {
                registration.failures = 0;
                registration.challenge_rounds = 0;
                self.send_register(now, id);
            }
        }
    }

    /// Sends a REGISTER now (after a network-initiated de-registration).
    pub(super) fn register_now(&mut self, now: Instant, id: AccountId) {
        if let Some(account) = self.accounts.get_mut(id.index()) {
            account.registration.failures = 0;
            account.registration.challenge_rounds = 0;
            account.registration.wake_at = None;
        }
        self.send_register(now, id);
    }

    /// `Command::Refresh`: a registered account with nothing in flight refreshes now.
    pub(super) fn refresh_now(&mut self, now: Instant, id: AccountId) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let registration = &mut account.registration;
        if registration.goal != Goal::Registered
            || registration.transaction.is_some()
            || !matches!(registration.state, RegistrationState::Registered { .. })
        {
            return;
        }
        registration.wake_at = None;
        self.send_register(now, id);
    }

    /// `Command::Unregister`.
    pub(super) fn unregister(&mut self, now: Instant, id: AccountId) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        if let Some(subscription) = account.reg_event.as_mut() {
            // The network ends the reg-event subscription with the registration.
            subscription.wake_at = None;
            subscription.status = crate::ua::SubscriptionStatus::Terminated;
        }
        let registration = &mut account.registration;
        registration.goal = Goal::Unregistered;
        registration.wake_at = None;
        if registration.transaction.is_some() {
            return;
        }
        match registration.state {
            RegistrationState::Registered { .. } => self.send_register(now, id),
            _ => {
                registration.state = RegistrationState::Idle;
                self.events.push_back(Event::Unregistered { account: id });
                self.shutdown_progress(id);
            }
        }
    }

    /// `Command::Shutdown`: de-register everything that is or may be registered.
    pub(super) fn shutdown(&mut self, now: Instant) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        let waiting: Vec<AccountId> = self
            .accounts
            .iter()
            .filter(|a| {
                a.registration.transaction.is_some()
                    || matches!(a.registration.state, RegistrationState::Registered { .. })
            })
            .map(|a| a.id)
            .collect();
        self.shutdown_pending = waiting.len();
        for account in &mut self.accounts {
            account.registration.goal = Goal::Unregistered;
            account.registration.wake_at = None;
        }
        for id in waiting {
            self.unregister(now, id);
        }
        if self.shutdown_pending == 0 {
            self.events.push_back(Event::ShutdownComplete);
        }
    }

    fn shutdown_progress(&mut self, _id: AccountId) {
        if self.shutting_down && self.shutdown_pending > 0 {
            self.shutdown_pending -= 1;
            if self.shutdown_pending == 0 {
                self.events.push_back(Event::ShutdownComplete);
            }
        }
    }

    /// Writes and sends the account's next REGISTER.
    fn send_register(&mut self, now: Instant, id: AccountId) {
        if id.index() >= self.accounts.len() {
            return;
        }
        let branch = self.new_branch();
        let mtu_limit = self.config.mtu.saturating_sub(200);
        let Some(account) = self.accounts.get(id.index()) else {
            self.drop_branch(branch);
            return;
        };
        let mut transport = account.transport;
        let mut local = account.local;
        let remote = account.registration.next_hop;
        // Room for an Authorization header too, so answering a challenge does not regrow
        // the buffer; usually the buffer of a transaction that has its final response.
        let mut bytes = self.request_buffer();
        loop {
            bytes.clear();
            let Some(account) = self.accounts.get_mut(id.index()) else {
                self.drop_branch(branch);
                return;
            };
            let rng = &mut self.rng;
            let agent = self.config.user_agent.as_deref();
            let prefixes = &self.via_prefixes;
            let via = |out: &mut Vec<u8>| match prefixes
                .iter()
                .find(|(t, a, _)| *t == transport && *a == local)
            {
                Some((_, _, prefix)) => {
                    out.extend_from_slice(prefix);
                    out.extend_from_slice(branch.as_bytes());
                }
                None => write_via(out, transport, local, branch.as_bytes()),
            };
            let ha2 = &mut self.ha2_memo;
            registration_write(&mut bytes, account, via, agent, rng, ha2);
            // RFC 3261 §18.1.1: too big for UDP goes over TCP when we can.
            if transport == Transport::Udp
                && bytes.len() > mtu_limit
                && let Some(tcp) = self.local_for(Transport::Tcp, remote)
            {
                // The same request again: same CSeq and nonce count.
                if let Some(account) = self.accounts.get_mut(id.index()) {
                    account.registration.unwrite();
                }
                transport = Transport::Tcp;
                local = tcp;
                continue;
            }
            break;
        }
        if let Some(account) = self.accounts.get_mut(id.index()) {
            account.registration.sent();
        }
        let key = self.start_client(
            now,
            Owner::Registration(id),
            "REGISTER",
            branch,
            transport,
            local,
            remote,
            bytes,
        );
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let registration = &mut account.registration;
        registration.transaction = Some(key);
        registration.wake_at = None;
        registration.state = match registration.goal {
            Goal::Registered => RegistrationState::Registering,
            Goal::Unregistered => RegistrationState::Unregistering,
        };
        if registration.goal == Goal::Registered {
            self.events.push_back(Event::Registering { account: id });
        }
    }

    /// A final response to the account's REGISTER.
    pub(super) fn registration_response(
        &mut self,
        now: Instant,
        id: AccountId,
        transaction: TransactionKey,
        response: &SipMessage<'_>,
        via: &Via<'_>,
    ) {
        let max_redirects = self.config.registration.max_redirects;
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        if account.registration.transaction != Some(transaction) {
            return;
        }
        account.registration.transaction = None;
        if let Some(received) = via.received()
            && let Ok(ip) = received.trim_matches(['[', ']']).parse()
        {
            let port = via.rport().flatten().unwrap_or(account.local.port());
            account.registration.observed = Some(SocketAddr::new(ip, port));
        }
        // Split borrows: the registration decides with the account's read-only parts.
        let (registration, view) = account.split_registration();
        let next = registration.on_final(response, &view, max_redirects);
        if let Some(account) = self.accounts.get_mut(id.index())
            && std::mem::replace(&mut account.registration.sqn_changed, false)
        {
            let state = account.registration.sqn.clone().unwrap_or_default();
            self.events
                .push_back(Event::SqnUpdated { account: id, state });
        }
        self.act(now, id, next);
    }

    /// The REGISTER transaction failed without a response.
    pub(super) fn registration_failed(
        &mut self,
        now: Instant,
        id: AccountId,
        proxy: SocketAddr,
        timeout: bool,
    ) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        account.registration.transaction = None;
        account.registration.answered_fresh_challenge = false;
        let error = if timeout {
            RegistrationError::Timeout { proxy }
        } else {
            RegistrationError::Transport { proxy }
        };
        if self.fail_over(id) {
            // RFC 3263 §4.3: the next target, at once.
            let next = Next::Retry {
                after: Some(Duration::ZERO),
                error,
            };
            self.act(now, id, next);
            return;
        }
        self.act(now, id, Next::Retry { after: None, error });
    }

    /// Moves the account to its next usable next hop, unless every one failed since the
    /// last success (then it starts from the first again, after the usual back-off).
    fn fail_over(&mut self, id: AccountId) -> bool {
        let Some(account) = self.accounts.get(id.index()) else {
            return false;
        };
        let count = account.target_count();
        let mut index = account.target;
        let mut failovers = account.failovers;
        loop {
            failovers += 1;
            index = (index + 1) % count;
            if failovers >= count {
                // A whole round failed: back to the first target for the next round.
                let Some((remote, transport)) = account.target_at(0) else {
                    return false;
                };
                let local = self.account_local(account.config.local, transport, remote);
                self.use_target(id, 0, remote, transport, local, 0);
                return false;
            }
            let Some((remote, transport)) = account.target_at(index) else {
                return false;
            };
            if let Some(local) = self.account_local(account.config.local, transport, remote) {
                self.use_target(id, index, remote, transport, Some(local), failovers);
                return true;
            }
        }
    }

    fn use_target(
        &mut self,
        id: AccountId,
        index: usize,
        remote: SocketAddr,
        transport: Transport,
        local: Option<SocketAddr>,
        failovers: usize,
    ) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let Some(local) = local else { return };
        if account.target != index {
            tracing::info!(account = %id, %remote, %transport, "next hop changed");
        }
        account.target = index;
        account.failovers = failovers;
        account.registration.next_hop = remote;
        account.transport = transport;
        account.local = local;
        account.contact = crate::ua::account::contact_uri(&account.contact_user, local, transport);
    }

    /// Carries out a registration decision.
    fn act(&mut self, now: Instant, id: AccountId, next: Next) {
        let policy = self.config.registration;
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let goal = account.registration.goal;
        match next {
            Next::Send => self.send_register(now, id),
            Next::Registered { expires, bindings } => {
                let registration = &mut account.registration;
                if goal == Goal::Unregistered {
                    registration.state = RegistrationState::Registered { expires };
                    self.send_register(now, id);
                    return;
                }
                registration.state = RegistrationState::Registered { expires };
                registration.granted = expires;
                account.failovers = 0;
                let registration = &mut account.registration;
                let at = now + refresh_after(expires, policy.refresh_margin);
                registration.wake_at = Some(at);
                let observed = registration.observed;
                let associated_uris = registration.associated_uris.clone();
                let service_route = registration.service_route.clone();
                tracing::info!(account = %id, expires, bindings, "registered");
                self.schedule(at, Target::Account(id));
                self.events.push_back(Event::Registered {
                    account: id,
                    expires,
                    bindings,
                    observed,
                    associated_uris,
                    service_route,
                });
                let Some(account) = self.accounts.get(id.index()) else {
                    return;
                };
                let wants_reg_event = account.config.ims.as_ref().is_some_and(|i| i.reg_event);
                let subscribed = account.reg_event.as_ref().is_some_and(|s| {
                    s.refused
                        || s.transaction.is_some()
                        || matches!(
                            s.status,
                            crate::ua::SubscriptionStatus::Active
                                | crate::ua::SubscriptionStatus::Subscribing
                        )
                });
                if wants_reg_event && !subscribed {
                    self.subscribe_reg(now, id);
                }
                self.start_keepalive(now, id);
            }
            Next::Unregistered => {
                account.registration.state = RegistrationState::Idle;
                tracing::info!(account = %id, "unregistered");
                self.events.push_back(Event::Unregistered { account: id });
                self.shutdown_progress(id);
                if goal == Goal::Registered && !self.shutting_down {
                    self.send_register(now, id);
                }
            }
            Next::Retry { after, error } => {
                if goal == Goal::Unregistered {
                    // The binding expires by itself; nothing more to do.
                    account.registration.state = RegistrationState::Idle;
                    self.events.push_back(Event::RegistrationFailed {
                        account: id,
                        reason: error,
                        retry_in: None,
                    });
                    self.events.push_back(Event::Unregistered { account: id });
                    self.shutdown_progress(id);
                    return;
                }
                let registration = &mut account.registration;
                registration.failures = registration.failures.saturating_add(1);
                let failures = registration.failures;
                let delay = match after {
                    Some(after) => after.min(Duration::from_secs(86_400)),
                    None => {
                        // RFC 5626 §4.5: base * 2^(n-1), capped, then 50–100 % of it.
                        let exponent = failures.saturating_sub(1).min(20);
                        let full = policy
                            .retry_base
                            .saturating_mul(1 << exponent)
                            .min(policy.retry_max);
                        let fraction = 0.5 + 0.5 * self.random_fraction();
                        full.mul_f64(fraction)
                    }
                };
                let Some(account) = self.accounts.get_mut(id.index()) else {
                    return;
                };
                let registration = &mut account.registration;
                registration.state = RegistrationState::WaitingToRetry;
                registration.answered_fresh_challenge = false;
                registration.challenge_rounds = 0;
                let at = now + delay;
                registration.wake_at = Some(at);
                tracing::info!(account = %id, %error, ?delay, "registration failed; will retry");
                self.schedule(at, Target::Account(id));
                self.events.push_back(Event::RegistrationFailed {
                    account: id,
                    reason: error,
                    retry_in: Some(delay),
                });
            }
            Next::Fail(error) => {
                let registration = &mut account.registration;
                registration.state = RegistrationState::Failed;
                registration.challenges.clear();
                registration.challenge_rounds = 0;
                registration.wake_at = None;
                tracing::warn!(account = %id, %error, "registration failed");
                self.events.push_back(Event::RegistrationFailed {
                    account: id,
                    reason: error,
                    retry_in: None,
                });
                if goal == Goal::Unregistered {
                    self.shutdown_progress(id);
                }
            }
        }
    }

    /// A refresh or retry timer fired.
    pub(super) fn registration_timer(&mut self, now: Instant, id: AccountId, at: Instant) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let registration = &mut account.registration;
        if registration.wake_at != Some(at) || registration.transaction.is_some() {
            return;
        }
        registration.wake_at = None;
        if registration.goal == Goal::Registered {
            self.send_register(now, id);
        }
    }

    /// The TCP connection to `remote` is gone: the registrations that rested on it
    /// (`resting`, from [`Engine::registered_over`]) register again at once (the new
    /// REGISTER opens a new connection).
    pub(super) fn flow_lost(&mut self, now: Instant, remote: SocketAddr, resting: Vec<AccountId>) {
        for id in resting {
            tracing::info!(account = %id, %remote, "connection lost; registering again");
            self.send_register(now, id);
        }
    }
}

impl Engine {
    /// The accounts registered over the TCP flow to `remote` with no REGISTER in flight.
    pub(super) fn registered_over(&self, remote: SocketAddr) -> Vec<AccountId> {
        self.accounts
            .iter()
            .filter(|a| {
                a.transport == Transport::Tcp
                    && a.registration.next_hop == remote
                    && a.registration.transaction.is_none()
                    && matches!(a.registration.state, RegistrationState::Registered { .. })
            })
            .map(|a| a.id)
            .collect()
    }
}

/// `SIP/2.0/UDP 127.0.0.1:5062;rport;branch=z9hG4bK...`
pub(super) fn via_value(transport: Transport, local: SocketAddr, branch: &str) -> Vec<u8> {
    let mut via = Vec::with_capacity(80);
    write_via(&mut via, transport, local, branch.as_bytes());
    via
}

/// Appends the Via value [`via_value`] returns.
pub(super) fn write_via(out: &mut Vec<u8>, transport: Transport, local: SocketAddr, branch: &[u8]) {
    out.extend_from_slice(b"SIP/2.0/");
    out.extend_from_slice(transport.via_token().as_bytes());
    out.push(b' ');
    push_address(out, local);
    out.extend_from_slice(b";rport;branch=");
    out.extend_from_slice(branch);
}

/// Appends `address` as its `Display` writes it (`127.0.0.1:5062`, `[::1]:5062`) without
/// building a `String`; IPv4, the common case, skips the formatter altogether.
fn push_address(out: &mut Vec<u8>, address: SocketAddr) {
    match address {
        SocketAddr::V4(v4) => {
            for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_decimal(out, u32::from(octet));
            }
            out.push(b':');
            push_decimal(out, u32::from(v4.port()));
        }
        SocketAddr::V6(_) => {
            use std::io::Write;
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{address}");
        }
    }
}

fn registration_write(
    out: &mut Vec<u8>,
    account: &mut crate::ua::Account,
    via: impl FnOnce(&mut Vec<u8>),
    user_agent: Option<&str>,
    rng: &mut rand::rngs::StdRng,
    ha2: &mut crate::auth::digest::Ha2Memo,
) {
    let (registration, view) = account.split_registration();
    let cnonce = || hex_word(rng.next_u64());
    registration.write_register(out, &view, via, user_agent, cnonce, ha2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_address_writes_what_display_writes() {
        for text in [
            "127.0.0.1:5062",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "10.20.3.4:5060",
            "[::1]:5062",
            "[fe80::1%3]:5060",
            "[2001:db8::8:800:200c:417a]:65535",
        ] {
            let address: SocketAddr = text.parse().unwrap();
            let mut out = b"x".to_vec();
            push_address(&mut out, address);
            assert_eq!(out, format!("x{address}").into_bytes(), "{text}");
        }
    }
}
