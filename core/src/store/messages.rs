//! Messages: store before send, state changes, duplicates refused, pending after a
//! restart, pages of a conversation, and the per-member state of fan-out group messages.

use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::aor::Aor;
use super::directory::contact_for_sender;
use super::error::{Constraint, Entity, Operation, OperationContext, StoreError, constraint};
use super::open::{Batch, Store};
use super::types::{
    AccountId, ConversationId, Message, MessageId, MessageState, NewIncoming, NewOutgoing,
    Recipient, UnixMs,
};

pub(super) const MESSAGE_COLUMNS: &str = "id, conversation_id, account_id, direction, sender_aor, body, \
     content_type, state, failure_reason, sip_call_id, sip_cseq, imdn_message_id, created_ms, \
     updated_ms";

pub(super) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    let created: UnixMs = row.get(12)?;
    let updated: UnixMs = row.get(13)?;
    Ok(Message {
        id: row.get(0)?,
        conversation: row.get(1)?,
        account: row.get(2)?,
        direction: row.get(3)?,
        sender: row.get(4)?,
        body: row.get(5)?,
        content_type: row.get(6)?,
        state: row.get(7)?,
        failure_reason: row.get(8)?,
        sip_call_id: row.get(9)?,
        sip_cseq: row.get(10)?,
        imdn_message_id: row.get(11)?,
        created_at: created.0,
        updated_at: updated.0,
    })
}

fn recipient_from_row(row: &Row<'_>) -> rusqlite::Result<Recipient> {
    let updated: UnixMs = row.get(3)?;
    Ok(Recipient {
        aor: row.get(0)?,
        state: row.get(1)?,
        failure_reason: row.get(2)?,
        updated_at: updated.0,
    })
}

/// `'queued', 'sending', ...`: the states a row may leave for `to`.
fn states_that_may_become(to: MessageState) -> String {
    let mut list = String::new();
    for from in MessageState::ALL
        .iter()
        .filter(|from| from.can_change_to(to))
    {
        if !list.is_empty() {
            list.push_str(", ");
        }
        list.push('\'');
        list.push_str(from.as_str());
        list.push('\'');
    }
    list
}

fn insert_outgoing(
    connection: &Connection,
    message: &NewOutgoing<'_>,
) -> Result<MessageId, StoreError> {
    let operation = Operation::InsertOutgoing;
    let id = connection
        .prepare_cached(
            "INSERT INTO messages (conversation_id, account_id, direction, sender_aor, body,
                 content_type, state, imdn_message_id, created_ms, updated_ms, position)
             SELECT c.id, c.account_id, 'out', a.aor, ?2, ?3, 'queued', ?4, ?5, ?5,
                 (SELECT coalesce(max(m.position), 0) + 1024 FROM messages m
                  WHERE m.conversation_id = c.id)
             FROM conversations c JOIN accounts a ON a.id = c.account_id WHERE c.id = ?1
             RETURNING id",
        )
        .and_then(|mut statement| {
            statement
                .query_row(
                    params![
                        message.conversation,
                        message.body,
                        message.content_type,
                        message.imdn_message_id,
                        UnixMs(message.created_at),
                    ],
                    |row| row.get(0),
                )
                .optional()
        })
        .map_err(|source| match constraint(&source) {
            Some(Constraint::Unique) => StoreError::AlreadyExists {
                operation,
                entity: Entity::Message,
            },
            _ => StoreError::Sqlite { operation, source },
        })?;
    let id = id.ok_or(StoreError::NotFound {
        operation,
        entity: Entity::Conversation,
        id: message.conversation.0,
    })?;
    tracing::debug!(message = %id, conversation = %message.conversation, "message queued");
    Ok(id)
}

fn set_state(
    connection: &Connection,
    id: MessageId,
    state: MessageState,
    reason: Option<&str>,
    now: SystemTime,
) -> Result<(), StoreError> {
    let operation = Operation::SetMessageState;
    let changed = connection
        .prepare_cached(&format!(
            "UPDATE messages SET state = ?2, failure_reason = ?3, updated_ms = ?4
             WHERE id = ?1 AND state IN ({})",
            states_that_may_become(state)
        ))
        .and_then(|mut statement| statement.execute(params![id, state, reason, UnixMs(now)]))
        .during(operation)?;
    if changed > 0 {
        tracing::debug!(message = %id, %state, "message state");
        return Ok(());
    }
    let current: Option<MessageState> = connection
        .prepare_cached("SELECT state FROM messages WHERE id = ?1")
        .and_then(|mut statement| statement.query_row([id], |row| row.get(0)).optional())
        .during(operation)?;
    Err(match current {
        Some(from) => StoreError::InvalidTransition {
            message: id,
            from,
            to: state,
        },
        None => StoreError::NotFound {
            operation,
            entity: Entity::Message,
            id: id.0,
        },
    })
}

