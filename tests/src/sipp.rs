//! SIPp scenarios (`scripts/peers/sipp/*.xml`) run to completion under a timeout.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::error::{HarnessError, Result};
use crate::paths::{PeerDir, sipp_scenario};
use crate::port::free_port_block;
use crate::process::{PeerProcess, require_program};

/// Extra time SIPp gets past its own `-timeout` before the harness stops it (SIPp can hang
/// past `-timeout` under overload).
const KILL_MARGIN: Duration = Duration::from_secs(5);

/// One line of the injection CSV every scenario in `scripts/peers/sipp/` reads:
/// own user, auth keyword, domain, peer user.
#[derive(Debug, Clone)]
pub struct SippUser {
    user: String,
    password: String,
    domain: String,
    peer: String,
}

impl SippUser {
    /// `user@domain` authenticating with `password`; the peer user is empty until set.
    pub fn new(user: &str, password: &str, domain: &str) -> Self {
        Self {
            user: user.to_owned(),
            password: password.to_owned(),
            domain: domain.to_owned(),
            peer: String::new(),
        }
    }

    /// The user the scenario calls or messages (`[field3]`).
    pub fn peer(mut self, peer: &str) -> Self {
        peer.clone_into(&mut self.peer);
        self
    }

    fn csv(&self) -> String {
        format!(
            "SEQUENTIAL\n{};[authentication username={} password={}];{};{}\n",
            self.user, self.user, self.password, self.domain, self.peer
        )
    }
}

/// The transport SIPp uses (`-t u1` or `-t t1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SippTransport {
    /// UDP, one socket.
    #[default]
    Udp,
    /// TCP, one connection.
    Tcp,
}

/// A SIPp run of one scenario, for one call (`-m 1`) unless told otherwise.
#[derive(Debug, Clone)]
pub struct Sipp {
    scenario: PathBuf,
    user: SippUser,
    transport: SippTransport,
    local_port: Option<u16>,
    timeout: Duration,
    keys: Vec<(String, String)>,
    calls: u32,
}

impl Sipp {
    /// Runs `scenario` (a file name in `scripts/peers/sipp/`, or a path) as `user`.
    pub fn new(scenario: &str, user: &SippUser) -> Self {
        let path = PathBuf::from(scenario);
        Self {
            scenario: if path.components().count() > 1 {
                path
            } else {
                sipp_scenario(scenario)
            },
            user: user.clone(),
            transport: SippTransport::Udp,
            local_port: None,
            timeout: Duration::from_secs(20),
            keys: Vec::new(),
            calls: 1,
        }
    }

    /// A keyword for the scenario (`-key name value`): `[name]` in it reads `value`.
    pub fn key(mut self, name: &str, value: &str) -> Self {
        self.keys.push((name.to_owned(), value.to_owned()));
        self
    }

    /// How many calls SIPp runs before it ends (`-m`; 1 by default). A server scenario
    /// gets one call per Call-ID it receives.
    pub fn calls(mut self, calls: u32) -> Self {
        self.calls = calls;
        self
    }

    /// How long SIPp may run (its `-timeout`; 20 s by default) before it is stopped.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The transport (UDP by default).
    pub fn transport(mut self, transport: SippTransport) -> Self {
        self.transport = transport;
        self
    }

    /// The local SIP port (`-p`); by default a free one. A "registered UAS" is a register
    /// run and then an answering run on the same port.
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// Runs the scenario to completion: at most `timeout` (SIPp's `-timeout`), after which
    /// SIPp is stopped.
    pub fn run(self, target: SocketAddr, timeout: Duration) -> Result<SippOutcome> {
        let mut running = Sipp { timeout, ..self }.spawn(target)?;
        running.wait()
    }

    /// Starts the scenario in the background (e.g. a UAS waiting for a request); collect it
    /// with [`RunningSipp::wait`]. Dropping it stops SIPp.
    pub fn spawn(self, target: SocketAddr) -> Result<RunningSipp> {
        self.start(Some(target))
    }

