//! What the application tells the engine (commands) and what the engine tells it (events).

use std::net::SocketAddr;
use std::time::Duration;

use crate::sip::ParseError;
use crate::transaction::TransactionKey;
use crate::transport::Transport;
use crate::ua::{AccountError, AccountId, RegistrationError};

/// An instruction from the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Register the account and keep it registered (refreshes, retries).
    Register {
        /// Which account.
        account: AccountId,
    },
    /// De-register the account (REGISTER with Expires: 0) and stop refreshing.
    Unregister {
        /// Which account.
        account: AccountId,
    },
    /// Refresh the registration now instead of at its refresh timer (a re-registration,
    /// RFC 3261 §10.2.4); ignored unless the account is registered with no REGISTER in
    /// flight. Outcome: [`Event::Registering`], then [`Event::Registered`] or
    /// [`Event::RegistrationFailed`].
    Refresh {
        /// Which account.
        account: AccountId,
    },
    /// Subscribe to the account's registration state now (RFC 3680), in a new dialog,
    /// whether or not its `ImsConfig::reg_event` subscribes at registration; a refusal
    /// seen before does not stop it. Ignored unless the account is registered with no
    /// reg-event subscription active or on its way. Outcome:
    /// [`Event::RegEventSubscribed`] and the first NOTIFY's [`Event::RegInfo`] (in
    /// either order), or [`Event::RegEventFailed`]. The subscription is refreshed until
    /// [`Command::UnsubscribeRegEvent`] or the account's de-registration ends it.
    SubscribeRegEvent {
        /// Which account.
        account: AccountId,
    },
    /// End the account's active reg-event subscription: a SUBSCRIBE with Expires: 0 in its
    /// dialog (RFC 6665 §4.1.2.3). No new subscription follows (not at the final
    /// NOTIFY, which says terminated, nor at a re-registration) until the next
    /// [`Command::SubscribeRegEvent`]. Outcome: [`Event::RegEventUnsubscribed`], always
    /// exactly one: with the status of the answer, or at once with none when no
    /// subscription is active or one of its SUBSCRIBEs is on its way (nothing is sent;
    /// ask again once that one is answered).
    UnsubscribeRegEvent {
        /// Which account.
        account: AccountId,
    },
    /// Answer a request handed up as [`Event::IncomingRequest`].
    Respond {
        /// The server transaction named in the event.
        transaction: TransactionKey,
        /// 100..=699.
        status: u16,
        /// The reason phrase (`None`: the RFC's default for the status).
        reason: Option<String>,
        /// Extra header lines as (name, value).
        headers: Vec<(String, String)>,
        /// The body; give a Content-Type in `headers` with it.
        body: Vec<u8>,
    },
    /// De-register every registered account; [`Event::ShutdownComplete`] follows.
    Shutdown,
    /// Send a pager-mode MESSAGE (RFC 3428), 1:1 or to a group. Outcome:
    /// [`Event::MessageSending`], then [`Event::MessageAccepted`] or
    /// [`Event::MessageFailed`] (per member in fan-out mode).
    SendMessage {
        /// From which account.
        account: AccountId,
        /// What.
        message: crate::ua::OutgoingMessage,
    },
}

/// A command the engine cannot carry out (the caller misused the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No such account.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// No such server transaction, or it can no longer respond.
    #[error("transaction {0} does not exist or has already sent its final response")]
    NoTransaction(TransactionKey),
    /// A status outside 100..=699.
    #[error("status {0} is not a SIP status code")]
    InvalidStatus(u16),
    /// A header name or value, or the reason, would break the message.
    #[error("header or reason contains CR/LF or an invalid name")]
    UnsafeHeader,
    /// The engine is shutting down.
    #[error("the engine is shutting down")]
    ShuttingDown,
}

/// A request for the application, with the server transaction to answer it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRequest {
    /// Answer with [`Command::Respond`] naming this.
    pub transaction: TransactionKey,
    /// The account the Request-URI names, when one does.
    pub account: Option<AccountId>,
    /// The method.
    pub method: String,
    /// The whole request as received (parse it with `SipMessage::parse_datagram`).
    pub bytes: Vec<u8>,
    /// Who sent it.
    pub source: SocketAddr,
    /// Over what.
    pub transport: Transport,
}

/// Why a TCP stream is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamFailure {
    /// The bytes do not frame as SIP (RFC 3261 §18.3: close the connection).
    #[error("cannot frame the stream: {0}")]
    Framing(ParseError),
    /// The peer answered keep-alive pings before and left one unanswered for 10 s
    /// (RFC 5626 §4.4.1): the flow has failed; its registrations go out again on a new
    /// connection.
    #[error("no pong within 10 s of a keep-alive ping")]
    KeepAliveTimeout,
    /// More connections with unread bytes than `EngineConfig::max_streams`.
    #[error("more than {limit} TCP streams at once")]
    TooManyStreams {
        /// The limit.
        limit: usize,
    },
}

