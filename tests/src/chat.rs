//! A phone with its message store: our engine and driver on a runtime of their own, and
//! the store-backed messaging service ([`Messenger`]) fed every engine event by a task on
//! that runtime. Incoming MESSAGEs are stored and answered while the test thread waits on
//! the store or on the events, as the application would run it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use ims_core::driver::{Driver, DriverHandle};
use ims_core::engine::{Command, EngineConfig, Event, RegistrationPolicy};
use ims_core::messaging::Messenger;
use ims_core::store::{self, Aor, GroupId, GroupMode, MessageId, Store};
use ims_core::transaction::TimerConfig;
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, AccountId};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use crate::phone::SeenEvent;

/// How often [`ChatPhone::wait_until`] looks again.
const POLL: Duration = Duration::from_millis(5);

/// What the pump task and the test thread share.
#[derive(Debug)]
struct Shared {
    messenger: Mutex<Messenger>,
    seen: Mutex<Vec<SeenEvent>>,
    /// Errors of the messaging service (store failures): a test fails on any.
    errors: Mutex<Vec<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One phone with one account and its own store file.
///
/// The pump task hands each engine event to the [`Messenger`] (which stores it) and then
/// records it with the time it was handled, so an event seen by the test is already in the
/// store. Its methods panic with every event seen so far when what the test waits for does
/// not happen: they are for tests.
pub struct ChatPhone {
    // Declared first: dropping it ends the pump task, which drops the driver handle.
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    runtime: Runtime,
    account: AccountId,
    store_account: store::AccountId,
    aor: String,
    local: SocketAddr,
    store_path: PathBuf,
}

impl std::fmt::Debug for ChatPhone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatPhone")
            .field("aor", &self.aor)
            .field("local", &self.local)
            .field("store", &self.store_path)
            .finish_non_exhaustive()
    }
}

impl ChatPhone {
    /// Binds a driver on `127.0.0.1` (a free port) whose account `aor` registers at `proxy`
    /// over UDP with `password`, and opens (creating it) the store at `store_path`. Timers
    /// are short (T1 = 100 ms) so that a lost peer is noticed within seconds. Call
    /// [`register`](Self::register) next.
    #[track_caller]
    pub fn start(proxy: SocketAddr, aor: &str, password: &str, store_path: &Path) -> ChatPhone {
        let config = EngineConfig {
            timers: TimerConfig {
                t1: Duration::from_millis(100),
                ..TimerConfig::default()
            },
            registration: RegistrationPolicy {
                retry_base: Duration::from_millis(500),
                retry_max: Duration::from_secs(2),
                ..RegistrationPolicy::default()
            },
            ..EngineConfig::default()
        };
        let mut account = AccountConfig::new(aor, password, proxy, Transport::Udp);
        account.expires = 600;
        ChatPhone::start_with(config, account, store_path)
    }

