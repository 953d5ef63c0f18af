//! The UDP side of a worker: one socket shared by all its virtual users (the default), or
//! one socket, and so one local port, per user (`--port-per-user`, `--local-ports`).
//!
//! A P-CSCF such as Kamailio's (ims_registrar_pcscf) tells UEs apart by source address and
//! port. Users behind one socket share one P-CSCF contact: when one de-registers, the
//! others are no longer registered there (their requests get 403 "register first"), and
//! the identity asserted for them is that of whoever registered last. With a port per user
//! each has its own contact. The worker's loop then waits on all its sockets at once (one
//! level-triggered epoll), and sends each datagram out of the socket of the local address
//! the engine chose for it.
#![allow(clippy::disallowed_methods)] // a driver: it waits on sockets against the clock

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use ims_core::transport::Transmit;
use rustix::event::{Timespec, epoll};

use crate::batch::{Batch, Read};

/// File descriptors kept free beside the users' sockets: stdio, the workers' epoll and
/// event descriptors, the TCP side, report files, the probe.
const RESERVED_DESCRIPTORS: u64 = 256;
/// Readiness events taken per wait (more ready sockets are reported by the next wait).
const EVENTS: usize = 256;
/// Batches one drain of the shared socket takes at most, so a flood of datagrams cannot
/// keep the worker from its timers and sends (the rest waits for the next read).
const DRAIN_BATCHES: usize = 8;
/// The most datagrams one drain of the shared socket hands on.
pub const DRAIN_LIMIT: usize = crate::batch::BATCH * DRAIN_BATCHES;
/// The resolution of a worker's timed waits. A wait that no datagram ends lasts a whole
/// number of these (at least one), so arrivals and engine timers due within one are
/// served by one wake-up, and the shared socket's read timeout takes a few values only
/// (no `setsockopt` per wait). SIPp's default `-timer_resol` is the same 10 ms. Datagrams
/// still end a wait at once: latency is measured as before.
pub const TIMER_RESOLUTION: Duration = Duration::from_millis(10);

/// The command-line options of the port mode, shared by the scenarios and `benchmark`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct PortArgs {
    /// Give every user its own UDP socket (local port) instead of one socket per worker:
    /// needed by a P-CSCF that tells UEs apart by address and port (Kamailio's IMS
    /// P-CSCF), where users sharing a port share one registration. UDP only; one file
    /// descriptor per user (the soft limit is raised up to the hard one).
    #[arg(long)]
    pub port_per_user: bool,
    /// With a port per user, on fixed ports: user k (from 0) sends from port FIRST+k. The
    /// range must hold a port for every user. Implies --port-per-user.
    #[arg(long, value_name = "FIRST-LAST")]
    pub local_ports: Option<String>,
    /// Wake a worker for every answer the moment it arrives. By default a worker's shared
    /// socket has a twin on the same port that the kernel gives the 1xx and 2xx
    /// responses; the worker reads it when it wakes anyway (10 ms later at most while
    /// requests are due, 20 ms when it idles), so only requests, challenges and errors
    /// wake it. Answers are timed from their arrival either way; what a scenario sends
    /// on a 1xx/2xx (a reg-event SUBSCRIBE after the REGISTER's 200) leaves that much
    /// later. Group chat always wakes per answer: its next text waits for the 200.
    #[arg(long)]
    pub wake_per_answer: bool,
}

/// How the users' UDP traffic is spread over local ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortMode {
    /// One socket per worker, shared by its users.
    Shared,
    /// One socket per user, on a port the system picks.
    PerUser,
    /// One socket per user, user k on port `first + k`.
    Range {
        /// The first port of the range.
        first: u16,
        /// The last port of the range.
        last: u16,
    },
}