    /// Starts a server scenario (one that begins with `<recv>`, e.g. a registrar) with no
    /// remote host, and waits until SIPp listens on its port; SIPp answers each request
    /// where it came from. Collect it with [`RunningSipp::wait`]; dropping it stops SIPp.
    /// A port taken by another process between the harness's check and SIPp's bind makes
    /// SIPp exit at once; then it is started again on other ports (unless the port was set).
    pub fn serve(self) -> Result<RunningSipp> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let started = self.clone().start(None).and_then(|mut running| {
                running.wait_listening(Duration::from_secs(10))?;
                Ok(running)
            });
            match started {
                Err(HarnessError::ExitedEarly { .. })
                    if self.local_port.is_none() && attempts < 3 => {}
                other => return other,
            }
        }
    }

    fn start(self, target: Option<SocketAddr>) -> Result<RunningSipp> {
        let sipp = require_program("sipp")?;
        if !self.scenario.is_file() {
            return Err(HarnessError::Io {
                action: "read SIPp scenario",
                path: self.scenario.clone(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let name = self
            .scenario
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".to_owned());
        let dir = PeerDir::new(&format!("sipp-{}-{name}", self.user.user))?;
        let csv = dir.join("users.csv");
        std::fs::write(&csv, self.user.csv()).map_err(|source| HarnessError::Io {
            action: "write",
            path: csv.clone(),
            source,
        })?;
        let local_port = match self.local_port {
            Some(port) => port,
            None => free_port_block(1)?,
        };
        // Media uses the port and the port + 2; the control socket one more.
        let media_port = free_port_block(5)?;
        let seconds = self.timeout.as_secs().max(1);
        let mut command = Command::new(sipp);
        if let Some(target) = target {
            command.arg(target.to_string());
        }
        for (name, value) in &self.keys {
            command.args(["-key", name, value]);
        }
        command
            .arg("-sf")
            .arg(&self.scenario)
            .arg("-inf")
            .arg(&csv)
            .args(["-i", "127.0.0.1", "-p"])
            .arg(local_port.to_string())
            .arg("-mp")
            .arg(media_port.to_string())
            .arg("-cp")
            .arg((media_port + 4).to_string())
            .args(["-t", self.transport_flag(), "-m"])
            .arg(self.calls.to_string())
            .arg("-nostdin")
            .arg("-timeout")
            .arg(format!("{seconds}s"))
            .arg("-timeout_error")
            .args(["-trace_msg", "-message_file"])
            .arg(dir.join("messages.log"))
            .args(["-trace_err", "-error_file"])
            .arg(dir.join("errors.log"))
            .args(["-trace_logs", "-log_file"])
            .arg(dir.join("actions.log"))
            .args(["-trace_screen", "-screen_file"])
            .arg(dir.join("screen.log"))
            .current_dir(dir.path());
        let process = PeerProcess::spawn(&format!("sipp {name}"), command, &dir.join("sipp.log"))?;
        Ok(RunningSipp {
            process,
            dir,
            local_port,
            transport: self.transport,
            limit: self.timeout + KILL_MARGIN,
        })
    }

    fn transport_flag(&self) -> &'static str {
        match self.transport {
            SippTransport::Udp => "u1",
            SippTransport::Tcp => "t1",
        }
    }
}

/// A SIPp process running a scenario.
#[derive(Debug)]
pub struct RunningSipp {
    // Declared first: stopped before its directory is removed.
    process: PeerProcess,
    dir: PeerDir,
    local_port: u16,
    transport: SippTransport,
    limit: Duration,
}

impl RunningSipp {
    /// The local SIP port SIPp uses.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// SIPp's pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// SIPp's local address (`127.0.0.1` and its SIP port).
    pub fn local_address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.local_port))
    }

    /// Waits until SIPp has bound its port for its transport (a UAS is then ready for
    /// requests).
    pub fn wait_listening(&mut self, timeout: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        let local = (std::net::Ipv4Addr::LOCALHOST, self.local_port);
        loop {
            self.process.check_running()?;
            let bound = match self.transport {
                SippTransport::Udp => std::net::UdpSocket::bind(local).map(drop),
                // Binding fails while SIPp listens there (SO_REUSEADDR allows it only
                // when no socket listens).
                SippTransport::Tcp => std::net::TcpListener::bind(local).map(drop),
            };
            let taken = bound.is_err_and(|error| error.kind() == std::io::ErrorKind::AddrInUse);
            if taken {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!(
                        "{} to listen on {:?} port {}",
                        self.process.name(),
                        self.transport,
                        self.local_port
                    ),
                    timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the scenario to end (stopping SIPp if it overruns) and collects its output.
    pub fn wait(&mut self) -> Result<SippOutcome> {
        let status = match self.process.wait_timeout(self.limit) {
            Some(status) => Some(status),
            None => {
                self.process.stop();
                None
            }
        };
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        Ok(SippOutcome {
            name: self.process.name().to_owned(),
            status,
            output: self.process.log(),
            screen: read("screen.log"),
            messages: read("messages.log"),
            errors: read("errors.log"),
            actions: read("actions.log"),
        })
    }
}

impl Drop for RunningSipp {
    /// A test that panics while SIPp runs (e.g. waiting for our own side) prints SIPp's
    /// errors and message trace, stopping SIPp first so that they are complete.
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.process.stop();
            let read =
                |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            eprintln!(
                "----- {} errors -----\n{}\n----- {} messages -----\n{}\n----- end of {} -----",
                self.process.name(),
                read("errors.log").trim_end(),
                self.process.name(),
                read("messages.log").trim_end(),
                self.process.name()
            );
        }
    }
}

