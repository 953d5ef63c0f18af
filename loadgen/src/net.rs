//! Sockets: one UDP socket per worker (and a TCP listener on the same port) or one per
//! user (crate::udp), TCP connections with one reader and one writer task each, and the
//! OPTIONS probe that checks the target answers before a run.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::udp::{PortError, PortMode, UdpEndpoint};

/// A worker's sockets, bound before its thread starts (so bind errors are reported at once).
#[derive(Debug)]
pub struct Sockets {
    /// The UDP socket(s).
    pub udp: UdpEndpoint,
    /// The TCP listener on the same port (TCP runs only).
    pub listener: Option<TcpListener>,
    /// The bound address (the first user's with a port per user).
    pub local: SocketAddr,
}

/// The sockets of a worker holding the global users `users`: shared ones as [`bind`] makes
/// them, or one UDP socket per user (no TCP).
pub fn bind_worker(
    ip: IpAddr,
    tcp: bool,
    mode: PortMode,
    steer: bool,
    users: std::ops::Range<usize>,
) -> Result<Sockets, PortError> {
    if !mode.per_user() {
        return bind(ip, tcp, steer).map_err(|source| PortError::Bind {
            address: SocketAddr::new(ip, 0),
            source,
        });
    }
    let udp = UdpEndpoint::per_user(ip, mode, users)?;
    let local = udp
        .locals()
        .first()
        .copied()
        .unwrap_or(SocketAddr::new(ip, 0));
    Ok(Sockets {
        udp,
        listener: None,
        local,
    })
}

/// Asked size of each UDP socket buffer.
const SOCKET_BUFFER: usize = 4 << 20;

/// Binds UDP on `ip` (a free port) and, for TCP, a listener on the same port. With
/// `steer`, the UDP socket gets a twin on its port for the answers that need not wake the
/// worker (crate::steer); where the system cannot steer, the one socket takes everything.
pub fn bind(ip: IpAddr, tcp: bool, mut steer: bool) -> std::io::Result<Sockets> {
    let mut last_error = None;
    for _ in 0..20 {
        let pair = if steer {
            match crate::steer::bind_pair(ip) {
                Ok(pair) => Some(pair),
                Err(error) => {
                    // Said once, and not tried again on the next port: the probe of a
                    // pair that cannot steer waits for its datagram.
                    tracing::warn!(%error, "answers cannot be steered: every answer wakes the worker");
                    steer = false;
                    None
                }
            }
        } else {
            None
        };
        let (udp, later) = match pair {
            Some((prompt, later)) => (prompt, Some(later)),
            None => (UdpSocket::bind(SocketAddr::new(ip, 0))?, None),
        };
        // Thousands of users share this socket: a burst (a fork to many members, a round
        // of refreshes) must not overflow the default buffer of ~200 KiB while the worker
        // is busy. The kernel caps the size at net.core.[rw]mem_max.
        for udp in std::iter::once(&udp).chain(later.as_ref()) {
            let socket = socket2::SockRef::from(udp);
            for (what, result) in [
                ("receive", socket.set_recv_buffer_size(SOCKET_BUFFER)),
                ("send", socket.set_send_buffer_size(SOCKET_BUFFER)),
            ] {
                if let Err(error) = result {
                    tracing::debug!(%error, "cannot enlarge the UDP {what} buffer");
                }
            }
            // Answers are timed from their arrival even when the worker reads them later.
            if let Err(error) = crate::batch::enable_receive_times(udp) {
                tracing::debug!(%error, "no kernel receive times; answers are timed when read");
            }
        }
        let local = udp.local_addr()?;
        if !tcp {
            return Ok(Sockets {
                udp: UdpEndpoint::shared(udp, local, later),
                listener: None,
                local,
            });
        }
        match TcpListener::bind(local) {
            Ok(listener) => {
                return Ok(Sockets {
                    udp: UdpEndpoint::shared(udp, local, later),
                    listener: Some(listener),
                    local,
                });
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port pair")))
}

/// What connection tasks tell the worker loop.
#[derive(Debug)]
pub enum StreamInput {
    /// Bytes read from `remote`.
    Bytes {
        /// The peer.
        remote: SocketAddr,
        /// What was read.
        bytes: Vec<u8>,
    },
    /// The connection with `remote` closed.
    Closed {
        /// The peer.
        remote: SocketAddr,
    },
    /// Connecting to `remote` failed.
    ConnectFailed {
        /// The peer.
        remote: SocketAddr,
    },
}

/// The TCP connections of one worker, by peer address.
#[derive(Debug)]
pub struct Streams {
    connections: HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>,
    sender: mpsc::UnboundedSender<StreamInput>,
    /// Where connection tasks report.
    pub input: mpsc::UnboundedReceiver<StreamInput>,
}

impl Streams {
    /// No connections yet.
    pub fn new() -> Streams {
        let (sender, input) = mpsc::unbounded_channel();
        Streams {
            connections: HashMap::new(),
            sender,
            input,
        }
    }

    /// Runs an accepted connection.
    pub fn accepted(&mut self, stream: tokio::net::TcpStream, remote: SocketAddr) {
        let (writer, receiver) = mpsc::unbounded_channel();
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        tokio::spawn(read_loop(read, remote, self.sender.clone()));
        tokio::spawn(write_loop(write, receiver));
        self.connections.insert(remote, writer);
    }

    /// Queues `bytes` for `remote`, connecting first when no connection is open. False
    /// when the connection is gone (the caller tells the engine).
    pub fn send(&mut self, remote: SocketAddr, bytes: Vec<u8>) -> bool {
        let writer = match self.connections.get(&remote) {
            Some(writer) if !writer.is_closed() => writer.clone(),
            _ => {
                let writer = connect(remote, self.sender.clone());
                self.connections.insert(remote, writer.clone());
                writer
            }
        };
        if writer.send(bytes).is_err() {
            self.connections.remove(&remote);
            return false;
        }
        true
    }

    /// Forgets the connection with `remote` (its tasks end when their channel closes).
    pub fn remove(&mut self, remote: SocketAddr) {
        self.connections.remove(&remote);
    }
}

/// Largest single read handed to the engine.
const READ_CHUNK: usize = 64 * 1024;

fn connect(
    remote: SocketAddr,
    input: mpsc::UnboundedSender<StreamInput>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (writer, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        match tokio::net::TcpStream::connect(remote).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                let (read, write) = stream.into_split();
                tokio::spawn(read_loop(read, remote, input));
                write_loop(write, receiver).await;
            }
            Err(error) => {
                tracing::info!(%remote, %error, "TCP connect failed");
                let _ = input.send(StreamInput::ConnectFailed { remote });
            }
        }
    });
    writer
}

