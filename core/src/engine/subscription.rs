//! The engine's side of the reg-event subscription (RFC 3680): SUBSCRIBE after
//! registering, refresh, NOTIFY handling and network-initiated de-registration
//! (TS 24.229 §5.1.1.7).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::ims::reginfo::{self, RegInfo};
use crate::sip::typed::{ContentType, Expires, From, SubscriptionState};
use crate::sip::{SipMessage, Uri};
use crate::transaction::TransactionKey;
use crate::transport::Transport;
use crate::ua::account::refresh_after;
use crate::ua::registration::Goal;
use crate::ua::subscription::{RegSubscription, SubscriptionStatus, to_tag};
use crate::ua::{AccountId, RegistrationError, RegistrationState};

use super::client::Branch;
use super::event::Event;
use super::hub::{Engine, Owner, Target};

impl Engine {
    /// Starts (or refreshes) the account's reg-event subscription.
    pub(super) fn subscribe_reg(&mut self, now: Instant, id: AccountId) {
        let branch = self.new_branch();
        let call_id = self.token(16);
        let tag = self.token(8);
        let user_agent = self.config.user_agent.clone();
        let Some(account) = self.accounts.get_mut(id.index()) else {
            self.drop_branch(branch);
            return;
        };
        let mut subscription = account
            .reg_event
            .take()
            .unwrap_or_else(|| Box::new(RegSubscription::new(call_id.clone(), tag.clone())));
        if subscription.transaction.is_some() || subscription.refused || subscription.ending {
            account.reg_event = Some(subscription);
            self.drop_branch(branch);
            return;
        }
        if subscription.status == SubscriptionStatus::Terminated {
            // A new dialog: the old Call-ID no longer names this account's subscription.
            self.reg_subscriptions.remove(&subscription.call_id);
            subscription.reset(call_id, tag);
        }
        let expires = account.registration.granted.max(1);
        let transport = account.transport;
        let local = account.local;
        let remote = account.registration.next_hop;
        let via = super::registration::via_value(transport, local, branch.as_str());
        let mut bytes = Vec::with_capacity(768);
        subscription.write_subscribe(&mut bytes, account, &via, expires, user_agent.as_deref());
        let call_id = subscription.call_id.clone();
        subscription.status = match subscription.status {
            SubscriptionStatus::Active => SubscriptionStatus::Active,
            _ => SubscriptionStatus::Subscribing,
        };
        subscription.wake_at = None;
        account.reg_event = Some(subscription);
        self.reg_subscriptions.insert(call_id, id);
        self.start_reg_subscribe(now, id, branch, transport, local, remote, bytes);
    }

    /// Sends a reg-event SUBSCRIBE written into `bytes` as a client transaction owned by
    /// the account's subscription, and files the transaction with the subscription.
    #[allow(clippy::too_many_arguments)]
    fn start_reg_subscribe(
        &mut self,
        now: Instant,
        id: AccountId,
        branch: Branch,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: Vec<u8>,
    ) {
        let key = self.start_client(
            now,
            Owner::RegSubscription(id),
            "SUBSCRIBE",
            branch,
            transport,
            local,
            remote,
            bytes,
        );
        if let Some(subscription) = self
            .accounts
            .get_mut(id.index())
            .and_then(|a| a.reg_event.as_mut())
        {
            subscription.transaction = Some(key);
        }
    }

