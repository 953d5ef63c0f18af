//! The sans-IO engine: one instance holds any number of accounts with their
//! registrations and transactions. Bytes, commands and the time go in; datagrams and
//! stream writes, events and the next deadline come out.
//!
//! ```
//! use std::time::Instant;
//! use ims_core::engine::{Command, Engine, EngineConfig};
//! use ims_core::transport::Transport;
//! use ims_core::ua::AccountConfig;
//!
//! # #[allow(clippy::disallowed_methods)]
//! let now = Instant::now();
//! let mut engine = Engine::new(EngineConfig { rng_seed: Some([7; 32]), ..EngineConfig::default() })?;
//! engine.add_local(Transport::Udp, "127.0.0.1:5062".parse()?);
//! let alice = engine.add_account(AccountConfig::new(
//!     "sip:alice@ims.test", "secret", "127.0.0.1:5060".parse()?, Transport::Udp))?;
//! engine.command(now, Command::Register { account: alice })?;
//! let register = engine.poll_transmit().expect("a REGISTER to send");
//! assert!(register.bytes.starts_with(b"REGISTER sip:ims.test SIP/2.0\r\n"));
//! assert_eq!(engine.poll_timeout(), Some(now + std::time::Duration::from_millis(500)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod client_table;
mod config;
mod event;
mod hub;
mod keepalive;
mod message;
mod registration;
mod server;
mod subscription;
mod timer_queue;

pub use config::{ConfigError, EngineConfig, RegistrationPolicy};
pub use event::{Command, CommandError, Event, IncomingRequest, StreamFailure};
pub use hub::{Engine, EngineStats};

/// Compares two URIs by RFC 3261 §19.1.4 (text equality for what does not parse).
fn same_uri(a: &str, b: &str) -> bool {
    match (crate::sip::Uri::parse(a), crate::sip::Uri::parse(b)) {
        (Ok(a), Ok(b)) => a.equivalent(&b),
        _ => a == b,
    }
}