async fn read_loop(
    mut read: tokio::net::tcp::OwnedReadHalf,
    remote: SocketAddr,
    input: mpsc::UnboundedSender<StreamInput>,
) {
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        match read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let bytes = buffer.get(..n).unwrap_or_default().to_vec();
                if input.send(StreamInput::Bytes { remote, bytes }).is_err() {
                    return;
                }
            }
        }
    }
    let _ = input.send(StreamInput::Closed { remote });
}

async fn write_loop(
    mut write: tokio::net::tcp::OwnedWriteHalf,
    mut receiver: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(bytes) = receiver.recv().await {
        if write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = write.shutdown().await;
}

/// Why the target did not pass the probe.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// A socket operation failed (refused, unreachable, ...).
    #[error("cannot reach {target} over {transport}: {source}")]
    Io {
        /// The target.
        target: SocketAddr,
        /// UDP or TCP.
        transport: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// Nothing came back in time.
    #[error(
        "no SIP answer from {target} over {transport} within {timeout:?} (is the registrar running there?)"
    )]
    Silent {
        /// The target.
        target: SocketAddr,
        /// UDP or TCP.
        transport: &'static str,
        /// How long we waited.
        timeout: Duration,
    },
    /// Something that is not SIP answered.
    #[error("{target} answered the OPTIONS probe with something that is not SIP")]
    NotSip {
        /// The target.
        target: SocketAddr,
    },
}

/// Sends one OPTIONS to `target` and waits up to `timeout` for any SIP response.
pub fn probe(
    target: SocketAddr,
    local_ip: IpAddr,
    domain: &str,
    tcp: bool,
    timeout: Duration,
) -> Result<(), ProbeError> {
    let transport = if tcp { "TCP" } else { "UDP" };
    let io = |source| ProbeError::Io {
        target,
        transport,
        source,
    };
    let silent = ProbeError::Silent {
        target,
        transport,
        timeout,
    };
    let request = |local: SocketAddr| {
        format!(
            "OPTIONS sip:{target} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} {local};rport;branch=z9hG4bK-imsload-probe-{port}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:imsload@{domain}>;tag=imsload-probe\r\n\
             To: <sip:{target}>\r\n\
             Call-ID: imsload-probe-{port}@{ip}\r\n\
             CSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n",
            port = local.port(),
            ip = local.ip(),
        )
    };
    let mut reply = [0u8; 2048];
    let length = if tcp {
        let mut stream = TcpStream::connect_timeout(&target, timeout).map_err(io)?;
        let local = stream.local_addr().map_err(io)?;
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        stream.write_all(request(local).as_bytes()).map_err(io)?;
        match stream.read(&mut reply) {
            Ok(n) => n,
            Err(e) if is_timeout(&e) => return Err(silent),
            Err(e) => return Err(io(e)),
        }
    } else {
        let socket = UdpSocket::bind(SocketAddr::new(local_ip, 0)).map_err(io)?;
        socket.connect(target).map_err(io)?;
        let local = socket.local_addr().map_err(io)?;
        socket.set_read_timeout(Some(timeout)).map_err(io)?;
        socket.send(request(local).as_bytes()).map_err(io)?;
        match socket.recv(&mut reply) {
            Ok(n) => n,
            Err(e) if is_timeout(&e) => return Err(silent),
            Err(e) => return Err(io(e)),
        }
    };
    if reply
        .get(..length)
        .is_some_and(|r| r.starts_with(b"SIP/2.0 "))
    {
        Ok(())
    } else if length == 0 {
        Err(silent)
    } else {
        Err(ProbeError::NotSip { target })
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
