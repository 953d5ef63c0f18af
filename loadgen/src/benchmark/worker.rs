//! One benchmark worker thread: one sans-IO engine holding its share of the subscriber
//! population on one UDP socket (or one per user, crate::udp), its share of the Poisson arrivals (SAPS / workers: the
//! sum of independent Poisson processes is a Poisson process at the summed rate), and the
//! users' states, so that each attempt takes a user in the state its scenario needs
//! (register: not registered; re-register, de-register, message: registered) and no user
//! runs two attempts at once.
#![allow(clippy::disallowed_methods)] // the worker is a driver: it owns the clock

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ims_core::engine::{Command, Engine, EngineConfig, Event};
use ims_core::transport::Transport;
use ims_core::ua::{AccountId, OutgoingMessage};

use super::config::Config;
use super::metrics::{BenchMetrics, End};
use super::profile::{Poisson, ScenarioType};
pub use super::shared::{BenchShared, NO_STEP, Stage};

/// Longest the loop sleeps: also how often attempts in flight are checked against their
/// thresholds.
const TICK: Duration = Duration::from_millis(10);
/// An attempt with no outcome after this long is given up (Timer F is 32 s).
const GIVE_UP: Duration = Duration::from_secs(40);

/// Where a user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UserState {
    /// Not registered, in the idle pool.
    Unregistered,
    /// Registered, in the idle pool.
    Registered,
    /// Registering in the preamble.
    Preamble,
    /// In an attempt (out of the pools).
    Busy,
    /// Being brought back to not registered after a failure (out of the pools).
    Cleaning,
    /// De-registering at the end.
    Final,
    /// De-registered at the end, or lost (a de-registration failed).
    Done,
}

/// An attempt in flight.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attempt {
    scenario: ScenarioType,
    step: usize,
    since: Instant,
    /// Passed its threshold while in flight (counted as inadequate already).
    late: bool,
    /// The user(s): the one acting, and the other end of a message.
    user: usize,
    peer: Option<usize>,
}

/// One worker's share of the benchmark.
pub struct BenchWorker {
    pub(super) index: usize,
    pub(super) config: Arc<Config>,
    pub(super) shared: Arc<BenchShared>,
    pub(super) metrics: Arc<Mutex<BenchMetrics>>,
    pub(super) engine: Engine,
    pub(super) accounts: Vec<AccountId>,
    pub(super) states: Vec<UserState>,
    /// Counted in `BenchShared::registered`.
    pub(super) counted: Vec<bool>,
    /// Global index of local user 0.
    pub(super) first: usize,
    pub(super) unregistered: Vec<usize>,
    pub(super) registered: Vec<usize>,
    /// Registration-type attempts by user, messages by id.
    pub(super) attempts: HashMap<usize, Attempt>,
    pub(super) messages: HashMap<u64, Attempt>,
    pub(super) next_message: u64,
    pub(super) process: Poisson,
    /// The step the next arrival belongs to, and when it is due.
    pub(super) arrival: Option<(usize, Instant)>,
    pub(super) preamble: Vec<usize>,
    pub(super) preamble_sent: usize,
    pub(super) final_sent: usize,
    pub(super) udp: crate::udp::UdpEndpoint,
    /// The events of the datagrams of one read, each with when its datagram arrived.
    answers: Vec<(Instant, Event)>,
    /// While the events of one datagram are handled: when it arrived, which is when the
    /// attempts it answers end (`end`).
    answered_at: Option<Instant>,
}

/// Why a worker could not start.
#[derive(Debug, thiserror::Error)]
#[error("worker {worker}: {reason}")]
pub struct SetupError {
    worker: usize,
    reason: String,
}

