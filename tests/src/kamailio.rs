//! A Kamailio registrar + proxy (`scripts/peers/kamailio.cfg`) for one test.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};
use crate::paths::{PeerDir, scripts_dir};
use crate::port::free_port_block;
use crate::process::{PeerProcess, require_program};

/// How long Kamailio gets to answer its first OPTIONS ping.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Start attempts (each on a new port) when the port was taken between check and bind.
const START_ATTEMPTS: usize = 3;

/// Configures a [`Kamailio`]: its domain, users and groups.
#[derive(Debug, Clone)]
pub struct KamailioBuilder {
    domain: String,
    users: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    min_expires: Option<u32>,
}

impl KamailioBuilder {
    /// Answers REGISTERs asking for less than `seconds` with 423 Interval Too Brief and
    /// Min-Expires (instead of Kamailio's default of raising them silently).
    pub fn min_expires(mut self, seconds: u32) -> Self {
        self.min_expires = Some(seconds);
        self
    }

    /// The domain served (default `ims.test`).
    pub fn domain(mut self, domain: &str) -> Self {
        domain.clone_into(&mut self.domain);
        self
    }

    /// Provisions `user@domain` with `password` (digest, auth user = user).
    pub fn user(mut self, user: &str, password: &str) -> Self {
        self.users.push((user.to_owned(), password.to_owned()));
        self
    }

    /// Adds `member` (a SIP URI such as `sip:bob@ims.test`) to the group `group` (a SIP URI):
    /// a MESSAGE to the group is forked to its registered members except the sender.
    pub fn group_member(mut self, group: &str, member: &str) -> Self {
        self.groups.push((group.to_owned(), member.to_owned()));
        self
    }

    /// Creates the database, provisions it, starts Kamailio on a free port and waits until it
    /// answers an OPTIONS ping.
    pub fn start(self) -> Result<Kamailio> {
        require_program("kamailio")?;
        require_program("sqlite3")?;
        let mut dir = PeerDir::new("kamailio")?;
        let db = dir.join("kamailio.sqlite");
        provision(&db, &self)?;
        let mut last_error = None;
        for attempt in 0..START_ATTEMPTS {
            let port = free_port_block(1)?;
            let process = spawn(&dir, &db, port, &self, attempt)?;
            let mut kamailio = Kamailio {
                process,
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                domain: self.domain.clone(),
                db: db.clone(),
                dir,
                builder: self.clone(),
                starts: attempt + 1,
            };
            match kamailio.wait_ready(READY_TIMEOUT) {
                Ok(()) => return Ok(kamailio),
                Err(error @ HarnessError::ExitedEarly { .. }) => {
                    last_error = Some(error);
                    dir = kamailio.into_dir();
                }
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or(HarnessError::NoFreePort { count: 1 }))
    }
}

/// Starts `scripts/peers/kamailio-run` for one instance.
fn spawn(
    dir: &PeerDir,
    db: &Path,
    port: u16,
    builder: &KamailioBuilder,
    attempt: usize,
) -> Result<PeerProcess> {
    let log = dir.join(&format!("kamailio-{attempt}.log"));
    let mut command = Command::new(scripts_dir().join("kamailio-run"));
    command
        .arg("--port")
        .arg(port.to_string())
        .arg("--workdir")
        .arg(dir.path())
        .arg("--db")
        .arg(db)
        .arg("--domain")
        .arg(&builder.domain);
    if let Some(seconds) = builder.min_expires {
        command.arg("--min-expires").arg(seconds.to_string());
    }
    PeerProcess::spawn("kamailio", command, &log)
}

/// A running Kamailio on 127.0.0.1 (UDP and TCP on [`Kamailio::addr`]), stopped by its pid
/// when dropped. Its log is printed if the test panics.
#[derive(Debug)]
pub struct Kamailio {
    // Declared first: dropped (stopped) before its directory is removed.
    process: PeerProcess,
    addr: SocketAddr,
    domain: String,
    db: PathBuf,
    dir: PeerDir,
    builder: KamailioBuilder,
    starts: usize,
}

impl Kamailio {
    /// A builder with domain `ims.test` and no users.
    pub fn builder() -> KamailioBuilder {
        KamailioBuilder {
            domain: "ims.test".to_owned(),
            users: Vec::new(),
            groups: Vec::new(),
            min_expires: None,
        }
    }

    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The domain it is registrar for.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Freezes Kamailio (every process of it, SIGSTOP): it holds its sockets and answers
    /// nothing until [`resume`](Self::resume).
    pub fn pause(&mut self) {
        self.process.pause();
    }