    /// `Command::SubscribeRegEvent`: a new subscription now, on a registered account
    /// with none active or on its way (an earlier refusal or unsubscription is forgotten).
    pub(super) fn subscribe_reg_now(&mut self, now: Instant, id: AccountId) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        if !matches!(
            account.registration.state,
            RegistrationState::Registered { .. }
        ) {
            return;
        }
        if let Some(subscription) = account.reg_event.as_mut() {
            let busy = subscription.transaction.is_some()
                || matches!(
                    subscription.status,
                    SubscriptionStatus::Active | SubscriptionStatus::Subscribing
                );
            if busy {
                return;
            }
            subscription.refused = false;
            subscription.ending = false;
            // Fresh identifiers, even for a subscription never sent.
            subscription.status = SubscriptionStatus::Terminated;
        }
        self.subscribe_reg(now, id);
    }

    /// `Command::UnsubscribeRegEvent`: SUBSCRIBE with Expires: 0 in the active dialog
    /// (RFC 6665 §4.1.2.3).
    pub(super) fn unsubscribe_reg(&mut self, now: Instant, id: AccountId) {
        let active = self
            .accounts
            .get(id.index())
            .and_then(|a| a.reg_event.as_ref())
            .is_some_and(|s| s.status == SubscriptionStatus::Active && s.transaction.is_none());
        if !active {
            self.events.push_back(Event::RegEventUnsubscribed {
                account: id,
                status: None,
            });
            return;
        }
        let branch = self.new_branch();
        let user_agent = self.config.user_agent.clone();
        let Some(account) = self.accounts.get_mut(id.index()) else {
            self.drop_branch(branch);
            return;
        };
        let Some(mut subscription) = account.reg_event.take() else {
            self.drop_branch(branch);
            return;
        };
        let transport = account.transport;
        let local = account.local;
        let remote = account.registration.next_hop;
        let via = super::registration::via_value(transport, local, branch.as_str());
        let mut bytes = Vec::with_capacity(768);
        subscription.write_subscribe(&mut bytes, account, &via, 0, user_agent.as_deref());
        subscription.ending = true;
        subscription.wake_at = None;
        account.reg_event = Some(subscription);
        self.start_reg_subscribe(now, id, branch, transport, local, remote, bytes);
    }

    /// A final response to the reg-event SUBSCRIBE.
    pub(super) fn reg_subscribe_response(
        &mut self,
        now: Instant,
        id: AccountId,
        key: TransactionKey,
        response: &SipMessage<'_>,
    ) {
        let margin = self.config.registration.refresh_margin;
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let Some(subscription) = account.reg_event.as_mut() else {
            return;
        };
        if subscription.transaction != Some(key) {
            return;
        }
        subscription.transaction = None;
        let status = response.status().unwrap_or(500);
        if subscription.ending {
            subscription.status = SubscriptionStatus::Terminated;
            subscription.wake_at = None;
            self.events.push_back(Event::RegEventUnsubscribed {
                account: id,
                status: Some(status),
            });
            return;
        }
        match status {
            200..=299 => {
                subscription.learn_dialog(response, to_tag(response));
                let expires = response
                    .header::<Expires>()
                    .and_then(Result::ok)
                    .map(|e| e.0)
                    .unwrap_or(account.registration.granted);
                if expires == 0 {
                    subscription.status = SubscriptionStatus::Terminated;
                    return;
                }
                subscription.status = SubscriptionStatus::Active;
                let at = now + refresh_after(expires, margin);
                subscription.wake_at = Some(at);
                self.schedule(at, Target::Subscription(id));
                self.events.push_back(Event::RegEventSubscribed {
                    account: id,
                    expires,
                });
            }
            481 if subscription.in_dialog() => {
                // The dialog is gone at the network: start a new one.
                subscription.status = SubscriptionStatus::Terminated;
                self.subscribe_reg(now, id);
            }
            _ => {
                subscription.status = SubscriptionStatus::Terminated;
                subscription.refused =
                    (400..700).contains(&status) && status != 408 && status != 481;
                let reason =
                    String::from_utf8_lossy(response.reason().unwrap_or_default()).into_owned();
                tracing::warn!(account = %id, status, %reason, "reg-event subscription refused");
                self.events.push_back(Event::RegEventFailed {
                    account: id,
                    status,
                    reason,
                });
            }
        }
    }

    /// The reg-event SUBSCRIBE got no response.
    pub(super) fn reg_subscribe_failed(&mut self, id: AccountId, remote: SocketAddr) {
        let Some(subscription) = self
            .accounts
            .get_mut(id.index())
            .and_then(|a| a.reg_event.as_mut())
        else {
            return;
        };
        subscription.transaction = None;
        subscription.status = SubscriptionStatus::Terminated;
        if subscription.ending {
            subscription.wake_at = None;
            tracing::debug!(account = %id, %remote, "reg-event unsubscription timed out");
            self.events.push_back(Event::RegEventUnsubscribed {
                account: id,
                status: Some(408),
            });
            return;
        }
        tracing::warn!(account = %id, %remote, "reg-event SUBSCRIBE timed out");
        self.events.push_back(Event::RegEventFailed {
            account: id,
            status: 408,
            reason: "no response".to_owned(),
        });
    }

    /// The refresh timer of a reg-event subscription fired.
    pub(super) fn subscription_timer(&mut self, now: Instant, id: AccountId, at: Instant) {
        let Some(subscription) = self
            .accounts
            .get_mut(id.index())
            .and_then(|a| a.reg_event.as_mut())
        else {
            return;
        };
        if subscription.wake_at != Some(at) {
            return;
        }
        subscription.wake_at = None;
        self.subscribe_reg(now, id);
    }

    /// Whether `request` is a reg-event NOTIFY of one of our subscriptions; if so it is
    /// answered and handled here.
    pub(super) fn take_reg_notify(
        &mut self,
        now: Instant,
        transaction: TransactionKey,
        request: &SipMessage<'_>,
    ) -> bool {
        let is_reg = request.method().is_some_and(|m| m.as_str() == "NOTIFY")
            && request
                .header::<crate::sip::typed::Event>()
                .and_then(Result::ok)
                .is_some_and(|e| e.package.eq_ignore_ascii_case("reg"));
        if !is_reg {
            return false;
        }
        let call_id = request
            .header::<crate::sip::typed::CallId>()
            .and_then(Result::ok)
            .map(|c| c.0);
        let local_tag = request
            .header::<crate::sip::typed::To>()
            .and_then(Result::ok)
            .and_then(|t| t.tag());
        let account = call_id
            .and_then(|c| self.reg_subscriptions.get(c).copied())
            .filter(|id| {
                self.accounts
                    .get(id.index())
                    .and_then(|a| a.reg_event.as_ref())
                    .is_some_and(|s| Some(s.local_tag.as_str()) == local_tag)
            });
        let Some(id) = account else {
            let _ = self.respond(now, transaction, 481, None, &[], b"");
            return true;
        };
        let info = match request.header::<ContentType>().and_then(Result::ok) {
            Some(content_type) if content_type.is("application", "reginfo+xml") => {
                match reginfo::parse(request.body()) {
                    Ok(info) => Some(info),
                    Err(error) => {
                        tracing::warn!(account = %id, %error, "bad reginfo in NOTIFY");
                        let _ = self.respond(now, transaction, 400, None, &[], b"");
                        return true;
                    }
                }
            }
            _ => None,
        };
        let _ = self.respond(now, transaction, 200, None, &[], b"");
        let remote_tag = request
            .header::<From>()
            .and_then(Result::ok)
            .and_then(|f| f.tag());
        let state = request.header::<SubscriptionState>().and_then(Result::ok);
        let terminated = state
            .as_ref()
            .is_some_and(|s| s.state.eq_ignore_ascii_case("terminated"));
        let reason = state.as_ref().and_then(|s| s.reason()).map(str::to_owned);
        if let Some(subscription) = self
            .accounts
            .get_mut(id.index())
            .and_then(|a| a.reg_event.as_mut())
        {
            subscription.learn_dialog(request, remote_tag);
            if subscription.status == SubscriptionStatus::Subscribing {
                subscription.status = SubscriptionStatus::Active;
            }
        }
        if let Some(info) = info {
            self.apply_reginfo(now, id, info);
        }
        if terminated {
            self.reg_subscription_ended(now, id, reason.as_deref());
        }
        true
    }

    fn reg_subscription_ended(&mut self, now: Instant, id: AccountId, reason: Option<&str>) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let registered = matches!(
            account.registration.state,
            RegistrationState::Registered { .. }
        );
        let Some(subscription) = account.reg_event.as_mut() else {
            return;
        };
        subscription.status = SubscriptionStatus::Terminated;
        subscription.wake_at = None;
        // RFC 6665 §4.1.3: deactivated and timeout invite an immediate new subscription.
        let again = matches!(reason, None | Some("deactivated") | Some("timeout"));
        if again && registered && subscription.transaction.is_none() {
            self.subscribe_reg(now, id);
        }
    }

    /// Applies a reginfo document to the account: the network may have de-registered us.
    fn apply_reginfo(&mut self, now: Instant, id: AccountId, info: RegInfo) {
        let Some(account) = self.accounts.get_mut(id.index()) else {
            return;
        };
        let Some(subscription) = account.reg_event.as_mut() else {
            return;
        };
        let version_ok = match (subscription.version, info.full) {
            (Some(last), _) if info.version <= last => false,
            (Some(last), false) if info.version != last.saturating_add(1) => {
                // A partial notification was lost: ask for full state (RFC 3680 §4.4.2).
                tracing::info!(account = %id, last, got = info.version, "reginfo version gap; refreshing for full state");
                subscription.version = None;
                self.subscribe_reg(now, id);
                return;
            }
            _ => true,
        };
        if !version_ok {
            tracing::debug!(account = %id, version = info.version, "stale reginfo ignored");
            return;
        }
        subscription.version = Some(info.version);
        let ours = Uri::parse(&account.contact).ok();
        let identities: Vec<&str> = std::iter::once(account.config.aor.as_str())
            .chain(
                account
                    .registration
                    .associated_uris
                    .iter()
                    .map(String::as_str),
            )
            .collect();
        let mut verdict: Option<String> = None;
        for registration in &info.registrations {
            if !identities
                .iter()
                .any(|i| super::same_uri(i, &registration.aor))
            {
                continue;
            }
            let contact = registration.contacts.iter().find(|c| {
                ours.as_ref()
                    .is_some_and(|o| Uri::parse(&c.uri).is_ok_and(|u| o.equivalent(&u)))
            });
            match contact {
                Some(contact) if contact.is_terminated() => {
                    verdict = Some(
                        contact
                            .event
                            .clone()
                            .unwrap_or_else(|| "unregistered".to_owned()),
                    );
                }
                None if registration.state == "terminated" && info.full => {
                    verdict = Some("unregistered".to_owned());
                }
                _ => {}
            }
            if verdict.is_some() {
                break;
            }
        }
        self.events.push_back(Event::RegInfo { account: id, info });
        let Some(event) = verdict else { return };
        tracing::info!(account = %id, %event, "the network ended our registration");
        match event.as_str() {
            "deactivated" | "expired" | "probation" | "shortened" => {
                // TS 24.229 §5.1.1.7: register again from scratch.
                let Some(account) = self.accounts.get_mut(id.index()) else {
                    return;
                };
                let registration = &mut account.registration;
                registration.challenges.clear();
                registration.security_server.clear();
                if registration.goal == Goal::Registered {
                    // A REGISTER already in flight decides by its own answer (with the
                    // security context cleared, a challenge is answered afresh).
                    let idle = registration.transaction.is_none();
                    if idle {
                        registration.state = RegistrationState::Idle;
                    }
                    self.events.push_back(Event::RegistrationFailed {
                        account: id,
                        reason: RegistrationError::NetworkDeregistered { event },
                        retry_in: Some(Duration::ZERO),
                    });
                    if idle {
                        self.register_now(now, id);
                    }
                }
            }
            _ => {
                // rejected, unregistered: do not try again; tell the user.
                let Some(account) = self.accounts.get_mut(id.index()) else {
                    return;
                };
                account.registration.goal = Goal::Unregistered;
                account.registration.state = RegistrationState::Failed;
                account.registration.wake_at = None;
                if let Some(subscription) = account.reg_event.as_mut() {
                    subscription.wake_at = None;
                }
                self.events.push_back(Event::RegistrationFailed {
                    account: id,
                    reason: RegistrationError::NetworkDeregistered { event },
                    retry_in: None,
                });
            }
        }
    }
}
