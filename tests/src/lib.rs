//! Harness for interop tests against real peers started on loopback.
//!
//! Each peer is the real program (Kamailio, SIPp, baresip), started from the project's own
//! scripts and configs in `scripts/peers/`, on `127.0.0.1` only, on ports picked free per test
//! (so tests run in parallel), in its own directory under `target/ims-tests/`. A guard owns
//! each process and stops it by its pid when dropped, also when the test panics; a panicking
//! test prints the logs of its peers. A missing program fails the test with a message naming
//! `scripts/test`, which installs the peers.
//!
//! ```no_run
//! use ims_tests::{Kamailio, Sipp, SippUser};
//! use std::time::Duration;
//!
//! let kamailio = Kamailio::builder().user("alice", "secret").start().unwrap();
//! let alice = SippUser::new("alice", "secret", kamailio.domain());
//! let outcome = Sipp::new("register.xml", &alice).run(kamailio.addr(), Duration::from_secs(20)).unwrap();
//! outcome.assert_success();
//! ```

// The harness waits on real processes and sockets, so it reads the wall clock for its
// timeouts; the clock ban of clippy.toml is for the engine (STYLE.md §2), not for test drivers.
#![allow(clippy::disallowed_methods)]

mod baresip;
mod chat;
mod dnsmasq;
mod error;
mod ims_core;
mod kamailio;
mod paths;
mod phone;
mod port;
mod process;
mod rtp_echo;
mod sipp;

pub use baresip::{Baresip, BaresipAccount};
pub use chat::ChatPhone;
pub use dnsmasq::{Dnsmasq, DnsmasqBuilder};
pub use error::HarnessError;
pub use ims_core::ImsCore;
pub use kamailio::{Kamailio, KamailioBuilder};
pub use paths::{PeerDir, repo_root, scripts_dir, sipp_scenario};
pub use phone::{PHONE_AOR, Phone, SeenEvent, registered};
pub use port::free_port_block;
pub use process::{PeerProcess, require_program};
pub use rtp_echo::RtpEcho;
pub use sipp::{
    CallCounts, RunningSipp, Sipp, SippOutcome, SippTransport, SippUser, TracedMessage,
};