/// What a SIPp run left: exit status, screen, message trace, errors and `<log>` actions.
#[derive(Debug, Clone)]
pub struct SippOutcome {
    /// `sipp <scenario>`.
    pub name: String,
    /// The exit status; `None` if the harness had to stop SIPp.
    pub status: Option<ExitStatus>,
    /// stdout and stderr.
    pub output: String,
    /// The final screen (`-trace_screen`).
    pub screen: String,
    /// Every message sent and received (`-trace_msg`).
    pub messages: String,
    /// Unexpected messages and errors (`-trace_err`).
    pub errors: String,
    /// Lines written by `<log>` actions (`-trace_logs`).
    pub actions: String,
}

impl SippOutcome {
    /// True when SIPp exited 0: every call of the scenario succeeded.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }

    /// Panics with SIPp's screen, errors and message trace unless it succeeded.
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            self.succeeded(),
            "{} did not succeed\n{}",
            self.name,
            self.report()
        );
    }

    /// Panics unless SIPp failed (the scenario did not go as written).
    #[track_caller]
    pub fn assert_failure(&self) {
        assert!(
            self.status.is_some_and(|status| !status.success()),
            "{} was expected to fail\n{}",
            self.name,
            self.report()
        );
    }

    /// Everything SIPp left, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "status: {}\n--- output ---\n{}\n--- screen ---\n{}\n--- errors ---\n{}\n--- messages ---\n{}",
            self.status.map_or_else(
                || "stopped by the harness (timeout)".to_owned(),
                |s| s.to_string()
            ),
            self.output.trim_end(),
            self.screen.trim_end(),
            self.errors.trim_end(),
            self.messages.trim_end()
        )
    }

    /// The cumulative "Successful call" and "Failed call" counters of SIPp's final screen.
    pub fn call_counts(&self) -> Option<CallCounts> {
        let last_count = |label: &str| {
            self.screen
                .lines()
                .rev()
                .find(|line| line.trim_start().starts_with(label))
                .and_then(|line| line.rsplit('|').find(|cell| !cell.trim().is_empty()))
                .and_then(|cell| cell.trim().parse().ok())
        };
        Some(CallCounts {
            successful: last_count("Successful call")?,
            failed: last_count("Failed call")?,
        })
    }

    /// Panics unless SIPp exited 0 and its statistics count exactly one successful call
    /// and no failed one.
    #[track_caller]
    pub fn assert_one_successful_call(&self) {
        self.assert_success();
        assert_eq!(
            self.call_counts(),
            Some(CallCounts {
                successful: 1,
                failed: 0
            }),
            "{} statistics\n{}",
            self.name,
            self.report()
        );
    }

    /// The messages of SIPp's trace (`-trace_msg`), in order.
    pub fn traced_messages(&self) -> Vec<TracedMessage> {
        let mut messages: Vec<TracedMessage> = Vec::new();
        let mut current: Option<TracedMessage> = None;
        let mut lines = self.messages.lines();
        while let Some(line) = lines.next() {
            if let Some(stamp) = line
                .strip_prefix("-----")
                .map(|rest| rest.trim_start_matches('-').trim())
                .filter(|rest| rest.len() >= 10)
            {
                messages.extend(current.take());
                let direction = lines.next().unwrap_or_default();
                current = Some(TracedMessage {
                    received: direction.contains("message received"),
                    time_of_day: time_of_day(stamp),
                    text: String::new(),
                });
            } else if let Some(message) = current.as_mut() {
                if message.text.is_empty() && line.trim().is_empty() {
                    continue;
                }
                message.text.push_str(line.trim_end_matches('\r'));
                message.text.push('\n');
            }
        }
        messages.extend(current);
        for message in &mut messages {
            let trimmed = message.text.trim_end().len();
            message.text.truncate(trimmed);
        }
        messages
    }

    /// The requests SIPp received, in order (retransmissions included).
    pub fn received_requests(&self) -> Vec<TracedMessage> {
        self.traced_messages()
            .into_iter()
            .filter(|m| m.received && !m.text.starts_with("SIP/2.0 "))
            .collect()
    }

    /// The status lines (`SIP/2.0 ...`) of the responses SIPp received, in order.
    pub fn received_responses(&self) -> Vec<String> {
        // SIPp's trace prefixes each message with a "received"/"sent" header line.
        let mut received = false;
        let mut responses = Vec::new();
        for line in self.messages.lines() {
            let trimmed = line.trim();
            if trimmed.contains("message received") {
                received = true;
            } else if trimmed.contains("message sent") {
                received = false;
            } else if received && trimmed.starts_with("SIP/2.0 ") {
                responses.push(trimmed.to_owned());
                received = false;
            }
        }
        responses
    }
}

