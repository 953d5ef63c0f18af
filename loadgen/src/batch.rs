//! Batched datagram I/O on a worker's shared UDP socket: one `recvmmsg` takes every
//! datagram waiting (up to [`BATCH`]) after a wake-up, and one `sendmmsg` sends what the
//! engine queued in one step, in order. Each datagram still costs the kernel its loopback
//! delivery; what goes is the system call per datagram on each side.
//!
//! The message headers hold pointers into the buffers, so a [`Batch`] is made on the
//! worker's own thread and reused for every call (no allocation per call).
//!
//! Each datagram comes with the kernel's receive time (`SO_TIMESTAMPNS`, set by
//! [`enable_receive_times`]): a worker that reads late (it was busy, or it gathers answers,
//! `--coalesce`) still times each answer from when it arrived.
#![allow(clippy::disallowed_methods)] // a driver: it reads the clock as it sends and waits

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};

use ims_core::transport::{Transmit, Transport};
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrStorage, sockopt,
};
use nix::sys::time::TimeSpec;

use crate::udp::UdpEndpoint;
use crate::worker::Worker;

/// Datagrams taken or sent per system call.
pub const BATCH: usize = 32;
/// Room for one received datagram: the largest UDP payload fits, so none is cut.
const SLOT: usize = 65_536;
/// A kernel receive time older than this (when it is read) is not believed: the wall
/// clock was set meanwhile, and the read time stands in for it.
const STAMP_AGE_LIMIT: Duration = Duration::from_secs(1);

/// Asks the kernel to stamp each datagram `socket` receives with its arrival time.
pub fn enable_receive_times(socket: &UdpSocket) -> io::Result<()> {
    nix::sys::socket::setsockopt(socket, sockopt::ReceiveTimestampns, &true)
        .map_err(io::Error::from)
}

/// How a [`Batch::receive`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Waits for the first datagram as the socket's read timeout allows.
    Wait,
    /// Takes what is waiting and returns at once (`WouldBlock` when nothing is).
    Now,
}

/// A worker's buffers and message headers for `recvmmsg` and `sendmmsg`.
pub struct Batch {
    /// What one read of a socket took.
    inbox: Inbox,
    /// What one read of the second socket of a steered pair took (crate::steer).
    later: Inbox,
    send: MultiHeaders<SockaddrStorage>,
    /// Destinations of the datagrams of one `sendmmsg` (kept for its capacity).
    addresses: Vec<Option<SockaddrStorage>>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").finish_non_exhaustive()
    }
}

impl Batch {
    /// Buffers for [`BATCH`] datagrams each way, and for [`BATCH`] from a second socket
    /// (a receive buffer is touched only as far as datagrams fill it).
    pub fn new() -> Batch {
        Batch {
            inbox: Inbox::new(),
            later: Inbox::new(),
            send: MultiHeaders::preallocate(BATCH, None),
            addresses: Vec::with_capacity(BATCH),
        }
    }

    /// The first slot of the receive buffer, for a single `recvfrom`.
    pub fn slot(&mut self) -> &mut [u8] {
        let end = SLOT.min(self.inbox.buffer.len());
        self.inbox.buffer.get_mut(..end).unwrap_or_default()
    }

    /// Takes every datagram waiting on `socket` (up to [`BATCH`]) in one `recvmmsg`,
    /// first waiting for one as its read timeout allows when `read` is [`Read::Wait`], and
    /// hands each to `handle(remote, bytes, received)` in the order they came, `received`
    /// being the kernel's receive time (the time of the read when the kernel gave none).
    /// Returns how many came (an `Err` of kind `WouldBlock` or `TimedOut` when none did).
    pub fn receive(
        &mut self,
        socket: &UdpSocket,
        read: Read,
        mut handle: impl FnMut(SocketAddr, &[u8], Instant),
    ) -> io::Result<usize> {
        let count = self.inbox.fill(socket, read)?;
        while self.inbox.hand_next(&mut handle) {}
        Ok(count)
    }

