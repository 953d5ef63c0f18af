//! The client side: starting client transactions, matching responses, retransmitting.

use std::net::SocketAddr;
use std::time::Instant;

use crate::sip::typed::{CSeq, Via};
use crate::sip::{HeaderKind, HeaderName, MessageWriter, Method, SipMessage, WriteOptions};
use crate::transaction::{ClientTransaction, TimerAction, TransactionKey, TransactionKind};
use crate::transport::Transport;

use super::hub::{Client, Engine, Owner, Target};

/// The RFC 3261 branch prefix.
pub(super) const MAGIC_COOKIE: &str = "z9hG4bK";

impl Engine {
    /// A new branch: the magic cookie and 64 random bits.
    pub(super) fn new_branch(&mut self) -> String {
        let mut branch = String::with_capacity(MAGIC_COOKIE.len() + 16);
        branch.push_str(MAGIC_COOKIE);
        branch.push_str(&self.token(8));
        branch
    }

    /// Sends `request` (already written, with `branch` in its top Via) and starts its
    /// client transaction.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_client(
        &mut self,
        now: Instant,
        owner: Owner,
        method: &'static str,
        branch: String,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        request: Vec<u8>,
    ) -> TransactionKey {
        let key = self.next_key();
        let machine = ClientTransaction::start(
            TransactionKind::of(method),
            transport.is_reliable(),
            now,
            &self.config.timers,
        );
        tracing::debug!(%branch, method, %remote, %transport, "client transaction started");
        self.stats.client_transactions += 1;
        self.queue(transport, local, remote, request.clone());
        self.client_index.insert(branch.clone(), key);
        self.clients.insert(
            key,
            Client {
                machine,
                branch,
                method,
                request,
                transport,
                local,
                remote,
                owner,
                scheduled: None,
            },
        );
        self.reschedule_client(key);
        TransactionKey(key)
    }

    /// Puts the client's next deadline on the heap if it changed.
    pub(super) fn reschedule_client(&mut self, key: u64) {
        let Some(client) = self.clients.get_mut(&key) else {
            return;
        };
        let next = client.machine.next_deadline();
        if next != client.scheduled {
            client.scheduled = next;
            if let Some(at) = next {
                self.schedule(at, Target::Client(key));
            }
        }
    }

    pub(super) fn remove_client(&mut self, key: u64) -> Option<Client> {
        let client = self.clients.remove(&key)?;
        self.client_index.remove(&client.branch);
        Some(client)
    }

    /// A response arrived: match it (RFC 3261 §17.1.3) and run its transaction.
    pub(super) fn handle_response(&mut self, now: Instant, response: &SipMessage<'_>) {
        let via = response.header::<Via>().and_then(Result::ok);
        let cseq = response.header::<CSeq>().and_then(Result::ok);
        let (Some(via), Some(cseq), Some(status)) = (via, cseq, response.status()) else {
            self.stats.malformed += 1;
            tracing::warn!("response without usable Via/CSeq dropped");
            return;
        };
        let key = via.branch().and_then(|b| self.client_index.get(b)).copied();
        let Some(key) = key.filter(|k| {
            self.clients
                .get(k)
                .is_some_and(|c| c.method == cseq.method.as_str())
        }) else {
            self.stats.stray_responses += 1;
            tracing::debug!(status, branch = ?via.branch(), "response matches no transaction");
            return;
        };
        let timers = self.config.timers;
        let Some(client) = self.clients.get_mut(&key) else {
            return;
        };
        let action = client.machine.on_response(now, status, &timers);
        let owner = client.owner;
        let ack = if action.send_ack {
            write_ack(&client.request, response)
                .map(|ack| (client.transport, client.local, client.remote, ack))
        } else {
            None
        };
        let terminated = client.machine.state() == crate::transaction::ClientState::Terminated;
        if let Some((transport, local, remote, ack)) = ack {
            self.queue(transport, local, remote, ack);
        }
        if terminated {
            self.remove_client(key);
        } else {
            self.reschedule_client(key);
        }
        if action.deliver {
            match owner {
                Owner::Message(slot) => {
                    if status >= 200 {
                        let reason = String::from_utf8_lossy(response.reason().unwrap_or_default())
                            .into_owned();
                        self.message_response(now, slot, status, &reason);
                    }
                }
                Owner::RegSubscription(account) => {
                    if status >= 200 {
                        self.reg_subscribe_response(now, account, TransactionKey(key), response);
                    }
                }
                Owner::Registration(account) => {
                    if status >= 200 {
                        self.registration_response(
                            now,
                            account,
                            TransactionKey(key),
                            response,
                            &via,
                        );
                    }
                }
            }
        }
    }

    /// A client timer fired.
    pub(super) fn client_timer(&mut self, now: Instant, key: u64, at: Instant) {
        let timers = self.config.timers;
        let Some(client) = self.clients.get_mut(&key) else {
            return;
        };
        if client.scheduled != Some(at) {
            return;
        }
        client.scheduled = None;
        loop {
            let Some(client) = self.clients.get_mut(&key) else {
                return;
            };
            match client.machine.on_timer(now, &timers) {
                TimerAction::Nothing => break,
                TimerAction::Retransmit => {
                    let (transport, local, remote) =
                        (client.transport, client.local, client.remote);
                    let bytes = client.request.clone();
                    tracing::debug!(branch = %client.branch, "retransmitting request");
                    self.stats.retransmissions += 1;
                    self.queue(transport, local, remote, bytes);
                }
                TimerAction::Timeout => {
                    self.stats.timeouts += 1;
                    if let Some(client) = self.remove_client(key) {
                        tracing::debug!(branch = %client.branch, "client transaction timed out");
                        self.client_failed(now, &client, true);
                    }
                    return;
                }
                TimerAction::Terminated => {
                    self.remove_client(key);
                    return;
                }
            }
        }
        self.reschedule_client(key);
    }

    /// A client transaction ended without a final response (timeout or transport error).
    pub(super) fn client_failed(&mut self, now: Instant, client: &Client, timeout: bool) {
        match client.owner {
            Owner::Registration(account) => {
                self.registration_failed(now, account, client.remote, timeout)
            }
            Owner::RegSubscription(account) => self.reg_subscribe_failed(account, client.remote),
            Owner::Message(slot) => self.message_failed(now, slot, timeout),
        }
    }
}

