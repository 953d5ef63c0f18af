//! The local IMS core (`scripts/ims-core`) for one test: imshss (our Cx HSS) and Kamailio
//! as P-, I- and S-CSCF on free ports of 127.0.0.1, stopped by the guard's drop.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;

use crate::error::{HarnessError, Result};
use crate::paths::{PeerDir, repo_root};
use crate::port::free_port_block;
use crate::process::require_program;

/// Start attempts (each on a new port block) when a port was taken between check and bind.
const START_ATTEMPTS: usize = 3;

/// A running IMS core. The built-in subscribers are those of `scripts/ims-core`: alice and
/// bob with AKA (TS 35.208 sets 1 and 3), carol with Digest, and `vu{0..9999}@ims.test`.
#[derive(Debug)]
pub struct ImsCore {
    dir: PeerDir,
    first_port: u16,
}

impl ImsCore {
    /// Starts imshss and the three CSCFs and returns once a REGISTER through the P-CSCF is
    /// challenged (`scripts/ims-core start` checks that). imshss is taken from
    /// `IMS_HSS_BIN`, else `target/debug/imshss` or `target/release/imshss`
    /// (`cargo build -p ims-hss` makes it).
    pub fn start() -> Result<ImsCore> {
        require_program("kamailio")?;
        require_program("kamcmd")?;
        require_program("sqlite3")?;
        require_program("sipp")?;
        let hss = imshss_binary()?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            // P-, I-, S-CSCF, HSS, and the two CSCFs' Diameter acceptors (HSS + 1, + 2).
            let first_port = free_port_block(6)?;
            let core = ImsCore {
                dir: PeerDir::new("ims-core")?,
                first_port,
            };
            match core.script("start", Some(&hss)) {
                Ok(()) => return Ok(core),
                Err(error) => {
                    // The script stops what it started on failure; drop only removes files.
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.unwrap_or(HarnessError::NoFreePort { count: 6 }))
    }

    /// The P-CSCF (UDP and TCP): the UE's outbound proxy.
    pub fn pcscf(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.first_port))
    }

    /// The S-CSCF (UDP and TCP).
    pub fn scscf(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.first_port + 2))
    }

    /// The home domain.
    pub fn domain(&self) -> &'static str {
        "ims.test"
    }

    /// The kamcmd control socket of a CSCF (`pcscf`, `icscf`, `scscf`).
    pub fn control_socket(&self, name: &str) -> PathBuf {
        self.dir.join(&format!("{name}_ctl"))
    }

    /// The pid `scripts/ims-core` recorded for a component (`hss`, `pcscf`, `icscf`,
    /// `scscf`; a CSCF's worker processes are its children).
    pub fn pid(&self, name: &str) -> Option<u32> {
        std::fs::read_to_string(self.dir.join(&format!("{name}.pid")))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// What imshss logged so far.
    pub fn hss_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("hss.log")).unwrap_or_default()
    }

    /// What a CSCF (`pcscf`, `icscf`, `scscf`) logged so far.
    pub fn cscf_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(&format!("{name}.log"))).unwrap_or_default()
    }

    fn script(&self, action: &str, hss: Option<&PathBuf>) -> Result<()> {
        let script = repo_root().join("scripts").join("ims-core");
        let mut command = Command::new(&script);
        command
            .arg(action)
            .arg("--dir")
            .arg(self.dir.path())
            .env("IMS_CORE_PCSCF_PORT", self.first_port.to_string())
            .env("IMS_CORE_ICSCF_PORT", (self.first_port + 1).to_string())
            .env("IMS_CORE_SCSCF_PORT", (self.first_port + 2).to_string())
            .env("IMS_CORE_HSS_PORT", (self.first_port + 3).to_string())
            .env("IMS_HSS_LOG", "debug");
        if let Some(hss) = hss {
            command.env("IMS_HSS_BIN", hss);
        }
        let output = command.output().map_err(|source| HarnessError::Spawn {
            program: script.display().to_string(),
            source,
        })?;
        if output.status.success() {
            return Ok(());
        }
        Err(HarnessError::Command {
            command: format!(
                "scripts/ims-core {action} --dir {}",
                self.dir.path().display()
            ),
            status: output.status,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

impl Drop for ImsCore {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- imshss log ---\n{}", tail(&self.hss_log(), 60));
            for name in ["pcscf", "icscf", "scscf"] {
                eprintln!("--- {name} log ---\n{}", tail(&self.cscf_log(name), 40));
            }
        }
        if let Err(error) = self.script("stop", None) {
            eprintln!("ims-tests: stopping the IMS core failed: {error}");
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The imshss binary: `IMS_HSS_BIN`, or the workspace's debug or release build.
fn imshss_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("IMS_HSS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    ["debug", "release"]
        .iter()
        .map(|profile| target.join(profile).join("imshss"))
        .find(|path| path.is_file())
        .ok_or_else(|| HarnessError::Io {
            action: "find imshss (build it with `cargo build -p ims-hss`) in",
            path: target,
            source: std::io::ErrorKind::NotFound.into(),
        })
}