    /// Reads `socket` as [`Batch::receive`] does, then takes what waits on `later` without
    /// waiting (batch after batch while they come full, at most `rounds`), and hands all
    /// of it on in the order it arrived (by receive time; `socket` first on a tie).
    /// Returns the result of the read of `socket` and how many came from `later`.
    pub fn receive_pair(
        &mut self,
        socket: &UdpSocket,
        read: Read,
        later: &UdpSocket,
        rounds: usize,
        mut handle: impl FnMut(SocketAddr, &[u8], Instant),
    ) -> (io::Result<usize>, usize) {
        let first = self.inbox.fill(socket, read);
        let (mut taken, mut round, mut more) = (0, 0, true);
        loop {
            if self.later.is_empty() && more && round < rounds {
                round += 1;
                match self.later.fill(later, Read::Now) {
                    Ok(count) => {
                        taken += count;
                        more = count == BATCH;
                    }
                    Err(error) => {
                        if !matches!(error.kind(), io::ErrorKind::WouldBlock) {
                            tracing::debug!(%error, "UDP receive error");
                        }
                        more = false;
                    }
                }
            }
            let inbox = match (self.inbox.next_time(), self.later.next_time()) {
                (Some(first), Some(second)) if second < first => &mut self.later,
                (Some(_), _) => &mut self.inbox,
                (None, Some(_)) => &mut self.later,
                (None, None) => break,
            };
            inbox.hand_next(&mut handle);
        }
        (first, taken)
    }

