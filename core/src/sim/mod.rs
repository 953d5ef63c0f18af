//! A deterministic, seeded, in-process network on virtual time: engines and scripted
//! peers exchange messages with configurable loss, duplication, reordering and delay.
//! Tests of timers run in milliseconds and never sleep; benchmarks drive thousands of
//! accounts through it.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ims_core::engine::{Command, Event};
//! use ims_core::sim::{Registrar, SimNetwork};
//! use ims_core::transport::Transport;
//!
//! # #[allow(clippy::disallowed_methods)]
//! let mut network = SimNetwork::new(Instant::now(), 7);
//! let registrar = network.add_peer("127.0.0.1:5060".parse()?, Registrar::new("ims.test"));
//! network.peer_mut::<Registrar>(registrar).unwrap().add_user("alice", "secret");
//! let phone = network.add_engine(&[(Transport::Udp, "127.0.0.1:5062".parse()?)]);
//! let alice = network.add_account(phone, "sip:alice@ims.test", "secret", "127.0.0.1:5060".parse()?, Transport::Udp)?;
//! network.command(phone, Command::Register { account: alice })?;
//! network.run_for(Duration::from_secs(1));
//! assert!(network.events(phone).iter().any(|e| matches!(e, Event::Registered { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod registrar;

pub use registrar::{ForcedResponse, Registrar};

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::engine::{Command, CommandError, Engine, EngineConfig, Event};
use crate::transport::{Transmit, Transport};
use crate::ua::{AccountConfig, AccountError, AccountId};

/// What the network does to datagrams (TCP segments are only delayed, in order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    /// Probability a datagram is lost.
    pub loss: f64,
    /// Probability a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability a datagram gets an extra random delay of up to `reorder_window`,
    /// so later ones overtake it.
    pub reorder: f64,
    /// The extra delay bound for reordered datagrams.
    pub reorder_window: Duration,
    /// One-way delay of every message.
    pub delay: Duration,
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_window: Duration::from_millis(100),
            delay: Duration::from_millis(1),
        }
    }
}

/// A scripted participant: answers what it receives.
pub trait SimPeer: Any {
    /// A message for the peer from `from` over `transport`; returns the replies to send
    /// back to `from`.
    fn on_message(
        &mut self,
        now: Instant,
        from: SocketAddr,
        transport: Transport,
        bytes: &[u8],
    ) -> Vec<Vec<u8>>;
    /// For downcasting in [`SimNetwork::peer_mut`].
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Names a node of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId(usize);

/// A message seen on the wire (for assertions on timing and content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRecord {
    /// When it was sent (virtual time).
    pub sent: Instant,
    /// From where.
    pub from: SocketAddr,
    /// To where.
    pub to: SocketAddr,
    /// Over what.
    pub transport: Transport,
    /// Whether the network dropped it.
    pub lost: bool,
    /// The bytes.
    pub bytes: Vec<u8>,
}

enum Node {
    Engine {
        engine: Box<Engine>,
        events: Vec<Event>,
        /// Answer every MessageReceived with this status at once.
        answer_messages: Option<u16>,
    },
    Peer(Box<dyn SimPeer>),
}

struct Packet {
    from: SocketAddr,
    to: SocketAddr,
    transport: Transport,
    bytes: Vec<u8>,
}

/// The simulated network. See the [module docs](self).
pub struct SimNetwork {
    now: Instant,
    rng: StdRng,
    /// What the network does to datagrams; change it at any time.
    pub conditions: Conditions,
    nodes: Vec<Node>,
    addresses: HashMap<SocketAddr, usize>,
    in_flight: BinaryHeap<Reverse<(Instant, u64)>>,
    packets: HashMap<u64, Packet>,
    sequence: u64,
    /// Keep a copy of every message sent (off by default; benchmarks leave it off).
    pub record: bool,
    wire: Vec<WireRecord>,
    /// Cap on how many events each engine keeps (oldest dropped past it).
    pub max_events: usize,
}

