//! Two UDP sockets on one local port, with the kernel choosing which one an incoming
//! datagram goes to: a worker sleeps on the first and reads the second only when it wakes
//! anyway (its next [`crate::udp::TIMER_RESOLUTION`] step while arrivals or timers are
//! due, at most two steps when it idles).
//!
//! The second takes the provisional and successful responses (`SIP/2.0 1xx`, `SIP/2.0
//! 2xx`): in most scenarios nothing is sent on them, so they need not wake the worker.
//! Requests, challenges (401/407), every other response and anything unusual go to the
//! first, which wakes the worker at once. Both sockets stamp what they receive with the
//! kernel's arrival time ([`crate::batch::enable_receive_times`]), so an answer read at
//! the next step is still timed from its arrival; what moves is only when the engine
//! sees it. Peers see one address: both sockets share the port, and every datagram is
//! sent from the first.
//!
//! The steering is the kernel's own: the sockets form one `SO_REUSEPORT` group, and a
//! classic BPF program attached to it (`SO_ATTACH_REUSEPORT_CBPF`, Linux) returns the
//! index in the group of the socket that gets each datagram, reading the UDP payload from
//! its first byte. An index the group does not have falls back to the kernel's hash, so a
//! mistake costs wake-ups, never datagrams.
#![allow(clippy::disallowed_methods)] // a driver: its check waits for its probes by the clock

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};

// Classic BPF opcodes (linux/filter.h): class | size | mode, or class | operation | source.
const LOAD_WORD: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const LOAD_BYTE: u32 = libc::BPF_LD | libc::BPF_B | libc::BPF_ABS;
const JUMP_IF_EQUAL: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const RETURN: u32 = libc::BPF_RET | libc::BPF_K;

/// The socket that wakes the worker, and the one read at its next step.
const PROMPT: u32 = 0;
const LATER: u32 = 1;

