//! A peer process owned by a guard that stops it by its pid.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};

/// How long a peer gets to exit after SIGTERM before it gets SIGKILL.
const GRACE: Duration = Duration::from_secs(5);
/// How much of a log a panicking test prints.
const LOG_TAIL_LINES: usize = 200;

/// Fails with [`HarnessError::MissingProgram`] unless `program` is found in `PATH`
/// (or in /usr/sbin and /sbin, where Debian puts kamailio).
pub fn require_program(program: &'static str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or(HarnessError::MissingProgram { program })
}

/// A running peer: its pid, its log file, and the guard that stops it.
///
/// The process is the leader of its own process group, so stopping it also reaches any
/// children it forked (Kamailio's workers). Stopping is SIGTERM, then SIGKILL after a grace
/// period; nothing is ever killed by name. Dropping the guard stops the process; if the
/// thread is panicking, the log's tail is printed first. The process also gets SIGTERM from
/// the kernel if the thread that started it dies (`PR_SET_PDEATHSIG`), so even a test
/// binary killed from outside leaves nothing behind.
#[derive(Debug)]
pub struct PeerProcess {
    name: String,
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

impl PeerProcess {
    /// Spawns `command` with stdin from /dev/null and stdout + stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self> {
        let io_error = |action, source| HarnessError::Io {
            action,
            path: log.to_path_buf(),
            source,
        };
        let stdout = File::create(log).map_err(|source| io_error("create log", source))?;
        let stderr = stdout
            .try_clone()
            .map_err(|source| io_error("open log", source))?;
        command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        set_parent_death_signal(&mut command);
        let child = command.spawn().map_err(|source| HarnessError::Spawn {
            program: format!("{:?}", command.get_program()),
            source,
        })?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_path_buf(),
            exited: None,
        })
    }

    /// The peer's name, as used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pid of the process (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log file (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The log so far (lossy UTF-8).
    pub fn log(&self) -> String {
        std::fs::read(&self.log)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|error| format!("(no log at {}: {error})", self.log.display()))
    }

    /// The exit status if the process has exited, without blocking.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Fails with [`HarnessError::ExitedEarly`] if the process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        match self.try_status() {
            Some(status) => Err(HarnessError::ExitedEarly {
                peer: self.name.clone(),
                status,
                log: self.log(),
            }),
            None => Ok(()),
        }
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes the whole process group (SIGSTOP): a peer that is there but answers
    /// nothing, as when its host hangs.
    pub fn pause(&mut self) {
        if self.try_status().is_none() {
            signal_group(self.pid(), libc::SIGSTOP);
        }
    }

    /// Lets a [`pause`](Self::pause)d process group run again (SIGCONT).
    pub fn resume(&mut self) {
        if self.try_status().is_none() {
            signal_group(self.pid(), libc::SIGCONT);
        }
    }

    /// Stops the process: SIGTERM to its process group, then SIGKILL to the group once the
    /// process has exited or the grace period is over. Returns its exit status. Calling it
    /// again returns the same status.
    ///
    /// The SIGKILL also reaches workers that outlive their leader: Kamailio children have
    /// been seen stuck on a lock in their SIGTERM handler after the main process exited,
    /// which left them running with no one to stop them.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.try_status() {
            return Some(status);
        }
        // A paused group would hold SIGTERM until it runs again.
        signal_group(self.pid(), libc::SIGCONT);
        signal_group(self.pid(), libc::SIGTERM);
        let deadline = Instant::now() + GRACE;
        while !exited_unreaped(self.pid()) {
            if Instant::now() >= deadline {
                eprintln!(
                    "ims-tests: {} (pid {}) ignored SIGTERM for {GRACE:?}; sending SIGKILL",
                    self.name,
                    self.pid()
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The process is not reaped yet (at most a zombie), so its pid, the group id,
        // cannot have been reused.
        signal_group(self.pid(), libc::SIGKILL);
        self.exited = self.child.wait().ok();
        self.exited
    }

    /// The last lines of the log, for failure reports.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let start = lines.len().saturating_sub(LOG_TAIL_LINES);
        lines.get(start..).unwrap_or_default().join("\n")
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- {} (pid {}) log {} (last {LOG_TAIL_LINES} lines) -----\n{}\n----- end of {} log -----",
                self.name,
                self.pid(),
                self.log.display(),
                self.log_tail(),
                self.name
            );
        }
        self.stop();
    }
}

/// Whether the child `pid` has exited, leaving it to be reaped (`waitid` with `WNOWAIT`).
#[allow(unsafe_code)]
fn exited_unreaped(pid: u32) -> bool {
    let pid = libc::id_t::from(pid);
    // SAFETY: an all-zero siginfo_t is a valid value of this plain C struct.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t for the call to fill in; WNOWAIT
    // leaves the child to `Child::wait`, which reaps it.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // With WNOHANG, a child still running leaves `si_pid` 0; an error (no such child)
    // means there is nothing left to wait for.
    // SAFETY: `si_pid` reads the field waitid filled in for a WEXITED state.
    rc != 0 || unsafe { info.si_pid() } != 0
}

/// Sends `signal` to the process group led by `pid`.
#[allow(unsafe_code)]
fn signal_group(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 1 {
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours. A negative pid
    // addresses the process group this harness created for its own, not yet reaped, child.
    unsafe {
        libc::kill(-pid, signal);
    }
}

/// Asks the kernel to SIGTERM the child when the thread that spawned it dies.
#[allow(unsafe_code)]
fn set_parent_death_signal(command: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe, with integer arguments; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `pid` has ended: no such process, or a zombie waiting for its reaper.
    fn ended(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the command name in parentheses.
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => true,
        }
    }

    /// A worker that ignores SIGTERM and outlives its leader (as Kamailio children stuck
    /// in shutdown did) is killed with the group once the leader has exited.
    #[test]
    fn stop_also_ends_a_worker_that_outlives_its_leader() {
        let dir = std::env::temp_dir().join(format!("ims-tests-stop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let worker_pid = dir.join("worker.pid");
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!(
            "(trap '' TERM; exec sleep 300) & echo $! > '{}'; trap 'exit 0' TERM; wait",
            worker_pid.display()
        ));
        let mut peer = PeerProcess::spawn("sh", command, &dir.join("log")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let worker = loop {
            if let Some(pid) = std::fs::read_to_string(&worker_pid)
                .ok()
                .and_then(|text| text.trim().parse::<u32>().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "the worker never started");
            std::thread::sleep(Duration::from_millis(10));
        };
        let status = peer.stop().expect("the leader's status");
        assert!(status.success(), "the leader exits on SIGTERM: {status:?}");
        let deadline = Instant::now() + Duration::from_secs(2);
        while !ended(worker) {
            assert!(
                Instant::now() < deadline,
                "worker {worker} outlived its leader's stop"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
