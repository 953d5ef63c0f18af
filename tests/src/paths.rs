//! Where the scripts are and where each peer keeps its files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{HarnessError, Result};

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `scripts/peers/`: Kamailio config, start and provisioning scripts, SIPp scenarios.
pub fn scripts_dir() -> PathBuf {
    repo_root().join("scripts").join("peers")
}

/// The path of a SIPp scenario in `scripts/peers/sipp/`.
pub fn sipp_scenario(name: &str) -> PathBuf {
    scripts_dir().join("sipp").join(name)
}

/// A directory of its own for one peer, under the target directory; removed on drop unless
/// the test is panicking (then it is kept and its path printed, for the post-mortem).
#[derive(Debug)]
pub struct PeerDir {
    path: PathBuf,
}

impl PeerDir {
    /// Creates `target/ims-tests/<label>-<pid>-<n>/`.
    pub fn new(label: &str) -> Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target"));
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = target
            .join("ims-tests")
            .join(format!("{label}-{}-{n}", std::process::id()));
        // A directory left by an earlier run with a recycled pid is stale.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(|source| HarnessError::Io {
            action: "create directory",
            path: path.clone(),
            source,
        })?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for PeerDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("ims-tests: kept peer files in {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
