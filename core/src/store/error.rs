//! Errors of the store: every one names the operation or the file that failed.

use std::fmt;
use std::path::PathBuf;

use super::types::{MessageId, MessageState};

/// What the store was doing when an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// Upserting an account.
    UpsertAccount,
    /// Reading accounts.
    ReadAccounts,
    /// Adding a contact.
    AddContact,
    /// Updating a contact.
    UpdateContact,
    /// Removing a contact.
    RemoveContact,
    /// Reading contacts.
    ReadContacts,
    /// Finding or creating the contact of an incoming message's sender.
    ContactForSender,
    /// Creating a group.
    CreateGroup,
    /// Renaming a group.
    RenameGroup,
    /// Changing a group's mode.
    SetGroupMode,
    /// Adding a member to a group.
    AddGroupMember,
    /// Removing a member from a group.
    RemoveGroupMember,
    /// Reading groups or their members.
    ReadGroups,
    /// Finding or creating a conversation.
    OpenConversation,
    /// Reading conversations.
    ReadConversations,
    /// Storing an outgoing message.
    InsertOutgoing,
    /// Changing a message's state.
    SetMessageState,
    /// Recording a message's SIP Call-ID and CSeq.
    RecordSipIds,
    /// Storing an incoming message.
    InsertIncoming,
    /// Reading messages.
    ReadMessages,
    /// Adding the recipients of a client fan-out group message.
    AddRecipients,
    /// Changing one recipient's delivery state.
    SetRecipientState,
    /// Reading the recipients of a message.
    ReadRecipients,
    /// Saving an account's AKA SQN state.
    SaveAkaSqn,
    /// Loading an account's AKA SQN state.
    LoadAkaSqn,
    /// Storing a call history entry.
    InsertCall,
    /// Reading call history.
    ReadCalls,
    /// Reading the conversation list with unread counts.
    ReadSummaries,
    /// Moving a conversation's read marker.
    MarkRead,
    /// Starting a write transaction.
    BeginTransaction,
    /// Committing a write transaction.
    CommitTransaction,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::UpsertAccount => "upsert an account",
            Operation::ReadAccounts => "read accounts",
            Operation::AddContact => "add a contact",
            Operation::UpdateContact => "update a contact",
            Operation::RemoveContact => "remove a contact",
            Operation::ReadContacts => "read contacts",
            Operation::ContactForSender => "find or create the sender's contact",
            Operation::CreateGroup => "create a group",
            Operation::RenameGroup => "rename a group",
            Operation::SetGroupMode => "set a group's mode",
            Operation::AddGroupMember => "add a group member",
            Operation::RemoveGroupMember => "remove a group member",
            Operation::ReadGroups => "read groups",
            Operation::OpenConversation => "find or create a conversation",
            Operation::ReadConversations => "read conversations",
            Operation::InsertOutgoing => "store an outgoing message",
            Operation::SetMessageState => "change a message's state",
            Operation::RecordSipIds => "record a message's SIP ids",
            Operation::InsertIncoming => "store an incoming message",
            Operation::ReadMessages => "read messages",
            Operation::AddRecipients => "add message recipients",
            Operation::SetRecipientState => "change a recipient's state",
            Operation::ReadRecipients => "read message recipients",
            Operation::SaveAkaSqn => "save the AKA SQN state",
            Operation::LoadAkaSqn => "load the AKA SQN state",
            Operation::InsertCall => "store a call history entry",
            Operation::ReadCalls => "read call history",
            Operation::ReadSummaries => "read the conversation list",
            Operation::MarkRead => "mark a conversation read",
            Operation::BeginTransaction => "begin a write transaction",
            Operation::CommitTransaction => "commit a write transaction",
        })
    }
}

/// The kind of row an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entity {
    /// An account.
    Account,
    /// A contact.
    Contact,
    /// A group.
    Group,
    /// A conversation.
    Conversation,
    /// A message.
    Message,
    /// A recipient of a client fan-out group message.
    Recipient,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Account => "account",
            Entity::Contact => "contact",
            Entity::Group => "group",
            Entity::Conversation => "conversation",
            Entity::Message => "message",
            Entity::Recipient => "recipient",
        })
    }
}

/// An error of the store. A store error is shown to the user, never dropped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Neither `$XDG_DATA_HOME` (absolute) nor `$HOME` is set, and no data directory was
    /// given.
    #[error("store: no data directory (set $XDG_DATA_HOME or $HOME, or pass --data-dir)")]
    NoDataDirectory,
    /// The directory that holds the store file could not be created.
    #[error("store: cannot create directory {}: {source}", path.display())]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store file could not be opened, or is not a database.
    #[error("store: cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A connection setting (`PRAGMA`) could not be applied to the store file.
    #[error("store: cannot set {setting} on {}: {source}", path.display())]
    Setup {
        /// The file.
        path: PathBuf,
        /// The setting, e.g. `journal_mode=WAL`.
        setting: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The schema could not be brought to the current version (this includes a file
    /// written by a newer ims-rs).
    #[error("store: cannot migrate the schema of {}: {source}", path.display())]
    Migrate {
        /// The file.
        path: PathBuf,
        /// The migration error.
        #[source]
        source: rusqlite_migration::Error,
    },
    /// SQLite failed during an operation.
    #[error("store: cannot {operation}: {source}")]
    Sqlite {
        /// What the store was doing.
        operation: Operation,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The row the operation needs does not exist.
    #[error("store: cannot {operation}: {entity} {id} not found")]
    NotFound {
        /// What the store was doing.
        operation: Operation,
        /// What was missing.
        entity: Entity,
        /// Its id (for an account, contact, group, conversation or message).
        id: i64,
    },
    /// The row to add exists already (a known contact, a group URI, an IMDN Message-ID).
    #[error("store: cannot {operation}: that {entity} exists already")]
    AlreadyExists {
        /// What the store was doing.
        operation: Operation,
        /// What exists.
        entity: Entity,
    },
    /// A message (or one recipient of it) may not move from its state to the one asked.
    #[error("store: message {message} cannot change from {from} to {to}")]
    InvalidTransition {
        /// The message.
        message: MessageId,
        /// Its current state.
        from: MessageState,
        /// The state asked for.
        to: MessageState,
    },
}

/// Attaches the operation to a SQLite error.
pub(crate) trait OperationContext<T> {
    /// Maps the error to [`StoreError::Sqlite`] for `operation`.
    fn during(self, operation: Operation) -> Result<T, StoreError>;
}

impl<T> OperationContext<T> for Result<T, rusqlite::Error> {
    fn during(self, operation: Operation) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite { operation, source })
    }
}

/// Which constraint a failed statement broke, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Constraint {
    /// A UNIQUE or PRIMARY KEY constraint.
    Unique,
    /// A FOREIGN KEY constraint.
    ForeignKey,
}

/// The constraint a SQLite error reports, by its extended result code.
pub(crate) fn constraint(error: &rusqlite::Error) -> Option<Constraint> {
    match error.sqlite_error()?.extended_code {
        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            Some(Constraint::Unique)
        }
        rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some(Constraint::ForeignKey),
        _ => None,
    }
}
