//! The store handle: opening the file, its settings, the default path, write
//! transactions and batches.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::error::{Operation, OperationContext, StoreError};
use super::schema::migrations;

/// What a committed write survives; see [`Store`] for the guarantee in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous=FULL`: SQLite syncs the WAL to disk at every commit, so a commit that
    /// returned survives the process being killed, an OS crash and a power cut.
    #[default]
    PowerLoss,
    /// `synchronous=NORMAL`: a commit that returned survives the process being killed
    /// (panic, abort, SIGKILL) but an OS crash or power cut may roll back the commits made
    /// since the last checkpoint. For load generation and tests, not for the phone.
    ProcessCrash,
}

/// How to open a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// What a commit survives.
    pub durability: Durability,
    /// How long a write waits for another connection's write to finish before it fails
    /// with "database is locked".
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::default(),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// How many prepared statements each connection keeps (every statement the store uses).
const STATEMENT_CACHE: usize = 64;

/// The file name of the store inside the data directory.
const FILE_NAME: &str = "ims.sqlite";

/// The SQLite store of one user: accounts, address book, groups, conversations,
/// messages, AKA SQN state and call history, in one file.
///
/// The file is in WAL mode, with foreign keys on and a busy timeout, so other
/// connections (another `Store` on the same file) read while this one writes.
///
/// # Durability
///
/// Every write method commits before it returns (a [`batch`](Store::batch) commits when
/// its closure returns `Ok`). With the default [`Durability::PowerLoss`] a write that
/// returned `Ok` is on disk: a crash of the process, of the OS or of the power at any
/// later moment loses none of it. So when the engine writes an outgoing message
/// (`insert_outgoing`) before its MESSAGE leaves, and an incoming one (`insert_incoming`)
/// before its 200 OK leaves, no message that either side acknowledged is lost. A crash
/// between `insert_outgoing` and the 2xx leaves the message `queued` or `sending`
/// ([`pending_outgoing`](Store::pending_outgoing)); sending it again is safe because the
/// receiver drops the duplicate (same Call-ID + CSeq, or IMDN Message-ID).
/// [`Durability::ProcessCrash`] keeps the first half only (see there).
///
/// A `Store` is `Send` but not `Sync`: one thread owns it; open another for another
/// thread.
#[derive(Debug)]
pub struct Store {
    pub(crate) connection: Connection,
}

impl Store {
    /// Opens (creating it and its directory if needed) the store file at `path`, brings
    /// its schema to the current version, with the default options.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, &StoreOptions::default())
    }

    /// Opens the store file at `path` with `options`.
    pub fn open_with(path: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDirectory {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection =
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let store = Store::set_up(connection, path, options)?;
        tracing::info!(path = %path.display(), durability = ?options.durability, "store opened");
        Ok(store)
    }

    /// Opens a store that lives in memory only (tests, and runs that keep nothing).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = Path::new(":memory:");
        let connection = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Store::set_up(connection, path, &StoreOptions::default())
    }

    /// The store file for a data directory: `<data_dir>/ims.sqlite` when one is given
    /// (`--data-dir`), else `$XDG_DATA_HOME/ims-rs/ims.sqlite`, else
    /// `$HOME/.local/share/ims-rs/ims.sqlite` (a relative `$XDG_DATA_HOME` is ignored, as
    /// the XDG base directory spec asks).
    pub fn default_path(data_dir: Option<&Path>) -> Result<PathBuf, StoreError> {
        default_path_from(
            data_dir,
            std::env::var_os("XDG_DATA_HOME"),
            std::env::var_os("HOME"),
        )
    }

    /// Applies the settings and migrations to a fresh connection.
    fn set_up(
        mut connection: Connection,
        path: &Path,
        options: &StoreOptions,
    ) -> Result<Store, StoreError> {
        let setup = |setting: &'static str| {
            let path = path.to_path_buf();
            move |source| StoreError::Setup {
                path,
                setting,
                source,
            }
        };
        connection
            .busy_timeout(options.busy_timeout)
            .map_err(setup("busy_timeout"))?;
        let mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(setup("journal_mode=WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            tracing::warn!(path = %path.display(), %mode, "store: WAL mode refused by SQLite");
        }
        let synchronous = match options.durability {
            Durability::PowerLoss => "FULL",
            Durability::ProcessCrash => "NORMAL",
        };
        connection
            .pragma_update(None, "synchronous", synchronous)
            .map_err(setup("synchronous"))?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(setup("foreign_keys=ON"))?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrations()
            .to_latest(&mut connection)
            .map_err(|source| StoreError::Migrate {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Store { connection })
    }

    /// Runs `body` in one write transaction (taken at once, so it never fails half way
    /// for a lock), committed if `body` returns `Ok`, rolled back otherwise.
    pub(crate) fn write<T>(
        &mut self,
        body: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .during(Operation::BeginTransaction)?;
        let value = body(&transaction)?;
        transaction.commit().during(Operation::CommitTransaction)?;
        Ok(value)
    }

    /// Runs several message writes in one transaction: one commit (one disk sync) for
    /// all of them. Committed when `body` returns `Ok`, rolled back when it returns `Err`
    /// (or panics). Nothing in a batch is durable before `batch` returns: send nothing
    /// for a message of the batch, and answer no MESSAGE stored by it, until then.
    pub fn batch<T>(
        &mut self,
        body: impl FnOnce(&mut Batch<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .during(Operation::BeginTransaction)?;
        let mut batch = Batch { transaction };
        let value = body(&mut batch)?;
        batch
            .transaction
            .commit()
            .during(Operation::CommitTransaction)?;
        Ok(value)
    }
}

/// Message writes inside one transaction; see [`Store::batch`].
#[derive(Debug)]
pub struct Batch<'s> {
    pub(crate) transaction: Transaction<'s>,
}

/// [`Store::default_path`] with the environment passed in.
fn default_path_from(
    data_dir: Option<&Path>,
    xdg_data_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, StoreError> {
    if let Some(dir) = data_dir {
        return Ok(dir.join(FILE_NAME));
    }
    let xdg = xdg_data_home.map(PathBuf::from).filter(|p| p.is_absolute());
    let base = match xdg {
        Some(dir) => dir,
        None => home
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".local").join("share"))
            .ok_or(StoreError::NoDataDirectory)?,
    };
    Ok(base.join("ims-rs").join(FILE_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(data_dir: Option<&str>, xdg: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
        default_path_from(
            data_dir.map(Path::new),
            xdg.map(Into::into),
            home.map(Into::into),
        )
        .ok()
    }

    #[test]
    fn data_dir_wins() {
        assert_eq!(
            path(Some("/data"), Some("/xdg"), Some("/home/u")),
            Some(PathBuf::from("/data/ims.sqlite"))
        );
    }

    #[test]
    fn xdg_data_home_then_home() {
        assert_eq!(
            path(None, Some("/xdg"), Some("/home/u")),
            Some(PathBuf::from("/xdg/ims-rs/ims.sqlite"))
        );
        assert_eq!(
            path(None, None, Some("/home/u")),
            Some(PathBuf::from("/home/u/.local/share/ims-rs/ims.sqlite"))
        );
        // A relative XDG_DATA_HOME is invalid and ignored.
        assert_eq!(
            path(None, Some("rel"), Some("/home/u")),
            Some(PathBuf::from("/home/u/.local/share/ims-rs/ims.sqlite"))
        );
    }

    #[test]
    fn nothing_set_is_an_error() {
        assert!(matches!(
            default_path_from(None, None, None),
            Err(StoreError::NoDataDirectory)
        ));
    }
}