/// Why the users' sockets could not be set up (bad input: exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// `--local-ports` is not a range of ports, or holds too few.
    #[error("--local-ports {text:?}: {reason}")]
    Range {
        /// As given.
        text: String,
        /// Why.
        reason: &'static str,
    },
    /// `--local-ports` holds fewer ports than there are users.
    #[error("--local-ports {first}-{last}: {ports} ports for {users} users (one port each)")]
    TooFewPorts {
        /// The first port.
        first: u16,
        /// The last port.
        last: u16,
        /// How many the range holds.
        ports: usize,
        /// How many are needed.
        users: usize,
    },
    /// A port per user over TCP.
    #[error("--port-per-user and --local-ports are for UDP (--transport udp)")]
    NotUdp,
    /// The users need more descriptors than the hard limit allows.
    #[error(
        "{users} users with a port each need about {needed} file descriptors, but the hard limit (ulimit -Hn) is {hard}: raise it, or run fewer users per process"
    )]
    TooManyDescriptors {
        /// The users.
        users: usize,
        /// Descriptors needed.
        needed: u64,
        /// The hard limit.
        hard: u64,
    },
    /// Raising the soft limit failed.
    #[error("cannot raise the file descriptor limit to {wanted}: {source}")]
    Limit {
        /// The limit asked for.
        wanted: u64,
        /// Why.
        source: io::Error,
    },
    /// A socket could not be bound.
    #[error("cannot bind UDP {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The readiness poll could not be set up.
    #[error("cannot wait on the users' sockets: {0}")]
    Poll(io::Error),
}

impl PortMode {
    /// The mode the options ask for, checked against the number of users and the
    /// transport.
    pub fn from_args(args: &PortArgs, users: usize, udp: bool) -> Result<PortMode, PortError> {
        let mode = match &args.local_ports {
            Some(text) => parse_range(text)?,
            None if args.port_per_user => PortMode::PerUser,
            None => PortMode::Shared,
        };
        if mode != PortMode::Shared && !udp {
            return Err(PortError::NotUdp);
        }
        if let PortMode::Range { first, last } = mode {
            let ports = usize::from(last - first) + 1;
            if ports < users {
                return Err(PortError::TooFewPorts {
                    first,
                    last,
                    ports,
                    users,
                });
            }
        }
        Ok(mode)
    }

    /// Whether every user has its own socket.
    pub fn per_user(self) -> bool {
        self != PortMode::Shared
    }

    /// The port of global user `user` (0: any free one).
    fn port(self, user: usize) -> u16 {
        match self {
            PortMode::Range { first, .. } => u16::try_from(user)
                .ok()
                .and_then(|user| first.checked_add(user))
                .unwrap_or(0),
            PortMode::Shared | PortMode::PerUser => 0,
        }
    }
}

/// `FIRST-LAST`, 1 <= FIRST <= LAST.
fn parse_range(text: &str) -> Result<PortMode, PortError> {
    let error = |reason| PortError::Range {
        text: text.to_owned(),
        reason,
    };
    let (first, last) = text
        .split_once('-')
        .ok_or_else(|| error("expected FIRST-LAST, e.g. 20000-29999"))?;
    let port = |part: &str| {
        part.trim()
            .parse::<u16>()
            .map_err(|_| error("ports are numbers from 1 to 65535"))
    };
    let (first, last) = (port(first)?, port(last)?);
    if first == 0 || first > last {
        return Err(error("give 1 <= FIRST <= LAST"));
    }
    Ok(PortMode::Range { first, last })
}

/// Raises the soft limit of open files as far as the hard limit allows, for `users`
/// sockets and the process's own descriptors; an error when the hard limit is too low.
pub fn raise_file_limit(users: usize) -> Result<(), PortError> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let needed = users as u64 + RESERVED_DESCRIPTORS;
    let limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum
        && hard < needed
    {
        return Err(PortError::TooManyDescriptors {
            users,
            needed,
            hard,
        });
    }
    let wanted = limit
        .maximum
        .unwrap_or(needed.max(limit.current.unwrap_or(0)));
    if limit.current.is_some_and(|current| current >= wanted) {
        return Ok(());
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        },
    )
    .map_err(|error| PortError::Limit {
        wanted,
        source: error.into(),
    })?;
    tracing::debug!(wanted, "raised the open file limit");
    Ok(())
}

/// One socket per user (non-blocking), all in one epoll set.
pub struct UserSockets {
    epoll: OwnedFd,
    sockets: Vec<UdpSocket>,
    locals: Vec<SocketAddr>,
    by_local: HashMap<SocketAddr, usize>,
}

impl std::fmt::Debug for UserSockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSockets")
            .field("sockets", &self.sockets.len())
            .finish_non_exhaustive()
    }
}

