//! One worker thread: one sans-IO engine holding its share of the virtual users, one UDP
//! socket or one per user (crate::udp) and TCP connections, and the loop that feeds the
//! engine, paces arrivals and turns engine events into measurements.
#![allow(clippy::disallowed_methods)] // the worker is a driver: it owns the clock

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ims_core::engine::{Command, Engine, EngineConfig, Event};
use ims_core::transport::{Transmit, Transport};
use ims_core::ua::AccountId;

use crate::batch::Batch;
use crate::cli::Plan;
use crate::metrics::{EngineCounters, Kind, Metrics};
use crate::net::{Sockets, StreamInput, Streams};
use crate::shared::{Phase, Shared};
use crate::vu::{Pending, Vu, VuState};

/// Longest the loop sleeps without looking at the phase.
const TICK: Duration = Duration::from_millis(20);
/// Datagrams read per wake-up before the engine's outputs are flushed.
const BATCH: usize = 256;

/// Why a worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The engine refused its configuration or an account.
    #[error("worker {worker}: {reason}")]
    Setup {
        /// Which worker.
        worker: usize,
        /// Why.
        reason: String,
    },
}

/// One worker's slice of the run.
pub struct Worker {
    pub(crate) index: usize,
    pub(crate) plan: Arc<Plan>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) metrics: Arc<Mutex<Metrics>>,
    pub(crate) engine: Engine,
    /// The users, by account index.
    pub(crate) vus: Vec<Vu>,
    /// The global index of `vus[0]`.
    pub(crate) first: usize,
    /// Messages in flight by id.
    pub(crate) pending: std::collections::HashMap<u64, Pending>,
    pub(crate) next_message: u64,
    /// Transactions this worker started and has not seen end.
    pub(crate) in_flight: usize,
    /// This worker's share of --max-concurrent.
    pub(crate) max_in_flight: usize,
    /// Next user to register.
    register_next: usize,
    /// Texts sent so far in the traffic phase.
    sent: u64,
    /// This worker's share of --count.
    quota: Option<u64>,
    /// The users that send (they have a peer or a group), in turn.
    senders: Vec<usize>,
    sender_cursor: usize,
    /// Users still to de-register.
    deregister_queue: Option<VecDeque<usize>>,
    deregistered: usize,
    traffic_done: bool,
    udp: Option<crate::udp::UdpEndpoint>,
    listener: Option<std::net::TcpListener>,
    local: SocketAddr,
    /// A `mixed` run's share (crate::vu::mixed).
    pub(crate) mix: Option<crate::vu::MixState>,
    /// UDP datagrams the engine queued in this step, sent together (`Worker::run_udp`).
    pub(crate) outgoing: Vec<Transmit>,
    /// While the events of one received datagram are handled: when it arrived, which is
    /// when the transactions it answers end (`record_ended`).
    answered_at: Option<Instant>,
}

