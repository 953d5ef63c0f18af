//! ims-core: the protocol core of ims-rs, an IMS (3GPP IP Multimedia Subsystem) client
//! framework.
//!
//! Layers (see the README): a zero-copy SIP message model ([`sip`]), a sans-IO engine
//! (transactions, dialogs, usages), media, a store, and a tokio driver, the only part
//! that does I/O.
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod auth;
pub mod config;
#[cfg(feature = "driver")]
pub mod driver;
pub mod engine;
pub mod im;
pub mod ims;
pub mod media;
#[cfg(feature = "store")]
pub mod messaging;
pub mod rtp;
pub mod sim;
pub mod sip;
#[cfg(feature = "store")]
pub mod store;
pub mod transaction;
pub mod transport;
pub mod ua;
