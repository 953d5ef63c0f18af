//! The subscription to the own registration state (RFC 3680, TS 24.229 §5.1.1.3): a
//! SUBSCRIBE dialog with `Event: reg`, refreshed before it expires.

use std::time::Instant;

use crate::sip::typed::{Contact, RecordRoute, To};
use crate::sip::{HeaderName, MessageWriter, Method, SipMessage, WriteOptions};
use crate::transaction::TransactionKey;

use super::account::Account;

/// Where the reg-event subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// Not subscribed.
    Idle,
    /// A SUBSCRIBE is on its way.
    Subscribing,
    /// Accepted; NOTIFYs flow.
    Active,
    /// Ended by the network or refused.
    Terminated,
}

/// One account's reg-event subscription dialog.
#[derive(Debug)]
pub(crate) struct RegSubscription {
    pub(crate) status: SubscriptionStatus,
    pub(crate) call_id: String,
    pub(crate) local_tag: String,
    pub(crate) remote_tag: Option<String>,
    pub(crate) remote_target: Option<String>,
    /// Record-Route of the 2xx, reversed (RFC 3261 §12.1.2).
    pub(crate) route_set: Vec<String>,
    /// `route_set` came from a 2xx to a SUBSCRIBE of this dialog, not from a NOTIFY
    /// that overtook it.
    route_from_response: bool,
    pub(crate) cseq: u32,
    pub(crate) transaction: Option<TransactionKey>,
    pub(crate) wake_at: Option<Instant>,
    /// The reginfo version last applied.
    pub(crate) version: Option<u32>,
    /// The network refused the subscription (403 etc.): never retried automatically.
    pub(crate) refused: bool,
    /// The application ended it (`Command::UnsubscribeRegEvent`): no new subscription
    /// (at its final NOTIFY or a re-registration) until it asks for one.
    pub(crate) ending: bool,
}

impl RegSubscription {
    pub(crate) fn new(call_id: String, local_tag: String) -> RegSubscription {
        RegSubscription {
            status: SubscriptionStatus::Idle,
            call_id,
            local_tag,
            remote_tag: None,
            remote_target: None,
            route_set: Vec::new(),
            route_from_response: false,
            cseq: 0,
            transaction: None,
            wake_at: None,
            version: None,
            refused: false,
            ending: false,
        }
    }

    /// Forgets the dialog (a new SUBSCRIBE starts a new one with the same Call-ID is not
    /// allowed, so the caller supplies fresh identifiers).
    pub(crate) fn reset(&mut self, call_id: String, local_tag: String) {
        *self = RegSubscription {
            refused: self.refused,
            ..RegSubscription::new(call_id, local_tag)
        };
    }

    pub(crate) fn in_dialog(&self) -> bool {
        self.remote_tag.is_some()
    }

    /// Learns the dialog from a 2xx to the initial SUBSCRIBE (or from the first NOTIFY).
    ///
    /// A NOTIFY may come before the 2xx and create the dialog (RFC 6665 §4.1.2.4). It
    /// crossed the proxies as a request inside the dialog, which they do not
    /// record-route, so its route set can lack a proxy the SUBSCRIBE was record-routed
    /// through (an IMS P-CSCF, which then refuses our next request in the dialog). The
    /// 2xx to the SUBSCRIBE, when it comes, sets the route set (RFC 3261 §12.1.2), as a
    /// 2xx does for an early INVITE dialog (§13.2.2.4); later 2xx leave it (§12.2.1.2).
    pub(crate) fn learn_dialog(&mut self, message: &SipMessage<'_>, remote_tag: Option<&str>) {
        let response = !message.is_request();
        let first = self.remote_tag.is_none();
        let confirms = response
            && !self.route_from_response
            && remote_tag.is_some()
            && remote_tag == self.remote_tag.as_deref();
        if first || confirms {
            if first {
                self.remote_tag = remote_tag.map(str::to_owned);
            }
            self.route_set = message
                .header_values::<RecordRoute>()
                .filter_map(Result::ok)
                .map(|r| format!("<{}>", r.uri.as_str()))
                .collect();
            if response {
                self.route_set.reverse();
                self.route_from_response = true;
            }
            // A NOTIFY's Record-Route is already in UAS order (RFC 3261 §12.1.1).
        }
        if let Some(target) = message
            .header_values::<Contact>()
            .filter_map(Result::ok)
            .find_map(|c| c.address().map(|a| a.uri.as_str().to_owned()))
        {
            self.remote_target = Some(target);
        }
    }

    /// Writes the next SUBSCRIBE (initial or refresh) into `out`.
    pub(crate) fn write_subscribe(
        &mut self,
        out: &mut Vec<u8>,
        account: &Account,
        via: &[u8],
        expires: u32,
        user_agent: Option<&str>,
    ) {
        self.cseq = self.cseq.wrapping_add(1).max(1);
        let target = self.remote_target.as_deref().unwrap_or(&account.config.aor);
        let mut writer =
            MessageWriter::request(out, Method::Subscribe, target, WriteOptions::default());
        writer.header(HeaderName::Via, via);
        let routes: &[String] = if self.in_dialog() {
            &self.route_set
        } else {
            &account.registration.service_route
        };
        for route in routes {
            writer.header(HeaderName::Route, route.as_bytes());
        }
        writer
            .header_number(HeaderName::MaxForwards, 70)
            .header_with(HeaderName::From, |b| {
                b.extend_from_slice(account.address.as_bytes());
                b.extend_from_slice(b";tag=");
                b.extend_from_slice(self.local_tag.as_bytes());
            })
            .header_with(HeaderName::To, |b| {
                b.extend_from_slice(account.address.as_bytes());
                if let Some(tag) = &self.remote_tag {
                    b.extend_from_slice(b";tag=");
                    b.extend_from_slice(tag.as_bytes());
                }
            })
            .header(HeaderName::CallId, self.call_id.as_bytes())
            .header_with(HeaderName::CSeq, |b| {
                b.extend_from_slice(self.cseq.to_string().as_bytes());
                b.extend_from_slice(b" SUBSCRIBE");
            })
            .header_with(HeaderName::Contact, |b| {
                b.push(b'<');
                b.extend_from_slice(account.contact.as_bytes());
                b.push(b'>');
            })
            .header(HeaderName::Event, b"reg")
            .header(HeaderName::Accept, b"application/reginfo+xml")
            .header_number(HeaderName::Expires, u64::from(expires));
        account.write_ims_headers(&mut writer);
        if let Some(agent) = user_agent {
            writer.header(HeaderName::UserAgent, agent.as_bytes());
        }
        writer.finish(b"");
    }
}

/// The To tag of a response.
pub(crate) fn to_tag<'a>(message: &SipMessage<'a>) -> Option<&'a str> {
    message.header::<To>()?.ok()?.tag()
}
