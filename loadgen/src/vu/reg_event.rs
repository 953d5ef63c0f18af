//! reg-event runs: each user's subscription to its own registration state (RFC 3680), as
//! the engine makes it once the user is registered. A SUBSCRIBE attempt runs from the 200
//! for the first REGISTER to the engine's word on the subscription; NOTIFYs are counted.
//! `mixed` runs subscribe on demand (crate::vu::mixed) and share the measurements.

use std::sync::PoisonError;
use std::time::Instant;

use ims_core::ua::AccountId;

use crate::metrics::Outcome;
use crate::worker::Worker;

impl Worker {
    /// Local user `index` registered for the first time: the engine subscribes now.
    pub(crate) fn expect_subscription(&mut self, now: Instant, index: usize) {
        if self.plan.subscribes_at_registration() {
            self.start_subscription(now, index);
        }
    }

    /// A SUBSCRIBE attempt of local user `index` starts (unless one is awaited).
    pub(crate) fn start_subscription(&mut self, now: Instant, index: usize) {
        let Some(vu) = self.vus.get_mut(index) else {
            return;
        };
        if vu.subscribing.is_some() {
            return;
        }
        vu.subscribing = Some(now);
        let at = self.since_start(now);
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .subscribe
            .start(at);
    }

    /// The subscription is active (first time: the attempt succeeded; later: a refresh).
    pub(crate) fn on_reg_event_subscribed(&mut self, now: Instant, account: AccountId) {
        if let Some(vu) = self.vus.get_mut(account.index()) {
            vu.subscribed = true;
        }
        self.end_subscription(now, account, Outcome::Status(200));
        self.mixed_subscribed(now, account.index());
    }

    /// The subscription was refused or got no answer (408).
    pub(crate) fn on_reg_event_failed(&mut self, now: Instant, account: AccountId, status: u16) {
        tracing::debug!(worker = self.index, %account, status, "reg-event subscription failed");
        if let Some(vu) = self.vus.get_mut(account.index()) {
            vu.subscribed = false;
        }
        let outcome = if status == 408 {
            Outcome::Timeout
        } else {
            Outcome::Status(status)
        };
        self.end_subscription(now, account, outcome);
        self.mixed_subscription_failed(account.index(), outcome);
    }

    /// A NOTIFY brought a reginfo document.
    pub(crate) fn on_reg_info(&mut self, now: Instant, account: AccountId) {
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reg_notifies += 1;
        self.mixed_notified(now, account.index());
    }

    pub(crate) fn end_subscription(&mut self, now: Instant, account: AccountId, outcome: Outcome) {
        let Some(since) = self
            .vus
            .get_mut(account.index())
            .and_then(|vu| vu.subscribing.take())
        else {
            return;
        };
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .subscribe
            .end(outcome, now.saturating_duration_since(since));
    }
}
