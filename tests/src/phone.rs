//! Our own side of an interop test: the engine and its tokio driver, on a runtime of their
//! own, with the test thread waiting on their events.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ims_core::driver::{Driver, DriverHandle};
use ims_core::engine::{Command, EngineConfig, Event, RegistrationPolicy};
use ims_core::transaction::TimerConfig;
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, AccountId};
use tokio::runtime::Runtime;

/// The AOR every phone registers; the peers' configs and scenarios know it.
pub const PHONE_AOR: &str = "sip:alice@ims.test";

/// An event as the test thread saw it, with when it saw it.
#[derive(Debug, Clone)]
pub struct SeenEvent {
    /// When the test thread took the event from the driver.
    pub at: Instant,
    /// The event.
    pub event: Event,
}

/// One phone: the driver of one engine with one account ([`PHONE_AOR`]), on its own runtime.
///
/// Its methods panic with every event seen so far when what the test waits for does not
/// happen: they are for tests.
pub struct Phone {
    runtime: Runtime,
    handle: DriverHandle,
    account: AccountId,
    seen: Vec<SeenEvent>,
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phone")
            .field("local", &self.handle.local_address())
            .field("account", &self.account)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl Phone {
    /// Binds a driver on `127.0.0.1` (a free port) whose account registers at `proxy` with
    /// `password` over `transport`, asking for `expires` seconds. Timers are short (T1 =
    /// 100 ms, retries after 0.5–2 s) so that a dead peer is noticed within seconds.
    #[track_caller]
    pub fn start(proxy: SocketAddr, password: &str, transport: Transport, expires: u32) -> Phone {
        let mut account = AccountConfig::new(PHONE_AOR, password, proxy, transport);
        account.expires = expires;
        Phone::start_with(Phone::quick_config(), account)
    }

    /// The engine configuration [`start`](Self::start) uses: T1 = 100 ms (a dead server
    /// is noticed in 6.4 s, not 32 s) and registration retries after 0.5–2 s.
    pub fn quick_config() -> EngineConfig {
        EngineConfig {
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
        }
    }

    /// Binds a driver on `127.0.0.1` (a free port) with `config` and the one `account`.
    #[track_caller]
    pub fn start_with(config: EngineConfig, account: AccountConfig) -> Phone {
        let runtime = Runtime::new().expect("tokio runtime");
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
        Phone {
            runtime,
            handle,
            account,
            seen: Vec::new(),
        }
    }

    /// The account.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// The address the driver listens on (UDP and TCP).
    pub fn local_address(&self) -> SocketAddr {
        self.handle.local_address()
    }

    /// Sends a command to the engine.
    #[track_caller]
    pub fn command(&self, command: Command) {
        self.handle.command(command).expect("driver running");
    }

    /// `Command::Register` for the account.
    #[track_caller]
    pub fn register(&self) {
        self.command(Command::Register {
            account: self.account,
        });
    }

    /// `Command::Unregister` for the account.
    #[track_caller]
    pub fn unregister(&self) {
        self.command(Command::Unregister {
            account: self.account,
        });
    }

    /// Waits for an event matching `wanted`, keeping every event seen on the way; panics
    /// with everything seen if none comes within `timeout`.
    #[track_caller]
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        wanted: impl Fn(&Event) -> bool,
    ) -> Event {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = self.runtime.block_on(async {
                tokio::time::timeout_at(deadline, self.handle.next_event()).await
            });
            match next {
                Ok(Some(event)) => {
                    self.seen.push(SeenEvent {
                        at: Instant::now(),
                        event: event.clone(),
                    });
                    if wanted(&event) {
                        return event;
                    }
                }
                Ok(None) => panic!(
                    "driver stopped while waiting for {what}; events: {:#?}",
                    self.seen
                ),
                Err(_) => panic!("no {what} within {timeout:?}; events: {:#?}", self.seen),
            }
        }
    }

    /// The next event if one comes within `timeout` (kept with the others seen); `None`
    /// when none came. Panics if the driver stopped.
    #[track_caller]
    pub fn next_event_within(&mut self, timeout: Duration) -> Option<Event> {
        let next = self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, self.handle.next_event()).await });
        let event = match next {
            Ok(Some(event)) => event,
            Ok(None) => panic!("driver stopped; events: {:#?}", self.seen),
            Err(_) => return None,
        };
        self.seen.push(SeenEvent {
            at: Instant::now(),
            event: event.clone(),
        });
        Some(event)
    }

    /// Every event seen so far, in order.
    pub fn seen(&self) -> &[SeenEvent] {
        &self.seen
    }

    /// How many `Registering` events (REGISTERs sent) were seen.
    pub fn registering_count(&self) -> usize {
        self.seen
            .iter()
            .filter(|seen| matches!(seen.event, Event::Registering { .. }))
            .count()
    }

    /// Whether any `RegistrationFailed` was seen.
    pub fn saw_failure(&self) -> bool {
        self.seen
            .iter()
            .any(|seen| matches!(seen.event, Event::RegistrationFailed { .. }))
    }
}

/// `Event::Registered`, for [`Phone::wait_for`].
pub fn registered(event: &Event) -> bool {
    matches!(event, Event::Registered { .. })
}
