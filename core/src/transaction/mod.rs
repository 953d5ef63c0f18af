//! Transactions (RFC 3261 §17): the client and server state machines for INVITE and
//! non-INVITE requests, with every timer (A, B, D–K; RFC 6026's L and M).
//!
//! The machines are plain data: the engine feeds them responses, requests and the time,
//! and they answer with what to do (retransmit, hand a response up, time out). They never
//! send anything themselves. Timer C belongs to proxies and has no place in a user agent.

mod client;
mod server;
mod timers;

pub use client::{ClientState, ClientTransaction, ResponseAction};
pub use server::{RequestAction, ServerState, ServerTransaction};
pub use timers::{TimerAction, TimerConfig, TimerConfigError};

/// Which of the two transaction families (RFC 3261 §17.1.1 vs §17.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// INVITE transactions: ACK for non-2xx, Timers A, B, D (client) and G, H, I (server).
    Invite,
    /// Every other method: Timers E, F, K (client) and J (server).
    NonInvite,
}

impl TransactionKind {
    /// The family of `method`: INVITE is its own, every other method (ACK excepted, which
    /// never opens a transaction) is non-INVITE.
    pub fn of(method: &str) -> TransactionKind {
        if method == "INVITE" {
            TransactionKind::Invite
        } else {
            TransactionKind::NonInvite
        }
    }
}

/// Names one transaction inside an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionKey(pub(crate) u64);

impl std::fmt::Display for TransactionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t{}", self.0)
    }
}