fn record_sip_ids(
    connection: &Connection,
    id: MessageId,
    call_id: &str,
    cseq: u32,
) -> Result<(), StoreError> {
    let operation = Operation::RecordSipIds;
    let changed = connection
        .prepare_cached("UPDATE messages SET sip_call_id = ?2, sip_cseq = ?3 WHERE id = ?1")
        .and_then(|mut statement| statement.execute(params![id, call_id, cseq]))
        .map_err(|source| match constraint(&source) {
            Some(Constraint::Unique) => StoreError::AlreadyExists {
                operation,
                entity: Entity::Message,
            },
            _ => StoreError::Sqlite { operation, source },
        })?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            operation,
            entity: Entity::Message,
            id: id.0,
        });
    }
    Ok(())
}

/// The Call-ID and CSeq outgoing message `id` goes out with: the Call-ID of the latest
/// earlier outgoing message of its conversation with the next CSeq, so that a receiver
/// can put the conversation's requests in order (RFC 3261 §8.1.1.5: CSeq orders the
/// requests of one Call-ID); `fresh` with CSeq 1 for a conversation's first, or when the
/// CSeq would pass 2^31 - 1.
fn assign_sip_ids(
    connection: &Connection,
    id: MessageId,
    fresh: &str,
) -> Result<(String, u32), StoreError> {
    const CSEQ_MAX: u32 = (1 << 31) - 1;
    let previous: Option<(String, u32)> = connection
        .prepare_cached(
            "SELECT p.sip_call_id, p.sip_cseq FROM messages m
             JOIN messages p ON p.conversation_id = m.conversation_id
             WHERE m.id = ?1 AND p.direction = 'out' AND p.id < m.id
                 AND p.sip_call_id IS NOT NULL AND p.sip_cseq IS NOT NULL
             ORDER BY p.id DESC LIMIT 1",
        )
        .and_then(|mut statement| {
            statement
                .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .during(Operation::RecordSipIds)?;
    let (call_id, cseq) = match previous {
        Some((call_id, cseq)) if cseq < CSEQ_MAX => (call_id, cseq + 1),
        _ => (fresh.to_owned(), 1),
    };
    record_sip_ids(connection, id, &call_id, cseq)?;
    Ok((call_id, cseq))
}

/// Where an incoming message goes in its conversation: after everything, unless its
/// sender already has a later request of the same Call-ID (a higher CSeq) there; then
/// just before the first of those. Makes room by moving the later rows up when two
/// positions are adjacent.
fn incoming_position(
    connection: &Connection,
    account: AccountId,
    message: &NewIncoming<'_>,
) -> Result<i64, StoreError> {
    let operation = Operation::InsertIncoming;
    let next: Option<i64> = match (message.sip_call_id, message.sip_cseq) {
        (Some(call_id), Some(cseq)) => connection
            .prepare_cached(
                "SELECT min(position) FROM messages
                 WHERE account_id = ?1 AND sender_aor = ?2 AND sip_call_id = ?3
                     AND sip_cseq > ?4 AND conversation_id = ?5",
            )
            .and_then(|mut statement| {
                statement.query_row(
                    params![account, message.sender, call_id, cseq, message.conversation],
                    |row| row.get(0),
                )
            })
            .during(operation)?,
        _ => None,
    };
    let Some(next) = next else {
        return connection
            .prepare_cached(
                "SELECT coalesce(max(position), 0) + 1024 FROM messages
                 WHERE conversation_id = ?1",
            )
            .and_then(|mut statement| statement.query_row([message.conversation], |row| row.get(0)))
            .during(operation);
    };
    let previous: i64 = connection
        .prepare_cached(
            "SELECT max(position) FROM messages WHERE conversation_id = ?1 AND position < ?2",
        )
        .and_then(|mut statement| {
            statement.query_row(params![message.conversation, next], |row| {
                row.get::<_, Option<i64>>(0)
            })
        })
        .during(operation)?
        .unwrap_or(next - 2048);
    if next - previous >= 2 {
        return Ok(previous + (next - previous) / 2);
    }
    connection
        .prepare_cached(
            "UPDATE messages SET position = position + 1024
             WHERE conversation_id = ?1 AND position >= ?2",
        )
        .and_then(|mut statement| statement.execute(params![message.conversation, next]))
        .during(operation)?;
    Ok(previous + (next + 1024 - previous) / 2)
}

/// Stores an incoming message unless it is a duplicate; several statements, so the
/// caller runs it inside a transaction.
fn insert_incoming(
    connection: &Connection,
    message: &NewIncoming<'_>,
) -> Result<Option<MessageId>, StoreError> {
    let operation = Operation::InsertIncoming;
    let account: AccountId = connection
        .prepare_cached("SELECT account_id FROM conversations WHERE id = ?1")
        .and_then(|mut statement| {
            statement
                .query_row([message.conversation], |row| row.get(0))
                .optional()
        })
        .during(operation)?
        .ok_or(StoreError::NotFound {
            operation,
            entity: Entity::Conversation,
            id: message.conversation.0,
        })?;
    let position = incoming_position(connection, account, message)?;
    let id: Option<MessageId> = connection
        .prepare_cached(
            "INSERT INTO messages (conversation_id, account_id, direction, sender_aor, body,
                 content_type, state, sip_call_id, sip_cseq, imdn_message_id, created_ms,
                 updated_ms, position)
             VALUES (?1, ?2, 'in', ?3, ?4, ?5, 'delivered', ?6, ?7, ?8, ?9, ?9, ?10)
             ON CONFLICT DO NOTHING
             RETURNING id",
        )
        .and_then(|mut statement| {
            statement
                .query_row(
                    params![
                        message.conversation,
                        account,
                        message.sender,
                        message.body,
                        message.content_type,
                        message.sip_call_id,
                        message.sip_cseq,
                        message.imdn_message_id,
                        UnixMs(message.received_at),
                        position,
                    ],
                    |row| row.get(0),
                )
                .optional()
        })
        .during(operation)?;
    match id {
        Some(id) => {
            contact_for_sender(
                connection,
                account,
                message.sender,
                message.sender_display_name,
                operation,
            )?;
            tracing::debug!(message = %id, conversation = %message.conversation, "message received");
        }
        None => {
            tracing::debug!(conversation = %message.conversation, sender = %message.sender, "duplicate message dropped");
        }
    }
    Ok(id)
}

fn add_recipients(
    connection: &Connection,
    message: MessageId,
    members: &[Aor],
    now: SystemTime,
) -> Result<(), StoreError> {
    let operation = Operation::AddRecipients;
    let mut statement = connection
        .prepare_cached(
            "INSERT INTO message_recipients (message_id, aor, state, updated_ms)
             VALUES (?1, ?2, 'queued', ?3) ON CONFLICT DO NOTHING",
        )
        .during(operation)?;
    for member in members {
        statement
            .execute(params![message, member, UnixMs(now)])
            .map_err(|source| match constraint(&source) {
                Some(Constraint::ForeignKey) => StoreError::NotFound {
                    operation,
                    entity: Entity::Message,
                    id: message.0,
                },
                _ => StoreError::Sqlite { operation, source },
            })?;
    }
    Ok(())
}

fn set_recipient_state(
    connection: &Connection,
    message: MessageId,
    member: &Aor,
    state: MessageState,
    reason: Option<&str>,
    now: SystemTime,
) -> Result<(), StoreError> {
    let operation = Operation::SetRecipientState;
    let changed = connection
        .prepare_cached(&format!(
            "UPDATE message_recipients SET state = ?3, failure_reason = ?4, updated_ms = ?5
             WHERE message_id = ?1 AND aor = ?2 AND state IN ({})",
            states_that_may_become(state)
        ))
        .and_then(|mut statement| {
            statement.execute(params![message, member, state, reason, UnixMs(now)])
        })
        .during(operation)?;
    if changed > 0 {
        return Ok(());
    }
    let current: Option<MessageState> = connection
        .prepare_cached("SELECT state FROM message_recipients WHERE message_id = ?1 AND aor = ?2")
        .and_then(|mut statement| {
            statement
                .query_row(params![message, member], |row| row.get(0))
                .optional()
        })
        .during(operation)?;
    Err(match current {
        Some(from) => StoreError::InvalidTransition {
            message,
            from,
            to: state,
        },
        None => StoreError::NotFound {
            operation,
            entity: Entity::Recipient,
            id: message.0,
        },
    })
}

impl Store {
    /// Stores an outgoing message as `Queued`, before anything is sent; the sender is the
    /// conversation's account.
    pub fn insert_outgoing(&mut self, message: &NewOutgoing<'_>) -> Result<MessageId, StoreError> {
        insert_outgoing(&self.connection, message)
    }

    /// Moves a message to `state` if [`MessageState::can_change_to`] allows it, else
    /// [`StoreError::InvalidTransition`]; `reason` is kept (say why for `Failed`, `None`
    /// otherwise).
    pub fn set_state(
        &mut self,
        id: MessageId,
        state: MessageState,
        reason: Option<&str>,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        set_state(&self.connection, id, state, reason, now)
    }

    /// Records the Call-ID and CSeq of the MESSAGE that carries a message (again on each
    /// retry).
    pub fn record_sip_ids(
        &mut self,
        id: MessageId,
        call_id: &str,
        cseq: u32,
    ) -> Result<(), StoreError> {
        record_sip_ids(&self.connection, id, call_id, cseq)
    }

    /// Gives outgoing message `id` its Call-ID and CSeq: the conversation's Call-ID (that
    /// of its latest earlier outgoing message) with the next CSeq, or `fresh` with CSeq 1
    /// for the first. Returns what was recorded.
    pub fn assign_sip_ids(
        &mut self,
        id: MessageId,
        fresh: &str,
    ) -> Result<(String, u32), StoreError> {
        self.write(|connection| assign_sip_ids(connection, id, fresh))
    }

    /// Stores an incoming message as `Delivered`, and a contact marked unknown for a
    /// sender the account's address book lacks. `None` for a duplicate: a message of the
    /// same account from the same sender with the same Call-ID and CSeq, or with the same
    /// IMDN Message-ID (our own message forked back to us counts too).
    pub fn insert_incoming(
        &mut self,
        message: &NewIncoming<'_>,
    ) -> Result<Option<MessageId>, StoreError> {
        self.write(|connection| insert_incoming(connection, message))
    }

    /// Records the members a client fan-out group message goes to, each `Queued`
    /// (members recorded already are left as they are).
    pub fn add_recipients(
        &mut self,
        message: MessageId,
        members: &[Aor],
        now: SystemTime,
    ) -> Result<(), StoreError> {
        self.write(|connection| add_recipients(connection, message, members, now))
    }

    /// Moves one member's copy of a fan-out message to `state` (same rules as
    /// [`set_state`](Store::set_state)).
    pub fn set_recipient_state(
        &mut self,
        message: MessageId,
        member: &Aor,
        state: MessageState,
        reason: Option<&str>,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        set_recipient_state(&self.connection, message, member, state, reason, now)
    }

    /// The message with this id.
    pub fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        self.connection
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"
            ))
            .and_then(|mut statement| statement.query_row([id], message_from_row).optional())
            .during(Operation::ReadMessages)
    }

    /// A page of a conversation in its order: the last `limit` messages before message
    /// `before` (the end when `None`), first first. Pass the first id of a page as
    /// `before` for the page before it; an id that is not in the conversation gives an
    /// empty page.
    ///
    /// The order is arrival, except that a message arriving after a later request of
    /// the same sender and Call-ID (a higher CSeq) is placed before that one: the
    /// sender's order, as its CSeq says.
    pub fn messages(
        &self,
        conversation: ConversationId,
        limit: usize,
        before: Option<MessageId>,
    ) -> Result<Vec<Message>, StoreError> {
        let operation = Operation::ReadMessages;
        let before: (i64, i64) = match before {
            None => (i64::MAX, i64::MAX),
            Some(id) => {
                let found = self
                    .connection
                    .prepare_cached(
                        "SELECT position, id FROM messages WHERE id = ?1 AND conversation_id = ?2",
                    )
                    .and_then(|mut statement| {
                        statement
                            .query_row(params![id, conversation], |row| {
                                Ok((row.get(0)?, row.get(1)?))
                            })
                            .optional()
                    })
                    .during(operation)?;
                match found {
                    Some(found) => found,
                    None => return Ok(Vec::new()),
                }
            }
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut page: Vec<Message> = self
            .connection
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE conversation_id = ?1 AND (position, id) < (?2, ?3)
                 ORDER BY position DESC, id DESC LIMIT ?4"
            ))
            .and_then(|mut statement| {
                statement
                    .query_map(
                        params![conversation, before.0, before.1, limit],
                        message_from_row,
                    )?
                    .collect()
            })
            .during(operation)?;
        page.reverse();
        Ok(page)
    }

    /// The account's outgoing message that carried the IMDN `Message-ID`
    /// `imdn_message_id` (RFC 5438 §6.3): what a delivery notification names.
    pub fn find_outgoing_by_imdn_message_id(
        &self,
        account: AccountId,
        imdn_message_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        // The sender of an outgoing row is the account's AOR: the lookup uses the unique
        // index on (account, sender, IMDN Message-ID).
        self.connection
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE account_id = ?1 AND direction = 'out' AND imdn_message_id = ?2
                   AND sender_aor = (SELECT aor FROM accounts WHERE id = ?1)"
            ))
            .and_then(|mut statement| {
                statement
                    .query_row(params![account, imdn_message_id], message_from_row)
                    .optional()
            })
            .during(Operation::ReadMessages)
    }

    /// An account's outgoing messages still `Queued` or `Sending`, in the order they were
    /// stored: what to send again after a restart.
    pub fn pending_outgoing(&self, account: AccountId) -> Result<Vec<Message>, StoreError> {
        self.connection
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE account_id = ?1 AND direction = 'out' AND state IN ('queued', 'sending')
                 ORDER BY id"
            ))
            .and_then(|mut statement| statement.query_map([account], message_from_row)?.collect())
            .during(Operation::ReadMessages)
    }

    /// The members of a client fan-out group message and their states, in the order they
    /// were added.
    pub fn recipients(&self, message: MessageId) -> Result<Vec<Recipient>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT aor, state, failure_reason, updated_ms FROM message_recipients
                 WHERE message_id = ?1 ORDER BY rowid",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([message], recipient_from_row)?
                    .collect()
            })
            .during(Operation::ReadRecipients)
    }
}