    /// Binds a driver on `127.0.0.1` (a free port) with `config` and the one `account`,
    /// its messages kept in the store at `store_path`.
    #[track_caller]
    pub fn start_with(
        config: EngineConfig,
        account: AccountConfig,
        store_path: &Path,
    ) -> ChatPhone {
        let aor = account.aor.clone();
        let store = Store::open(store_path)
            .unwrap_or_else(|error| panic!("open the store {}: {error}", store_path.display()));
        let seed = ims_core::driver::os_seed().expect("OS randomness");
        let mut messenger = Messenger::new(store, seed);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let (handle, account) = runtime.block_on(async {
            let (mut driver, handle) = Driver::bind(config, listen).await.expect("bind the driver");
            let account = driver
                .engine_mut()
                .add_account(account)
                .expect("add account");
            tokio::spawn(driver.run());
            (handle, account)
        });
        let store_account = messenger
            .attach(account, &aor)
            .expect("attach the account to the store");
        let local = handle.local_address();
        let shared = Arc::new(Shared {
            messenger: Mutex::new(messenger),
            seen: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        runtime.spawn(pump(handle, receiver, Arc::clone(&shared)));
        ChatPhone {
            commands,
            shared,
            runtime,
            account,
            store_account,
            aor,
            local,
            store_path: store_path.to_path_buf(),
        }
    }

    /// The engine account.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// The account's row in the store.
    pub fn store_account(&self) -> store::AccountId {
        self.store_account
    }

    /// The account's AOR.
    pub fn aor(&self) -> &str {
        &self.aor
    }

    /// The address the driver listens on (UDP and TCP).
    pub fn local_address(&self) -> SocketAddr {
        self.local
    }

    /// The store file.
    pub fn store_path(&self) -> &Path {
        &self.store_path
    }

    /// Sends a command to the engine (after those sent before it).
    #[track_caller]
    pub fn command(&self, command: Command) {
        self.commands.send(command).expect("pump task running");
    }

    /// `Command::Register` for the account.
    #[track_caller]
    pub fn register(&self) {
        self.command(Command::Register {
            account: self.account,
        });
    }

    /// Runs `f` on the messaging service (and its store) while the pump waits.
    pub fn messenger<R>(&self, f: impl FnOnce(&mut Messenger) -> R) -> R {
        f(&mut lock(&self.shared.messenger))
    }

    /// Stores a 1:1 text as `queued` and sends it; returns its row.
    #[track_caller]
    pub fn send_text(&self, to: &str, text: &str) -> MessageId {
        let (id, command) = self
            .messenger(|m| m.send_text(self.account, to, text, SystemTime::now()))
            .unwrap_or_else(|error| panic!("store a text to {to}: {error}"));
        self.command(command);
        id
    }

    /// Stores a group text as `queued` and sends it; returns its row.
    #[track_caller]
    pub fn send_group(&self, group: GroupId, text: &str) -> MessageId {
        let (id, command) = self
            .messenger(|m| m.send_group(self.account, group, text, SystemTime::now()))
            .unwrap_or_else(|error| panic!("store a group text: {error}"));
        self.command(command);
        id
    }

    /// Creates a group of this account in the store (members are SIP URIs).
    #[track_caller]
    pub fn create_group(
        &self,
        uri: &str,
        name: &str,
        mode: GroupMode,
        members: &[&str],
    ) -> GroupId {
        let uri = Aor::parse(uri).expect("group URI");
        let members: Vec<Aor> = members
            .iter()
            .map(|m| Aor::parse(m).expect("member URI"))
            .collect();
        let account = self.store_account;
        self.messenger(|m| {
            m.store_mut()
                .create_group(account, &uri, name, mode, &members)
        })
        .expect("create the group")
    }

    /// Every event handled so far, in order, with when the pump handled it.
    pub fn seen(&self) -> Vec<SeenEvent> {
        lock(&self.shared.seen).clone()
    }

    /// Errors the messaging service returned so far (store failures).
    pub fn messaging_errors(&self) -> Vec<String> {
        lock(&self.shared.errors).clone()
    }

    /// Waits until `done(self)` holds, looking every 5 ms; panics with every event seen
    /// if it does not within `timeout`, or as soon as the messaging service fails.
    #[track_caller]
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&ChatPhone) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let errors = self.messaging_errors();
            assert!(
                errors.is_empty(),
                "{}: messaging failed: {errors:?}",
                self.aor
            );
            if done(self) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: no {what} within {timeout:?}; events: {:#?}",
                    self.aor,
                    self.seen()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the first event (from the start) that matches `wanted` and returns it.
    #[track_caller]
    pub fn wait_event(
        &self,
        what: &str,
        timeout: Duration,
        wanted: impl Fn(&Event) -> bool,
    ) -> SeenEvent {
        let mut found = None;
        self.wait_until(what, timeout, |phone| {
            found = lock(&phone.shared.seen)
                .iter()
                .find(|seen| wanted(&seen.event))
                .cloned();
            found.is_some()
        });
        found.expect("found before wait_until returned")
    }

    /// Waits until the account is registered.
    #[track_caller]
    pub fn wait_registered(&self, timeout: Duration) {
        self.wait_event("registration", timeout, crate::phone::registered);
    }

    /// Blocks on the phone's runtime (e.g. to use tokio sockets from the test thread).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Hands every engine event to the messaging service, sends back the commands it returns
/// (the 200 for a stored MESSAGE), records the event, and forwards the test's commands;
/// ends when the phone is dropped or the driver stops.
async fn pump(
    mut handle: DriverHandle,
    mut commands: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
) {
    loop {
        tokio::select! {
            event = handle.next_event() => {
                let Some(event) = event else { break };
                let answer = lock(&shared.messenger).on_event(&event, SystemTime::now());
                match answer {
                    Ok(answers) => {
                        for command in answers {
                            if handle.command(command).is_err() {
                                return;
                            }
                        }
                    }
                    Err(error) => lock(&shared.errors).push(format!("{error} (on {event:?})")),
                }
                lock(&shared.seen).push(SeenEvent { at: Instant::now(), event });
            }
            command = commands.recv() => {
                let Some(command) = command else { break };
                if handle.command(command).is_err() {
                    break;
                }
            }
        }
    }
}