impl SimNetwork {
    /// An empty network at virtual time `start`, its randomness seeded with `seed`.
    pub fn new(start: Instant, seed: u64) -> SimNetwork {
        SimNetwork {
            now: start,
            rng: StdRng::seed_from_u64(seed),
            conditions: Conditions::default(),
            nodes: Vec::new(),
            addresses: HashMap::new(),
            in_flight: BinaryHeap::new(),
            packets: HashMap::new(),
            sequence: 0,
            record: false,
            wire: Vec::new(),
            max_events: 100_000,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Adds an engine with default config (timers as in the RFC), listening on
    /// `locals`. Its RNG seed comes from the network's.
    pub fn add_engine(&mut self, locals: &[(Transport, SocketAddr)]) -> NodeId {
        self.add_engine_with(EngineConfig::default(), locals)
    }

    /// Adds an engine with `config` (its `rng_seed`, when `None`, comes from the network).
    pub fn add_engine_with(
        &mut self,
        mut config: EngineConfig,
        locals: &[(Transport, SocketAddr)],
    ) -> NodeId {
        if config.rng_seed.is_none() {
            let mut seed = [0u8; 32];
            self.rng.fill_bytes(&mut seed);
            config.rng_seed = Some(seed);
        }
        let id = self.nodes.len();
        let mut engine = match Engine::new(config) {
            Ok(engine) => engine,
            Err(error) => {
                tracing::error!(%error, "sim: engine config refused; using defaults");
                let mut seed = [0u8; 32];
                self.rng.fill_bytes(&mut seed);
                let fallback = EngineConfig {
                    rng_seed: Some(seed),
                    ..EngineConfig::default()
                };
                match Engine::new(fallback) {
                    Ok(engine) => engine,
                    Err(_) => return NodeId(usize::MAX),
                }
            }
        };
        for &(transport, address) in locals {
            engine.add_local(transport, address);
            self.addresses.insert(address, id);
        }
        self.nodes.push(Node::Engine {
            engine: Box::new(engine),
            events: Vec::new(),
            answer_messages: None,
        });
        NodeId(id)
    }

    /// Adds a scripted peer reachable at `address` (UDP and TCP).
    pub fn add_peer(&mut self, address: SocketAddr, peer: impl SimPeer) -> NodeId {
        let id = self.nodes.len();
        self.addresses.insert(address, id);
        self.nodes.push(Node::Peer(Box::new(peer)));
        NodeId(id)
    }

    /// The peer at `node`, as its concrete type.
    pub fn peer_mut<T: SimPeer>(&mut self, node: NodeId) -> Option<&mut T> {
        match self.nodes.get_mut(node.0)? {
            Node::Peer(peer) => peer.as_any_mut().downcast_mut::<T>(),
            Node::Engine { .. } => None,
        }
    }

    /// The engine at `node`.
    pub fn engine(&mut self, node: NodeId) -> Option<&mut Engine> {
        match self.nodes.get_mut(node.0)? {
            Node::Engine { engine, .. } => Some(engine),
            Node::Peer(_) => None,
        }
    }

    /// Makes the engine at `node` answer every incoming MESSAGE with `status` as soon as
    /// it is handed up (`None`: the test answers itself).
    pub fn answer_messages(&mut self, node: NodeId, status: Option<u16>) {
        if let Some(Node::Engine {
            answer_messages, ..
        }) = self.nodes.get_mut(node.0)
        {
            *answer_messages = status;
        }
    }

    /// Adds an account to the engine at `node`.
    pub fn add_account(
        &mut self,
        node: NodeId,
        aor: &str,
        password: &str,
        proxy: SocketAddr,
        transport: Transport,
    ) -> Result<AccountId, AccountError> {
        self.add_account_with(node, AccountConfig::new(aor, password, proxy, transport))
    }

    /// Adds an account with a full config.
    pub fn add_account_with(
        &mut self,
        node: NodeId,
        config: AccountConfig,
    ) -> Result<AccountId, AccountError> {
        let Some(engine) = self.engine(node) else {
            return Err(AccountError::InvalidAor { aor: config.aor });
        };
        engine.add_account(config)
    }

    /// Sends `bytes` from `from` to `to` as if a peer had sent them (e.g. a NOTIFY).
    pub fn inject(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        transport: Transport,
        bytes: Vec<u8>,
    ) {
        self.send(Transmit {
            transport,
            local: from,
            remote: to,
            bytes,
        });
    }

    /// Gives the engine at `node` a command at the current time.
    pub fn command(&mut self, node: NodeId, command: Command) -> Result<(), CommandError> {
        let now = self.now;
        match self.engine(node) {
            Some(engine) => engine.command(now, command),
            None => Err(CommandError::ShuttingDown),
        }
    }

    /// The events the engine at `node` has produced so far.
    pub fn events(&self, node: NodeId) -> &[Event] {
        match self.nodes.get(node.0) {
            Some(Node::Engine { events, .. }) => events,
            _ => &[],
        }
    }

    /// Takes (and clears) the events of the engine at `node`.
    pub fn take_events(&mut self, node: NodeId) -> Vec<Event> {
        match self.nodes.get_mut(node.0) {
            Some(Node::Engine { events, .. }) => std::mem::take(events),
            _ => Vec::new(),
        }
    }

    /// Every message sent while [`record`](Self::record) was on.
    pub fn wire(&self) -> &[WireRecord] {
        &self.wire
    }

    /// Runs the network for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let until = self.now + duration;
        self.run_until(until);
    }

    /// Runs until virtual time `until`, or until `stop` returns true after a step.
    pub fn run_until_with(
        &mut self,
        until: Instant,
        mut stop: impl FnMut(&SimNetwork) -> bool,
    ) -> bool {
        loop {
            self.collect();
            if stop(self) {
                return true;
            }
            let next = self.next_deadline();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    self.step();
                }
                _ => {
                    self.now = self.now.max(until);
                    self.step();
                    self.collect();
                    return stop(self);
                }
            }
        }
    }

    /// Runs until virtual time `until`.
    pub fn run_until(&mut self, until: Instant) {
        self.run_until_with(until, |_| false);
    }

    /// The earliest packet delivery or engine timer.
    fn next_deadline(&self) -> Option<Instant> {
        let packet = self.in_flight.peek().map(|Reverse((at, _))| *at);
        let timers = self.nodes.iter().filter_map(|node| match node {
            Node::Engine { engine, .. } => engine.poll_timeout(),
            Node::Peer(_) => None,
        });
        packet.into_iter().chain(timers).min()
    }

    /// Delivers packets due now and runs engine timers due now.
    fn step(&mut self) {
        let now = self.now;
        while let Some(Reverse((at, sequence))) = self.in_flight.peek().copied() {
            if at > now {
                break;
            }
            self.in_flight.pop();
            if let Some(packet) = self.packets.remove(&sequence) {
                self.deliver(packet);
            }
            self.collect();
        }
        for node in &mut self.nodes {
            if let Node::Engine { engine, .. } = node
                && engine.poll_timeout().is_some_and(|at| at <= now)
            {
                engine.handle_timeout(now);
            }
        }
    }

    fn deliver(&mut self, packet: Packet) {
        let now = self.now;
        let Some(&index) = self.addresses.get(&packet.to) else {
            tracing::debug!(to = %packet.to, "sim: no node at address; dropped");
            return;
        };
        let replies = match self.nodes.get_mut(index) {
            Some(Node::Engine { engine, .. }) => {
                match packet.transport {
                    Transport::Udp => {
                        engine.handle_datagram(now, packet.from, packet.to, &packet.bytes)
                    }
                    Transport::Tcp => {
                        engine.handle_stream_bytes(now, packet.from, packet.to, &packet.bytes)
                    }
                }
                Vec::new()
            }
            Some(Node::Peer(peer)) => {
                peer.on_message(now, packet.from, packet.transport, &packet.bytes)
            }
            None => Vec::new(),
        };
        for bytes in replies {
            self.send(Transmit {
                transport: packet.transport,
                local: packet.to,
                remote: packet.from,
                bytes,
            });
        }
    }

    /// Moves engine output onto the wire and into the event lists.
    fn collect(&mut self) {
        let now = self.now;
        let mut outgoing = Vec::new();
        let max_events = self.max_events;
        for node in &mut self.nodes {
            if let Node::Engine {
                engine,
                events,
                answer_messages,
            } = node
            {
                while let Some(event) = engine.poll_event() {
                    if let (Event::MessageReceived(message), Some(status)) =
                        (&event, *answer_messages)
                    {
                        let _ = engine.command(
                            now,
                            Command::Respond {
                                transaction: message.transaction,
                                status,
                                reason: None,
                                headers: Vec::new(),
                                body: Vec::new(),
                            },
                        );
                    }
                    if events.len() >= max_events {
                        events.remove(0);
                    }
                    events.push(event);
                }
                while let Some(transmit) = engine.poll_transmit() {
                    outgoing.push(transmit);
                }
            }
        }
        for transmit in outgoing {
            self.send(transmit);
        }
    }

    fn send(&mut self, transmit: Transmit) {
        let conditions = self.conditions;
        let unreliable = transmit.transport == Transport::Udp;
        let lost = unreliable && self.chance(conditions.loss);
        if self.record {
            self.wire.push(WireRecord {
                sent: self.now,
                from: transmit.local,
                to: transmit.remote,
                transport: transmit.transport,
                lost,
                bytes: transmit.bytes.clone(),
            });
        }
        if lost {
            return;
        }
        let copies = if unreliable && self.chance(conditions.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = conditions.delay;
            if unreliable && self.chance(conditions.reorder) {
                let window = conditions.reorder_window.as_nanos() as f64;
                delay += Duration::from_nanos((window * self.fraction()) as u64);
            }
            self.sequence += 1;
            let sequence = self.sequence;
            self.packets.insert(
                sequence,
                Packet {
                    from: transmit.local,
                    to: transmit.remote,
                    transport: transmit.transport,
                    bytes: transmit.bytes.clone(),
                },
            );
            self.in_flight.push(Reverse((self.now + delay, sequence)));
        }
    }

    fn fraction(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        probability > 0.0 && self.fraction() < probability
    }
}
