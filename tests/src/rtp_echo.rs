//! A real RTP peer: SIPp's RTP echo (`sipp -rtp_echo`), which sends every RTP datagram
//! it receives on its media port back to where it came from, unchanged.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};
use crate::paths::PeerDir;
use crate::port::free_port_block;
use crate::process::{PeerProcess, require_program};

/// How long the echo gets to answer its first probe.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// SIPp stops by itself after this long, should the guard never get to stop it.
const LIFETIME: Duration = Duration::from_secs(120);
/// Start attempts (a port taken between the check and SIPp's bind fails one).
const ATTEMPTS: usize = 3;

/// A running SIPp RTP echo on 127.0.0.1, stopped by pid when dropped.
#[derive(Debug)]
pub struct RtpEcho {
    process: PeerProcess,
    address: SocketAddr,
    _dir: PeerDir,
}

impl RtpEcho {
    /// Starts `sipp -sn uas -rtp_echo` on free ports and waits until it echoes a probe.
    pub fn start() -> Result<Self> {
        let sipp = require_program("sipp")?;
        let mut last_error = None;
        for _ in 0..ATTEMPTS {
            // SIP on the first port; media on an even port and the one 2 above (SIPp
            // echoes both); the control socket on the last.
            let first = free_port_block(8)?;
            let media = first + 2 + first % 2;
            let dir = PeerDir::new("sipp-rtp-echo")?;
            let mut command = Command::new(&sipp);
            command
                .args(["-sn", "uas", "-i", "127.0.0.1", "-p"])
                .arg(first.to_string())
                .arg("-mp")
                .arg(media.to_string())
                .arg("-cp")
                .arg((first + 7).to_string())
                .arg("-rtp_echo")
                .arg("-nostdin")
                .arg("-timeout")
                .arg(format!("{}s", LIFETIME.as_secs()))
                .args(["-trace_err", "-error_file"])
                .arg(dir.join("errors.log"))
                .current_dir(dir.path());
            let process = PeerProcess::spawn("sipp rtp echo", command, &dir.join("sipp.log"))?;
            let mut echo = Self {
                process,
                address: SocketAddr::from((Ipv4Addr::LOCALHOST, media)),
                _dir: dir,
            };
            match echo.wait_until_echoing() {
                Ok(()) => return Ok(echo),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or(HarnessError::NoFreePort { count: 8 }))
    }

    /// Where to send RTP to have it echoed.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The SIPp process.
    pub fn process(&mut self) -> &mut PeerProcess {
        &mut self.process
    }

    /// Sends a probe datagram until it comes back.
    fn wait_until_echoing(&mut self) -> Result<()> {
        let io_error = |action, source| HarnessError::Io {
            action,
            path: "127.0.0.1 (RTP echo probe)".into(),
            source,
        };
        let probe =
            UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|source| io_error("bind", source))?;
        probe
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|source| io_error("set timeout", source))?;
        // An RTP header (version 2, payload type 0) with a short payload.
        let datagram = [
            0x80, 0, 0, 1, 0, 0, 0, 0, 0x1E, 0xC4, 0x00, 0x01, 0xFF, 0xFF,
        ];
        let deadline = Instant::now() + START_TIMEOUT;
        let mut buffer = [0u8; 64];
        while Instant::now() < deadline {
            self.process.check_running()?;
            // Refused while SIPp has not bound yet: try again.
            let _ = probe.send_to(&datagram, self.address);
            if let Ok((length, _)) = probe.recv_from(&mut buffer)
                && buffer.get(..length) == Some(&datagram[..])
            {
                return Ok(());
            }
        }
        Err(HarnessError::Timeout {
            timeout: START_TIMEOUT,
            what: "SIPp's RTP echo to answer a probe".into(),
        })
    }
}
