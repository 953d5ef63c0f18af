//! Typed ids, enums and the records the store reads and writes.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};

use super::aor::Aor;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    };
}

row_id!(
    /// An account's row id.
    AccountId
);
row_id!(
    /// A contact's row id.
    ContactId
);
row_id!(
    /// A group's row id.
    GroupId
);
row_id!(
    /// A conversation's row id.
    ConversationId
);
row_id!(
    /// A message's row id; ids grow in the order messages were stored.
    MessageId
);
row_id!(
    /// A call history entry's row id.
    CallRecordId
);

/// Declares a text enum stored as its SQL spelling.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The spelling stored in SQLite.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                match value.as_str()? {
                    $($text => Ok($name::$variant),)+
                    _ => Err(FromSqlError::InvalidType),
                }
            }
        }
    };
}

text_enum!(
    /// Which way a message or call went.
    Direction {
        /// Received from a peer.
        Incoming = "in",
        /// Sent by this account.
        Outgoing = "out",
    }
);

text_enum!(
    /// How a group message reaches the members.
    GroupMode {
        /// One MESSAGE to the group URI; the core network forks it to the members.
        Network = "network",
        /// One MESSAGE per member, sent by this client (the core has no group support).
        Fanout = "fanout",
    }
);

text_enum!(
    /// The state of a message. Outgoing messages start `Queued`; incoming ones are stored
    /// `Delivered` (they have arrived) and become `Displayed` once the user has seen them.
    MessageState {
        /// Stored, not yet handed to the network.
        Queued = "queued",
        /// A MESSAGE is in flight.
        Sending = "sending",
        /// A 2xx arrived (for a group: at least one).
        Sent = "sent",
        /// The peer's IMDN (RFC 5438) reported delivery, or an incoming message arrived.
        Delivered = "delivered",
        /// The peer's IMDN reported display, or the user saw an incoming message.
        Displayed = "displayed",
        /// A final error or Timer F; the reason is kept and the user can retry.
        Failed = "failed",
    }
);

impl MessageState {
    /// How far along the happy path a state is; `None` for `Failed`.
    fn progress(self) -> Option<u8> {
        match self {
            MessageState::Queued => Some(0),
            MessageState::Sending => Some(1),
            MessageState::Sent => Some(2),
            MessageState::Delivered => Some(3),
            MessageState::Displayed => Some(4),
            MessageState::Failed => None,
        }
    }

    /// Whether a message may move from `self` to `to`. Staying put is allowed (a
    /// retransmitted 2xx or IMDN); otherwise a message only moves forward along
    /// queued → sending → sent → delivered → displayed (steps may be skipped); only a
    /// message not yet acknowledged (`Queued`, `Sending`) can fail; and `Failed` goes back
    /// to `Queued` when the user retries.
    pub fn can_change_to(self, to: MessageState) -> bool {
        if self == to {
            return true;
        }
        match (self.progress(), to.progress()) {
            (Some(from), Some(to)) => to > from,
            (Some(from), None) => from <= 1,
            (None, Some(to)) => to == 0,
            (None, None) => true,
        }
    }

    /// True for the states a restart must send again.
    pub fn is_pending(self) -> bool {
        matches!(self, MessageState::Queued | MessageState::Sending)
    }
}

/// A wall-clock time stored as unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnixMs(pub SystemTime);

/// A time outside the range the store can keep (before 1970, or past i64 milliseconds).
#[derive(Debug, thiserror::Error)]
#[error("time out of range: the store keeps unix milliseconds from 1970 on")]
pub(crate) struct TimeOutOfRange;

impl ToSql for UnixMs {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let millis = self
            .0
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|since| i64::try_from(since.as_millis()).ok())
            .ok_or_else(|| rusqlite::Error::ToSqlConversionFailure(Box::new(TimeOutOfRange)))?;
        Ok(ToSqlOutput::from(millis))
    }
}

impl FromSql for UnixMs {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let millis = value.as_i64()?;
        let millis = u64::try_from(millis).map_err(|_| FromSqlError::OutOfRange(millis))?;
        UNIX_EPOCH
            .checked_add(Duration::from_millis(millis))
            .map(UnixMs)
            .ok_or(FromSqlError::OutOfRange(0))
    }
}

impl ToSql for Aor {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for Aor {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        String::column_result(value).map(Aor::from_stored)
    }
}

/// An account (its identity only: passwords and keys are never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Row id.
    pub id: AccountId,
    /// The public identity (IMPU).
    pub aor: Aor,
    /// The name shown for it.
    pub display_name: Option<String>,
}