    /// Sends the first datagrams of `outgoing` (up to [`BATCH`]) from `socket` in one
    /// `sendmmsg`: how many went (at least one), or the error of the first one.
    pub fn send_some(&mut self, socket: &UdpSocket, outgoing: &[Transmit]) -> io::Result<usize> {
        let count = outgoing.len().min(BATCH);
        let Some(datagrams) = outgoing.get(..count) else {
            return Ok(0);
        };
        if datagrams.is_empty() {
            return Ok(0);
        }
        let slices: [[IoSlice<'_>; 1]; BATCH] = std::array::from_fn(|index| {
            [IoSlice::new(
                datagrams.get(index).map_or(&[][..], |t| t.bytes.as_slice()),
            )]
        });
        self.addresses.clear();
        self.addresses.extend(
            datagrams
                .iter()
                .map(|transmit| Some(SockaddrStorage::from(transmit.remote))),
        );
        let none: [ControlMessage<'_>; 0] = [];
        let sent = nix::sys::socket::sendmmsg(
            socket.as_raw_fd(),
            &mut self.send,
            slices.iter().take(count),
            &self.addresses,
            none,
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?
        .count();
        Ok(sent)
    }
}

/// The datagrams of one `recvmmsg`, handed on one at a time.
struct Inbox {
    buffer: Vec<u8>,
    headers: MultiHeaders<SockaddrStorage>,
    /// A receive time has come: the socket gives them (see [`enable_receive_times`]).
    stamps: bool,
    /// Length, source and arrival of each datagram taken.
    taken: [(usize, Option<SocketAddr>, Instant); BATCH],
    /// How many the last read took, and how many of those were handed on.
    count: usize,
    next: usize,
}

impl Inbox {
    fn new() -> Inbox {
        Inbox {
            buffer: vec![0; BATCH * SLOT],
            headers: receive_headers(),
            stamps: false,
            taken: [(0, None, Instant::now()); BATCH],
            count: 0,
            next: 0,
        }
    }

    /// Whether every datagram taken was handed on.
    fn is_empty(&self) -> bool {
        self.next >= self.count
    }

    /// When the next datagram to hand on arrived.
    fn next_time(&self) -> Option<Instant> {
        (self.next < self.count)
            .then(|| self.taken.get(self.next).map(|&(_, _, received)| received))
            .flatten()
    }

    /// One `recvmmsg` on `socket` (see [`Batch::receive`]); what was taken before and not
    /// handed on is dropped. Returns how many came.
    fn fill(&mut self, socket: &UdpSocket, read: Read) -> io::Result<usize> {
        self.count = 0;
        self.next = 0;
        let mut lengths = [(0usize, None::<SocketAddr>, None::<TimeSpec>); BATCH];
        let flags = match read {
            Read::Wait => MsgFlags::MSG_WAITFORONE,
            Read::Now => MsgFlags::MSG_DONTWAIT,
        };
        let mut unstamped = false;
        let count = {
            let mut chunks = self.buffer.chunks_exact_mut(SLOT);
            let mut slices: [[IoSliceMut<'_>; 1]; BATCH] =
                std::array::from_fn(|_| [IoSliceMut::new(chunks.next().unwrap_or_default())]);
            let received = nix::sys::socket::recvmmsg(
                socket.as_raw_fd(),
                &mut self.headers,
                slices.iter_mut(),
                flags,
                None,
            )
            .map_err(io::Error::from)?;
            let mut count = 0;
            for (slot, message) in lengths.iter_mut().zip(received) {
                let stamp = message.cmsgs().ok().and_then(|mut messages| {
                    messages.find_map(|message| match message {
                        ControlMessageOwned::ScmTimestampns(stamp) => Some(stamp),
                        _ => None,
                    })
                });
                unstamped |= stamp.is_none();
                self.stamps |= stamp.is_some();
                *slot = (message.bytes, message.address.and_then(std_address), stamp);
                count += 1;
            }
            count
        };
        if unstamped && self.stamps {
            // The kernel shrinks a header's control length to what it wrote; after a
            // datagram without a stamp on a socket that gives them, fresh headers give the
            // next ones their room back (a socket without stamps costs no rebuilds).
            self.headers = receive_headers();
        }
        let (wall, read_at) = (SystemTime::now(), Instant::now());
        for (taken, (length, remote, stamp)) in self.taken.iter_mut().zip(lengths).take(count) {
            let received = stamp.map_or(read_at, |stamp| arrival(stamp, wall, read_at));
            *taken = (length, remote, received);
        }
        self.count = count;
        Ok(count)
    }

    /// Hands the next datagram taken to `handle(remote, bytes, received)`; false when all
    /// were handed on.
    fn hand_next(&mut self, handle: &mut impl FnMut(SocketAddr, &[u8], Instant)) -> bool {
        if self.next >= self.count {
            return false;
        }
        let index = self.next;
        self.next += 1;
        let Some(&(length, remote, received)) = self.taken.get(index) else {
            return false;
        };
        let start = index * SLOT;
        let bytes = self
            .buffer
            .get(start..start + length.min(SLOT))
            .unwrap_or_default();
        match remote {
            Some(remote) => handle(remote, bytes, received),
            None => tracing::debug!("UDP datagram without a source address"),
        }
        true
    }
}

impl Worker {
    /// Sends `self.outgoing` in order, in batches; a datagram that fails is dealt with as
    /// `Worker::send` does, and the rest still go.
    pub(crate) fn send_outgoing(&mut self, endpoint: &UdpEndpoint, batch: &mut Batch) {
        let mut start = 0;
        while let Some(rest) = self.outgoing.get(start..).filter(|rest| !rest.is_empty()) {
            match endpoint.send_some(batch, rest) {
                Ok(sent) => start += sent.max(1),
                Err(error) => {
                    let remote = rest.first().map(|t| t.remote);
                    start += 1;
                    if let Some(remote) = remote {
                        self.udp_send_failed(remote, &error);
                    }
                }
            }
        }
        self.outgoing.clear();
    }

    /// A UDP datagram to `remote` could not be sent.
    pub(crate) fn udp_send_failed(&mut self, remote: SocketAddr, error: &std::io::Error) {
        if error.kind() == std::io::ErrorKind::WouldBlock {
            // The socket buffer is full: the engine retransmits what is lost.
            tracing::debug!(%remote, "UDP send buffer full; dropped");
        } else {
            tracing::debug!(%error, %remote, "UDP send failed");
            self.engine
                .handle_transport_error(Instant::now(), Transport::Udp, remote);
        }
    }
}

/// Receive headers with room for one `SO_TIMESTAMPNS` control message each.
fn receive_headers() -> MultiHeaders<SockaddrStorage> {
    MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(TimeSpec)))
}

/// The monotonic time at which a datagram stamped `stamp` (wall clock) arrived, given
/// that the wall clock read `wall` at the monotonic time `read_at`; `read_at` itself when
/// the stamp is in the future or implausibly old (the wall clock was set in between).
fn arrival(stamp: TimeSpec, wall: SystemTime, read_at: Instant) -> Instant {
    let (Ok(seconds), Ok(nanos)) = (
        u64::try_from(stamp.tv_sec()),
        u32::try_from(stamp.tv_nsec()),
    ) else {
        return read_at;
    };
    let stamped = SystemTime::UNIX_EPOCH.checked_add(Duration::new(seconds, nanos));
    match stamped.map(|stamped| wall.duration_since(stamped)) {
        Some(Ok(age)) if age <= STAMP_AGE_LIMIT => read_at.checked_sub(age).unwrap_or(read_at),
        _ => read_at,
    }
}

/// The standard form of a socket address from the kernel (IPv4 or IPv6).
fn std_address(address: SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    address
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::V6((*v6).into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn transmit(local: SocketAddr, remote: SocketAddr, bytes: &[u8]) -> Transmit {
        Transmit {
            transport: Transport::Udp,
            local,
            remote,
            bytes: bytes.to_vec(),
        }
    }

    /// Datagrams to two peers go out of one `sendmmsg` in order, and what waits on a
    /// socket comes back in one `recvmmsg`, in order, with its source and exact length
    /// (a full-size datagram included).
    #[test]
    fn a_batch_sends_in_order_and_receives_all_that_waits() {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let local = socket.local_addr().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let peers: Vec<UdpSocket> = (0..2)
            .map(|_| UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap())
            .collect();
        let mut batch = Batch::new();
        let outgoing: Vec<Transmit> = (0..BATCH + 3)
            .map(|i| {
                let peer = peers[i % 2].local_addr().unwrap();
                transmit(local, peer, format!("datagram {i}").as_bytes())
            })
            .collect();
        assert_eq!(batch.send_some(&socket, &outgoing).unwrap(), BATCH);
        assert_eq!(batch.send_some(&socket, &outgoing[BATCH..]).unwrap(), 3);
        assert_eq!(batch.send_some(&socket, &[]).unwrap(), 0);
        let mut buffer = [0u8; 64];
        for i in 0..BATCH + 3 {
            peers[i % 2]
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let (n, from) = peers[i % 2].recv_from(&mut buffer).unwrap();
            assert_eq!(
                (&buffer[..n], from),
                (format!("datagram {i}").as_bytes(), local)
            );
        }

        let big = vec![7u8; 65_507];
        peers[0].send_to(b"first", local).unwrap();
        peers[1].send_to(&big, local).unwrap();
        peers[0].send_to(b"third", local).unwrap();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < 3 && Instant::now() < deadline {
            batch
                .receive(&socket, Read::Wait, |remote, bytes, _| {
                    got.push((remote, bytes.to_vec()));
                })
                .unwrap();
        }
        let expected = vec![
            (peers[0].local_addr().unwrap(), b"first".to_vec()),
            (peers[1].local_addr().unwrap(), big),
            (peers[0].local_addr().unwrap(), b"third".to_vec()),
        ];
        assert_eq!(got, expected);
    }

    /// With nothing to read, a receive waits for the socket's read timeout and says so.
    #[test]
    fn a_receive_with_nothing_waiting_ends_at_the_read_timeout() {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(30)))
            .unwrap();
        let mut batch = Batch::new();
        let started = Instant::now();
        let error = batch
            .receive(&socket, Read::Wait, |_, _, _| panic!("nothing sent"))
            .unwrap_err();
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{error}"
        );
        assert!(started.elapsed() >= Duration::from_millis(25));
    }

