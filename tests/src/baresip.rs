//! baresip, headless (no sound card: sine source, null player), auto-answering, controlled
//! over its ctrl_tcp socket.

use std::io::{BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{HarnessError, Result};
use crate::paths::PeerDir;
use crate::port::free_port_block;
use crate::process::{PeerProcess, require_program};

/// How long baresip gets to open its control socket.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Lifetime cap passed to baresip (`-t`), a last resort should every guard fail.
const MAX_LIFETIME: Duration = Duration::from_secs(600);
/// The largest control message accepted.
const MAX_NETSTRING: usize = 1 << 20;

/// The account baresip registers: `user@domain` at `registrar`, over UDP.
#[derive(Debug, Clone)]
pub struct BaresipAccount {
    /// User part.
    pub user: String,
    /// Password (auth user = user).
    pub password: String,
    /// Domain.
    pub domain: String,
    /// The registrar / outbound proxy.
    pub registrar: SocketAddr,
}

/// A running baresip, stopped by its pid when dropped.
#[derive(Debug)]
pub struct Baresip {
    // Dropped first: the connection, then the process, then the directory.
    control: Option<Control>,
    console: Option<Console>,
    process: PeerProcess,
    sip_port: u16,
    control_port: u16,
    _dir: PeerDir,
}

impl Baresip {
    /// Writes a config for `account` and starts baresip; returns once its control socket
    /// accepts a connection (registration happens in the background: see
    /// [`crate::Kamailio::wait_registered`]).
    pub fn start(account: &BaresipAccount) -> Result<Self> {
        Self::start_with_contacts(account, &[])
    }

    /// As [`start`](Self::start), for instant messages: `contacts` (SIP URIs) in its address
    /// book with the contact module loaded, so that the control commands `contact_next`
    /// (select the next contact) and `message TEXT` (send a MESSAGE to the selected one)
    /// work; and its console (the cons module) connected, where baresip shows the MESSAGEs
    /// it receives (see [`wait_console`](Self::wait_console)).
    pub fn start_with_contacts(account: &BaresipAccount, contacts: &[&str]) -> Result<Self> {
        let baresip = require_program("baresip")?;
        let dir = PeerDir::new(&format!("baresip-{}", account.user))?;
        // SIP on the first port (baresip also binds TCP on port + 1), control on + 2,
        // console (with contacts) on + 3, RTP/RTCP on + 4 .. + 7.
        let base = free_port_block(8)?;
        let sip_port = base;
        let control_port = base + 2;
        write_config(&dir, account, contacts, base)?;
        let mut command = Command::new(baresip);
        command
            .arg("-f")
            .arg(dir.path())
            .arg("-t")
            .arg(MAX_LIFETIME.as_secs().to_string())
            .current_dir(dir.path());
        let process = PeerProcess::spawn(
            &format!("baresip {}", account.user),
            command,
            &dir.join("baresip.log"),
        )?;
        let mut baresip = Self {
            control: None,
            process,
            sip_port,
            control_port,
            console: None,
            _dir: dir,
        };
        baresip.connect_control()?;
        if !contacts.is_empty() {
            baresip.connect_console(base + 3)?;
        }
        Ok(baresip)
    }

    /// baresip's pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Its SIP port on 127.0.0.1.
    pub fn sip_port(&self) -> u16 {
        self.sip_port
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Sends a ctrl_tcp command (`dial`, `hangup`, `reginfo`, ...) and returns its response's
    /// `data`. Events that arrive meanwhile are kept for [`Baresip::wait_event`].
    pub fn command(&mut self, command: &str, params: &str) -> Result<String> {
        let control = self.control_mut()?;
        control.token += 1;
        let token = control.token.to_string();
        let request = serde_json::json!({ "command": command, "params": params, "token": token });
        control.send(&request.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let message = control.receive(deadline)?;
            if message.get("response").and_then(Value::as_bool) == Some(true) {
                let data = message
                    .get("data")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if message.get("ok").and_then(Value::as_bool) == Some(false) {
                    return Err(HarnessError::Protocol {
                        peer: "baresip",
                        detail: format!("command {command} {params:?} failed: {data}"),
                    });
                }
                return Ok(data);
            }
            control.events.push(message);
        }
    }

    /// Waits for an event of `kind` (e.g. `CALL_ESTABLISHED`, `REGISTER_OK`) and returns it
    /// as JSON; events before it are consumed.
    pub fn wait_event(&mut self, kind: &str, timeout: Duration) -> Result<Value> {
        let control = self.control_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(index) = control
                .events
                .iter()
                .position(|event| event.get("type").and_then(Value::as_str) == Some(kind))
            {
                let event = control.events.remove(index);
                control.events.drain(..index);
                return Ok(event);
            }
            match control.receive(deadline) {
                Ok(message) => control.events.push(message),
                Err(HarnessError::Timeout { .. }) => {
                    return Err(HarnessError::Timeout {
                        what: format!(
                            "baresip event {kind}; events seen: {:?}",
                            control
                                .events
                                .iter()
                                .map(|e| e.get("type"))
                                .collect::<Vec<_>>()
                        ),
                        timeout,
                    });
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Stops it now (SIGTERM, then SIGKILL after a grace period).
    pub fn stop(&mut self) {
        self.control = None;
        self.console = None;
        self.process.stop();
    }

    /// Waits until baresip's console (what it shows the user, e.g. `sip:alice@ims.test:
    /// "hello"` for a received MESSAGE) contains `text`; returns everything shown so far.
    /// Only for a baresip started by [`start_with_contacts`](Self::start_with_contacts).
    pub fn wait_console(&mut self, text: &str, timeout: Duration) -> Result<String> {
        let console = self.console.as_mut().ok_or(HarnessError::Protocol {
            peer: "baresip",
            detail: "no console: start it with start_with_contacts".to_owned(),
        })?;
        let deadline = Instant::now() + timeout;
        while !console.shown.contains(text) {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(HarnessError::Timeout {
                    what: format!("{text:?} on baresip's console; shown: {:?}", console.shown),
                    timeout,
                });
            }
            console.read(remaining)?;
        }
        Ok(console.shown.clone())
    }

    fn connect_console(&mut self, port: u16) -> Result<()> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.process.check_running()?;
            if let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
                self.console = Some(Console {
                    stream,
                    shown: String::new(),
                });
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!("baresip (pid {}) console {address}", self.pid()),
                    timeout: READY_TIMEOUT,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn control_mut(&mut self) -> Result<&mut Control> {
        self.control.as_mut().ok_or(HarnessError::Protocol {
            peer: "baresip",
            detail: "control connection is closed".to_owned(),
        })
    }

    fn connect_control(&mut self) -> Result<()> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.control_port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.process.check_running()?;
            if let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
                self.control = Some(Control {
                    reader: BufReader::new(stream),
                    events: Vec::new(),
                    token: 0,
                });
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!(
                        "baresip (pid {}) control socket {address}; log:\n{}",
                        self.pid(),
                        self.process.log_tail()
                    ),
                    timeout: READY_TIMEOUT,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The cons module's TCP connection: plain text, what baresip shows the user.
#[derive(Debug)]
struct Console {
    stream: TcpStream,
    shown: String,
}

impl Console {
    /// Appends what arrives within `timeout` (at least one read) to `shown`.
    fn read(&mut self, timeout: Duration) -> Result<()> {
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(|source| console_error("set timeout on", source))?;
        let mut buffer = [0u8; 4096];
        match self.stream.read(&mut buffer) {
            Ok(0) => Err(protocol_error("baresip closed its console".to_owned())),
            Ok(length) => {
                self.shown.push_str(&String::from_utf8_lossy(
                    buffer.get(..length).unwrap_or_default(),
                ));
                if self.shown.len() > MAX_NETSTRING {
                    return Err(protocol_error(
                        "more console output than expected".to_owned(),
                    ));
                }
                Ok(())
            }
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(())
            }
            Err(source) => Err(console_error("read from", source)),
        }
    }
}

fn console_error(action: &'static str, source: std::io::Error) -> HarnessError {
    HarnessError::Io {
        action,
        path: "baresip console socket".into(),
        source,
    }
}

/// The ctrl_tcp connection: netstring-framed JSON both ways.
#[derive(Debug)]
struct Control {
    reader: BufReader<TcpStream>,
    events: Vec<Value>,
    token: u64,
}

impl Control {
    fn send(&mut self, json: &str) -> Result<()> {
        let frame = format!("{}:{json},", json.len());
        self.reader
            .get_mut()
            .write_all(frame.as_bytes())
            .map_err(|source| control_error("write to", source))
    }

    /// Reads one netstring and parses it as JSON, waiting until `deadline`.
    fn receive(&mut self, deadline: Instant) -> Result<Value> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(HarnessError::Timeout {
                what: "a message on baresip's control socket".to_owned(),
                timeout: Duration::ZERO,
            });
        }
        self.reader
            .get_ref()
            .set_read_timeout(Some(remaining))
            .map_err(|source| control_error("set timeout on", source))?;
        let mut length = 0usize;
        loop {
            let mut byte = [0u8; 1];
            match self.reader.read_exact(&mut byte) {
                Ok(()) => {}
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(HarnessError::Timeout {
                        what: "a message on baresip's control socket".to_owned(),
                        timeout: remaining,
                    });
                }
                Err(source) => return Err(control_error("read from", source)),
            }
            match byte[0] {
                digit @ b'0'..=b'9' => {
                    length = length
                        .saturating_mul(10)
                        .saturating_add(usize::from(digit - b'0'));
                    if length > MAX_NETSTRING {
                        return Err(protocol_error(format!("netstring of {length} bytes")));
                    }
                }
                b':' => break,
                other => {
                    return Err(protocol_error(format!(
                        "netstring length byte {other:#04x}"
                    )));
                }
            }
        }
        let mut body = vec![0u8; length + 1];
        self.reader
            .read_exact(&mut body)
            .map_err(|source| control_error("read from", source))?;
        if body.pop() != Some(b',') {
            return Err(protocol_error(
                "netstring without its closing comma".to_owned(),
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|error| protocol_error(format!("{error}: {}", String::from_utf8_lossy(&body))))
    }
}

fn control_error(action: &'static str, source: std::io::Error) -> HarnessError {
    HarnessError::Io {
        action,
        path: "baresip control socket".into(),
        source,
    }
}

fn protocol_error(detail: String) -> HarnessError {
    HarnessError::Protocol {
        peer: "baresip",
        detail,
    }
}

fn write_config(
    dir: &PeerDir,
    account: &BaresipAccount,
    contacts: &[&str],
    base: u16,
) -> Result<()> {
    let mut config = format!(
        "# written by ims-tests for one test\n\
         poll_method\t\tepoll\n\
         sip_listen\t\t127.0.0.1:{sip}\n\
         net_interface\t\t127.0.0.1\n\
         rtp_ports\t\t{rtp_low}-{rtp_high}\n\
         audio_player\t\talsa,null\n\
         audio_alert\t\talsa,null\n\
         audio_source\t\tausine,440\n\
         ausrc_srate\t\t48000\n\
         ausrc_channels\t\t2\n\
         module_path\t\t/usr/lib/baresip/modules\n\
         module\t\t\tg711.so\n\
         module\t\t\tausine.so\n\
         module\t\t\talsa.so\n\
         module_app\t\taccount.so\n\
         module_app\t\tmenu.so\n\
         module_app\t\tctrl_tcp.so\n\
         ctrl_tcp_listen\t\t127.0.0.1:{control}\n",
        sip = base,
        control = base + 2,
        rtp_low = base + 4,
        rtp_high = base + 7,
    );
    if !contacts.is_empty() {
        config.push_str(&format!(
            "module\t\t\tcons.so\n\
             cons_listen\t\t127.0.0.1:{console}\n\
             module_app\t\tcontact.so\n",
            console = base + 3
        ));
    }
    let contacts: String = contacts.iter().map(|uri| format!("<{uri}>\n")).collect();
    let accounts = format!(
        "<sip:{user}@{domain}>;auth_user={user};auth_pass={password};\
         outbound=\"sip:{registrar};transport=udp\";regint=600;answermode=auto;audio_codecs=PCMU\n",
        user = account.user,
        domain = account.domain,
        password = account.password,
        registrar = account.registrar,
    );
    for (name, text) in [
        ("config", config.as_str()),
        ("accounts", accounts.as_str()),
        ("contacts", contacts.as_str()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| HarnessError::Io {
            action: "write",
            path,
            source,
        })?;
    }
    Ok(())
}