/// An address-book entry of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Row id.
    pub id: ContactId,
    /// The account whose address book holds it.
    pub account: AccountId,
    /// The contact's AOR.
    pub aor: Aor,
    /// The name shown for it.
    pub display_name: Option<String>,
    /// Free text notes.
    pub notes: String,
    /// Created for the sender of an incoming message, not added by the user.
    pub unknown: bool,
}

/// A group chat of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Row id.
    pub id: GroupId,
    /// The account it belongs to.
    pub account: AccountId,
    /// The group URI, e.g. `sip:friends@ims.test`.
    pub uri: Aor,
    /// The group's name, as carried in `X-Group`.
    pub name: String,
    /// How its messages reach the members.
    pub mode: GroupMode,
}

/// Whom a conversation is with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counterpart {
    /// A 1:1 conversation with this AOR.
    Peer(Aor),
    /// The conversation of a group.
    Group(GroupId),
}

/// A conversation: the messages of one account with one peer or one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Row id.
    pub id: ConversationId,
    /// The account it belongs to.
    pub account: AccountId,
    /// The peer or group.
    pub counterpart: Counterpart,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Row id.
    pub id: MessageId,
    /// The conversation it is filed under.
    pub conversation: ConversationId,
    /// The account it belongs to.
    pub account: AccountId,
    /// In or out.
    pub direction: Direction,
    /// Who sent it (the account's own AOR for an outgoing message).
    pub sender: Aor,
    /// The body as sent or received.
    pub body: Vec<u8>,
    /// Its Content-Type, e.g. `text/plain;charset=UTF-8` or `message/cpim`.
    pub content_type: String,
    /// Its state.
    pub state: MessageState,
    /// Why it failed (for `Failed`).
    pub failure_reason: Option<String>,
    /// The Call-ID of the MESSAGE that carried it, once known.
    pub sip_call_id: Option<String>,
    /// The CSeq number of that MESSAGE.
    pub sip_cseq: Option<u32>,
    /// The IMDN Message-ID (RFC 5438), if it has one.
    pub imdn_message_id: Option<String>,
    /// When it was stored.
    pub created_at: SystemTime,
    /// When its state last changed.
    pub updated_at: SystemTime,
}

/// An outgoing message to store before anything is sent.
#[derive(Debug, Clone, Copy)]
pub struct NewOutgoing<'a> {
    /// The conversation (peer or group) it goes to.
    pub conversation: ConversationId,
    /// The body.
    pub body: &'a [u8],
    /// Its Content-Type.
    pub content_type: &'a str,
    /// The IMDN Message-ID it will carry, if any.
    pub imdn_message_id: Option<&'a str>,
    /// Now.
    pub created_at: SystemTime,
}

/// An incoming message as received.
#[derive(Debug, Clone, Copy)]
pub struct NewIncoming<'a> {
    /// The conversation to file it under (the group's for a group message).
    pub conversation: ConversationId,
    /// The sender's AOR.
    pub sender: &'a Aor,
    /// The sender's display name, for a contact created for an unknown sender.
    pub sender_display_name: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// Its Content-Type.
    pub content_type: &'a str,
    /// The MESSAGE's Call-ID.
    pub sip_call_id: Option<&'a str>,
    /// The MESSAGE's CSeq number.
    pub sip_cseq: Option<u32>,
    /// The IMDN Message-ID, if the message has one.
    pub imdn_message_id: Option<&'a str>,
    /// Now.
    pub received_at: SystemTime,
}

/// The delivery state of one member for a client fan-out group message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The member.
    pub aor: Aor,
    /// Its MESSAGE's state.
    pub state: MessageState,
    /// Why it failed, for `Failed`.
    pub failure_reason: Option<String>,
    /// When its state last changed.
    pub updated_at: SystemTime,
}

/// A call history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Row id.
    pub id: CallRecordId,
    /// The account.
    pub account: AccountId,
    /// Who called whom.
    pub direction: Direction,
    /// The other party.
    pub peer: Aor,
    /// When the INVITE was sent or received.
    pub started_at: SystemTime,
    /// When the call was answered, if it was.
    pub answered_at: Option<SystemTime>,
    /// When it ended, if it has.
    pub ended_at: Option<SystemTime>,
    /// Why it ended (e.g. `BYE`, `486 Busy Here`, `CANCEL`).
    pub end_reason: Option<String>,
}

/// A call history entry to store.
#[derive(Debug, Clone, Copy)]
pub struct NewCall<'a> {
    /// The account.
    pub account: AccountId,
    /// Who called whom.
    pub direction: Direction,
    /// The other party.
    pub peer: &'a Aor,
    /// When the INVITE was sent or received.
    pub started_at: SystemTime,
    /// When the call was answered, if it was.
    pub answered_at: Option<SystemTime>,
    /// When it ended, if it has.
    pub ended_at: Option<SystemTime>,
    /// Why it ended.
    pub end_reason: Option<&'a str>,
}
