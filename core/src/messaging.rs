//! The messaging service: the store and the engine's pager events tied together so that
//! nothing the user typed is lost (issue #7). The application owns one [`Messenger`],
//! feeds it every engine event, and sends the commands it returns.
//!
//! - Sending: the message is stored `queued` with its Call-ID and CSeq *before* the
//!   `SendMessage` command exists; `sending` when the engine sends it; `sent` on a 2xx;
//!   `failed` (with the reason) otherwise. The messages of one conversation (1:1 or
//!   group) share a Call-ID with rising CSeq, across restarts.
//! - Order: a receiver files a message that arrives after a later one of the same
//!   sender and Call-ID before that one (the store's conversation order, see
//!   [`Store::messages`](crate::store::Store::messages)). The paper's group rule lets
//!   text n+1 leave at the first 2xx for n, while n may still be on its way to other
//!   members (a retransmission after loss, another proxy worker): each member still
//!   reads the texts in the order they were typed.
//! - After a restart, [`Messenger::resend_pending`] sends `queued`/`sending` messages
//!   again with their stored Call-ID and CSeq, so a receiver that already has one drops
//!   the duplicate.
//! - Receiving: a MESSAGE is stored (duplicates by Call-ID + CSeq, or by IMDN
//!   Message-ID, are recognised), filed under its group when it carries `X-Group`, and
//!   only then answered 200.
//! - Batching: [`Messenger::on_events`] writes what several events mean in one
//!   transaction (one disk sync) and releases their commands only after it commits;
//!   [`Messenger::send_texts`] queues several texts in one. Nothing is answered before it
//!   is on disk either way.
//!
//! # Delivery notifications (RFC 5438)
//!
//! With [`TextFormat::CpimDelivery`] a 1:1 text travels as `message/cpim` (RFC 3862)
//! with a random `imdn.Message-ID` and `imdn.Disposition-Notification:
//! positive-delivery`. The store keeps the *text* (its own content type, e.g.
//! `text/plain;charset=UTF-8`) and the Message-ID in `imdn_message_id`; the envelope is
//! written again from those whenever the message is sent (a resend after a restart
//! writes the same Message-ID and `DateTime`, the time it was stored).
//!
//! A received CPIM message is stored the same way: the inner content and its content
//! type (what the user reads), the Message-ID for duplicate detection; the envelope
//! itself is not kept (its `From` and `To` repeat the SIP ones, and the stored time is the
//! time of arrival). A CPIM body that does not parse, or whose `Require` names a header
//! this client does not understand (RFC 3862 §3.5), is answered 400 and nothing is
//! stored. When the message asks for `positive-delivery`, the 200 is followed by a
//! MESSAGE carrying a `delivered` notification (`message/cpim` around
//! `message/imdn+xml`, `Content-Disposition: notification`) to the sender; a duplicate
//! is answered with a notification again (the first one may have been lost).
//!
//! A received notification is never stored as a chat message: it is answered 200 and
//! moves the outgoing message it names (found by Message-ID, and only when the
//! notification comes from that message's peer) to `delivered` (`displayed` for a
//! display notification). One naming no message of ours is answered 200 and dropped.
//!
//! Notifications are not stored, so one that was not sent before a crash is not sent
//! after it (the message stays `sent` at its sender). Group messages travel as plain
//! text without notifications; a network-mode group message that asks for one (another
//! client's) gets none, as every member would answer the whole group's sender; a client
//! fan-out copy, addressed to this member alone, is answered.
//!
//! The engine message ids of notifications have the top bit set
//! ([`is_notification_key`]); they name no store row.

use std::collections::HashMap;
use std::time::SystemTime;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::engine::{Command, Event};
use crate::im::cpim;
use crate::store::{
    self, Aor, Counterpart, GroupMode as StoreGroupMode, MessageId, MessageState, NewOutgoing,
    Store, StoreError,
};
use crate::ua::{self, GroupMode, GroupTarget, OutgoingMessage};

mod batch;
mod incoming;
mod notification;

/// Content type of typed text.
pub const TEXT_PLAIN: &str = "text/plain;charset=UTF-8";

/// The bit that marks the engine message id of a delivery notification.
const NOTIFICATION_KEY: u64 = 1 << 63;