/// A worker's UDP side.
#[derive(Debug)]
pub enum UdpEndpoint {
    /// One socket for all the worker's users.
    Shared {
        /// The socket.
        socket: UdpSocket,
        /// Its address.
        local: SocketAddr,
        /// The read timeout last set on it.
        read_timeout: Option<Duration>,
        /// The socket on the same port that the kernel gives the answers read at the
        /// next step (crate::steer); `None`: every datagram comes to `socket`.
        later: Option<UdpSocket>,
    },
    /// One socket per user.
    PerUser(UserSockets),
}

impl UdpEndpoint {
    /// A shared socket, already bound.
    pub fn shared(socket: UdpSocket, local: SocketAddr, later: Option<UdpSocket>) -> UdpEndpoint {
        UdpEndpoint::Shared {
            socket,
            local,
            read_timeout: None,
            later,
        }
    }

    /// One socket for each of the global users `users`, on `ip`, ports as `mode` says.
    pub fn per_user(ip: IpAddr, mode: PortMode, users: Range<usize>) -> Result<Self, PortError> {
        let poll = |error: rustix::io::Errno| PortError::Poll(error.into());
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(poll)?;
        let mut sockets = Vec::with_capacity(users.len());
        let mut locals = Vec::with_capacity(users.len());
        let mut by_local = HashMap::with_capacity(users.len());
        for (index, user) in users.enumerate() {
            let address = SocketAddr::new(ip, mode.port(user));
            let bind = |source| PortError::Bind { address, source };
            let socket = UdpSocket::bind(address).map_err(bind)?;
            socket.set_nonblocking(true).map_err(bind)?;
            let local = socket.local_addr().map_err(bind)?;
            // Level-triggered: a socket with datagrams left is reported again by the next
            // wait, so one `recvfrom` per datagram suffices (no read that finds it empty).
            epoll::add(
                &epoll,
                &socket,
                epoll::EventData::new_u64(index as u64),
                epoll::EventFlags::IN,
            )
            .map_err(poll)?;
            sockets.push(socket);
            locals.push(local);
            by_local.insert(local, index);
        }
        Ok(UdpEndpoint::PerUser(UserSockets {
            epoll,
            sockets,
            locals,
            by_local,
        }))
    }

    /// Every local address (one when shared); each goes to the engine's `add_local`.
    pub fn locals(&self) -> &[SocketAddr] {
        match self {
            UdpEndpoint::Shared { local, .. } => std::slice::from_ref(local),
            UdpEndpoint::PerUser(users) => &users.locals,
        }
    }

    /// The address of the worker's user `index` (from 0) when each has its own socket.
    pub fn user_local(&self, index: usize) -> Option<SocketAddr> {
        match self {
            UdpEndpoint::Shared { .. } => None,
            UdpEndpoint::PerUser(users) => users.locals.get(index).copied(),
        }
    }

    /// The shared socket, for a loop that registers it with tokio (`None` per user).
    pub fn into_shared(self) -> Option<UdpSocket> {
        match self {
            UdpEndpoint::Shared { socket, .. } => Some(socket),
            UdpEndpoint::PerUser(_) => None,
        }
    }

    /// Sends `bytes` to `remote` from `local` (the shared socket ignores it). Never waits
    /// on a socket per user (`WouldBlock` when its buffer is full); the shared one waits
    /// only while the kernel's send buffer is full, which on loopback it hardly ever is.
    pub fn send(&self, local: SocketAddr, bytes: &[u8], remote: SocketAddr) -> io::Result<usize> {
        match self {
            UdpEndpoint::Shared { socket, .. } => socket.send_to(bytes, remote),
            UdpEndpoint::PerUser(users) => match users.by_local.get(&local) {
                Some(&index) => match users.sockets.get(index) {
                    Some(socket) => socket.send_to(bytes, remote),
                    None => Err(io::ErrorKind::AddrNotAvailable.into()),
                },
                None => Err(io::ErrorKind::AddrNotAvailable.into()),
            },
        }
    }

    /// Sends the first datagrams of `outgoing` in order: up to [`crate::batch::BATCH`] in one `sendmmsg`
    /// on the shared socket, the first alone from its user's socket. How many went (at
    /// least one when `outgoing` is not empty), or the error of the first one.
    pub fn send_some(&self, batch: &mut Batch, outgoing: &[Transmit]) -> io::Result<usize> {
        match self {
            UdpEndpoint::Shared { socket, .. } => batch.send_some(socket, outgoing),
            UdpEndpoint::PerUser(_) => match outgoing.first() {
                Some(transmit) => self
                    .send(transmit.local, &transmit.bytes, transmit.remote)
                    .map(|_| 1),
                None => Ok(0),
            },
        }
    }

