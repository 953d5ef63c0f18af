//! The client side: starting client transactions, matching responses, retransmitting.

use std::net::SocketAddr;
use std::time::Instant;

use crate::sip::typed::{CSeq, Via};
use crate::sip::{HeaderKind, HeaderName, MessageWriter, Method, SipMessage, WriteOptions};
use crate::transaction::{
    ClientState, ClientTransaction, TimerAction, TransactionKey, TransactionKind,
};
use crate::transport::Transport;

use rand::RngCore;

use super::hub::{Client, Engine, Owner, Target};
use super::timer_queue::TimerQueue;

/// The RFC 3261 branch prefix.
pub(super) const MAGIC_COOKIE: &str = "z9hG4bK";

impl Engine {
    /// A new branch for a client transaction about to start, with the slot it will live
    /// in (see [`Branch`]): pass it to [`start_client`](Self::start_client), or to
    /// [`drop_branch`](Self::drop_branch) when no transaction starts after all.
    pub(super) fn new_branch(&mut self) -> Branch {
        let word = self.rng.next_u64();
        Branch::new(word, self.clients.reserve())
    }

    /// Gives back the slot of a branch no transaction was started with.
    pub(super) fn drop_branch(&mut self, branch: Branch) {
        self.clients.release(branch.slot());
    }