impl Worker {
    /// Builds the engine and adds the users `first..first + users` of the plan.
    pub fn new(
        index: usize,
        plan: Arc<Plan>,
        shared: Arc<Shared>,
        metrics: Arc<Mutex<Metrics>>,
        sockets: Sockets,
        users: std::ops::Range<usize>,
        seed: [u8; 32],
    ) -> Result<Worker, WorkerError> {
        let setup = |reason: String| WorkerError::Setup {
            worker: index,
            reason,
        };
        let config = EngineConfig {
            rng_seed: Some(seed),
            user_agent: Some(concat!("imsload/", env!("CARGO_PKG_VERSION")).to_owned()),
            timers: ims_core::transaction::TimerConfig {
                t1: plan.t1,
                ..Default::default()
            },
            ..EngineConfig::default()
        };
        let mut engine = Engine::new(config).map_err(|e| setup(e.to_string()))?;
        for &local in sockets.udp.locals() {
            engine.add_local(Transport::Udp, local);
        }
        if sockets.listener.is_some() {
            engine.add_local(Transport::Tcp, sockets.local);
        }
        let mut vus = Vec::with_capacity(users.len());
        for (index, user) in plan
            .users
            .get(users.clone())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let mut account = user.account(
                plan.target,
                plan.transport,
                plan.expires,
                sockets.udp.user_local(index),
            );
            if plan.subscribes_at_registration() {
                account.ims.get_or_insert_with(Box::default).reg_event = true;
            }
            let id = engine
                .add_account(account)
                .map_err(|e| setup(format!("{}: {e}", user.aor())))?;
            vus.push(Vu::new(id));
        }
        let workers = plan.workers.max(1);
        let quota = plan.count.map(|count| {
            let base = count / workers as u64;
            base + u64::from((index as u64) < count % workers as u64)
        });
        let first = users.start;
        let mix =
            crate::vu::MixState::new(&plan, users.clone()).map_err(|e| setup(e.to_string()))?;
        let senders = senders(&plan, users);
        Ok(Worker {
            index,
            max_in_flight: plan.max_concurrent.div_ceil(workers).max(1),
            plan,
            shared,
            metrics,
            engine,
            vus,
            first,
            pending: std::collections::HashMap::new(),
            next_message: 1,
            in_flight: 0,
            register_next: 0,
            sent: 0,
            quota,
            senders,
            sender_cursor: 0,
            deregister_queue: None,
            deregistered: 0,
            traffic_done: false,
            udp: Some(sockets.udp),
            listener: sockets.listener,
            local: sockets.local,
            mix,
            outgoing: Vec::new(),
            answered_at: None,
        })
    }

    /// Runs the worker on its own thread (a current-thread tokio runtime) until every user
    /// is de-registered or the run is aborted.
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name(format!("imsload-worker-{}", self.index))
            .spawn(move || {
                // Over UDP, a register or message run sends nothing big enough for the
                // TCP fallback (RFC 3261 §18.1.1; a group fan-out can be): it needs no
                // runtime. Should the engine still ask for TCP, that transaction fails.
                // Sockets per user (UDP only) have no TCP side at all.
                if self.plan.ports.per_user()
                    || (self.plan.transport == Transport::Udp && !self.plan.sends_group_texts())
                {
                    self.run_udp();
                    return;
                }
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::error!(%error, "cannot start a tokio runtime");
                        self.shared.abort.store(true, Ordering::Release);
                        return;
                    }
                };
                runtime.block_on(self.run());
            })
    }

    async fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        let io = match self.sockets() {
            Ok(io) => io,
            Err(error) => {
                tracing::error!(worker = self.index, %error, "cannot use the sockets");
                shared.abort.store(true, Ordering::Release);
                shared.finished.fetch_add(1, Ordering::AcqRel);
                return;
            }
        };
        let (udp, listener) = io;
        let mut streams = listener.as_ref().map(|_| Streams::new());
        let mut buffer = vec![0u8; 65_536];
        let mut last_publish = Instant::now();
        // One timer for the whole loop, moved only when the rounded due time changes (a
        // new `Sleep` per turn re-arms tokio's timer wheel, which costs an eventfd write
        // and a second `epoll_wait`).
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(Instant::now()));
        tokio::pin!(sleep);
        loop {
            let now = Instant::now();
            if self.engine.poll_timeout().is_some_and(|at| at <= now) {
                self.engine.handle_timeout(now);
            }
            let done = self.step(now);
            self.flush(now, Udp::Tokio(&udp), streams.as_mut(), None);
            if done || shared.abort.load(Ordering::Acquire) {
                break;
            }
            if now.duration_since(last_publish) >= Duration::from_millis(200) {
                self.publish_counters();
                last_publish = now;
            }
            let wake = [self.engine.poll_timeout(), self.next_arrival(now)]
                .into_iter()
                .flatten()
                .fold(now + TICK, Instant::min);
            // As in `run_udp`, steps of `udp::TIMER_RESOLUTION`: the wait ends at the first
            // step boundary (counted from the run's start) at or after the due time, and
            // after now, so arrivals and engine timers due within one step are served by
            // one wake-up, and the timer moves once per step at most. Input still ends
            // the wait at once.
            let wake =
                tokio::time::Instant::from_std(step_boundary(self.shared.start, wake.max(now)));
            if sleep.deadline() != wake {
                sleep.as_mut().reset(wake);
            }
            let stream_input = async {
                match streams.as_mut() {
                    Some(streams) => streams.input.recv().await,
                    None => std::future::pending().await,
                }
            };
            let accept = async {
                match listener.as_ref() {
                    Some(listener) => listener.accept().await,
                    None => std::future::pending().await,
                }
            };
            enum Woken {
                Datagram(std::io::Result<(usize, SocketAddr)>),
                Stream(Option<StreamInput>),
                Accepted(std::io::Result<(tokio::net::TcpStream, SocketAddr)>),
                Timer,
            }
            let woken = tokio::select! {
                biased;
                received = udp.recv_from(&mut buffer) => Woken::Datagram(received),
                input = stream_input => Woken::Stream(input),
                accepted = accept => Woken::Accepted(accepted),
                () = &mut sleep => Woken::Timer,
            };
            match woken {
                Woken::Datagram(received) => {
                    let mut received = received;
                    for _ in 0..BATCH {
                        match received {
                            Ok((n, remote)) => {
                                let bytes = buffer.get(..n).unwrap_or_default();
                                self.engine.handle_datagram(
                                    Instant::now(),
                                    remote,
                                    self.local,
                                    bytes,
                                );
                            }
                            Err(error) => {
                                tracing::debug!(%error, "UDP receive error");
                                break;
                            }
                        }
                        received = udp.try_recv_from(&mut buffer);
                        if matches!(&received, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
                        {
                            break;
                        }
                    }
                }
                Woken::Stream(Some(input)) => {
                    self.stream_input(input, streams.as_mut());
                }
                Woken::Stream(None) | Woken::Timer => {}
                Woken::Accepted(Ok((stream, remote))) => {
                    if let Some(streams) = streams.as_mut() {
                        streams.accepted(stream, remote);
                    }
                }
                Woken::Accepted(Err(error)) => tracing::warn!(%error, "TCP accept failed"),
            }
        }
        self.publish_counters();
        shared.finished.fetch_add(1, Ordering::AcqRel);
    }

    /// A UDP-only run: the thread blocks up to the next due time (a timer of the engine,
    /// an arrival, or [`TICK`]; rounded up to whole `udp::TIMER_RESOLUTION` steps) in
    /// `recv_from` on the shared socket, or in `epoll_wait` on the users' sockets
    /// (`UdpEndpoint::receive`). Per wake-up on the shared socket that is one `recvfrom`
    /// (its read timeout is set only when the rounded wait changes), where the tokio loop
    /// of [`Worker::run`] costs an `epoll_wait`, a `recvfrom` and a `recvfrom` that finds
    /// nothing (plus, once per step at most, an eventfd write and a second `epoll_wait`
    /// when its timer moves).
    ///
    /// With `--coalesce`, while datagrams come closer together than its interval, the
    /// worker does not wait for the next one: it sleeps out the interval from its last
    /// wake-up and then takes all that came (one wake-up for several answers); a read that
    /// stops at its limit (`udp::DRAIN_LIMIT`) is followed by the next one at once. Each
    /// answer is still timed from its arrival (the kernel's receive time).
    fn run_udp(mut self) {
        let shared = Arc::clone(&self.shared);
        let Some(mut udp) = self.udp.take() else {
            tracing::error!(worker = self.index, "no UDP socket");
            shared.abort.store(true, Ordering::Release);
            shared.finished.fetch_add(1, Ordering::AcqRel);
            return;
        };
        let mut batch = Batch::new();
        let mut last_publish = Instant::now();
        let coalesce = self.plan.coalesce;
        // The last wake-up by datagrams, and whether answers come fast enough to gather:
        // two wake-ups by datagrams less than `coalesce` apart start it, a gathering read
        // that finds nothing ends it.
        let mut datagram_wake: Option<Instant> = None;
        let mut gathering = false;
        // The last drain stopped at its limit: more is waiting, read again without a nap.
        let mut backlog = false;
        loop {
            let now = Instant::now();
            if self.engine.poll_timeout().is_some_and(|at| at <= now) {
                self.engine.handle_timeout(now);
            }
            let done = self.step(now);
            self.flush(now, Udp::Blocking(&udp), None, Some(&mut batch));
            if done || shared.abort.load(Ordering::Acquire) {
                break;
            }
            if now.duration_since(last_publish) >= Duration::from_millis(200) {
                self.publish_counters();
                last_publish = now;
            }
            let wake = [self.engine.poll_timeout(), self.next_arrival(now)]
                .into_iter()
                .flatten()
                .fold(now + TICK, Instant::min);
            let received = match datagram_wake.filter(|_| gathering) {
                Some(last) => {
                    // Due times in whole steps, as the waits of `receive` are.
                    let due = now + crate::udp::rounded_wait(wake.saturating_duration_since(now));
                    let until = (last + coalesce).min(due);
                    if let Some(nap) = until.checked_duration_since(Instant::now())
                        && !backlog
                    {
                        std::thread::sleep(nap);
                    }
                    let mut read_at = None;
                    let drained = udp.drain(&mut batch, |local, remote, bytes, received| {
                        let now = *read_at.get_or_insert_with(Instant::now);
                        self.datagram(now, local, remote, bytes, received);
                    });
                    backlog = drained
                        .as_ref()
                        .is_ok_and(|&taken| taken >= crate::udp::DRAIN_LIMIT);
                    drained
                }
                // Never skip the receive: a due time can stay in the past (a
                // de-registration paced while its user's registration is still in
                // flight), and the responses that end it must still be read.
                None => {
                    // The datagrams of one read were read together: one clock read.
                    let mut read_at = None;
                    udp.receive(wake, &mut batch, |local, remote, bytes, received| {
                        let now = *read_at.get_or_insert_with(Instant::now);
                        self.datagram(now, local, remote, bytes, received);
                    })
                }
            };
            match received {
                Ok(0) => gathering = false,
                Ok(_) => {
                    let woke = Instant::now();
                    gathering = !coalesce.is_zero()
                        && (gathering
                            || datagram_wake
                                .is_some_and(|last| woke.duration_since(last) < coalesce));
                    datagram_wake = Some(woke);
                }
                Err(error) => {
                    tracing::error!(worker = self.index, %error, "cannot wait on the UDP socket(s)");
                    shared.abort.store(true, Ordering::Release);
                    break;
                }
            }
        }
        self.publish_counters();
        shared.finished.fetch_add(1, Ordering::AcqRel);
    }

    /// One datagram that arrived at `received` and was read at `now`: the engine takes it,
    /// and the events it raises are handled at once, so the transactions it answers end
    /// at `received`.
    fn datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
        received: Instant,
    ) {
        self.engine.handle_datagram(now, remote, local, bytes);
        self.answered_at = Some(received.min(now));
        while let Some(event) = self.engine.poll_event() {
            self.handle_event(now, event);
        }
        self.answered_at = None;
    }

    fn sockets(
        &mut self,
    ) -> std::io::Result<(tokio::net::UdpSocket, Option<tokio::net::TcpListener>)> {
        let udp = self
            .udp
            .take()
            .and_then(crate::udp::UdpEndpoint::into_shared)
            .ok_or_else(|| std::io::Error::other("no shared UDP socket"))?;
        udp.set_nonblocking(true)?;
        let udp = tokio::net::UdpSocket::from_std(udp)?;
        let listener = match self.listener.take() {
            Some(listener) => {
                listener.set_nonblocking(true)?;
                Some(tokio::net::TcpListener::from_std(listener)?)
            }
            None => None,
        };
        Ok((udp, listener))
    }

    fn stream_input(&mut self, input: StreamInput, streams: Option<&mut Streams>) {
        let now = Instant::now();
        match input {
            StreamInput::Bytes { remote, bytes } => {
                self.engine
                    .handle_stream_bytes(now, remote, self.local, &bytes);
            }
            StreamInput::Closed { remote } => {
                if let Some(streams) = streams {
                    streams.remove(remote);
                }
                self.engine.handle_connection_closed(now, remote);
            }
            StreamInput::ConnectFailed { remote } => {
                if let Some(streams) = streams {
                    streams.remove(remote);
                }
                self.engine
                    .handle_transport_error(now, Transport::Tcp, remote);
            }
        }
    }

    /// Sends what the engine queued and handles its events, until both queues are empty
    /// (answering an event can queue more). With a `batch` (the blocking UDP loop), the
    /// UDP datagrams queued together go out together (`sendmmsg` on a shared socket).
    fn flush(
        &mut self,
        now: Instant,
        udp: Udp<'_>,
        mut streams: Option<&mut Streams>,
        mut batch: Option<&mut Batch>,
    ) {
        // Held datagrams are sent by the blocking endpoint only: batch exactly then.
        let batching = batch.is_some() && matches!(udp, Udp::Blocking(_));
        loop {
            let mut idle = true;
            while let Some(transmit) = self.engine.poll_transmit() {
                idle = false;
                if batching && transmit.transport == Transport::Udp {
                    self.outgoing.push(transmit);
                } else {
                    self.send(transmit, udp, streams.as_deref_mut());
                }
            }
            if let (Some(batch), Udp::Blocking(endpoint)) = (batch.as_deref_mut(), udp) {
                self.send_outgoing(endpoint, batch);
            }
            while let Some(event) = self.engine.poll_event() {
                idle = false;
                if let (Event::StreamError { remote, .. }, Some(streams)) =
                    (&event, streams.as_deref_mut())
                {
                    streams.remove(*remote);
                }
                self.handle_event(now, event);
            }
            if idle {
                break;
            }
        }
    }

    fn send(&mut self, transmit: Transmit, udp: Udp<'_>, streams: Option<&mut Streams>) {
        match transmit.transport {
            Transport::Udp => {
                if let Err(error) = udp.send_to(transmit.local, &transmit.bytes, transmit.remote) {
                    self.udp_send_failed(transmit.remote, &error);
                }
            }
            Transport::Tcp => {
                let sent = streams.is_some_and(|s| s.send(transmit.remote, transmit.bytes));
                if !sent {
                    self.engine.handle_transport_error(
                        Instant::now(),
                        Transport::Tcp,
                        transmit.remote,
                    );
                }
            }
        }
    }

    /// Copies the engine's counters and the in-flight count into the shared metrics.
    fn publish_counters(&self) {
        let stats = self.engine.stats();
        let mut metrics = self.metrics.lock().unwrap_or_else(PoisonError::into_inner);
        metrics.engine = EngineCounters {
            retransmissions: stats.retransmissions,
            timeouts: stats.timeouts,
            messages_sent: stats.messages_sent,
            messages_received: stats.messages_received,
            malformed: stats.malformed,
            stray_responses: stats.stray_responses,
        };
        metrics.in_flight = self.in_flight as u64;
    }

    /// Time since the run started.
    pub(crate) fn since_start(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.shared.start)
    }

    /// Paces arrivals for the current phase. True when this worker is finished.
    fn step(&mut self, now: Instant) -> bool {
        let (phase, began) = self.shared.phase();
        let elapsed = self.since_start(now).saturating_sub(began);
        // Arrivals are due on the phase's arrival clock (paused or scaled from the
        // dashboard); de-registrations on real time.
        let paced = self.shared.paced_elapsed(self.since_start(now));
        match phase {
            Phase::Register => self.register_arrivals(now, paced),
            Phase::Traffic => self.traffic_arrivals(now, paced),
            Phase::Deregister => return self.deregister_step(now, elapsed),
        }
        false
    }

    /// The next time an arrival is due in the current phase (`None`: none is waiting on time).
    fn next_arrival(&self, now: Instant) -> Option<Instant> {
        let (phase, began) = self.shared.phase();
        let phase_start = self.shared.start + began;
        let workers = self.plan.workers.max(1) as f64;
        let (k, rate, ramp) = match phase {
            Phase::Register if self.register_next < self.vus.len() => (
                self.register_next as u64,
                self.plan.registration_rate() / workers,
                self.registration_ramp(),
            ),
            // A mixed arrival waiting for a free user looks again at the next wake-up.
            Phase::Traffic if !self.traffic_finished_sending(now) && !self.mixed_waiting() => {
                (self.sent, self.plan.rate / workers, self.plan.ramp_up)
            }
            Phase::Deregister if !self.shared.hurry.load(Ordering::Relaxed) => (
                self.deregistered as u64,
                self.plan.register_rate.max(self.plan.registration_rate()) / workers,
                Duration::ZERO,
            ),
            _ => return None,
        };
        if self.in_flight >= self.max_in_flight {
            return None;
        }
        let at = due(k, rate, ramp);
        match phase {
            Phase::Deregister => Some(phase_start + at),
            _ => self.shared.paced_deadline(at),
        }
    }

    fn registration_ramp(&self) -> Duration {
        match self.plan.scenario {
            crate::cli::Scenario::Register => self.plan.ramp_up,
            _ => Duration::ZERO,
        }
    }

    fn register_arrivals(&mut self, now: Instant, elapsed: Duration) {
        let rate = self.plan.registration_rate() / self.plan.workers.max(1) as f64;
        let ramp = self.registration_ramp();
        while self.register_next < self.vus.len()
            && self.in_flight < self.max_in_flight
            && due(self.register_next as u64, rate, ramp) <= elapsed
        {
            let index = self.register_next;
            self.register_next += 1;
            self.start_registration(now, index);
        }
    }

    fn traffic_finished_sending(&self, now: Instant) -> bool {
        if self.quota.is_some_and(|quota| self.sent >= quota) || self.senders.is_empty() {
            return true;
        }
        let (_, began) = self.shared.phase();
        self.plan
            .duration
            .is_some_and(|d| self.since_start(now).saturating_sub(began) >= d)
    }

    fn traffic_arrivals(&mut self, now: Instant, elapsed: Duration) {
        if self.plan.scenario == crate::cli::Scenario::Register {
            self.mark_traffic_done();
            return;
        }
        let rate = self.plan.rate / self.plan.workers.max(1) as f64;
        self.mixed_expire(now);
        while !self.traffic_finished_sending(now)
            && self.in_flight < self.max_in_flight
            && due(self.sent, rate, self.plan.ramp_up) <= elapsed
        {
            if self.mix.is_some() {
                // No user free for the next scenario yet: it waits for the next step.
                if !self.mixed_arrival(now) {
                    break;
                }
                self.sent += 1;
                continue;
            }
            let Some(&sender) = self
                .senders
                .get(self.sender_cursor % self.senders.len().max(1))
            else {
                break;
            };
            self.sender_cursor = self.sender_cursor.wrapping_add(1);
            self.sent += 1;
            self.send_text(now, sender);
        }
        if self.traffic_finished_sending(now) && self.pending.is_empty() && self.mixed_idle() {
            self.mark_traffic_done();
        }
    }

    fn mark_traffic_done(&mut self) {
        if !self.traffic_done {
            self.traffic_done = true;
            self.shared.traffic_done.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// De-registers users at the de-registration rate; true once every user is done.
    fn deregister_step(&mut self, now: Instant, elapsed: Duration) -> bool {
        let queue = self
            .deregister_queue
            .get_or_insert_with(|| (0..self.vus.len()).collect());
        let hurry = self.shared.hurry.load(Ordering::Relaxed);
        let rate = self.plan.register_rate.max(self.plan.registration_rate())
            / self.plan.workers.max(1) as f64;
        let mut rounds = queue.len();
        let mut commands = Vec::new();
        while rounds > 0 {
            rounds -= 1;
            let Some(index) = queue.pop_front() else {
                break;
            };
            let Some(vu) = self.vus.get(index) else {
                continue;
            };
            match vu.state {
                VuState::Registered => {
                    let paced =
                        hurry || due(self.deregistered as u64, rate, Duration::ZERO) <= elapsed;
                    if paced && self.in_flight + commands.len() < self.max_in_flight {
                        self.deregistered += 1;
                        commands.push(index);
                    } else {
                        queue.push_front(index);
                        break;
                    }
                }
                // An attempt in flight: look again once it has ended.
                VuState::Registering { .. }
                | VuState::Refreshing { .. }
                | VuState::Unregistering { .. } => {
                    queue.push_back(index);
                }
                VuState::Retrying => commands.push(index),
                VuState::Idle | VuState::Failed | VuState::Done => {}
            }
        }
        let all_queued = queue.is_empty();
        for index in commands {
            self.start_deregistration(now, index);
        }
        all_queued
            && self.in_flight == 0
            && self.pending.is_empty()
            && self
                .vus
                .iter()
                .all(|vu| matches!(vu.state, VuState::Done | VuState::Failed | VuState::Idle))
    }

    pub(crate) fn command(&mut self, now: Instant, command: Command) -> bool {
        match self.engine.command(now, command) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(worker = self.index, %error, "command refused");
                false
            }
        }
    }

    pub(crate) fn record_started(&mut self, kind: Kind, now: Instant) {
        let at = self.since_start(now);
        self.in_flight += 1;
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .started(kind, at);
    }

    pub(crate) fn record_ended(
        &mut self,
        kind: Kind,
        outcome: crate::metrics::Outcome,
        since: Instant,
        now: Instant,
    ) {
        // An answer ends its transaction when it arrived, not when it was read.
        let end = self.answered_at.map_or(now, |answered| answered.max(since));
        let at = self.since_start(end);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ended(kind, outcome, end.saturating_duration_since(since), at);
    }

    /// The AOR of global user `index`.
    pub(crate) fn aor(&self, index: usize) -> Option<String> {
        self.plan.users.get(index).map(crate::users::User::aor)
    }

    /// The account of local user `index`.
    pub(crate) fn account(&self, index: usize) -> Option<AccountId> {
        self.vus.get(index).map(|vu| vu.account)
    }
}

