//! The engine: inputs, outputs, timers, and the tables of accounts and transactions.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::sip::{Limits, ParseErrorKind, RawHeader, SipMessage};
use crate::transaction::{ClientTransaction, ServerTransaction};
use crate::transport::{StreamBuffer, StreamItem, Transmit, Transport};
use crate::ua::{Account, AccountConfig, AccountError, AccountId, Registration, RegistrationState};

use super::config::{ConfigError, EngineConfig};
use super::event::{Command, CommandError, Event, StreamFailure};

/// Counters of what the engine has seen and done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Messages received (datagrams and framed stream messages).
    pub messages_received: u64,
    /// Messages queued for sending (retransmissions included).
    pub messages_sent: u64,
    /// Retransmissions of requests and responses.
    pub retransmissions: u64,
    /// Received bytes that did not parse, or requests that failed validation.
    pub malformed: u64,
    /// Responses that matched no client transaction.
    pub stray_responses: u64,
    /// Client transactions that timed out (Timers B, F, H).
    pub timeouts: u64,
    /// Client transactions started.
    pub client_transactions: u64,
    /// Server transactions started.
    pub server_transactions: u64,
    /// CRLF keep-alive pings sent (RFC 5626 §4.4.1).
    pub keepalive_pings: u64,
    /// Pongs received.
    pub keepalive_pongs: u64,
    /// TCP flows given up for a missing pong.
    pub flows_failed: u64,
}

/// Who a client transaction works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    Registration(AccountId),
    RegSubscription(AccountId),
    /// A MESSAGE copy: key into `Engine::outgoing`.
    Message(u64),
}

/// A client transaction with what the engine keeps for it.
#[derive(Debug)]
pub(super) struct Client {
    pub(super) machine: ClientTransaction,
    /// Its key in [`ClientTable`](super::client_table::ClientTable), which names its slot.
    pub(super) key: u64,
    pub(super) branch: super::client::Branch,
    pub(super) method: &'static str,
    pub(super) request: Vec<u8>,
    pub(super) transport: Transport,
    pub(super) local: SocketAddr,
    pub(super) remote: SocketAddr,
    pub(super) owner: Owner,
    pub(super) scheduled: Option<Instant>,
}

/// A server transaction with the request it answers.
#[derive(Debug)]
pub(super) struct Server {
    pub(super) machine: ServerTransaction,
    pub(super) index_key: String,
    pub(super) request: Vec<u8>,
    pub(super) transport: Transport,
    pub(super) local: SocketAddr,
    pub(super) source: SocketAddr,
    pub(super) response_to: SocketAddr,
    pub(super) to_tag: String,
    pub(super) last_response: Option<Vec<u8>>,
    /// Non-INVITE: the application must answer by then.
    pub(super) respond_by: Option<Instant>,
    pub(super) scheduled: Option<Instant>,
}

/// What a timer entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Target {
    Client(u64),
    Server(u64),
    Account(AccountId),
    Subscription(AccountId),
    KeepAlive(AccountId),
}