    /// Waits until a datagram arrives or `until` (rounded up to a whole number of
    /// [`TIMER_RESOLUTION`], at least one), and hands what arrived to `handle(local,
    /// remote, bytes, received)`: on the shared socket the first datagram and all that
    /// wait behind it (one blocking `recvmmsg` with a read timeout, changed only when the
    /// rounded wait changes), one from each ready socket of the users (an `epoll_wait`,
    /// then a `recvfrom` each). `received` is when the datagram arrived (the kernel's
    /// time on the shared socket, the time of the read on the users' sockets). Returns
    /// how many datagrams came. An `Err` means the wait itself cannot be set up; receive
    /// errors are logged. Callers must not skip the wait when `until` has passed: the
    /// answers that end what is due must still be read.
    pub fn receive(
        &mut self,
        until: Instant,
        batch: &mut Batch,
        handle: impl FnMut(SocketAddr, SocketAddr, &[u8], Instant),
    ) -> io::Result<usize> {
        let wait = rounded_wait(until.saturating_duration_since(Instant::now()));
        self.read(Some(wait), batch, handle)
    }

    /// Takes what has arrived without waiting, as [`UdpEndpoint::receive`] hands it on:
    /// on the shared socket until it is empty (at most [`DRAIN_BATCHES`] full batches), on
    /// the users' sockets one datagram from each ready one. Returns how many came.
    pub fn drain(
        &mut self,
        batch: &mut Batch,
        handle: impl FnMut(SocketAddr, SocketAddr, &[u8], Instant),
    ) -> io::Result<usize> {
        self.read(None, batch, handle)
    }

    /// Reads with a wait of `wait`, or without waiting when `None`.
    fn read(
        &mut self,
        wait: Option<Duration>,
        batch: &mut Batch,
        mut handle: impl FnMut(SocketAddr, SocketAddr, &[u8], Instant),
    ) -> io::Result<usize> {
        let mut count = 0;
        match self {
            UdpEndpoint::Shared {
                socket,
                local,
                read_timeout,
                later,
            } => {
                let local = *local;
                let mut read = Read::Now;
                if let Some(wait) = wait {
                    if *read_timeout != Some(wait) {
                        socket.set_read_timeout(Some(wait))?;
                        *read_timeout = Some(wait);
                    }
                    read = Read::Wait;
                }
                for round in 1..=DRAIN_BATCHES {
                    let mut hand = |remote, bytes: &[u8], received| {
                        handle(local, remote, bytes, received);
                    };
                    // The other socket of a steered pair is read once per wake-up, after
                    // the first read of `socket`, and all in the order of arrival.
                    let taken = match later {
                        Some(later) if round == 1 => {
                            let (taken, later_taken) =
                                batch.receive_pair(socket, read, later, DRAIN_BATCHES, &mut hand);
                            count += later_taken;
                            taken
                        }
                        _ => batch.receive(socket, read, &mut hand),
                    };
                    match taken {
                        // A full batch may have left more behind: a drain goes on.
                        Ok(taken)
                            if read == Read::Now
                                && taken == crate::batch::BATCH
                                && round < DRAIN_BATCHES =>
                        {
                            count += taken;
                        }
                        Ok(taken) => {
                            count += taken;
                            break;
                        }
                        Err(error) if transient(&error) => break,
                        Err(error) => {
                            tracing::debug!(%error, "UDP receive error");
                            break;
                        }
                    }
                }
            }
            UdpEndpoint::PerUser(users) => {
                let wait = wait.unwrap_or_default();
                let timeout = Timespec {
                    tv_sec: wait.as_secs().try_into().unwrap_or(i64::MAX),
                    tv_nsec: wait.subsec_nanos().into(),
                };
                // On the stack: an epoll event holds a pointer-sized union, not `Send`.
                let mut events = [std::mem::MaybeUninit::<epoll::Event>::uninit(); EVENTS];
                let ready = match epoll::wait(&users.epoll, &mut events[..], Some(&timeout)) {
                    Ok((ready, _)) => ready,
                    Err(rustix::io::Errno::INTR) => return Ok(0),
                    Err(error) => return Err(error.into()),
                };
                let buffer = batch.slot();
                let received = Instant::now();
                for event in ready.iter() {
                    let index = usize::try_from(event.data.u64()).unwrap_or(usize::MAX);
                    let (Some(socket), Some(&local)) =
                        (users.sockets.get(index), users.locals.get(index))
                    else {
                        continue;
                    };
                    match socket.recv_from(buffer) {
                        Ok((n, remote)) => {
                            count += 1;
                            handle(local, remote, buffer.get(..n).unwrap_or_default(), received);
                        }
                        Err(error) if transient(&error) => {}
                        Err(error) => tracing::debug!(%error, %local, "UDP receive error"),
                    }
                }
            }
        }
        Ok(count)
    }
}