/// The worker's UDP socket(s): one registered with tokio (TCP runs), or the blocking
/// kind of [`Worker::run_udp`].
#[derive(Clone, Copy)]
enum Udp<'a> {
    Tokio(&'a tokio::net::UdpSocket),
    Blocking(&'a crate::udp::UdpEndpoint),
}

impl Udp<'_> {
    /// Sends from `local` without waiting on the tokio socket (which has only the one
    /// address); see [`crate::udp::UdpEndpoint::send`] for the others.
    fn send_to(
        self,
        local: SocketAddr,
        bytes: &[u8],
        remote: SocketAddr,
    ) -> std::io::Result<usize> {
        match self {
            Udp::Tokio(socket) => socket.try_send_to(bytes, remote),
            Udp::Blocking(endpoint) => endpoint.send(local, bytes, remote),
        }
    }
}

/// The users of `range` that send texts: in `message`, those with a peer (2k with 2k+1);
/// in `group-chat`, those whose group has another member; in `mixed`, all.
fn senders(plan: &Plan, range: std::ops::Range<usize>) -> Vec<usize> {
    let total = plan.users.len();
    let first = range.start;
    range
        .filter(|&global| match plan.scenario {
            crate::cli::Scenario::Register | crate::cli::Scenario::RegEvent => false,
            crate::cli::Scenario::Message => (global ^ 1) < total,
            crate::cli::Scenario::GroupChat => plan.group_of(global).len() >= 2,
            // Each arrival picks its own user (crate::vu::mixed).
            crate::cli::Scenario::Mixed => true,
        })
        .map(|global| global - first)
        .collect()
}