impl Batch<'_> {
    /// [`Store::insert_outgoing`] inside the batch.
    pub fn insert_outgoing(&mut self, message: &NewOutgoing<'_>) -> Result<MessageId, StoreError> {
        insert_outgoing(&self.transaction, message)
    }

    /// [`Store::set_state`] inside the batch.
    pub fn set_state(
        &mut self,
        id: MessageId,
        state: MessageState,
        reason: Option<&str>,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        set_state(&self.transaction, id, state, reason, now)
    }

    /// [`Store::record_sip_ids`] inside the batch.
    pub fn record_sip_ids(
        &mut self,
        id: MessageId,
        call_id: &str,
        cseq: u32,
    ) -> Result<(), StoreError> {
        record_sip_ids(&self.transaction, id, call_id, cseq)
    }

    /// [`Store::assign_sip_ids`] inside the batch.
    pub fn assign_sip_ids(
        &mut self,
        id: MessageId,
        fresh: &str,
    ) -> Result<(String, u32), StoreError> {
        assign_sip_ids(&self.transaction, id, fresh)
    }

    /// [`Store::insert_incoming`] inside the batch.
    pub fn insert_incoming(
        &mut self,
        message: &NewIncoming<'_>,
    ) -> Result<Option<MessageId>, StoreError> {
        insert_incoming(&self.transaction, message)
    }

    /// [`Store::add_recipients`] inside the batch.
    pub fn add_recipients(
        &mut self,
        message: MessageId,
        members: &[Aor],
        now: SystemTime,
    ) -> Result<(), StoreError> {
        add_recipients(&self.transaction, message, members, now)
    }

    /// [`Store::set_recipient_state`] inside the batch.
    pub fn set_recipient_state(
        &mut self,
        message: MessageId,
        member: &Aor,
        state: MessageState,
        reason: Option<&str>,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        set_recipient_state(&self.transaction, message, member, state, reason, now)
    }
}
