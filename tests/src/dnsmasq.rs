//! A dnsmasq DNS server with the test's own NAPTR, SRV, A and AAAA records, for P-CSCF
//! discovery tests.
//!
//! It reads no configuration file, no `/etc/hosts` and no `/etc/resolv.conf`: it answers only
//! from the records given on its command line, on `127.0.0.1` (UDP and TCP) at a free port.
//! Names under a [`zone`](DnsmasqBuilder::zone) that have no record get NXDOMAIN; any other
//! name is refused.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};
use crate::paths::PeerDir;
use crate::port::free_port_block;
use crate::process::{PeerProcess, require_program};

/// How long dnsmasq gets to answer its first query.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Start attempts (each on a new port) when the port was taken between check and bind.
const START_ATTEMPTS: usize = 3;

/// Configures a [`Dnsmasq`]: its zones and records.
#[derive(Debug, Clone, Default)]
pub struct DnsmasqBuilder {
    arguments: Vec<String>,
}

impl DnsmasqBuilder {
    /// Answers every name under `domain` from the records given only: a name without a record
    /// gets NXDOMAIN, a name with records of other types an empty answer.
    pub fn zone(mut self, domain: &str) -> Self {
        self.arguments.push(format!("--local=/{domain}/"));
        self
    }

    /// A NAPTR record of `name` with flag `S` (the replacement is an SRV name), `service`
    /// such as `SIP+D2U`, an empty regexp and `replacement` (RFC 3403, RFC 3263 §4.1).
    pub fn naptr(
        mut self,
        name: &str,
        order: u16,
        preference: u16,
        service: &str,
        replacement: &str,
    ) -> Self {
        self.arguments.push(format!(
            "--naptr-record={name},{order},{preference},S,{service},,{replacement}"
        ));
        self
    }

    /// An SRV record: `service` is the owner name (`_sip._udp.ims.test`); `target:port` with
    /// `priority` and `weight` (RFC 2782).
    pub fn srv(
        mut self,
        service: &str,
        target: &str,
        port: u16,
        priority: u16,
        weight: u16,
    ) -> Self {
        self.arguments.push(format!(
            "--srv-host={service},{target},{port},{priority},{weight}"
        ));
        self
    }

    /// An A (IPv4) or AAAA (IPv6) record of `name`; repeat for more addresses.
    pub fn host(mut self, name: &str, address: IpAddr) -> Self {
        self.arguments
            .push(format!("--host-record={name},{address}"));
        self
    }

    /// Starts dnsmasq on a free port of 127.0.0.1 and waits until it answers a query.
    pub fn start(self) -> Result<Dnsmasq> {
        let program = require_program("dnsmasq")?;
        let mut dir = PeerDir::new("dnsmasq")?;
        let mut last_error = None;
        for attempt in 0..START_ATTEMPTS {
            let port = free_port_block(1)?;
            let log = dir.join(&format!("dnsmasq-{attempt}.log"));
            let mut command = Command::new(&program);
            command
                // No /etc/dnsmasq.conf, /etc/resolv.conf or /etc/hosts: only our records.
                .arg("--conf-file=/dev/null")
                .arg("--no-resolv")
                .arg("--no-hosts")
                .arg("--keep-in-foreground")
                .arg(format!("--port={port}"))
                .arg("--listen-address=127.0.0.1")
                .arg("--bind-interfaces")
                .arg(format!(
                    "--pid-file={}",
                    dir.join(&format!("dnsmasq-{attempt}.pid")).display()
                ))
                .arg("--log-queries")
                .arg("--log-facility=-")
                .args(&self.arguments);
            let process = PeerProcess::spawn("dnsmasq", command, &log)?;
            let mut dnsmasq = Dnsmasq {
                process,
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                dir,
            };
            match dnsmasq.wait_ready(READY_TIMEOUT) {
                Ok(()) => return Ok(dnsmasq),
                Err(error @ HarnessError::ExitedEarly { .. }) => {
                    last_error = Some(error);
                    dir = dnsmasq.into_dir();
                }
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or(HarnessError::NoFreePort { count: 1 }))
    }
}

/// A running dnsmasq on 127.0.0.1 (UDP and TCP on [`Dnsmasq::addr`]), stopped by its pid
/// when dropped. Its log (every query it answered) is printed if the test panics.
#[derive(Debug)]
pub struct Dnsmasq {
    // Declared first: dropped (stopped) before its directory is removed.
    process: PeerProcess,
    addr: SocketAddr,
    dir: PeerDir,
}

impl Dnsmasq {
    /// A builder with no zone and no record.
    pub fn builder() -> DnsmasqBuilder {
        DnsmasqBuilder::default()
    }

    /// Where it answers (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Its log so far: start-up, then one line per query and per answer.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Sends one query (type A) over UDP; true when any answer comes within `timeout`.
    pub fn answers(&self, timeout: Duration) -> Result<bool> {
        let io_error = |action, source| HarnessError::Io {
            action,
            path: PathBuf::from(self.addr.to_string()),
            source,
        };
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|source| io_error("bind UDP socket to query", source))?;
        socket
            .set_read_timeout(Some(timeout))
            .map_err(|source| io_error("set read timeout to query", source))?;
        let id = u16::try_from(self.pid() & 0xffff).unwrap_or(0x1234);
        socket
            .send_to(&query(id, "ready.ims-tests.invalid"), self.addr)
            .map_err(|source| io_error("send DNS query", source))?;
        let mut buffer = [0u8; 512];
        match socket.recv_from(&mut buffer) {
            // Same id, QR bit set: an answer to our query (whatever its rcode).
            Ok((length, _)) => {
                Ok(length >= 12 && buffer[..2] == id.to_be_bytes() && buffer[2] & 0x80 != 0)
            }
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(false)
            }
            Err(source) => Err(io_error("receive DNS answer", source)),
        }
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.process.check_running()?;
            if self.answers(Duration::from_millis(200))? {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!(
                        "dnsmasq (pid {}) to answer a query on {}; log:\n{}",
                        self.pid(),
                        self.addr,
                        self.process.log_tail()
                    ),
                    timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the process and hands back its directory, for a retry on another port.
    fn into_dir(self) -> PeerDir {
        let Self {
            mut process, dir, ..
        } = self;
        process.stop();
        drop(process);
        dir
    }
}

/// A DNS query (RFC 1035 §4.1) for the A record of `name`, recursion desired.
fn query(id: u16, name: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(12 + name.len() + 6);
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|label| !label.is_empty()) {
        message.push(u8::try_from(label.len()).unwrap_or(63).min(63));
        message.extend(label.bytes().take(63));
    }
    message.extend_from_slice(&[0, 0, 1, 0, 1]);
    message
}