/// The first boundary of a `udp::TIMER_RESOLUTION` step, counted from `start`, after `at`.
fn step_boundary(start: Instant, at: Instant) -> Instant {
    let step = crate::udp::TIMER_RESOLUTION.as_nanos();
    let since = at.saturating_duration_since(start).as_nanos();
    let steps = u32::try_from(since / step + 1).unwrap_or(u32::MAX);
    start + crate::udp::TIMER_RESOLUTION.saturating_mul(steps)
}

/// When arrival `k` (from 0) is due after its phase began, at `rate` per second reached
/// linearly over `ramp`: N(t) = rate t² / 2 ramp while ramping, then rate (t - ramp / 2).
pub fn due(k: u64, rate: f64, ramp: Duration) -> Duration {
    let k = k as f64;
    let ramp_seconds = ramp.as_secs_f64();
    let seconds = if ramp_seconds <= 0.0 {
        k / rate
    } else if k <= rate * ramp_seconds / 2.0 {
        (2.0 * ramp_seconds * k / rate).sqrt()
    } else {
        ramp_seconds + (k - rate * ramp_seconds / 2.0) / rate
    };
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_waits_end_on_step_boundaries() {
        let start = Instant::now();
        let step = crate::udp::TIMER_RESOLUTION;
        assert_eq!(step_boundary(start, start), start + step);
        assert_eq!(step_boundary(start, start + step / 2), start + step);
        assert_eq!(step_boundary(start, start + step), start + 2 * step);
        let at = start + 7 * step + Duration::from_micros(1);
        assert_eq!(step_boundary(start, at), start + 8 * step);
        // Due times within one step share their boundary: the timer moves once per step.
        assert_eq!(
            step_boundary(start, start + step + Duration::from_micros(10)),
            step_boundary(start, start + 2 * step - Duration::from_micros(10))
        );
    }

    #[test]
    fn arrivals_follow_the_rate() {
        assert_eq!(due(0, 100.0, Duration::ZERO), Duration::ZERO);
        assert_eq!(due(100, 100.0, Duration::ZERO), Duration::from_secs(1));
        assert_eq!(due(250, 100.0, Duration::ZERO), Duration::from_millis(2500));
    }

    #[test]
    fn a_ramp_reaches_the_rate_at_its_end() {
        // 10 s ramp to 100/s: 500 arrivals during the ramp, then 100 per second.
        let ramp = Duration::from_secs(10);
        assert_eq!(due(500, 100.0, ramp), Duration::from_secs(10));
        assert_eq!(due(600, 100.0, ramp), Duration::from_secs(11));
        // Half the ramp's arrivals come in its last 30 %.
        let half = due(250, 100.0, ramp).as_secs_f64();
        assert!((half - 50f64.sqrt()).abs() < 1e-9, "{half}");
        // Monotonic.
        let mut last = Duration::ZERO;
        for k in 0..2000 {
            let at = due(k, 100.0, ramp);
            assert!(at >= last);
            last = at;
        }
    }
}
