//! The tokio driver: the only part of ims-core that does I/O. It owns the UDP socket,
//! the TCP listener and connections, and the clock; it feeds the [`Engine`] and hands
//! its events to the application over a channel.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ims_core::driver::Driver;
//! use ims_core::engine::{Command, EngineConfig};
//! use ims_core::transport::Transport;
//! use ims_core::ua::AccountConfig;
//!
//! let (mut driver, mut handle) = Driver::bind(EngineConfig::default(), "127.0.0.1:0".parse()?).await?;
//! let alice = driver.engine_mut().add_account(AccountConfig::new(
//!     "sip:alice@ims.test", "secret", "127.0.0.1:5060".parse()?, Transport::Udp))?;
//! tokio::spawn(driver.run());
//! handle.command(Command::Register { account: alice })?;
//! while let Some(event) = handle.next_event().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```
#![allow(clippy::disallowed_methods)] // the driver is where the clock lives

pub mod dns;
mod hops;
mod run;
mod tcp;
pub mod trace;

pub use hops::{Hop, NextHopError, next_hops, split_targets};
pub use run::{Driver, DriverError, DriverHandle};
pub use trace::{TraceReceiver, TraceRecord};

use std::net::{IpAddr, SocketAddr, UdpSocket};

/// The local address that routes to `remote` (what a connected UDP socket would use);
/// used to advertise a concrete address when listening on `0.0.0.0` / `::`.
pub fn route_address(remote: SocketAddr) -> std::io::Result<IpAddr> {
    let bind: SocketAddr = if remote.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket = UdpSocket::bind(bind)?;
    socket.connect(remote)?;
    Ok(socket.local_addr()?.ip())
}

/// 32 bytes from the operating system for the engine's RNG.
pub fn os_seed() -> Result<[u8; 32], DriverError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| DriverError::Random(e.to_string()))?;
    Ok(seed)
}