const fn op(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    // Every opcode above fits in 16 bits.
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// `SIP/2.0 1` or `SIP/2.0 2` at the payload's start: [`LATER`]; anything else (and a
/// datagram too short to tell, where a load fails and the program returns 0): [`PROMPT`].
/// Jump offsets count instructions after the jump. A `static`: the kernel reads it
/// through a pointer.
static PROGRAM: [libc::sock_filter; 9] = [
    op(LOAD_WORD, 0, 0, 0),
    op(JUMP_IF_EQUAL, 0, 5, u32::from_be_bytes(*b"SIP/")),
    op(LOAD_WORD, 0, 0, 4),
    op(JUMP_IF_EQUAL, 0, 3, u32::from_be_bytes(*b"2.0 ")),
    op(LOAD_BYTE, 0, 0, 8),
    op(JUMP_IF_EQUAL, 2, 0, b'1' as u32),
    op(JUMP_IF_EQUAL, 1, 0, b'2' as u32),
    op(RETURN, 0, 0, PROMPT),
    op(RETURN, 0, 0, LATER),
];

/// How long [`bind_pair`]'s check waits for its own probe datagrams.
const PROBE_WAIT: Duration = Duration::from_millis(500);

/// A UDP socket with `SO_REUSEPORT`, bound to `address`.
fn reuse_port_socket(address: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    setsockopt(&socket, sockopt::ReusePort, &true)?;
    socket.bind(&address.into())?;
    Ok(socket.into())
}

/// Binds two sockets on one free port of `ip`, steered as the module says: `(prompt,
/// later)`. Checked before use: a probe response sent to the port must reach `later` and
/// a probe request `prompt`; any failure is an error and the caller keeps one socket.
pub fn bind_pair(ip: IpAddr) -> io::Result<(UdpSocket, UdpSocket)> {
    let prompt = reuse_port_socket(SocketAddr::new(ip, 0))?;
    let local = prompt.local_addr()?;
    let later = reuse_port_socket(local)?;
    let program = libc::sock_fprog {
        len: PROGRAM.len() as u16,
        // The kernel copies the program during the call and only reads through this.
        filter: PROGRAM.as_ptr().cast_mut(),
    };
    setsockopt(&prompt, sockopt::AttachReusePortCbpf, &program)?;
    check(&prompt, &later, local)?;
    Ok((prompt, later))
}

/// Sends a response and a request to `local` and checks each arrives where it should.
fn check(prompt: &UdpSocket, later: &UdpSocket, local: SocketAddr) -> io::Result<()> {
    let probes: [(&[u8], u32, &str); 2] = [
        (b"SIP/2.0 200 probe\r\n\r\n", LATER, "a 200"),
        (b"OPTIONS sip:probe SIP/2.0\r\n\r\n", PROMPT, "a request"),
    ];
    for socket in [prompt, later] {
        socket.set_nonblocking(true)?;
    }
    let result = probes.into_iter().try_for_each(|(probe, expected, what)| {
        prompt.send_to(probe, local)?;
        match find(prompt, later, probe)? {
            Some(index) if index == expected => Ok(()),
            Some(_) => Err(io::Error::other(format!(
                "{what} reached the wrong socket of the port"
            ))),
            None => Err(io::Error::other(format!(
                "{what} sent to the port did not arrive"
            ))),
        }
    });
    for socket in [prompt, later] {
        socket.set_nonblocking(false)?;
    }
    result
}

/// Which of the two sockets `probe` arrives on ([`PROMPT`] or [`LATER`]), waiting up to
/// [`PROBE_WAIT`]; other datagrams are dropped.
fn find(prompt: &UdpSocket, later: &UdpSocket, probe: &[u8]) -> io::Result<Option<u32>> {
    let mut buffer = [0u8; 64];
    let deadline = Instant::now() + PROBE_WAIT;
    loop {
        for (index, socket) in [(PROMPT, prompt), (LATER, later)] {
            match socket.recv_from(&mut buffer) {
                Ok((n, _)) if buffer.get(..n) == Some(probe) => return Ok(Some(index)),
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// Where each datagram sent to a pair's port lands: `(what, on the later socket)`.
    fn landing(ip: IpAddr, datagrams: &[&[u8]]) -> Vec<(String, bool)> {
        let (prompt, later) = bind_pair(ip).unwrap();
        let local = prompt.local_addr().unwrap();
        assert_eq!(later.local_addr().unwrap(), local, "one port for both");
        let peer = UdpSocket::bind(SocketAddr::new(ip, 0)).unwrap();
        for datagram in datagrams {
            peer.send_to(datagram, local).unwrap();
        }
        for socket in [&prompt, &later] {
            socket.set_nonblocking(true).unwrap();
        }
        let mut got = Vec::new();
        let mut buffer = [0u8; 128];
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < datagrams.len() && Instant::now() < deadline {
            for (socket, is_later) in [(&prompt, false), (&later, true)] {
                while let Ok((n, from)) = socket.recv_from(&mut buffer) {
                    assert_eq!(from, peer.local_addr().unwrap());
                    got.push((String::from_utf8_lossy(&buffer[..n]).into_owned(), is_later));
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        got.sort();
        got
    }

    /// Provisional and successful responses go to the later socket; requests, challenges,
    /// other responses, and anything short or unusual wake the worker.
    #[test]
    fn the_kernel_steers_1xx_and_2xx_to_the_later_socket() {
        let datagrams: [(&[u8], bool); 12] = [
            (b"SIP/2.0 200 OK\r\nCSeq: 2 REGISTER\r\n\r\n", true),
            (b"SIP/2.0 202 Accepted\r\n\r\n", true),
            (b"SIP/2.0 100 Trying\r\n\r\n", true),
            (b"SIP/2.0 180 Ringing\r\n\r\n", true),
            (b"SIP/2.0 401 Unauthorized\r\n\r\n", false),
            (b"SIP/2.0 407 Proxy Authentication Required\r\n\r\n", false),
            (b"SIP/2.0 302 Moved\r\n\r\n", false),
            (b"SIP/2.0 503 Service Unavailable\r\n\r\n", false),
            (b"NOTIFY sip:vu1@127.0.0.1 SIP/2.0\r\n\r\n", false),
            (b"sip/2.0 200 OK\r\n\r\n", false),
            (b"SIP/2.0 2", true),
            (b"SIP/2.0", false),
        ];
        let sent: Vec<&[u8]> = datagrams.iter().map(|&(d, _)| d).collect();
        let mut expected: Vec<(String, bool)> = datagrams
            .iter()
            .map(|&(d, later)| (String::from_utf8_lossy(d).into_owned(), later))
            .collect();
        expected.sort();
        assert_eq!(landing(IpAddr::V4(Ipv4Addr::LOCALHOST), &sent), expected);
        // An empty datagram cannot be read at all: it wakes the worker too.
        assert_eq!(
            landing(IpAddr::V4(Ipv4Addr::LOCALHOST), &[b""]),
            vec![(String::new(), false)]
        );
    }

    /// The same over IPv6, where the host has it.
    #[test]
    fn steering_works_on_ipv6_loopback() {
        let ip: IpAddr = std::net::Ipv6Addr::LOCALHOST.into();
        if UdpSocket::bind(SocketAddr::new(ip, 0)).is_err() {
            eprintln!("no IPv6 loopback here: skipped");
            return;
        }
        let got = landing(ip, &[b"SIP/2.0 200 OK\r\n\r\n", b"SIP/2.0 401 No\r\n\r\n"]);
        assert_eq!(
            got,
            vec![
                ("SIP/2.0 200 OK\r\n\r\n".to_owned(), true),
                ("SIP/2.0 401 No\r\n\r\n".to_owned(), false),
            ]
        );
    }

    /// Two pairs get two ports: nothing of one reaches the other.
    #[test]
    fn each_pair_has_its_own_port() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let (first, _first_later) = bind_pair(ip).unwrap();
        let (second, _second_later) = bind_pair(ip).unwrap();
        assert_ne!(first.local_addr().unwrap(), second.local_addr().unwrap());
    }
}
