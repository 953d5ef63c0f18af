//! The harness's error type.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// What went wrong while starting, driving or stopping a peer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// A peer program is not installed.
    #[error(
        "`{program}` is not installed (not found in PATH): run scripts/test, which installs the real peers"
    )]
    MissingProgram {
        /// The program looked for.
        program: &'static str,
    },
    /// A process could not be spawned.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        source: io::Error,
    },
    /// A file or socket operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file (or address) concerned.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A helper command (a script, kamcmd) failed.
    #[error("`{command}` failed ({status}):\n{output}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its stdout and stderr.
        output: String,
    },
    /// A peer exited while it was starting.
    #[error("{peer} exited during start-up ({status}); its log:\n{log}")]
    ExitedEarly {
        /// Which peer.
        peer: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its log.
        log: String,
    },
    /// Waiting for something timed out.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it was awaited.
        timeout: Duration,
    },
    /// No free block of ports was found on 127.0.0.1.
    #[error("no free block of {count} ports found on 127.0.0.1")]
    NoFreePort {
        /// Ports wanted in one block.
        count: u16,
    },
    /// A peer sent something the harness could not understand.
    #[error("{peer} sent something unexpected: {detail}")]
    Protocol {
        /// Which peer.
        peer: &'static str,
        /// What was received.
        detail: String,
    },
}

/// Result alias of the harness.
pub type Result<T> = std::result::Result<T, HarnessError>;
