//! The driver loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

use crate::engine::{Command, CommandError, ConfigError, Engine, EngineConfig, Event};
use crate::transport::{Transmit, Transport};

use super::tcp::{self, Input};
use super::trace::{Direction, Tap, TraceReceiver};

/// A command and, when the sender waits for it, where the engine's verdict goes.
type CommandMessage = (
    Command,
    Option<tokio::sync::oneshot::Sender<Result<(), CommandError>>>,
);

/// What can stop the driver from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// Binding the UDP socket or TCP listener failed.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The engine refused the configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The OS gave no randomness.
    #[error("no randomness from the OS: {0}")]
    Random(String),
    /// The driver loop has ended.
    #[error("the driver has stopped")]
    Stopped,
}

/// The application's side: send commands, receive events.
#[derive(Debug)]
pub struct DriverHandle {
    commands: mpsc::UnboundedSender<CommandMessage>,
    events: mpsc::UnboundedReceiver<Event>,
    local: SocketAddr,
}

impl DriverHandle {
    /// Sends a command; errors from the engine come back through
    /// [`command_checked`](Self::command_checked).
    pub fn command(&self, command: Command) -> Result<(), DriverError> {
        self.commands
            .send((command, None))
            .map_err(|_| DriverError::Stopped)
    }

    /// Sends a command and waits for the engine's verdict on it.
    pub async fn command_checked(
        &self,
        command: Command,
    ) -> Result<Result<(), CommandError>, DriverError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.commands
            .send((command, Some(sender)))
            .map_err(|_| DriverError::Stopped)?;
        receiver.await.map_err(|_| DriverError::Stopped)
    }

    /// The next event; `None` once the driver has stopped.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// An event if one is waiting.
    pub fn try_event(&mut self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The local address (UDP and TCP) the driver listens on.
    pub fn local_address(&self) -> SocketAddr {
        self.local
    }
}