    /// A read that does not wait returns at once when nothing is there, and otherwise
    /// takes what waits; each datagram is timed from its arrival, not from the read.
    #[test]
    fn a_late_read_times_each_datagram_from_its_arrival() {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        enable_receive_times(&socket).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let local = socket.local_addr().unwrap();
        let mut batch = Batch::new();
        let started = Instant::now();
        let error = batch
            .receive(&socket, Read::Now, |_, _, _| panic!("nothing sent"))
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        assert!(started.elapsed() < Duration::from_secs(5));

        let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        wait_for_stamps(&socket, &peer, &mut batch);
        let sent = Instant::now();
        peer.send_to(b"one", local).unwrap();
        peer.send_to(b"two", local).unwrap();
        std::thread::sleep(Duration::from_millis(40));
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < 2 && Instant::now() < deadline {
            let read = Instant::now();
            let _ = batch.receive(&socket, Read::Now, |_, bytes, received| {
                got.push((bytes.to_vec(), received, read));
            });
        }
        assert_eq!(got.len(), 2);
        for (bytes, received, read) in got {
            assert!([&b"one"[..], b"two"].contains(&bytes.as_slice()));
            // Stamped on arrival: after the send, and well before the read 40 ms later
            // (allowing for the microseconds between the two clocks' readings).
            assert!(received + Duration::from_millis(1) >= sent, "{bytes:?}");
            assert!(received + Duration::from_millis(30) <= read, "{bytes:?}");
        }
    }