/// SIPp's call statistics at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallCounts {
    /// Calls that went through the scenario as written.
    pub successful: u64,
    /// Calls that failed (unexpected message, failed check, timeout).
    pub failed: u64,
}

/// One message of SIPp's `-trace_msg` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedMessage {
    /// Received by SIPp (else sent by it).
    pub received: bool,
    /// When SIPp logged it, as time since midnight (local time of SIPp's clock).
    pub time_of_day: Option<Duration>,
    /// The message, lines ending in `\n` (no CR), without the trailing empty line.
    pub text: String,
}

impl TracedMessage {
    /// The first line (request or status line).
    pub fn start_line(&self) -> &str {
        self.text.lines().next().unwrap_or_default()
    }

    /// The value of the first header named `name` (case-insensitive, full names only),
    /// trimmed.
    pub fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.headers(name).next()
    }

    /// The values of every header named `name` (case-insensitive, full names only),
    /// trimmed, in order.
    pub fn headers<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.text
            .lines()
            .skip(1)
            .take_while(|line| !line.is_empty())
            .filter_map(move |line| {
                let (header, value) = line.split_once(':')?;
                header
                    .trim()
                    .eq_ignore_ascii_case(name)
                    .then_some(value.trim())
            })
    }
}

/// `2026-12-01 10:44:51.457091` -> 10 h 44 min 51.457091 s.
fn time_of_day(stamp: &str) -> Option<Duration> {
    let clock = stamp.split_whitespace().nth(1)?;
    let mut parts = clock.split(':');
    let hours: u64 = parts.next()?.parse().ok()?;
    let minutes: u64 = parts.next()?.parse().ok()?;
    let seconds: f64 = parts.next()?.parse().ok()?;
    Some(Duration::from_secs(hours * 3600 + minutes * 60) + Duration::from_secs_f64(seconds))
}