    /// Sends `request` (already written, with `branch` in its top Via) and starts its
    /// client transaction.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_client(
        &mut self,
        now: Instant,
        owner: Owner,
        method: &'static str,
        branch: Branch,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        request: Vec<u8>,
    ) -> TransactionKey {
        let sequence = self.next_key();
        let machine = ClientTransaction::start(
            TransactionKind::of(method),
            transport.is_reliable(),
            now,
            &self.config.timers,
        );
        tracing::debug!(%branch, method, %remote, %transport, "client transaction started");
        self.stats.client_transactions += 1;
        self.queue(transport, local, remote, request.clone());
        let scheduled = machine.next_deadline();
        let inserted = self.clients.insert(
            branch.slot(),
            sequence,
            Client {
                key: 0,
                machine,
                branch,
                method,
                request,
                transport,
                local,
                remote,
                owner,
                scheduled,
            },
        );
        let Some(key) = inserted else {
            // Only a branch from `new_branch` used once gets here: its slot is reserved.
            tracing::error!(%branch, "client transaction without a reserved slot dropped");
            return TransactionKey(u64::MAX);
        };
        if let Some(at) = scheduled {
            self.schedule(at, Target::Client(key));
        }
        TransactionKey(key)
    }

    /// Puts the client's next deadline on the heap if it changed.
    pub(super) fn reschedule_client(&mut self, key: u64) {
        if let Some(client) = self.clients.get_mut(key) {
            reschedule(&mut self.timers, key, client);
        }
    }

    pub(super) fn remove_client(&mut self, key: u64) -> Option<Client> {
        self.clients.remove(key)
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
        // The Via's parse noted branch, received and rport in its one walk of the params.
        // Our branch names the slot of its transaction; the whole branch must match.
        let branch = via.branch();
        let key = branch.and_then(|branch| {
            let client = self.clients.in_slot(branch_slot(branch)?)?;
            (client.branch.as_bytes() == branch.as_bytes() && client.method == cseq.method.as_str())
                .then_some(client.key)
        });
        let Some(key) = key else {
            self.stats.stray_responses += 1;
            tracing::debug!(status, ?branch, "response matches no transaction");
            return;
        };
        let timers = self.config.timers;
        let Some(client) = self.clients.get_mut(key) else {
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
        let state = client.machine.state();
        let terminated = state == ClientState::Terminated;
        // A non-INVITE transaction with its final response never sends its request again
        // (it only absorbs retransmitted responses until Timer K): its buffer can carry
        // the next request.
        let spare = (client.machine.kind() == TransactionKind::NonInvite
            && matches!(state, ClientState::Completed | ClientState::Terminated))
        .then(|| std::mem::take(&mut client.request));
        if !terminated {
            // The transaction at hand, not looked up again.
            reschedule(&mut self.timers, key, client);
        }
        if let Some(buffer) = spare {
            self.spare_buffer(buffer);
        }
        if let Some((transport, local, remote, ack)) = ack {
            self.queue(transport, local, remote, ack);
        }
        if terminated {
            self.clients.discard(key);
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
        let Some(client) = self.clients.get_mut(key) else {
            return;
        };
        if client.scheduled != Some(at) {
            return;
        }
        client.scheduled = None;
        loop {
            let Some(client) = self.clients.get_mut(key) else {
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
                    self.clients.discard(key);
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

/// One of our branches (RFC 3261 §8.1.1.7), held inline (no allocation per transaction):
/// the magic cookie, 64 random bits as 16 lowercase hex digits (the bytes of one RNG word,
/// least significant first, as [`Engine::token`] writes them), then the number of the
/// transaction's slot in the [`ClientTable`](super::client_table::ClientTable) as 8
/// lowercase hex digits, most significant first. A response finds its transaction by that
/// slot (no branch index); the random digits keep the branch unique across time and
/// restarts, and the whole branch is compared before a response is taken as an answer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Branch {
    slot: u32,
    text: [u8; BRANCH_LEN],
}

/// `z9hG4bK`, 16 hex digits of randomness and 8 of the slot.
const BRANCH_LEN: usize = MAGIC_COOKIE.len() + 16 + 8;

impl Branch {
    pub(super) fn new(word: u64, slot: u32) -> Branch {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; BRANCH_LEN];
        let (cookie, rest) = text.split_at_mut(MAGIC_COOKIE.len());
        let (random, slot_digits) = rest.split_at_mut(16);
        cookie.copy_from_slice(MAGIC_COOKIE.as_bytes());
        random.copy_from_slice(&super::hub::hex_word(word));
        for (digit, shift) in slot_digits.iter_mut().zip((0..32).step_by(4).rev()) {
            *digit = HEX
                .get((slot >> shift) as usize & 15)
                .copied()
                .unwrap_or(b'0');
        }
        Branch { slot, text }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    pub(super) fn as_str(&self) -> &str {
        // ASCII only: the cookie and hex digits.
        std::str::from_utf8(&self.text).unwrap_or(MAGIC_COOKIE)
    }

    /// The slot of its transaction, as [`branch_slot`] reads it back from the text.
    pub(super) fn slot(&self) -> u32 {
        self.slot
    }
}

impl std::fmt::Display for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Puts client transaction `key`'s next deadline on `timers` when it changed.
fn reschedule(timers: &mut TimerQueue, key: u64, client: &mut Client) {
    let next = client.machine.next_deadline();
    if next != client.scheduled {
        client.scheduled = next;
        if let Some(at) = next {
            timers.push(at, Target::Client(key));
        }
    }
}

/// The slot number one of our branches carries (see [`Branch`]): `None` for a branch of
/// another length or form, which is never one of ours. Any 8 lowercase hex digits after
/// the cookie and 16 more give a number; the caller compares the whole branch with the
/// transaction in that slot.
pub(super) fn branch_slot(branch: &str) -> Option<usize> {
    let digits = branch.strip_prefix(MAGIC_COOKIE)?.as_bytes();
    let slot_digits = <&[u8; 8]>::try_from(digits.get(16..)?).ok()?;
    let mut slot = 0usize;
    for &digit in slot_digits {
        slot = slot << 4 | usize::from(hex_value(digit)?);
    }
    Some(slot)
}

/// A lowercase hex digit's value.
fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn our_branches_carry_random_digits_and_their_slot() {
        let mut rng = rand::rngs::StdRng::from_seed([3; 32]);
        for slot in [0, 1, 9, 10, 255, 0x1234_5678, u32::MAX] {
            let word = rng.next_u64();
            let mut expected = String::from(MAGIC_COOKIE);
            super::super::hub::push_hex_word(&mut expected, word, 8);
            expected.push_str(&format!("{slot:08x}"));
            let branch = Branch::new(word, slot);
            assert_eq!(branch.as_str(), expected);
            assert_eq!(branch.as_bytes(), expected.as_bytes());
            assert_eq!(branch.slot(), slot);
            assert_eq!(
                branch_slot(branch.as_str()),
                Some(slot as usize),
                "{expected}"
            );
            assert!(branch.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn other_branches_name_no_slot() {
        let ours = "z9hG4bK0123456789abcdef0000002a";
        assert_eq!(branch_slot(ours), Some(42));
        for other in [
            "z9hG4bK0123456789abcdef0000002A",
            "z9hG4bK0123456789abcdef0000002",
            "z9hG4bK0123456789abcdef0000002a0",
            "z9hG4bK0123456789abcdef0000002g",
            "z9hG4bK0123456789abcdef",
            "z9hG4bk0123456789abcdef0000002a",
            "1234",
            "",
        ] {
            assert_eq!(branch_slot(other), None, "{other}");
        }
    }
}