    /// The kernel turns its receive stamps on in deferred work: until then a datagram is
    /// stamped when it is read. Waits until a probe from `peer` shows stamps on arrival.
    fn wait_for_stamps(socket: &UdpSocket, peer: &UdpSocket, batch: &mut Batch) {
        let local = socket.local_addr().unwrap();
        let stamps_on_arrival = (0..100).any(|_| {
            peer.send_to(b"probe", local).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            let read = Instant::now();
            let mut early = false;
            while batch
                .receive(socket, Read::Now, |_, _, received| {
                    early |= received + Duration::from_millis(10) <= read;
                })
                .is_ok()
            {}
            early
        });
        assert!(
            stamps_on_arrival,
            "the kernel never stamped a datagram on arrival"
        );
    }

    /// A read of a pair hands on what came to both sockets in the order it arrived, and
    /// says how many came from each.
    #[test]
    fn a_pair_is_read_in_the_order_of_arrival() {
        let sockets: Vec<UdpSocket> = (0..2)
            .map(|_| {
                let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
                enable_receive_times(&socket).unwrap();
                socket
            })
            .collect();
        let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut batch = Batch::new();
        for socket in &sockets {
            wait_for_stamps(socket, &peer, &mut batch);
        }
        // 1, 3, 5 to the second socket, 2, 4 to the first, a few milliseconds apart.
        for n in 1..=5 {
            let to = sockets[n % 2].local_addr().unwrap();
            peer.send_to(format!("{n}").as_bytes(), to).unwrap();
            std::thread::sleep(Duration::from_millis(3));
        }
        let mut got = Vec::new();
        let (first, second) = batch.receive_pair(
            &sockets[0],
            Read::Now,
            &sockets[1],
            8,
            |_, bytes, received| {
                got.push((String::from_utf8_lossy(bytes).into_owned(), received));
            },
        );
        assert_eq!((first.unwrap(), second), (2, 3));
        let order: Vec<&str> = got.iter().map(|(text, _)| text.as_str()).collect();
        assert_eq!(order, ["1", "2", "3", "4", "5"]);
        assert!(got.windows(2).all(|pair| pair[0].1 < pair[1].1));

        // Nothing on the first socket: its read says so, and the second is still read.
        peer.send_to(b"6", sockets[1].local_addr().unwrap())
            .unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let mut got = Vec::new();
        let (first, second) =
            batch.receive_pair(&sockets[0], Read::Now, &sockets[1], 8, |_, bytes, _| {
                got.push(bytes.to_vec());
            });
        assert_eq!(first.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert_eq!((second, got), (1, vec![b"6".to_vec()]));
    }

    /// More than a batch waiting on the second socket is taken in several reads, up to
    /// the rounds allowed.
    #[test]
    fn a_pair_read_takes_the_second_socket_in_rounds() {
        let sockets: Vec<UdpSocket> = (0..2)
            .map(|_| UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap())
            .collect();
        let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let to = sockets[1].local_addr().unwrap();
        for n in 0..3 * BATCH {
            peer.send_to(format!("{n}").as_bytes(), to).unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
        let mut batch = Batch::new();
        let mut got = 0;
        let (_, second) = batch.receive_pair(&sockets[0], Read::Now, &sockets[1], 2, |_, _, _| {
            got += 1;
        });
        assert_eq!((second, got), (2 * BATCH, 2 * BATCH));
        let (_, second) = batch.receive_pair(&sockets[0], Read::Now, &sockets[1], 2, |_, _, _| {
            got += 1;
        });
        assert_eq!((second, got), (BATCH, 3 * BATCH));
    }

    #[test]
    fn a_stamp_becomes_the_monotonic_time_of_arrival() {
        let read_at = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::new(1_800_000_000, 500_000_000);
        let stamp = |seconds, nanos| TimeSpec::new(seconds, nanos);
        // 2.5 ms before the read.
        assert_eq!(
            arrival(stamp(1_800_000_000, 497_500_000), wall, read_at),
            read_at - Duration::from_micros(2_500)
        );
        assert_eq!(
            arrival(stamp(1_800_000_000, 500_000_000), wall, read_at),
            read_at
        );
        // A stamp after the read, or older than the limit: the clock was set; the read
        // time stands in.
        assert_eq!(arrival(stamp(1_800_000_001, 0), wall, read_at), read_at);
        assert_eq!(arrival(stamp(1_799_999_990, 0), wall, read_at), read_at);
        // Nonsense from the kernel is not believed either.
        assert_eq!(arrival(stamp(-5, 0), wall, read_at), read_at);
        assert_eq!(
            arrival(stamp(i64::MAX, 999_999_999), wall, read_at),
            read_at
        );
    }
}