    /// Lets a paused Kamailio run again.
    pub fn resume(&mut self) {
        self.process.resume();
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Its SQLite database (subscriber, groups, ...).
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// Adds or changes a user while it runs (read on each request).
    pub fn add_user(&self, user: &str, password: &str) -> Result<()> {
        let aor = format!("{user}@{}", self.domain);
        users_command(&self.db, &["add", &aor, password], None).map(drop)
    }

    /// Sends one OPTIONS to the server itself over UDP; true on a 200 within `timeout`.
    pub fn ping(&self, timeout: Duration) -> Result<bool> {
        let io_error = |action, source| HarnessError::Io {
            action,
            path: PathBuf::from(self.addr.to_string()),
            source,
        };
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|source| io_error("bind UDP socket to ping", source))?;
        let local = socket
            .local_addr()
            .map_err(|source| io_error("read local address to ping", source))?;
        socket
            .set_read_timeout(Some(timeout))
            .map_err(|source| io_error("set read timeout to ping", source))?;
        let request = format!(
            "OPTIONS sip:{addr} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-ims-tests-ping-{port}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:ping@{domain}>;tag=ims-tests-ping\r\n\
             To: <sip:{addr}>\r\n\
             Call-ID: ims-tests-ping-{port}@127.0.0.1\r\n\
             CSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n",
            addr = self.addr,
            port = local.port(),
            domain = self.domain,
        );
        socket
            .send_to(request.as_bytes(), self.addr)
            .map_err(|source| io_error("send OPTIONS ping", source))?;
        let mut buffer = [0u8; 4096];
        match socket.recv_from(&mut buffer) {
            Ok((length, _)) => Ok(buffer
                .get(..length)
                .is_some_and(|reply| reply.starts_with(b"SIP/2.0 200 "))),
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
            Err(source) => Err(io_error("receive OPTIONS reply", source)),
        }
    }

    /// Whether `user` has at least one contact in the location table (asked via kamcmd).
    pub fn is_registered(&self, user: &str) -> Result<bool> {
        let kamcmd = require_program("kamcmd")?;
        let socket = format!("unix:{}", self.dir.join("kamailio_ctl").display());
        let output = Command::new(&kamcmd)
            .args(["-s", &socket, "ul.lookup", "location", user])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| HarnessError::Spawn {
                program: kamcmd.display().to_string(),
                source,
            })?;
        Ok(String::from_utf8_lossy(&output.stdout).contains("AoR:"))
    }

    /// Waits until `user` is registered, polling the location table.
    pub fn wait_registered(&self, user: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while !self.is_registered(user)? {
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!("{user} to be registered at Kamailio {}", self.addr),
                    timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Starts it again on the same port and database after [`stop`](Self::stop) (its
    /// in-memory registrations are gone, as after a real restart), and waits until it
    /// answers OPTIONS.
    pub fn restart(&mut self) -> Result<()> {
        self.process.stop();
        let process = spawn(
            &self.dir,
            &self.db,
            self.addr.port(),
            &self.builder,
            self.starts,
        )?;
        self.starts += 1;
        self.process = process;
        self.wait_ready(READY_TIMEOUT)
    }

    /// Stops it now (SIGTERM, then SIGKILL after a grace period).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.process.check_running()?;
            if self.ping(Duration::from_millis(200))? {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!(
                        "Kamailio (pid {}) to answer OPTIONS on {}; log:\n{}",
                        self.pid(),
                        self.addr,
                        self.process.log_tail()
                    ),
                    timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
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

/// Creates the database and provisions users and groups, through scripts/peers/kamailio-users.
fn provision(db: &Path, builder: &KamailioBuilder) -> Result<()> {
    users_command(db, &["init"], None)?;
    if !builder.users.is_empty() {
        let lines: String = builder
            .users
            .iter()
            .map(|(user, password)| format!("{user}@{} {password}\n", builder.domain))
            .collect();
        users_command(db, &["bulk", "-"], Some(&lines))?;
    }
    for (group, member) in &builder.groups {
        users_command(db, &["group-add", group, member], None)?;
    }
    Ok(())
}

fn users_command(db: &Path, args: &[&str], stdin: Option<&str>) -> Result<String> {
    let script = scripts_dir().join("kamailio-users");
    let mut command = Command::new(&script);
    command
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let command_line = format!(
        "{} --db {} {}",
        script.display(),
        db.display(),
        args.join(" ")
    );
    let mut child = command.spawn().map_err(|source| HarnessError::Spawn {
        program: script.display().to_string(),
        source,
    })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|source| HarnessError::Io {
                action: "write to",
                path: script.clone(),
                source,
            })?;
    }
    let output = child
        .wait_with_output()
        .map_err(|source| HarnessError::Spawn {
            program: script.display().to_string(),
            source,
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(HarnessError::Command {
            command: command_line,
            status: output.status,
            output: text,
        })
    }
}
