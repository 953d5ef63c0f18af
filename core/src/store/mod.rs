//! The SQLite store: accounts (no secrets), address book, groups, conversations,
//! messages with their delivery state, AKA SQN state and call history, in one file.
//!
//! Nothing the user typed is lost: an outgoing message is written as `queued` before
//! any byte of it leaves, an incoming one before its 200 OK, and every write is
//! committed (and, by default, synced) before the call returns; see [`Store`] for the
//! guarantee. The sans-IO engine does not depend on this module (feature `store`).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::{Duration, UNIX_EPOCH};
//! use ims_core::store::{Aor, MessageState, NewOutgoing, Store};
//!
//! let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let mut store = Store::open_in_memory()?;
//! let alice = store.upsert_account(&Aor::parse("sip:alice@ims.test")?, Some("Alice"))?;
//! let bob = Aor::parse("sip:bob@ims.test")?;
//! let conversation = store.conversation_with_peer(alice, &bob)?;
//! let id = store.insert_outgoing(&NewOutgoing {
//!     conversation,
//!     body: b"hello",
//!     content_type: "text/plain;charset=UTF-8",
//!     imdn_message_id: None,
//!     created_at: now,
//! })?;
//! // ... the MESSAGE is sent, a 200 OK arrives:
//! store.set_state(id, MessageState::Sent, None, now)?;
//! assert!(store.pending_outgoing(alice)?.is_empty());
//! # Ok(())
//! # }
//! ```

mod aor;
mod directory;
mod error;
mod history;
mod messages;
mod open;
mod reading;
mod schema;
mod types;

pub use aor::{Aor, AorError};
pub use error::{Entity, Operation, StoreError};
pub use open::{Batch, Durability, Store, StoreOptions};
pub use reading::{ConversationSummary, HistoryFilter};
pub use schema::SCHEMA_VERSION;
pub use types::{
    Account, AccountId, CallRecord, CallRecordId, Contact, ContactId, Conversation, ConversationId,
    Counterpart, Direction, Group, GroupId, GroupMode, Message, MessageId, MessageState, NewCall,
    NewIncoming, NewOutgoing, Recipient,
};
