//! What a user interface reads: the conversation list with unread counts, read
//! markers, and the history of every message of an account.

use std::time::SystemTime;

use rusqlite::{Row, params};

use super::directory::conversation_from_row;
use super::error::{Entity, Operation, OperationContext, StoreError};
use super::messages::{MESSAGE_COLUMNS, message_from_row};
use super::open::Store;
use super::types::{
    AccountId, Conversation, ConversationId, Direction, Message, MessageId, UnixMs,
};

/// One line of a conversation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    /// The conversation.
    pub conversation: Conversation,
    /// Its newest message, if it has any.
    pub last_message: Option<MessageId>,
    /// When the newest message was stored.
    pub last_at: Option<SystemTime>,
    /// Incoming messages newer than the read marker.
    pub unread: u32,
}

/// Which messages a history page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryFilter {
    /// Every message.
    #[default]
    All,
    /// Only received messages.
    Incoming,
    /// Only sent messages.
    Outgoing,
    /// Only outgoing messages that failed.
    Failed,
}

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<ConversationSummary> {
    let last_at: Option<UnixMs> = row.get(5)?;
    let unread: i64 = row.get(6)?;
    Ok(ConversationSummary {
        conversation: conversation_from_row(row)?,
        last_message: row.get(4)?,
        last_at: last_at.map(|t| t.0),
        unread: u32::try_from(unread).unwrap_or(u32::MAX),
    })
}

impl Store {
    /// An account's conversations with their newest message and unread count, the one
    /// with the newest message first (those without messages last).
    pub fn conversation_summaries(
        &self,
        account: AccountId,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT c.id, c.account_id, c.peer_aor, c.group_id, last.id, last.created_ms,
                     (SELECT count(*) FROM messages u
                      WHERE u.conversation_id = c.id AND u.id > c.read_up_to
                        AND u.direction = 'in')
                 FROM conversations c
                 LEFT JOIN messages last ON last.id =
                     (SELECT max(m.id) FROM messages m WHERE m.conversation_id = c.id)
                 WHERE c.account_id = ?1
                 ORDER BY last.id DESC NULLS LAST, c.id DESC",
            )
            .and_then(|mut statement| statement.query_map([account], summary_from_row)?.collect())
            .during(Operation::ReadSummaries)
    }

    /// Marks a conversation read up to and including `up_to` (a marker never moves back).
    pub fn mark_read(
        &mut self,
        conversation: ConversationId,
        up_to: MessageId,
    ) -> Result<(), StoreError> {
        let changed = self
            .connection
            .prepare_cached(
                "UPDATE conversations SET read_up_to = max(read_up_to, ?2) WHERE id = ?1",
            )
            .and_then(|mut statement| statement.execute(params![conversation, up_to]))
            .during(Operation::MarkRead)?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                operation: Operation::MarkRead,
                entity: Entity::Conversation,
                id: conversation.0,
            });
        }
        Ok(())
    }

    /// A page of an account's history across conversations: the newest `limit` messages
    /// older than `before` (all when `None`) that pass `filter`, newest first.
    pub fn history(
        &self,
        account: AccountId,
        filter: HistoryFilter,
        limit: usize,
        before: Option<MessageId>,
    ) -> Result<Vec<Message>, StoreError> {
        let before = before.map_or(i64::MAX, |id| id.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (direction, failed_only) = match filter {
            HistoryFilter::All => (None, false),
            HistoryFilter::Incoming => (Some(Direction::Incoming), false),
            HistoryFilter::Outgoing => (Some(Direction::Outgoing), false),
            HistoryFilter::Failed => (Some(Direction::Outgoing), true),
        };
        self.connection
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE account_id = ?1 AND id < ?2
                   AND (?3 IS NULL OR direction = ?3)
                   AND (?4 = 0 OR state = 'failed')
                 ORDER BY id DESC LIMIT ?5"
            ))
            .and_then(|mut statement| {
                statement
                    .query_map(
                        params![account, before, direction, failed_only, limit],
                        message_from_row,
                    )?
                    .collect()
            })
            .during(Operation::ReadMessages)
    }
}