/// Something the application should know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A REGISTER (first, refresh, challenge answer or retry) went out.
    Registering {
        /// Which account.
        account: AccountId,
    },
    /// The registrar accepted the registration (first time or refresh).
    Registered {
        /// Which account.
        account: AccountId,
        /// Granted lifetime in seconds.
        expires: u32,
        /// How many bindings the registrar lists for the AOR (ours included).
        bindings: usize,
        /// Our address as the registrar saw it (Via received/rport), when it told us.
        observed: Option<SocketAddr>,
        /// The implicitly registered identities (P-Associated-URI, RFC 3455); the first
        /// is the default public identity.
        associated_uris: Vec<String>,
        /// The Service-Route the registrar returned (RFC 3608; the S-CSCF in IMS), which
        /// the engine puts in Route on this account's requests; empty when none.
        service_route: Vec<String>,
    },
    /// Registration failed. With `retry_in` the engine tries again by itself; without,
    /// it has given up until the next `Register` command.
    RegistrationFailed {
        /// Which account.
        account: AccountId,
        /// What went wrong.
        reason: RegistrationError,
        /// When the engine retries, if it does.
        retry_in: Option<Duration>,
    },
    /// De-registration done (or the binding was already gone).
    Unregistered {
        /// Which account.
        account: AccountId,
    },
    /// A MESSAGE copy is on its way, with the Call-ID and CSeq to store (a resend after a
    /// restart reuses them so the receiver can drop the duplicate).
    MessageSending {
        /// Which account.
        account: AccountId,
        /// The application's message id.
        id: u64,
        /// The member, for a fan-out copy.
        member: Option<String>,
        /// Its Call-ID.
        call_id: String,
        /// Its CSeq number.
        cseq: u32,
    },
    /// A 2xx for a message (from the member, in fan-out mode).
    MessageAccepted {
        /// Which account.
        account: AccountId,
        /// The application's message id.
        id: u64,
        /// The member, for a fan-out copy.
        member: Option<String>,
        /// The status (200 or 202).
        status: u16,
    },
    /// A message (or one fan-out copy) failed; the user may retry.
    MessageFailed {
        /// Which account.
        account: AccountId,
        /// The application's message id.
        id: u64,
        /// The member, for a fan-out copy.
        member: Option<String>,
        /// Why.
        reason: crate::ua::MessageError,
    },
    /// A MESSAGE arrived: store it, then answer 200 with [`Command::Respond`]. Boxed, as
    /// are the other large payloads, so that every event stays small to queue and move.
    MessageReceived(Box<crate::ua::IncomingMessage>),
    /// A request for the application (INVITE, NOTIFY, ...).
    IncomingRequest(Box<IncomingRequest>),
    /// The application did not answer a request in time and the transaction ended.
    RequestTimedOut {
        /// The transaction named in [`Event::IncomingRequest`].
        transaction: TransactionKey,
    },
    /// A TCP stream could not be framed; the driver closes the connection.
    StreamError {
        /// The peer.
        remote: SocketAddr,
        /// What was wrong.
        error: StreamFailure,
    },
    /// An AKA challenge was accepted: store this SQN state (it must survive restarts so
    /// a replayed challenge is refused, TS 33.102 Annex C) and give it back in
    /// `ImsConfig::sqn` next time.
    SqnUpdated {
        /// Which account.
        account: AccountId,
        /// The new state (`Display`/`FromStr` give its stored form).
        state: Box<crate::auth::SqnState>,
    },
    /// The reg-event subscription (RFC 3680) is active.
    RegEventSubscribed {
        /// Which account.
        account: AccountId,
        /// Its lifetime in seconds.
        expires: u32,
    },
    /// The reg-event subscription was refused or got no answer; not retried by itself
    /// (a refusal such as 403 is never looped).
    RegEventFailed {
        /// Which account.
        account: AccountId,
        /// The status (408 for no response).
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// After [`Command::UnsubscribeRegEvent`]: its SUBSCRIBE got a final response (or
    /// none); the subscription is over at our side whatever the status.
    RegEventUnsubscribed {
        /// Which account.
        account: AccountId,
        /// The status (408 for no response); `None`: nothing was sent, as no
        /// subscription was active with no SUBSCRIBE on its way.
        status: Option<u16>,
    },
    /// The network's view of our registrations (a reg-event NOTIFY body).
    RegInfo {
        /// Which account.
        account: AccountId,
        /// The document.
        info: crate::ims::reginfo::RegInfo,
    },
    /// After [`Command::Shutdown`]: every account is de-registered (or failed to be).
    ShutdownComplete,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event is moved into the queue and out of it again: the large payloads are
    /// boxed so that a move is a few register copies, not a `memcpy` call (an event was
    /// 272 bytes with a MESSAGE inline). `Registered` is the largest variant left.
    #[test]
    fn events_stay_small() {
        let size = std::mem::size_of::<Event>();
        assert!(size <= 96, "Event is {size} bytes");
    }
}