/// The ACK for a non-2xx final response to `invite` (RFC 3261 §17.1.1.3): same
/// Request-URI, top Via, From, Call-ID and Route as the INVITE, To from the response,
/// CSeq number with method ACK.
pub(super) fn write_ack(invite: &[u8], response: &SipMessage<'_>) -> Option<Vec<u8>> {
    let mut slots = [crate::sip::RawHeader::EMPTY; 64];
    let request =
        SipMessage::parse_datagram(invite, &mut slots, &crate::sip::Limits::DEFAULT).ok()?;
    let uri = request.request_uri()?;
    let cseq = request.header::<CSeq>()?.ok()?;
    let mut out = Vec::with_capacity(invite.len() / 2);
    let mut writer = MessageWriter::request(&mut out, Method::Ack, uri, WriteOptions::default());
    writer
        .header(HeaderName::Via, request.raw(HeaderKind::Via)?)
        .header_number(HeaderName::MaxForwards, 70)
        .header(HeaderName::From, request.raw(HeaderKind::From)?)
        .header(HeaderName::To, response.raw(HeaderKind::To)?)
        .header(HeaderName::CallId, request.raw(HeaderKind::CallId)?)
        .header_with(HeaderName::CSeq, |b| {
            b.extend_from_slice(cseq.seq.to_string().as_bytes());
            b.extend_from_slice(b" ACK");
        })
        .copy_headers(&request, HeaderKind::Route);
    writer.finish(b"");
    Some(out)
}