/// True when an engine message id (in `MessageSending`, `MessageAccepted`,
/// `MessageFailed`) belongs to a delivery notification this messenger sent, not to a
/// stored message.
pub fn is_notification_key(id: u64) -> bool {
    id & NOTIFICATION_KEY != 0
}

/// How a 1:1 text goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TextFormat {
    /// `text/plain;charset=UTF-8`: no notification; `sent` is the last state.
    #[default]
    Plain,
    /// `message/cpim` (RFC 3862) with a random `imdn.Message-ID`, asking for
    /// `positive-delivery` (RFC 5438): the message becomes `delivered` when the
    /// recipient's notification arrives.
    CpimDelivery,
}

/// What went wrong in the messaging service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessagingError {
    /// The store failed (the user must hear of it).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An address is not a usable SIP URI.
    #[error("{0}")]
    Address(#[from] store::AorError),
    /// A CPIM body could not be written (an address it cannot carry).
    #[error(transparent)]
    Cpim(#[from] cpim::CpimError),
    /// The engine account was never attached.
    #[error("engine account {0} is not attached to the store")]
    NotAttached(ua::AccountId),
    /// No such group or message in the store.
    #[error("no {what} {id} in the store")]
    Missing {
        /// `group` or `message`.
        what: &'static str,
        /// Its row id.
        id: i64,
    },
}

/// The store plus what it takes to turn engine events into stored state.
#[derive(Debug)]
pub struct Messenger {
    store: Store,
    rng: StdRng,
    accounts: HashMap<ua::AccountId, (store::AccountId, Aor)>,
    text_format: TextFormat,
    notifications_sent: u64,
}

impl Messenger {
    /// Wraps an open store; `seed` feeds the Call-IDs it makes (the driver gives OS
    /// randomness, tests a fixed seed).
    pub fn new(store: Store, seed: [u8; 32]) -> Messenger {
        Messenger {
            store,
            rng: StdRng::from_seed(seed),
            accounts: HashMap::new(),
            text_format: TextFormat::Plain,
            notifications_sent: 0,
        }
    }

    /// How [`send_text`](Messenger::send_text) sends (plain text until set).
    pub fn set_text_format(&mut self, format: TextFormat) {
        self.text_format = format;
    }

    /// How [`send_text`](Messenger::send_text) sends.
    pub fn text_format(&self) -> TextFormat {
        self.text_format
    }

    /// The store, for reading conversations and messages.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, for editing contacts and groups.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Links an engine account to its store account (created if new).
    pub fn attach(
        &mut self,
        account: ua::AccountId,
        aor: &str,
    ) -> Result<store::AccountId, MessagingError> {
        let aor = Aor::parse(aor)?;
        let id = self.store.upsert_account(&aor, None)?;
        self.accounts.insert(account, (id, aor));
        Ok(id)
    }

    fn account(&self, account: ua::AccountId) -> Result<&(store::AccountId, Aor), MessagingError> {
        self.accounts
            .get(&account)
            .ok_or(MessagingError::NotAttached(account))
    }

    /// 128 random bits in hex: Call-IDs and IMDN Message-IDs.
    fn random_token(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Stores a 1:1 text as `queued` and returns the command that sends it, in the
    /// [`text_format`](Messenger::text_format).
    pub fn send_text(
        &mut self,
        account: ua::AccountId,
        to: &str,
        text: &str,
        now: SystemTime,
    ) -> Result<(MessageId, Command), MessagingError> {
        self.send_text_as(account, to, text, self.text_format, now)
    }

    /// Stores a 1:1 text as `queued` (with its IMDN Message-ID for
    /// [`TextFormat::CpimDelivery`]) and returns the command that sends it as `format`.
    pub fn send_text_as(
        &mut self,
        account: ua::AccountId,
        to: &str,
        text: &str,
        format: TextFormat,
        now: SystemTime,
    ) -> Result<(MessageId, Command), MessagingError> {
        let (store_account, _) = self.account(account)?.clone();
        let peer = Aor::parse(to)?;
        let conversation = self.store.conversation_with_peer(store_account, &peer)?;
        let imdn_message_id = match format {
            TextFormat::Plain => None,
            TextFormat::CpimDelivery => Some(self.random_token()),
        };
        let id = self.queue(
            conversation,
            text.as_bytes(),
            imdn_message_id.as_deref(),
            now,
        )?;
        let message = self.outgoing(id, peer.as_str(), None)?;
        Ok((id, Command::SendMessage { account, message }))
    }

    /// Stores a group text as `queued` (with a recipient row per member in fan-out
    /// mode) and returns the command that sends it.
    pub fn send_group(
        &mut self,
        account: ua::AccountId,
        group: store::GroupId,
        text: &str,
        now: SystemTime,
    ) -> Result<(MessageId, Command), MessagingError> {
        let target = self.group_target(group)?;
        let conversation = self.store.conversation_for_group(group)?;
        let id = self.queue(conversation, text.as_bytes(), None, now)?;
        if let GroupMode::FanOut { members } = &target.mode {
            // The engine sends no copy to the sender; no recipient row for it either.
            let own = self.account(account)?.1.clone();
            let members: Vec<Aor> = members
                .iter()
                .filter_map(|m| Aor::parse(m).ok())
                .filter(|m| *m != own)
                .collect();
            self.store.add_recipients(id, &members, now)?;
        }
        let uri = target.uri.clone();
        let message = self.outgoing(id, &uri, Some(target))?;
        Ok((id, Command::SendMessage { account, message }))
    }

    /// Stores the message `queued` with its Call-ID, in one transaction (one commit).
    fn queue(
        &mut self,
        conversation: store::ConversationId,
        body: &[u8],
        imdn_message_id: Option<&str>,
        now: SystemTime,
    ) -> Result<MessageId, MessagingError> {
        // The Call-ID and CSeq are stored before anything is sent: a resend after a crash
        // reuses them. A conversation keeps one Call-ID and counts CSeq up, so receivers
        // can file its messages in the order they were typed (one overtaken on the way
        // is put back in its place); `fresh` is only used for a conversation's first.
        let fresh = self.random_token();
        let id = self.store.batch(|batch| {
            let id = batch.insert_outgoing(&NewOutgoing {
                conversation,
                body,
                content_type: TEXT_PLAIN,
                imdn_message_id,
                created_at: now,
            })?;
            batch.assign_sip_ids(id, &fresh)?;
            Ok(id)
        })?;
        Ok(id)
    }

    fn group_target(&self, group: store::GroupId) -> Result<GroupTarget, MessagingError> {
        let stored = self.store.group(group)?.ok_or(MessagingError::Missing {
            what: "group",
            id: group.0,
        })?;
        let mode = match stored.mode {
            StoreGroupMode::Network => GroupMode::Network,
            StoreGroupMode::Fanout => GroupMode::FanOut {
                members: self
                    .store
                    .group_members(group)?
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect(),
            },
        };
        Ok(GroupTarget {
            name: stored.name,
            uri: stored.uri.as_str().to_owned(),
            mode,
        })
    }

    /// The engine's message for stored message `id`: its text, or for a 1:1 message
    /// with an IMDN Message-ID, the CPIM envelope around it.
    fn outgoing(
        &self,
        id: MessageId,
        to: &str,
        group: Option<GroupTarget>,
    ) -> Result<OutgoingMessage, MessagingError> {
        let stored = self.store.message(id)?.ok_or(MessagingError::Missing {
            what: "message",
            id: id.0,
        })?;
        let (body, content_type) = match (&stored.imdn_message_id, &group) {
            (Some(message_id), None) => (
                notification::wrap(&stored, to, message_id)?,
                cpim::CONTENT_TYPE.to_owned(),
            ),
            _ => (stored.body, stored.content_type),
        };
        Ok(OutgoingMessage {
            id: message_key(id),
            to: to.to_owned(),
            body,
            content_type,
            call_id: stored.sip_call_id,
            cseq: stored.sip_cseq,
            group,
            headers: Vec::new(),
        })
    }

    /// The commands that send again what was `queued` or `sending` when the program
    /// last stopped (oldest first).
    pub fn resend_pending(
        &mut self,
        account: ua::AccountId,
    ) -> Result<Vec<Command>, MessagingError> {
        let (store_account, _) = self.account(account)?.clone();
        let mut commands = Vec::new();
        for message in self.store.pending_outgoing(store_account)? {
            if let Some(command) = self.send_again(account, &message)? {
                commands.push(command);
            }
        }
        Ok(commands)
    }

    /// The user's retry of a `failed` outgoing message: it goes back to `queued` and the
    /// returned command sends it again (same Call-ID and CSeq, so a receiver that did
    /// get it drops the copy). A message that is not `failed` is left alone (`None`).
    pub fn retry(
        &mut self,
        account: ua::AccountId,
        message: MessageId,
        now: SystemTime,
    ) -> Result<Option<Command>, MessagingError> {
        let (store_account, _) = self.account(account)?.clone();
        let stored = self
            .store
            .message(message)?
            .filter(|m| m.account == store_account && m.direction == store::Direction::Outgoing)
            .ok_or(MessagingError::Missing {
                what: "message",
                id: message.0,
            })?;
        if stored.state != MessageState::Failed {
            return Ok(None);
        }
        self.store
            .set_state(message, MessageState::Queued, None, now)?;
        self.send_again(account, &stored)
    }

    /// The command that sends a stored outgoing message again; `None` when its
    /// conversation is gone.
    fn send_again(
        &mut self,
        account: ua::AccountId,
        message: &store::Message,
    ) -> Result<Option<Command>, MessagingError> {
        let Some(conversation) = self.store.conversation(message.conversation)? else {
            return Ok(None);
        };
        let (to, group) = match conversation.counterpart {
            Counterpart::Peer(peer) => (peer.as_str().to_owned(), None),
            Counterpart::Group(group) => {
                let target = self.group_target(group)?;
                (target.uri.clone(), Some(target))
            }
        };
        let outgoing = self.outgoing(message.id, &to, group)?;
        Ok(Some(Command::SendMessage {
            account,
            message: outgoing,
        }))
    }

    /// Records what an engine event means for the store; returns the commands to send
    /// (the 200 for a stored incoming message). Events that are not about messages are
    /// ignored.
    pub fn on_event(
        &mut self,
        event: &Event,
        now: SystemTime,
    ) -> Result<Vec<Command>, MessagingError> {
        match event {
            Event::MessageSending { id, .. }
            | Event::MessageAccepted { id, .. }
            | Event::MessageFailed { id, .. }
                if is_notification_key(*id) =>
            {
                if let Event::MessageFailed { reason, .. } = event {
                    tracing::debug!(%reason, "delivery notification not accepted");
                }
            }
            Event::MessageSending {
                id, member: None, ..
            } => {
                self.advance(MessageId(key_row(*id)), MessageState::Sending, None, now)?;
            }
            Event::MessageAccepted { id, member, .. } => {
                let id = MessageId(key_row(*id));
                if let Some(member) = member {
                    self.store.set_recipient_state(
                        id,
                        &Aor::parse(member)?,
                        MessageState::Sent,
                        None,
                        now,
                    )?;
                }
                self.advance(id, MessageState::Sent, None, now)?;
            }
            Event::MessageFailed {
                id, member, reason, ..
            } => {
                let id = MessageId(key_row(*id));
                let reason = reason.to_string();
                match member {
                    Some(member) => {
                        self.store.set_recipient_state(
                            id,
                            &Aor::parse(member)?,
                            MessageState::Failed,
                            Some(&reason),
                            now,
                        )?;
                    }
                    None => self.advance(id, MessageState::Failed, Some(&reason), now)?,
                }
            }
            Event::MessageReceived(message) => return self.received(message, now),
            _ => {}
        }
        Ok(Vec::new())
    }

    /// Moves a message forward when the store allows it (a late event never moves a
    /// delivered message back to sent, for example).
    fn advance(
        &mut self,
        id: MessageId,
        state: MessageState,
        reason: Option<&str>,
        now: SystemTime,
    ) -> Result<(), MessagingError> {
        let Some(current) = self.store.message(id)? else {
            return Ok(());
        };
        if current.state == state || !current.state.can_change_to(state) {
            return Ok(());
        }
        self.store.set_state(id, state, reason, now)?;
        Ok(())
    }
}

/// The engine's message id for a store row.
pub fn message_key(id: MessageId) -> u64 {
    u64::try_from(id.0).unwrap_or(0)
}

fn key_row(key: u64) -> i64 {
    i64::try_from(key).unwrap_or(i64::MAX)
}
