//! imshss: a small Diameter Cx HSS for the local IMS core (Kamailio's P-, I- and S-CSCF
//! on loopback), for tests, the demo and load runs.
//!
//! - [`message`] and [`avp`]: the Diameter base protocol's framing and AVP codec
//!   (RFC 6733).
//! - [`hss`]: one message in, the answer out, without I/O: CER/CEA, DWR/DWA, DPR/DPA and
//!   error answers; [`cx`]: UAR, MAR, SAR and LIR (3GPP TS 29.228/29.229).
//! - [`vector`]: AKA vectors with ims-core's Milenage, SQN per subscriber, AUTS
//!   resynchronisation; [`subscriber`]: subscribers from TOML or a pattern.
//! - [`server`]: the tokio TCP server around [`hss::Hss`].
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod avp;
pub mod cx;
pub mod dictionary;
pub mod hss;
pub mod message;
pub mod server;
pub mod subscriber;
pub mod vector;

pub use hss::{Config, Counters, Hss, Outcome, RandSource};
pub use subscriber::{Pattern, Subscribers};