impl BenchWorker {
    /// Builds the engine with the users `users` of the configuration, and picks the ones
    /// the preamble registers.
    #[allow(clippy::too_many_arguments)] // one worker's whole set-up, from one place
    pub fn new(
        index: usize,
        config: Arc<Config>,
        shared: Arc<BenchShared>,
        metrics: Arc<Mutex<BenchMetrics>>,
        sockets: crate::net::Sockets,
        users: std::ops::Range<usize>,
        engine_seed: [u8; 32],
        arrival_seed: u64,
    ) -> Result<BenchWorker, SetupError> {
        let setup = |reason: String| SetupError {
            worker: index,
            reason,
        };
        let engine_config = EngineConfig {
            rng_seed: Some(engine_seed),
            user_agent: Some(concat!("imsload/", env!("CARGO_PKG_VERSION")).to_owned()),
            ..EngineConfig::default()
        };
        let mut engine = Engine::new(engine_config).map_err(|e| setup(e.to_string()))?;
        for &local in sockets.udp.locals() {
            engine.add_local(Transport::Udp, local);
        }
        let mut accounts = Vec::with_capacity(users.len());
        for (index, user) in config
            .users
            .get(users.clone())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let account = user.account(
                config.target,
                Transport::Udp,
                config.expires,
                sockets.udp.user_local(index),
            );
            let id = engine
                .add_account(account)
                .map_err(|e| setup(format!("{}: {e}", user.aor())))?;
            accounts.push(id);
        }
        let mut process = Poisson::new(arrival_seed);
        // The preamble's users: a random share of this worker's.
        let count = accounts.len();
        let chosen = ((count as f64) * config.registered_share).round() as usize;
        let mut order: Vec<usize> = (0..count).collect();
        for i in (1..count).rev() {
            order.swap(i, process.index(i + 1));
        }
        let preamble: Vec<usize> = order.iter().copied().take(chosen).collect();
        let unregistered: Vec<usize> = order.iter().copied().skip(chosen).collect();
        shared
            .preamble_users
            .fetch_add(preamble.len(), Ordering::AcqRel);
        let mut states = vec![UserState::Unregistered; count];
        for &user in &preamble {
            states[user] = UserState::Preamble;
        }
        Ok(BenchWorker {
            index,
            config,
            shared,
            metrics,
            engine,
            accounts,
            states,
            counted: vec![false; count],
            first: users.start,
            unregistered,
            registered: Vec::with_capacity(count),
            attempts: HashMap::new(),
            messages: HashMap::new(),
            next_message: 1,
            process,
            arrival: None,
            preamble,
            preamble_sent: 0,
            final_sent: 0,
            udp: sockets.udp,
            answers: Vec::new(),
            answered_at: None,
        })
    }

    /// Runs the worker on its own thread until every user is de-registered or the run is
    /// aborted.
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name(format!("imsload-bench-{}", self.index))
            .spawn(move || self.run())
    }

    fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        let mut batch = crate::batch::Batch::new();
        loop {
            let now = Instant::now();
            if self.engine.poll_timeout().is_some_and(|at| at <= now) {
                self.engine.handle_timeout(now);
            }
            let done = self.step(now);
            self.flush(now);
            if done || shared.abort.load(Ordering::Acquire) {
                break;
            }
            let wake = [self.engine.poll_timeout(), self.arrival.map(|(_, at)| at)]
                .into_iter()
                .flatten()
                .fold(now + TICK, Instant::min);
            let engine = &mut self.engine;
            let answers = &mut self.answers;
            let mut read_at = None;
            let received = self
                .udp
                .receive(wake, &mut batch, |local, remote, bytes, received| {
                    let now = *read_at.get_or_insert_with(Instant::now);
                    engine.handle_datagram(now, remote, local, bytes);
                    while let Some(event) = engine.poll_event() {
                        answers.push((received.min(now), event));
                    }
                });
            // Each answer ends its attempt when it arrived, not when it was read.
            let mut answers = std::mem::take(&mut self.answers);
            for (arrived, event) in answers.drain(..) {
                self.answered_at = Some(arrived);
                self.handle_event(Instant::now(), event);
            }
            self.answered_at = None;
            self.answers = answers;
            if let Err(error) = received {
                tracing::error!(worker = self.index, %error, "cannot wait on the UDP socket(s)");
                shared.abort.store(true, Ordering::Release);
                break;
            }
        }
        let stats = self.engine.stats();
        {
            let mut metrics = self.metrics.lock().unwrap_or_else(PoisonError::into_inner);
            metrics.retransmissions = stats.retransmissions;
            metrics.engine_timeouts = stats.timeouts;
        }
        shared.finished.fetch_add(1, Ordering::AcqRel);
    }

    /// Sends what the engine queued and handles its events until both queues are empty.
    fn flush(&mut self, now: Instant) {
        loop {
            let mut idle = true;
            while let Some(transmit) = self.engine.poll_transmit() {
                idle = false;
                if transmit.transport != Transport::Udp {
                    self.engine
                        .handle_transport_error(now, transmit.transport, transmit.remote);
                    continue;
                }
                match self
                    .udp
                    .send(transmit.local, &transmit.bytes, transmit.remote)
                {
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                        tracing::debug!(remote = %transmit.remote, "UDP send buffer full; dropped");
                    }
                    Err(error) => {
                        tracing::debug!(%error, remote = %transmit.remote, "UDP send failed");
                        self.engine
                            .handle_transport_error(now, Transport::Udp, transmit.remote);
                    }
                }
            }
            while let Some(event) = self.engine.poll_event() {
                idle = false;
                self.handle_event(Instant::now(), event);
            }
            if idle {
                break;
            }
        }
    }

    /// Arrivals and pacing for the current stage; true once this worker is finished.
    fn step(&mut self, now: Instant) -> bool {
        self.check_thresholds(now);
        let (stage, began) = self.shared.stage();
        match stage {
            Stage::Preamble => {
                let rate = self.config.register_rate / self.config.workers.max(1) as f64;
                while self.preamble_sent < self.preamble.len()
                    && due(self.preamble_sent, rate) <= now.saturating_duration_since(began)
                {
                    let user = self.preamble[self.preamble_sent];
                    self.preamble_sent += 1;
                    self.send(now, user, |account| Command::Register { account });
                }
                false
            }
            Stage::Steps => {
                self.arrivals(now);
                false
            }
            Stage::Stop => self.stop(now, began),
        }
    }

    /// Starts every attempt due by `now` in the running step.
    fn arrivals(&mut self, now: Instant) {
        let (step, began) = self.shared.step();
        if step == NO_STEP {
            self.arrival = None;
            return;
        }
        let rate = self.config.profile.saps(step) / self.config.workers.max(1) as f64;
        // A new step draws its first gap from its start (the process is memoryless).
        let (mut arrival_step, mut at) = match self.arrival {
            Some((arrival_step, at)) if arrival_step == step => (arrival_step, at),
            _ => (step, began + self.process.gap(rate)),
        };
        while at <= now {
            let scenario = self.config.weights.pick(self.process.uniform());
            self.start_attempt(now, arrival_step, scenario);
            at += self.process.gap(rate);
            arrival_step = step;
        }
        self.arrival = Some((arrival_step, at));
    }

    /// Takes a random user from `pool` (`None`: empty).
    fn take(&mut self, registered: bool) -> Option<usize> {
        let len = if registered {
            self.registered.len()
        } else {
            self.unregistered.len()
        };
        if len == 0 {
            return None;
        }
        let at = self.process.index(len);
        let pool = if registered {
            &mut self.registered
        } else {
            &mut self.unregistered
        };
        Some(pool.swap_remove(at))
    }

    fn start_attempt(&mut self, now: Instant, step: usize, scenario: ScenarioType) {
        let user = match scenario {
            ScenarioType::Register => self.take(false),
            _ => self.take(true),
        };
        let peer = match (scenario, user) {
            (ScenarioType::Message, Some(user)) => match self.take(true) {
                Some(peer) => Some(peer),
                None => {
                    self.registered.push(user);
                    return self.skip(step, scenario);
                }
            },
            _ => None,
        };
        let Some(user) = user else {
            return self.skip(step, scenario);
        };
        self.states[user] = UserState::Busy;
        if let Some(peer) = peer {
            self.states[peer] = UserState::Busy;
        }
        let attempt = Attempt {
            scenario,
            step,
            since: now,
            late: false,
            user,
            peer,
        };
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .started(step, scenario);
        let Some(&account) = self.accounts.get(user) else {
            return;
        };
        let command = match scenario {
            ScenarioType::Register => Command::Register { account },
            ScenarioType::ReRegister => Command::Refresh { account },
            ScenarioType::DeRegister => Command::Unregister { account },
            ScenarioType::Message => {
                let id = self.next_message;
                self.next_message += 1;
                let to = peer
                    .and_then(|peer| self.config.users.get(self.first + peer))
                    .map(crate::users::User::aor)
                    .unwrap_or_default();
                self.messages.insert(id, attempt);
                let message = OutgoingMessage {
                    id,
                    to,
                    body: format!("imsload benchmark {} #{id}", self.index).into_bytes(),
                    content_type: "text/plain;charset=UTF-8".to_owned(),
                    call_id: None,
                    cseq: None,
                    group: None,
                    headers: Vec::new(),
                };
                if !self.command(now, Command::SendMessage { account, message }) {
                    self.messages.remove(&id);
                    self.end(attempt, End::Error, now);
                }
                return;
            }
        };
        self.attempts.insert(user, attempt);
        if !self.command(now, command) {
            self.attempts.remove(&user);
            self.end(attempt, End::Error, now);
        }
    }

    fn skip(&mut self, step: usize, scenario: ScenarioType) {
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .skipped(step, scenario);
    }

    pub(super) fn command(&mut self, now: Instant, command: Command) -> bool {
        match self.engine.command(now, command) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(worker = self.index, %error, "command refused");
                false
            }
        }
    }

    pub(super) fn send(
        &mut self,
        now: Instant,
        user: usize,
        command: impl FnOnce(AccountId) -> Command,
    ) {
        if let Some(&account) = self.accounts.get(user) {
            self.command(now, command(account));
        }
    }

    /// Records the end of `attempt` and puts its users where the outcome leaves them.
    pub(super) fn end(&mut self, attempt: Attempt, end: End, now: Instant) {
        let ended = self
            .answered_at
            .map_or(now, |arrived| arrived.max(attempt.since));
        let latency = ended.saturating_duration_since(attempt.since);
        let threshold = self.config.threshold(attempt.scenario);
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ended(
                attempt.step,
                attempt.scenario,
                end,
                latency,
                threshold,
                attempt.late,
            );
        let success = matches!(end, End::Status(200..=299));
        match (attempt.scenario, success) {
            (ScenarioType::Register | ScenarioType::ReRegister, true) => {
                self.release(attempt.user, true);
            }
            (ScenarioType::DeRegister, true) => self.release(attempt.user, false),
            (ScenarioType::Message, _) => {
                self.release(attempt.user, true);
                if let Some(peer) = attempt.peer {
                    self.release(peer, true);
                }
            }
            // A failed (re-)registration or de-registration: bring the user back to
            // not registered (the engine stops retrying) before it is used again.
            (_, false) => {
                self.set_registered(attempt.user, false);
                self.states[attempt.user] = UserState::Cleaning;
                self.send(now, attempt.user, |account| Command::Unregister { account });
            }
        }
    }

    /// Puts an idle user back in its pool (or, once stopping, leaves it for the final
    /// de-registration).
    pub(super) fn release(&mut self, user: usize, registered: bool) {
        if self.states.get(user) != Some(&UserState::Busy)
            && self.states.get(user) != Some(&UserState::Cleaning)
            && self.states.get(user) != Some(&UserState::Preamble)
        {
            return;
        }
        self.set_registered(user, registered);
        if registered {
            self.states[user] = UserState::Registered;
            self.registered.push(user);
        } else {
            self.states[user] = UserState::Unregistered;
            self.unregistered.push(user);
        }
    }

    /// Keeps `Shared::registered` (the count) in step; a user counts while registered,
    /// busy included.
    pub(super) fn set_registered(&mut self, user: usize, registered: bool) {
        let Some(counted) = self.counted.get_mut(user) else {
            return;
        };
        if *counted != registered {
            *counted = registered;
            if registered {
                self.shared.registered.fetch_add(1, Ordering::AcqRel);
            } else {
                self.shared.registered.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Marks attempts in flight past their threshold as inadequately handled (so a step
    /// is decided without waiting for them), and gives up on those with no outcome after
    /// [`GIVE_UP`].
    fn check_thresholds(&mut self, now: Instant) {
        let config = Arc::clone(&self.config);
        let mut late = Vec::new();
        let mut given_up_users = Vec::new();
        let mut given_up_messages = Vec::new();
        let mut look = |attempt: &mut Attempt| {
            let age = now.saturating_duration_since(attempt.since);
            if !attempt.late && age > config.threshold(attempt.scenario) {
                attempt.late = true;
                late.push((attempt.step, attempt.scenario));
            }
            age > GIVE_UP
        };
        for (user, attempt) in &mut self.attempts {
            if look(attempt) {
                given_up_users.push(*user);
            }
        }
        for (id, attempt) in &mut self.messages {
            if look(attempt) {
                given_up_messages.push(*id);
            }
        }
        if !late.is_empty() {
            let mut metrics = self.metrics.lock().unwrap_or_else(PoisonError::into_inner);
            for (step, scenario) in late {
                metrics.late(step, scenario);
            }
        }
        let users = given_up_users
            .into_iter()
            .filter_map(|u| self.attempts.remove(&u));
        let attempts: Vec<Attempt> = users
            .collect::<Vec<_>>()
            .into_iter()
            .chain(
                given_up_messages
                    .into_iter()
                    .filter_map(|id| self.messages.remove(&id)),
            )
            .collect();
        for attempt in attempts {
            {
                tracing::warn!(
                    worker = self.index,
                    scenario = attempt.scenario.name(),
                    "no outcome; given up"
                );
                self.end(attempt, End::Timeout, now);
            }
        }
    }

    /// The stop: attempts in flight end (unless hurried), then every registered user
    /// de-registers at the registration rate. True once all are done.
    fn stop(&mut self, now: Instant, began: Instant) -> bool {
        self.arrival = None;
        // A preamble stopped early (Ctrl-C): its users not sent yet stay unregistered.
        while let Some(&user) = self.preamble.get(self.preamble_sent) {
            self.preamble_sent += 1;
            if self.states.get(user) == Some(&UserState::Preamble) {
                self.states[user] = UserState::Unregistered;
            }
        }
        let hurry = self.shared.hurry.load(Ordering::Relaxed);
        let idle = self.attempts.is_empty() && self.messages.is_empty();
        if !hurry && !idle {
            return false;
        }
        let rate = self.config.register_rate / self.config.workers.max(1) as f64;
        while let Some(&user) = self.registered.last() {
            if !hurry && due(self.final_sent, rate) > now.saturating_duration_since(began) {
                break;
            }
            self.registered.pop();
            self.final_sent += 1;
            self.states[user] = UserState::Final;
            self.send(now, user, |account| Command::Unregister { account });
        }
        self.registered.is_empty()
            && self.attempts.is_empty()
            && self.messages.is_empty()
            && self
                .states
                .iter()
                .all(|state| matches!(state, UserState::Unregistered | UserState::Done))
    }
}

/// When paced event `k` (from 0) is due at `rate` per second.
fn due(k: usize, rate: f64) -> Duration {
    Duration::try_from_secs_f64(k as f64 / rate).unwrap_or(Duration::MAX)
}