/// Hashes the engine's own transaction keys: sequential `u64`s it hands out itself, never
/// taken from the network, so no keyed (flood-resistant) hash is needed. One multiply by
/// 2^64/phi spreads consecutive keys over the buckets and the top bits; and unlike a
/// randomly keyed hasher, iteration order is the same in every run.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A table keyed by transaction key.
pub(super) type KeyMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// The sans-IO engine. See the [module docs](super).
pub struct Engine {
    pub(super) config: EngineConfig,
    pub(super) rng: StdRng,
    pub(super) locals: Vec<(Transport, SocketAddr)>,
    /// For each local address, the start of our Via value up to the branch
    /// (`SIP/2.0/UDP 127.0.0.1:5062;rport;branch=`), written once.
    pub(super) via_prefixes: Vec<(Transport, SocketAddr, Vec<u8>)>,
    /// Boxed: an `Account` is a few KiB with its IMS parts, and a `Vec` of them at
    /// doubling capacity would keep up to twice that per account idle.
    #[allow(clippy::vec_box)]
    // measured: 5.7 KiB per idle account unboxed, see bench/RESULTS.md
    pub(super) accounts: Vec<Box<Account>>,
    pub(super) accounts_by_user: HashMap<String, AccountId>,
    /// MESSAGE copies in flight.
    pub(super) outgoing: HashMap<u64, super::message::OutgoingCopy>,
    /// Group chat pacing per (account, group URI).
    pub(super) group_queues: HashMap<(AccountId, String), crate::ua::message::GroupQueue>,
    /// reg-event subscriptions by Call-ID.
    pub(super) reg_subscriptions: HashMap<String, AccountId>,
    /// Client transactions, found by key or by the slot their branch names.
    pub(super) clients: super::client_table::ClientTable,
    pub(super) servers: KeyMap<Server>,
    pub(super) server_index: HashMap<String, u64>,
    pub(super) timers: super::timer_queue::TimerQueue,
    /// The HA2 of the last REGISTER answered: every account registers with the same
    /// method and, usually, the same Request-URI.
    pub(super) ha2_memo: crate::auth::digest::Ha2Memo,
    /// Request buffers of finished client transactions, for the next requests (at most
    /// [`SPARE_BUFFERS`], so a burst leaves little idle memory behind).
    pub(super) spare_buffers: Vec<Vec<u8>>,
    pub(super) streams: HashMap<SocketAddr, StreamBuffer>,
    /// Keep-alive state of the TCP flows our registrations use.
    pub(super) flows: HashMap<SocketAddr, super::keepalive::Flow>,
    pub(super) transmits: VecDeque<Transmit>,
    pub(super) events: VecDeque<Event>,
    pub(super) next_key: u64,
    pub(super) slots: Vec<RawHeader>,
    pub(super) stats: EngineStats,
    pub(super) shutting_down: bool,
    pub(super) shutdown_pending: usize,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("accounts", &self.accounts.len())
            .field("clients", &self.clients.len())
            .field("servers", &self.servers.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A new engine with no local addresses and no accounts.
    pub fn new(config: EngineConfig) -> Result<Engine, ConfigError> {
        config.validate()?;
        let seed = config.rng_seed.ok_or(ConfigError::MissingSeed)?;
        let slots = vec![RawHeader::EMPTY; config.limits.max_headers.clamp(16, 1024)];
        Ok(Engine {
            rng: StdRng::from_seed(seed),
            config,
            locals: Vec::new(),
            via_prefixes: Vec::new(),
            accounts: Vec::new(),
            accounts_by_user: HashMap::new(),
            reg_subscriptions: HashMap::new(),
            outgoing: HashMap::new(),
            group_queues: HashMap::new(),
            clients: super::client_table::ClientTable::default(),
            servers: KeyMap::default(),
            server_index: HashMap::new(),
            timers: super::timer_queue::TimerQueue::default(),
            ha2_memo: crate::auth::digest::Ha2Memo::default(),
            spare_buffers: Vec::new(),
            streams: HashMap::new(),
            flows: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            next_key: 1,
            slots,
            stats: EngineStats::default(),
            shutting_down: false,
            shutdown_pending: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Tells the engine about a local socket the driver listens on (UDP socket or TCP
    /// listener). Via and Contact use these addresses; add them before accounts.
    pub fn add_local(&mut self, transport: Transport, address: SocketAddr) {
        if !self.locals.contains(&(transport, address)) {
            self.locals.push((transport, address));
            let mut prefix = Vec::with_capacity(64);
            super::registration::write_via(&mut prefix, transport, address, b"");
            self.via_prefixes.push((transport, address, prefix));
        }
    }

    /// The local address for `transport` of the same family as `remote`.
    pub(super) fn local_for(&self, transport: Transport, remote: SocketAddr) -> Option<SocketAddr> {
        self.locals
            .iter()
            .find(|(t, a)| *t == transport && a.is_ipv4() == remote.is_ipv4())
            .map(|(_, a)| *a)
    }

    /// The local address of an account that asked for `wanted` (its
    /// [`AccountConfig::local`]): that one when the engine has it for `transport`, else
    /// the engine's first of the transport and `remote`'s family.
    pub(super) fn account_local(
        &self,
        wanted: Option<SocketAddr>,
        transport: Transport,
        remote: SocketAddr,
    ) -> Option<SocketAddr> {
        wanted
            .filter(|local| self.locals.contains(&(transport, *local)))
            .or_else(|| self.local_for(transport, remote))
    }

    /// Adds an account. It does nothing until [`Command::Register`].
    pub fn add_account(&mut self, config: AccountConfig) -> Result<AccountId, AccountError> {
        let local = match config.local {
            Some(local) if self.locals.contains(&(config.transport, local)) => local,
            Some(local) => {
                return Err(AccountError::UnknownLocalAddress {
                    transport: config.transport,
                    local,
                });
            }
            None => self.local_for(config.transport, config.proxy).ok_or(
                AccountError::NoLocalAddress {
                    transport: config.transport,
                    proxy: config.proxy,
                },
            )?,
        };
        let index = u32::try_from(self.accounts.len()).map_err(|_| AccountError::InvalidExpires)?;
        let id = AccountId(index);
        let call_id = self.token(16);
        let from_tag = self.token(8);
        let cseq = (self.rng.next_u32() % 10_000).saturating_add(1);
        let mut registration =
            Registration::new(call_id, from_tag, cseq, config.expires, config.proxy);
        if let Some(ims) = &config.ims
            && ims.aka.is_some()
        {
            registration.sqn = Some(Box::new(ims.sqn.clone()));
        }
        let account = Account::new(id, config, local, registration)?;
        if let Some(user) = contact_user(&account.contact) {
            self.accounts_by_user.entry(user.to_owned()).or_insert(id);
        }
        self.accounts.push(Box::new(account));
        Ok(id)
    }

    /// How many accounts the engine holds.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// The registration state of an account.
    pub fn registration_state(&self, account: AccountId) -> Option<RegistrationState> {
        self.accounts
            .get(account.index())
            .map(|a| a.registration.state)
    }

    /// The Contact URI an account registers.
    pub fn contact(&self, account: AccountId) -> Option<&str> {
        self.accounts
            .get(account.index())
            .map(|a| a.contact.as_str())
    }

    /// The Service-Route of the account's last registration (RFC 3608): the Route set
    /// pre-loaded on its other requests.
    pub fn service_route(&self, account: AccountId) -> Option<&[String]> {
        self.accounts
            .get(account.index())
            .map(|a| a.registration.service_route.as_slice())
    }

    /// Heap bytes an account holds (config, derived strings, registration state).
    pub fn account_heap_bytes(&self, account: AccountId) -> Option<usize> {
        self.accounts.get(account.index()).map(|a| a.heap_bytes())
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Open client and server transactions.
    pub fn transaction_count(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    /// An instruction from the application. `Err` means the command itself was wrong.
    pub fn command(&mut self, now: Instant, command: Command) -> Result<(), CommandError> {
        match command {
            Command::Register { account } => {
                if self.shutting_down {
                    return Err(CommandError::ShuttingDown);
                }
                self.check_account(account)?;
                self.register(now, account);
            }
            Command::Unregister { account } => {
                self.check_account(account)?;
                self.unregister(now, account);
            }
            Command::Refresh { account } => {
                self.check_account(account)?;
                self.refresh_now(now, account);
            }
            Command::SubscribeRegEvent { account } => {
                self.check_account(account)?;
                self.subscribe_reg_now(now, account);
            }
            Command::UnsubscribeRegEvent { account } => {
                self.check_account(account)?;
                self.unsubscribe_reg(now, account);
            }
            Command::Respond {
                transaction,
                status,
                reason,
                headers,
                body,
            } => self.respond(now, transaction, status, reason.as_deref(), &headers, &body)?,
            Command::Shutdown => self.shutdown(now),
            Command::SendMessage { account, message } => {
                if self.shutting_down {
                    return Err(CommandError::ShuttingDown);
                }
                self.check_account(account)?;
                self.send_message(now, account, message)?;
            }
        }
        Ok(())
    }

    fn check_account(&self, account: AccountId) -> Result<(), AccountError> {
        if account.index() < self.accounts.len() {
            Ok(())
        } else {
            Err(AccountError::Unknown(account))
        }
    }

    /// A UDP datagram arrived from `remote` on the local socket `local`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        bytes: &[u8],
    ) {
        if bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return; // keep-alive noise
        }
        self.handle_message(now, Transport::Udp, local, remote, bytes);
    }

    /// Bytes arrived on the TCP connection with `remote` (accepted on, or opened from,
    /// `local`). Partial messages wait for the rest; several messages in one read are fine.
    pub fn handle_stream_bytes(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        bytes: &[u8],
    ) {
        let mut buffer = match self.streams.remove(&remote) {
            Some(buffer) => buffer,
            None if self.streams.len() >= self.config.max_streams => {
                tracing::warn!(%remote, "too many TCP streams; bytes dropped");
                self.events.push_back(Event::StreamError {
                    remote,
                    error: StreamFailure::TooManyStreams {
                        limit: self.config.max_streams,
                    },
                });
                return;
            }
            None => StreamBuffer::default(),
        };
        buffer.push(bytes);
        let limits: Limits = self.config.limits;
        loop {
            match buffer.peek(&limits) {
                Ok(None) => break,
                Ok(Some(StreamItem::Ping)) => {
                    buffer.consume(4);
                    self.queue(Transport::Tcp, local, remote, b"\r\n".to_vec());
                }
                Ok(Some(StreamItem::Pong)) => {
                    buffer.consume(2);
                    self.pong(remote);
                }
                Ok(Some(StreamItem::Message { length })) => {
                    let message = buffer.pending().get(..length).unwrap_or_default();
                    self.handle_message(now, Transport::Tcp, local, remote, message);
                    buffer.consume(length);
                }
                Err(error) => {
                    tracing::warn!(%remote, %error, "TCP stream cannot be framed; closing");
                    self.stats.malformed += 1;
                    self.events.push_back(Event::StreamError {
                        remote,
                        error: StreamFailure::Framing(error),
                    });
                    return;
                }
            }
        }
        if !buffer.pending().is_empty() {
            self.streams.insert(remote, buffer);
        }
    }

    /// The TCP connection with `remote` closed. Registrations that rested on it
    /// re-register over a new connection (RFC 5626 §4.4 flow recovery); requests still
    /// waiting for their answer on it fail as a transport error (RFC 3261 §17.1.4), as
    /// the answer has no connection left to come back on.
    pub fn handle_connection_closed(&mut self, now: Instant, remote: SocketAddr) {
        self.streams.remove(&remote);
        self.flows.remove(&remote);
        // Taken first: a REGISTER that fails below is retried by its own back-off, not
        // sent again here as well.
        let resting = self.registered_over(remote);
        self.fail_clients(now, Transport::Tcp, remote);
        self.flow_lost(now, remote, resting);
    }

    /// The driver could not send to `remote` over `transport` (connection refused,
    /// unreachable): client transactions to it fail (RFC 3261 §17.1.4).
    pub fn handle_transport_error(
        &mut self,
        now: Instant,
        transport: Transport,
        remote: SocketAddr,
    ) {
        self.fail_clients(now, transport, remote);
        let failed: Vec<u64> = self
            .servers
            .iter()
            .filter(|(_, s)| s.transport == transport && s.response_to == remote)
            .map(|(k, _)| *k)
            .collect();
        for key in failed {
            self.remove_server(key);
        }
    }

    /// Client transactions whose requests went to `remote` over `transport` fail with a
    /// transport error, in the order they started.
    fn fail_clients(&mut self, now: Instant, transport: Transport, remote: SocketAddr) {
        let mut failed: Vec<u64> = self
            .clients
            .iter()
            .filter(|(_, c)| c.transport == transport && c.remote == remote)
            .map(|(k, _)| k)
            .collect();
        // In the order they started (a key's high half is its sequence number).
        failed.sort_unstable();
        for key in failed {
            if let Some(mut client) = self.remove_client(key) {
                client.machine.on_transport_error();
                self.client_failed(now, &client, false);
            }
        }
    }

    /// Runs every timer due at `now`. Early or repeated calls do no harm.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, target)) = self.timers.pop_due(now) {
            match target {
                Target::Client(key) => self.client_timer(now, key, at),
                Target::Server(key) => self.server_timer(now, key, at),
                Target::Account(id) => self.registration_timer(now, id, at),
                Target::Subscription(id) => self.subscription_timer(now, id, at),
                Target::KeepAlive(id) => self.keepalive_timer(now, id, at),
            }
        }
    }

    /// The next datagram or stream write to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek()
    }

    /// Parses one whole message and routes it to the client or server side.
    fn handle_message(
        &mut self,
        now: Instant,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) {
        self.stats.messages_received += 1;
        tracing::trace!(%remote, %transport, message = %String::from_utf8_lossy(bytes), "received");
        let mut slots = std::mem::take(&mut self.slots);
        match SipMessage::parse_datagram(bytes, &mut slots, &self.config.limits) {
            Ok(message) => {
                if message.is_request() {
                    self.handle_request(now, transport, local, remote, &message);
                } else {
                    self.handle_response(now, &message);
                }
            }
            Err(error) => {
                self.stats.malformed += 1;
                match error.kind {
                    ParseErrorKind::ContentLengthExceedsData { declared, .. }
                        if transport == Transport::Udp =>
                    {
                        tracing::warn!(%remote, %error, "datagram shorter than its Content-Length");
                        let header_end = error.offset;
                        self.reject_short_body(
                            local, remote, bytes, header_end, declared, &mut slots,
                        );
                    }
                    _ => tracing::warn!(%remote, %error, "unparsable message dropped"),
                }
            }
        }
        self.slots = slots;
    }

    /// Queues bytes for the driver.
    pub(super) fn queue(
        &mut self,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: Vec<u8>,
    ) {
        self.stats.messages_sent += 1;
        self.transmits.push_back(Transmit {
            transport,
            local,
            remote,
            bytes,
        });
    }

    /// An empty buffer to write a request into: a spare one, else a new one with room for
    /// a REGISTER with an Authorization header.
    pub(super) fn request_buffer(&mut self) -> Vec<u8> {
        self.spare_buffers
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(REQUEST_BUFFER))
    }

    /// Keeps a request buffer no longer needed for [`request_buffer`](Self::request_buffer)
    /// (emptied), unless enough are kept or it is not of the usual size.
    pub(super) fn spare_buffer(&mut self, mut buffer: Vec<u8>) {
        if self.spare_buffers.len() < SPARE_BUFFERS
            && (REQUEST_BUFFER..=4 * REQUEST_BUFFER).contains(&buffer.capacity())
        {
            buffer.clear();
            self.spare_buffers.push(buffer);
        }
    }

    /// Puts a deadline on the timer heap.
    pub(super) fn schedule(&mut self, at: Instant, target: Target) {
        self.timers.push(at, target);
    }

    /// A fresh transaction/registration key.
    pub(super) fn next_key(&mut self) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        key
    }