/// `wait` rounded up to a whole number of [`TIMER_RESOLUTION`], at least one.
pub fn rounded_wait(wait: Duration) -> Duration {
    let steps = wait.as_nanos().div_ceil(TIMER_RESOLUTION.as_nanos()).max(1);
    TIMER_RESOLUTION.saturating_mul(u32::try_from(steps).unwrap_or(u32::MAX))
}

/// A wait that ended without data.
fn transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn args(port_per_user: bool, local_ports: Option<&str>) -> PortArgs {
        PortArgs {
            port_per_user,
            local_ports: local_ports.map(str::to_owned),
            wake_per_answer: false,
        }
    }

    #[test]
    fn the_options_choose_the_mode() {
        let mode = |a: &PortArgs, users, udp| PortMode::from_args(a, users, udp);
        assert_eq!(
            mode(&args(false, None), 10, true).unwrap(),
            PortMode::Shared
        );
        assert_eq!(
            mode(&args(false, None), 10, false).unwrap(),
            PortMode::Shared
        );
        assert_eq!(
            mode(&args(true, None), 10, true).unwrap(),
            PortMode::PerUser
        );
        assert_eq!(
            mode(&args(false, Some("20000-20009")), 10, true).unwrap(),
            PortMode::Range {
                first: 20000,
                last: 20009
            }
        );
        for (given, users, udp, needle) in [
            (args(true, None), 10, false, "for UDP"),
            (
                args(false, Some("20000-20008")),
                10,
                true,
                "9 ports for 10 users",
            ),
            (args(false, Some("20000")), 1, true, "FIRST-LAST"),
            (args(false, Some("0-10")), 1, true, "1 <= FIRST"),
            (args(false, Some("30-10")), 1, true, "1 <= FIRST"),
            (args(false, Some("1-70000")), 1, true, "numbers from 1"),
        ] {
            let error = mode(&given, users, udp).unwrap_err().to_string();
            assert!(error.contains(needle), "{given:?}: {error}");
        }
    }

    #[test]
    fn each_user_gets_its_own_socket_and_datagrams_come_back_with_their_local_address() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut endpoint = UdpEndpoint::per_user(ip, PortMode::PerUser, 5..9).unwrap();
        let locals = endpoint.locals().to_vec();
        assert_eq!(locals.len(), 4);
        let mut ports: Vec<u16> = locals.iter().map(SocketAddr::port).collect();
        ports.dedup();
        assert_eq!(ports.len(), 4, "distinct ports: {locals:?}");
        assert_eq!(endpoint.user_local(2), Some(locals[2]));
        assert_eq!(endpoint.user_local(4), None);

        // A peer sees each datagram come from the user's own port, and its answers reach
        // the socket they were sent to.
        let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let peer_address = peer.local_addr().unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for (i, local) in locals.iter().enumerate() {
            endpoint.send(*local, &[i as u8], peer_address).unwrap();
            let mut byte = [0u8; 8];
            let (n, from) = peer.recv_from(&mut byte).unwrap();
            assert_eq!((n, byte[0], from), (1, i as u8, *local));
            peer.send_to(&[i as u8, 1, 2], from).unwrap();
        }
        let unknown = SocketAddr::new(ip, 9);
        assert!(endpoint.send(unknown, b"x", peer_address).is_err());
        let mut received = Vec::new();
        let mut batch = Batch::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while received.len() < 4 && Instant::now() < deadline {
            endpoint
                .receive(
                    Instant::now() + Duration::from_millis(50),
                    &mut batch,
                    |local, remote, bytes, _| received.push((local, remote, bytes.to_vec())),
                )
                .unwrap();
        }
        received.sort_by_key(|(_, _, bytes)| bytes[0]);
        let expected: Vec<_> = locals
            .iter()
            .enumerate()
            .map(|(i, local)| (*local, peer_address, vec![i as u8, 1, 2]))
            .collect();
        assert_eq!(received, expected);
    }

    #[test]
    fn a_range_puts_user_k_on_first_plus_k() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        // Find a free stretch: bind a probe port and use the ones above it.
        let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let base = probe
            .local_addr()
            .unwrap()
            .port()
            .saturating_sub(200)
            .max(1024);
        drop(probe);
        let mode = PortMode::Range {
            first: base,
            last: base + 99,
        };
        match UdpEndpoint::per_user(ip, mode, 10..13) {
            Ok(endpoint) => {
                let ports: Vec<u16> = endpoint.locals().iter().map(SocketAddr::port).collect();
                assert_eq!(ports, [base + 10, base + 11, base + 12]);
            }
            // Someone else holds one of them: the error names the address.
            Err(error) => assert!(error.to_string().contains("cannot bind UDP"), "{error}"),
        }
    }

    #[test]
    fn waits_are_whole_timer_resolutions() {
        let r = TIMER_RESOLUTION;
        assert_eq!(rounded_wait(Duration::ZERO), r);
        assert_eq!(rounded_wait(Duration::from_micros(1)), r);
        assert_eq!(rounded_wait(r), r);
        assert_eq!(rounded_wait(r + Duration::from_micros(1)), 2 * r);
        assert_eq!(
            rounded_wait(Duration::from_secs(3600)),
            Duration::from_secs(3600)
        );
    }

    /// Sends the texts "0", "1", .. of `count` datagrams from `peer` to `to`; returns them.
    fn send_numbered(peer: &UdpSocket, to: SocketAddr, count: usize) -> Vec<Vec<u8>> {
        let texts: Vec<Vec<u8>> = (0..count).map(|i| format!("{i}").into_bytes()).collect();
        for text in &texts {
            peer.send_to(text, to).unwrap();
        }
        texts
    }

    /// One drain of `endpoint`, its datagrams' bytes appended to `texts`; how many came.
    fn drain_texts(
        endpoint: &mut UdpEndpoint,
        batch: &mut Batch,
        texts: &mut Vec<Vec<u8>>,
    ) -> usize {
        endpoint
            .drain(batch, |_, _, bytes, _| texts.push(bytes.to_vec()))
            .unwrap()
    }

    #[test]
    fn the_shared_socket_waits_and_receives() {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let local = socket.local_addr().unwrap();
        let mut endpoint = UdpEndpoint::shared(socket, local, None);
        assert_eq!(endpoint.locals(), [local]);
        assert_eq!(endpoint.user_local(0), None);
        let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut batch = Batch::new();
        let started = Instant::now();
        let mut got = Vec::new();
        let came = endpoint
            .receive(
                started + Duration::from_millis(30),
                &mut batch,
                |l, r, b, _| got.push((l, r, b.to_vec())),
            )
            .unwrap();
        assert!(got.is_empty() && started.elapsed() >= Duration::from_millis(25));
        assert_eq!(came, 0);
        peer.send_to(b"hi", local).unwrap();
        let came = endpoint
            .receive(
                Instant::now() + Duration::from_secs(5),
                &mut batch,
                |l, r, b, _| got.push((l, r, b.to_vec())),
            )
            .unwrap();
        assert_eq!(got, [(local, peer.local_addr().unwrap(), b"hi".to_vec())]);
        assert_eq!(came, 1);

        // A drain takes all that waits, past one batch, and never waits itself.
        let total = crate::batch::BATCH * 2 + 5;
        assert!(total <= DRAIN_LIMIT);
        let sent = send_numbered(&peer, local, total);
        std::thread::sleep(Duration::from_millis(20));
        let mut texts = Vec::new();
        assert_eq!(drain_texts(&mut endpoint, &mut batch, &mut texts), total);
        assert_eq!(texts, sent);
        let started = Instant::now();
        let came = endpoint
            .drain(&mut batch, |_, _, _, _| panic!("nothing sent"))
            .unwrap();
        assert_eq!(came, 0);
        assert!(started.elapsed() < Duration::from_secs(1));

        // A flood is taken in bounded drains: nothing lost, nothing taken twice (the
        // receive buffer made room for it, as `net::sockets` does for a worker's socket).
        if let UdpEndpoint::Shared { socket, .. } = &endpoint {
            socket2::SockRef::from(socket)
                .set_recv_buffer_size(1 << 20)
                .unwrap();
        }
        let sent = send_numbered(&peer, local, DRAIN_LIMIT + 7);
        std::thread::sleep(Duration::from_millis(50));
        let mut texts = Vec::new();
        let first = drain_texts(&mut endpoint, &mut batch, &mut texts);
        assert_eq!(first, DRAIN_LIMIT);
        assert_eq!(drain_texts(&mut endpoint, &mut batch, &mut texts), 7);
        assert_eq!(texts, sent);
    }

    /// A steered pair (as `net::bind` makes it): a 200 does not end a wait, a request
    /// does, and each read hands on what came to both sockets, the 200 timed from its
    /// arrival.
    #[test]
    fn a_steered_pair_wakes_for_requests_and_reads_200s_on_the_way() {
        let (socket, later) = crate::steer::bind_pair(Ipv4Addr::LOCALHOST.into()).unwrap();
        for socket in [&socket, &later] {
            crate::batch::enable_receive_times(socket).unwrap();
        }
        let local = socket.local_addr().unwrap();
        let mut endpoint = UdpEndpoint::shared(socket, local, Some(later));
        assert_eq!(endpoint.locals(), [local]);
        let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut batch = Batch::new();
        let mut got = Vec::new();
        // Until the kernel stamps on arrival (deferred work), a 200 is timed when read.
        let stamped = (0..100).any(|_| {
            peer.send_to(b"SIP/2.0 200 probe", local).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            let read = Instant::now();
            let mut early = false;
            let _ = endpoint.drain(&mut batch, |_, _, _, received| {
                early |= received + Duration::from_millis(10) <= read;
            });
            early
        });
        assert!(stamped, "the kernel never stamped a datagram on arrival");

        let sent = Instant::now();
        peer.send_to(b"SIP/2.0 200 OK", local).unwrap();
        let came = endpoint
            .receive(
                sent + Duration::from_millis(60),
                &mut batch,
                |l, r, b, at| {
                    got.push((l, r, b.to_vec(), at));
                },
            )
            .unwrap();
        let woke = Instant::now();
        assert!(
            woke >= sent + Duration::from_millis(55),
            "a 200 ended the wait after {:?}",
            woke - sent
        );
        assert_eq!(came, 1);
        let (l, r, bytes, at) = got.pop().unwrap();
        assert_eq!(
            (l, r, bytes),
            (
                local,
                peer.local_addr().unwrap(),
                b"SIP/2.0 200 OK".to_vec()
            )
        );
        assert!(
            at + Duration::from_millis(30) <= woke,
            "timed from its arrival"
        );

        // A request ends a long wait at once; a 200 that came first is handed on first.
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            peer.send_to(b"SIP/2.0 202 Accepted", local).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            peer.send_to(b"MESSAGE sip:vu0@ims.test SIP/2.0", local)
                .unwrap();
            peer
        });
        let started = Instant::now();
        let came = endpoint
            .receive(
                started + Duration::from_secs(5),
                &mut batch,
                |_, _, b, _| {
                    got.push((local, local, b.to_vec(), Instant::now()));
                },
            )
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        let texts: Vec<&[u8]> = got.iter().map(|(_, _, b, _)| b.as_slice()).collect();
        assert_eq!(
            texts,
            [
                &b"SIP/2.0 202 Accepted"[..],
                b"MESSAGE sip:vu0@ims.test SIP/2.0"
            ]
        );
        assert_eq!(came, 2);
        sender.join().unwrap();
    }

    #[test]
    fn the_file_limit_covers_a_few_users() {
        raise_file_limit(10).unwrap();
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert!(limit.current.is_none_or(|n| n >= 10 + RESERVED_DESCRIPTORS));
        // Past a finite hard limit: a clear error, and the limit stays as it was.
        if let Some(hard) = limit.maximum {
            let users = usize::try_from(hard).unwrap_or(usize::MAX);
            let error = raise_file_limit(users).unwrap_err().to_string();
            assert!(error.contains("hard limit (ulimit -Hn) is"), "{error}");
            assert_eq!(
                rustix::process::getrlimit(rustix::process::Resource::Nofile).current,
                limit.current
            );
        }
    }
}
