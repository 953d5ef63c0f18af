//! One registration session: the next hop found (a task of its own, so a slow or
//! failing DNS never stops the screen), then a driver bound, the account added and
//! REGISTER sent. A new account or new settings end the session and start another;
//! a next hop that cannot be found is retried with back-off while the program runs on.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use ims_core::config::{AccountSettings, Config};
use ims_core::driver::dns::Target;
use ims_core::driver::{
    Driver, DriverHandle, NextHopError, TraceReceiver, next_hops, route_address, split_targets,
};
use ims_core::engine::{Command, Engine, Event};
use ims_core::store::Store;
use ims_core::ua::AccountId;
use tokio::task::JoinHandle;

use crate::backend::Commands;

/// Where the backend's engine commands go: the running driver, or nowhere while no
/// session runs. Texts sent meanwhile stay `queued` in the store and go out once a
/// session starts ([`Backend::relink`](crate::backend::Backend::relink) resends them).
#[derive(Debug, Default)]
pub enum Link {
    /// No driver (next hop not found yet, or between two sessions).
    #[default]
    Down,
    /// A running driver.
    Up(DriverHandle),
}

impl Link {
    /// True while a driver runs.
    pub fn is_up(&self) -> bool {
        matches!(self, Link::Up(_))
    }

    /// The next engine event; never resolves while down.
    pub async fn next_event(&mut self) -> Option<Event> {
        match self {
            Link::Up(handle) => handle.next_event().await,
            Link::Down => std::future::pending().await,
        }
    }

    /// An engine event, if one waits.
    pub fn try_event(&mut self) -> Option<Event> {
        match self {
            Link::Up(handle) => handle.try_event(),
            Link::Down => None,
        }
    }
}

impl Commands for Link {
    fn send(&mut self, command: Command) -> Result<(), String> {
        match self {
            Link::Up(handle) => handle.command(command).map_err(|e| e.to_string()),
            // Nothing to send through: what matters is in the store already (a text
            // stays queued); a later session registers and resends.
            Link::Down => Ok(()),
        }
    }
}

/// A stand-in engine account for the backend before the first session has an engine:
/// it only keys the store account in the messenger until [`Backend::relink`]
/// (crate::backend::Backend::relink) names the real one.
pub fn offline_account(config: &Config, account: &AccountSettings) -> anyhow::Result<AccountId> {
    let mut engine_config = config.engine_config()?;
    engine_config.rng_seed = Some([0; 32]);
    let mut engine = Engine::new(engine_config)?;
    let nowhere = SocketAddr::from(([127, 0, 0, 1], 9));
    engine.add_local(account.transport(), SocketAddr::from(([127, 0, 0, 1], 0)));
    Ok(engine.add_account(account.account_config(nowhere))?)
}

/// Finds the next hops on a task of its own, after `previous` (the last session's
/// driver, de-registering) has stopped or had `wait` to do so: the sockets of a fixed
/// `listen` port are free again.
pub fn resolve(
    account: AccountSettings,
    dns_server: Option<SocketAddr>,
    previous: Option<JoinHandle<()>>,
    wait: Duration,
) -> JoinHandle<Result<Vec<Target>, NextHopError>> {
    tokio::spawn(async move {
        if let Some(previous) = previous {
            let _ = tokio::time::timeout(wait, previous).await;
        }
        next_hops(&account, dns_server).await
    })
}

/// A started session.
#[derive(Debug)]
pub struct Session {
    /// Commands in, events out.
    pub handle: DriverHandle,
    /// Copies of the messages on the wire.
    pub trace: TraceReceiver,
    /// The driver's task (ends after de-registering).
    pub running: JoinHandle<()>,
    /// The account in this session's engine.
    pub engine_account: AccountId,
    /// The next hop, as the status bar shows it (`udp 127.0.0.1:5060`).
    pub next_hop: String,
}

/// Binds a driver, adds the account (with the AKA SQN state the store kept) and starts
/// the driver; REGISTER is the caller's (through the backend).
pub async fn start(
    config: &Config,
    account: &AccountSettings,
    targets: &[Target],
    store: &mut Store,
    trace_capacity: usize,
) -> anyhow::Result<Session> {
    let ((proxy, transport), failover) = split_targets(targets).context("no next hop found")?;
    let listen = config.listen_address()?;
    let (mut driver, handle) = Driver::bind(config.engine_config()?, listen).await?;
    let local = driver.local_address();
    if local.ip().is_unspecified() {
        let ip = route_address(proxy).with_context(|| format!("no route to {proxy}"))?;
        driver.advertise(SocketAddr::new(ip, local.port()));
    }
    let mut account_config = account.account_config(proxy);
    account_config.transport = transport;
    account_config.failover = failover;
    if let Some(ims) = account_config.ims.as_mut().filter(|i| i.aka.is_some()) {
        let aor = ims_core::store::Aor::parse(&account.aor)?;
        let id = store.upsert_account(&aor, None)?;
        if let Some(state) = store.load_aka_sqn(id)? {
            ims.sqn = state.parse().context("the stored AKA SQN state")?;
        }
    }
    let engine_account = driver.engine_mut().add_account(account_config)?;
    let trace = driver.trace(trace_capacity);
    let running = tokio::spawn(driver.run());
    Ok(Session {
        handle,
        trace,
        running,
        engine_account,
        next_hop: format!("{transport} {proxy}"),
    })
}

/// Waits before the next attempt to find the next hop: `base`, doubling per failure,
/// at most `max`.
pub fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(300);
        let waits: Vec<u64> = (1..=9).map(|n| backoff(n, base, max).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(backoff(u32::MAX, base, max), max);
    }

    #[test]
    fn a_link_that_is_down_takes_commands_and_gives_no_events() {
        let mut link = Link::Down;
        assert!(!link.is_up());
        assert_eq!(link.send(Command::Shutdown), Ok(()));
        assert!(link.try_event().is_none());
    }
}