    /// `2 * bytes` lowercase hex characters from the RNG.
    pub(super) fn token(&mut self, bytes: usize) -> String {
        token(&mut self.rng, bytes)
    }

    /// A uniformly random fraction in [0, 1).
    pub(super) fn random_fraction(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The capacity of a new request buffer: a REGISTER with an Authorization header fits.
const REQUEST_BUFFER: usize = 1024;

/// How many spare request buffers the engine keeps at most.
const SPARE_BUFFERS: usize = 32;

/// `2 * bytes` lowercase hex characters from `rng`.
pub(super) fn token(rng: &mut StdRng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    let mut left = bytes;
    while left > 0 {
        let take = left.min(8);
        push_hex_word(&mut out, rng.next_u64(), take);
        left -= take;
    }
    out
}

/// Appends the low `bytes` bytes of `word` (at most 8), least significant first, each as
/// two lowercase hex digits.
pub(super) fn push_hex_word(out: &mut String, word: u64, bytes: usize) {
    let digits = hex_word(word);
    let digits = digits.get(..bytes.min(8) * 2).unwrap_or_default();
    // Hex digits are ASCII.
    out.push_str(std::str::from_utf8(digits).unwrap_or_default());
}

/// The 8 bytes of `word`, least significant first, each as two lowercase hex digits.
pub(super) fn hex_word(mut word: u64) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for pair in out.chunks_exact_mut(2) {
        let byte = (word & 0xff) as usize;
        word >>= 8;
        if let [high, low] = pair {
            *high = HEX.get(byte >> 4).copied().unwrap_or(b'0');
            *low = HEX.get(byte & 15).copied().unwrap_or(b'0');
        }
    }
    out
}

/// `alice` from `sip:alice@127.0.0.1:5062`.
fn contact_user(contact: &str) -> Option<&str> {
    let rest = contact.strip_prefix("sip:")?;
    rest.split_once('@').map(|(user, _)| user)
}