/// Owns the sockets and the engine; [`run`](Self::run) drives them.
pub struct Driver {
    engine: Engine,
    udp: Arc<UdpSocket>,
    listener: TcpListener,
    local: SocketAddr,
    commands: mpsc::UnboundedReceiver<CommandMessage>,
    events: mpsc::UnboundedSender<Event>,
    input_sender: mpsc::UnboundedSender<Input>,
    input: mpsc::UnboundedReceiver<Input>,
    connections: HashMap<SocketAddr, tcp::Connection>,
    /// The last connection id handed out.
    connection_ids: u64,
    tap: Option<Tap>,
    /// Our address as traces show it (the advertised one, not `0.0.0.0`).
    shown: SocketAddr,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("local", &self.local)
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// Binds UDP and TCP on `listen` (port 0: a free port, the same for both) and builds
    /// the engine. With an unspecified IP (`0.0.0.0`), the engine is told the address
    /// given by [`advertise`](Self::advertise), or 127.0.0.1 until then.
    pub async fn bind(
        mut config: EngineConfig,
        listen: SocketAddr,
    ) -> Result<(Driver, DriverHandle), DriverError> {
        if config.rng_seed.is_none() {
            config.rng_seed = Some(super::os_seed()?);
        }
        let engine = Engine::new(config)?;
        let (udp, listener) = bind_pair(listen).await?;
        let local = udp.local_addr().map_err(|source| DriverError::Bind {
            address: listen,
            source,
        })?;
        let (command_sender, commands) = mpsc::unbounded_channel();
        let (events_sender, events) = mpsc::unbounded_channel();
        let (input_sender, input) = mpsc::unbounded_channel();
        let mut driver = Driver {
            engine,
            udp: Arc::new(udp),
            listener,
            local,
            commands,
            events: events_sender,
            input_sender,
            input,
            connections: HashMap::new(),
            connection_ids: 0,
            tap: None,
            shown: local,
        };
        let advertised = if local.ip().is_unspecified() {
            if local.is_ipv4() {
                SocketAddr::from(([127, 0, 0, 1], local.port()))
            } else {
                SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], local.port()))
            }
        } else {
            local
        };
        driver.advertise(advertised);
        let handle = DriverHandle {
            commands: command_sender,
            events,
            local,
        };
        Ok((driver, handle))
    }

    /// Tells the engine to use `address` in Via and Contact (for a socket bound to the
    /// unspecified address, use [`route_address`](super::route_address) towards the proxy).
    pub fn advertise(&mut self, address: SocketAddr) {
        self.engine.add_local(Transport::Udp, address);
        self.engine.add_local(Transport::Tcp, address);
        self.shown = address;
    }

    /// Starts a live trace: a copy of every message sent and received goes to the
    /// returned receiver (at most `capacity` waiting; past that, records are dropped
    /// rather than the driver slowed). Replaces an earlier trace.
    pub fn trace(&mut self, capacity: usize) -> TraceReceiver {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        self.tap = Some(Tap::new(sender, self.engine.config().limits));
        receiver
    }

    /// The engine, to add accounts before [`run`](Self::run).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The address the sockets are bound to.
    pub fn local_address(&self) -> SocketAddr {
        self.local
    }

    /// Runs until every [`DriverHandle`] is dropped (then de-registers everything, waits
    /// for [`Event::ShutdownComplete`] at most 64*T1, and returns), or until a
    /// [`Command::Shutdown`] completes.
    pub async fn run(mut self) {
        let mut buffer = vec![0u8; 65_536];
        let mut handles_gone = false;
        let mut shutdown_deadline: Option<Instant> = None;
        loop {
            if self.flush() {
                return;
            }
            if shutdown_deadline.is_some_and(|d| Instant::now() >= d) {
                tracing::warn!("shutdown did not complete in time");
                return;
            }
            let deadline = [self.engine.poll_timeout(), shutdown_deadline]
                .into_iter()
                .flatten()
                .min();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            let udp = Arc::clone(&self.udp);
            tokio::select! {
                biased;
                command = self.commands.recv(), if !handles_gone => match command {
                    Some((command, reply)) => {
                        let result = self.engine.command(Instant::now(), command);
                        if let Err(error) = &result {
                            tracing::warn!(%error, "command refused");
                        }
                        if let Some(reply) = reply {
                            let _ = reply.send(result);
                        }
                    }
                    None => {
                        handles_gone = true;
                        let _ = self.engine.command(Instant::now(), Command::Shutdown);
                        shutdown_deadline = Some(Instant::now() + self.engine.config().timers.t1_x64());
                    }
                },
                received = udp.recv_from(&mut buffer) => match received {
                    Ok((n, remote)) => {
                        let bytes = buffer.get(..n).unwrap_or_default();
                        if let Some(tap) = self.tap.as_mut() {
                            tap.datagram(Direction::Received, self.shown, remote, bytes);
                        }
                        self.engine.handle_datagram(Instant::now(), remote, self.local, bytes);
                    }
                    Err(error) => tracing::debug!(%error, "UDP receive error"),
                },
                input = self.input.recv() => {
                    if let Some(input) = input {
                        self.handle_input(input);
                    }
                }
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, remote)) => self.handle_input(Input::Accepted { remote, stream }),
                    Err(error) => tracing::warn!(%error, "TCP accept failed"),
                },
                () = sleep => self.engine.handle_timeout(Instant::now()),
            }
        }
    }

    fn handle_input(&mut self, input: Input) {
        let now = Instant::now();
        match input {
            Input::Bytes { remote, id, .. }
            | Input::Closed { remote, id }
            | Input::ConnectFailed { remote, id }
                if !self.is_current(remote, id) =>
            {
                // A connection already dropped (framing error, failed keep-alive) or
                // replaced: the engine has been told, and its successor is not affected.
                tracing::debug!(%remote, id, "news from a dropped connection ignored");
            }
            Input::Bytes { remote, bytes, .. } => {
                if let Some(tap) = self.tap.as_mut() {
                    tap.stream(Direction::Received, self.shown, remote, &bytes);
                }
                self.engine
                    .handle_stream_bytes(now, remote, self.local, &bytes);
            }
            Input::Closed { remote, .. } => {
                if let Some(tap) = self.tap.as_mut() {
                    tap.closed(remote);
                }
                self.connections.remove(&remote);
                self.engine.handle_connection_closed(now, remote);
            }
            Input::ConnectFailed { remote, .. } => {
                self.connections.remove(&remote);
                self.engine
                    .handle_transport_error(now, Transport::Tcp, remote);
            }
            Input::Accepted { remote, stream } => {
                let id = self.next_connection_id();
                let connection = tcp::start(stream, remote, id, self.input_sender.clone());
                self.connections.insert(remote, connection);
            }
        }
    }

    /// True when connection `id` is the one the driver uses for `remote`.
    fn is_current(&self, remote: SocketAddr, id: u64) -> bool {
        self.connections.get(&remote).is_some_and(|c| c.id == id)
    }

    fn next_connection_id(&mut self) -> u64 {
        self.connection_ids += 1;
        self.connection_ids
    }

    /// Sends what the engine has queued and forwards its events. Returns true when the
    /// driver should stop (shutdown complete).
    fn flush(&mut self) -> bool {
        let mut stop = false;
        while let Some(transmit) = self.engine.poll_transmit() {
            self.send(transmit);
        }
        while let Some(event) = self.engine.poll_event() {
            if let Event::StreamError { remote, .. } = &event {
                self.connections.remove(remote);
            }
            if matches!(event, Event::ShutdownComplete) {
                stop = true;
            }
            let _ = self.events.send(event);
        }
        stop
    }

    fn send(&mut self, transmit: Transmit) {
        tracing::trace!(remote = %transmit.remote, transport = %transmit.transport,
            message = %String::from_utf8_lossy(&transmit.bytes), "sending");
        if let Some(tap) = self.tap.as_mut() {
            match transmit.transport {
                Transport::Udp => {
                    tap.datagram(
                        Direction::Sent,
                        self.shown,
                        transmit.remote,
                        &transmit.bytes,
                    );
                }
                Transport::Tcp => {
                    tap.stream(
                        Direction::Sent,
                        self.shown,
                        transmit.remote,
                        &transmit.bytes,
                    );
                }
            }
        }
        match transmit.transport {
            Transport::Udp => {
                match self.udp.try_send_to(&transmit.bytes, transmit.remote) {
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                        // Not writable yet (or the socket's readiness is not known yet):
                        // wait for it in a task rather than stall the loop.
                        let udp = Arc::clone(&self.udp);
                        tokio::spawn(async move {
                            if let Err(error) = udp.send_to(&transmit.bytes, transmit.remote).await
                            {
                                tracing::debug!(%error, remote = %transmit.remote, "UDP send failed");
                            }
                        });
                    }
                    Err(error) => {
                        tracing::debug!(%error, remote = %transmit.remote, "UDP send failed");
                        self.engine.handle_transport_error(
                            Instant::now(),
                            Transport::Udp,
                            transmit.remote,
                        );
                    }
                }
            }
            Transport::Tcp => {
                let remote = transmit.remote;
                let sender = match self.connections.get(&remote) {
                    Some(connection) if !connection.sender.is_closed() => connection.sender.clone(),
                    _ => {
                        let id = self.next_connection_id();
                        let connection = tcp::connect(remote, id, self.input_sender.clone());
                        let sender = connection.sender.clone();
                        self.connections.insert(remote, connection);
                        sender
                    }
                };
                if sender.send(transmit.bytes).is_err() {
                    self.connections.remove(&remote);
                    self.engine
                        .handle_transport_error(Instant::now(), Transport::Tcp, remote);
                }
            }
        }
    }
}

/// Binds UDP and TCP on the same port (retrying a few times when port 0 picks a UDP port
/// whose TCP twin is taken).
async fn bind_pair(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), DriverError> {
    let mut last_error = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(listen)
            .await
            .map_err(|source| DriverError::Bind {
                address: listen,
                source,
            })?;
        let port = udp
            .local_addr()
            .map_err(|source| DriverError::Bind {
                address: listen,
                source,
            })?
            .port();
        let tcp_address = SocketAddr::new(listen.ip(), port);
        match TcpListener::bind(tcp_address).await {
            Ok(listener) => return Ok((udp, listener)),
            Err(source) => {
                if listen.port() != 0 {
                    return Err(DriverError::Bind {
                        address: tcp_address,
                        source,
                    });
                }
                last_error = Some(DriverError::Bind {
                    address: tcp_address,
                    source,
                });
            }
        }
    }
    Err(last_error.unwrap_or(DriverError::Stopped))
}
