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
    /// A new branch: the magic cookie and 64 random bits as 16 lowercase hex digits
    /// (the bytes of one RNG word, least significant first, as [`Engine::token`] writes
    /// them).
    pub(super) fn new_branch(&mut self) -> Branch {
        Branch::new(self.rng.next_u64())
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
        let key = self.clients.insert(
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
        self.client_index.insert(branch.key(), key);
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
        let client = self.clients.remove(key)?;
        let index_key = client.branch.key();
        if self.client_index.get(&index_key) == Some(&key) {
            self.client_index.remove(&index_key);
        }
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
        // The Via's parse noted branch, received and rport in its one walk of the params.
        let branch = via.branch();
        let key = branch.and_then(|b| self.client_index.get(&branch_key(b)).copied());
        let Some(key) = key.filter(|k| {
            self.clients.get(*k).is_some_and(|c| {
                branch.is_some_and(|b| c.branch.as_bytes() == b.as_bytes())
                    && c.method == cseq.method.as_str()
            })
        }) else {
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
            self.remove_client(key);
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

/// One of our branches (RFC 3261 §8.1.1.7): the magic cookie and the 64 random bits of
/// `word` as 16 lowercase hex digits, held inline (no allocation per transaction).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Branch {
    word: u64,
    text: [u8; BRANCH_LEN],
}

/// `z9hG4bK` and 16 hex digits.
const BRANCH_LEN: usize = MAGIC_COOKIE.len() + 16;

impl Branch {
    pub(super) fn new(word: u64) -> Branch {
        let mut text = [0u8; BRANCH_LEN];
        let (cookie, digits) = text.split_at_mut(MAGIC_COOKIE.len());
        cookie.copy_from_slice(MAGIC_COOKIE.as_bytes());
        digits.copy_from_slice(&super::hub::hex_word(word));
        Branch { word, text }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    pub(super) fn as_str(&self) -> &str {
        // ASCII only: the cookie and hex digits.
        std::str::from_utf8(&self.text).unwrap_or(MAGIC_COOKIE)
    }

    /// [`branch_key`] of this branch, without reading the digits back.
    pub(super) fn key(&self) -> u64 {
        self.word
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

/// The client index key of a branch: the 64 bits our own branches carry (magic cookie and
/// 16 lowercase hex digits, see [`Engine::new_branch`]) read back, so the index needs no
/// string hash and keeps no copy of the branch. Any other branch (never one of ours) gets
/// a plain hash of its bytes; a lookup always compares the whole branch afterwards.
pub(super) fn branch_key(branch: &str) -> u64 {
    if let Some(digits) = branch.strip_prefix(MAGIC_COOKIE)
        && let Ok(digits) = <&[u8; 16]>::try_from(digits.as_bytes())
    {
        // Digit pairs are bytes, least significant first; a bad digit sets a high bit.
        let mut word = 0u64;
        let mut bad = 0u8;
        for (shift, pair) in (0u32..).step_by(8).zip(digits.chunks_exact(2)) {
            if let [high, low] = *pair {
                let (high, low) = (hex_value(high), hex_value(low));
                bad |= high | low;
                word |= u64::from(high << 4 | (low & 15)) << shift;
            }
        }
        if bad & 0xf0 == 0 {
            return word;
        }
    }
    branch.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A lowercase hex digit's value; 0xff for any other byte.
fn hex_value(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        _ => 0xff,
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
    fn branch_key_reads_back_the_random_word_of_our_branches() {
        let mut rng = rand::rngs::StdRng::from_seed([3; 32]);
        for _ in 0..100 {
            let word = rng.next_u64();
            let mut branch = String::from(MAGIC_COOKIE);
            super::super::hub::push_hex_word(&mut branch, word, 8);
            assert_eq!(branch.len(), MAGIC_COOKIE.len() + 16);
            assert_eq!(branch_key(&branch), word, "{branch}");
            let inline = Branch::new(word);
            assert_eq!(inline.as_str(), branch);
            assert_eq!(inline.key(), word);
        }
    }

    #[test]
    fn other_branches_get_a_hash_and_stay_apart() {
        let ours = "z9hG4bK0123456789abcdef";
        for other in [
            "z9hG4bK0123456789ABCDEF",
            "z9hG4bK0123456789abcde",
            "z9hG4bK0123456789abcdef0",
            "z9hG4bK0123456789abcdeg",
            "1234",
            "",
        ] {
            assert_ne!(branch_key(other), branch_key(ours), "{other}");
            assert_eq!(branch_key(other), branch_key(other));
        }
    }
}
