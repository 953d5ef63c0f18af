//! The receiving side of the messaging service: what a MESSAGE means (text, CPIM,
//! notification, refused), the row it becomes, and the notification it asks for.

use std::time::SystemTime;

use super::notification::{self, Content};
use super::{MessagingError, Messenger, NOTIFICATION_KEY};
use crate::engine::Command;
use crate::im::{cpim, imdn};
use crate::store::{
    self, Aor, Counterpart, GroupMode as StoreGroupMode, MessageId, MessageState, NewIncoming,
};
use crate::ua::{self, OutgoingMessage};

/// What to do with a received MESSAGE.
#[derive(Debug)]
pub(super) enum Incoming<'m> {
    /// Nothing to store: send these (the answer).
    Answer(Vec<Command>),
    /// A notification: move this message to this state (when the store allows it), then
    /// send `then` (the 200).
    Report {
        /// The message and the state it reached, if the notification names one of ours.
        change: Option<(MessageId, MessageState)>,
        /// What follows the write.
        then: Vec<Command>,
    },
    /// Store `row`, then (only after it is committed) send `then`: the 200 and maybe a
    /// delivery notification.
    Store {
        /// The row.
        row: IncomingRow<'m>,
        /// What follows the commit.
        then: Vec<Command>,
    },
}

/// An incoming message row, borrowing the engine's event.
#[derive(Debug)]
pub(super) struct IncomingRow<'m> {
    conversation: store::ConversationId,
    sender: Aor,
    message: &'m ua::IncomingMessage,
    body: &'m [u8],
    content_type: &'m str,
    imdn_message_id: Option<&'m str>,
}

impl IncomingRow<'_> {
    /// The store's insert for this row; a duplicate is logged by the store.
    pub(super) fn new_incoming(&self, now: SystemTime) -> NewIncoming<'_> {
        NewIncoming {
            conversation: self.conversation,
            sender: &self.sender,
            sender_display_name: self.message.from_display.as_deref(),
            body: self.body,
            content_type: self.content_type,
            sip_call_id: Some(&self.message.call_id),
            sip_cseq: Some(self.message.cseq),
            imdn_message_id: self.imdn_message_id,
            received_at: now,
        }
    }
}

impl Messenger {
    /// A received MESSAGE, stored and answered (one commit).
    pub(super) fn received(
        &mut self,
        message: &ua::IncomingMessage,
        now: SystemTime,
    ) -> Result<Vec<Command>, MessagingError> {
        match self.prepare_incoming(message, now)? {
            Incoming::Answer(commands) => Ok(commands),
            Incoming::Report { change, then } => {
                if let Some((id, state)) = change {
                    self.advance(id, state, None, now)?;
                }
                Ok(then)
            }
            Incoming::Store { row, then } => {
                self.store.insert_incoming(&row.new_incoming(now))?;
                Ok(then)
            }
        }
    }

    /// Everything about a received MESSAGE but the insert of its row: the row to store
    /// and the commands that may follow it (the 200, a notification), or the answer when
    /// nothing is to be stored (a notification: the state change it reports). May write:
    /// a new conversation or group.
    pub(super) fn prepare_incoming<'m>(
        &mut self,
        message: &'m ua::IncomingMessage,
        now: SystemTime,
    ) -> Result<Incoming<'m>, MessagingError> {
        let respond = |status| Command::Respond {
            transaction: message.transaction,
            status,
            reason: None,
            headers: Vec::new(),
            body: Vec::new(),
        };
        let Some((store_account, own)) =
            message.account.and_then(|a| self.accounts.get(&a)).cloned()
        else {
            return Ok(Incoming::Answer(vec![respond(404)]));
        };
        let Ok(sender) = Aor::parse(&message.from) else {
            return Ok(Incoming::Answer(vec![respond(400)]));
        };
        let text = match notification::read(&message.content_type, &message.body) {
            Content::Plain => None,
            Content::Message(text) => Some(text),
            Content::Notification(report) => {
                return Ok(Incoming::Report {
                    change: self.notification_received(store_account, &sender, &report)?,
                    then: vec![respond(200)],
                });
            }
            Content::Refused => return Ok(Incoming::Answer(vec![respond(400)])),
        };
        let conversation = match &message.group {
            Some((name, uri)) => {
                if sender == own {
                    // Our own group message forked back to us: already stored as sent.
                    return Ok(Incoming::Answer(vec![respond(200)]));
                }
                let uri = Aor::parse(uri)?;
                let group = match self.store.find_group(store_account, &uri)? {
                    Some(group) => group.id,
                    None => {
                        let members: Vec<Aor> = message
                            .group_members
                            .iter()
                            .filter_map(|m| Aor::parse(m).ok())
                            .collect();
                        let mode = if members.is_empty() {
                            StoreGroupMode::Network
                        } else {
                            StoreGroupMode::Fanout
                        };
                        self.store
                            .create_group(store_account, &uri, name, mode, &members)?
                    }
                };
                self.store.conversation_for_group(group)?
            }
            None => self.store.conversation_with_peer(store_account, &sender)?,
        };
        let (body, content_type, imdn_message_id) = match &text {
            Some(text) => (text.body, text.content_type, text.message_id),
            None => (&message.body[..], message.content_type.as_str(), None),
        };
        let row = IncomingRow {
            conversation,
            sender,
            message,
            body,
            content_type,
            imdn_message_id,
        };
        let mut commands = vec![respond(200)];
        // A network-mode group message (the group URI in To, no member list) gets no
        // notification: see the module docs.
        let network_group = message.group.is_some() && message.group_members.is_empty();
        if let Some(text) = text.filter(|t| t.asks_for_delivery() && !network_group)
            && let Some(account) = message.account
        {
            commands.extend(self.delivery_notification(account, &own, &message.from, &text, now));
        }
        Ok(Incoming::Store {
            row,
            then: commands,
        })
    }

    /// The MESSAGE that tells the sender of `text` it was delivered; `None` (logged) when
    /// the notification cannot be written from what the sender gave.
    fn delivery_notification(
        &mut self,
        account: ua::AccountId,
        own: &Aor,
        sender: &str,
        text: &notification::CpimText<'_>,
        now: SystemTime,
    ) -> Option<Command> {
        let message_id = self.random_token();
        let body = match notification::delivered(text, own.as_str(), sender, &message_id, now) {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(%error, sender, "cannot write the delivery notification");
                return None;
            }
        };
        self.notifications_sent = self.notifications_sent.wrapping_add(1);
        Some(Command::SendMessage {
            account,
            message: OutgoingMessage {
                id: NOTIFICATION_KEY | (self.notifications_sent & !NOTIFICATION_KEY),
                to: sender.to_owned(),
                body,
                content_type: cpim::CONTENT_TYPE.to_owned(),
                call_id: None,
                cseq: None,
                group: None,
                headers: Vec::new(),
            },
        })
    }

    /// A notification arrived: the outgoing message it names and the state it reached
    /// (`delivered`, or `displayed`), when the notification comes from that message's
    /// peer.
    fn notification_received(
        &self,
        account: store::AccountId,
        sender: &Aor,
        report: &imdn::Notification<'_>,
    ) -> Result<Option<(MessageId, MessageState)>, MessagingError> {
        let state = match (report.kind, report.status) {
            (imdn::Kind::Delivery, imdn::Status::Delivered) => MessageState::Delivered,
            (imdn::Kind::Display, imdn::Status::Displayed) => MessageState::Displayed,
            (kind, status) => {
                tracing::debug!(?kind, ?status, "notification without a state to record");
                return Ok(None);
            }
        };
        let Some(original) = self
            .store
            .find_outgoing_by_imdn_message_id(account, &report.message_id)?
        else {
            tracing::debug!(message_id = %report.message_id, "notification for no message of ours");
            return Ok(None);
        };
        let from_peer = self
            .store
            .conversation(original.conversation)?
            .is_some_and(|c| matches!(c.counterpart, Counterpart::Peer(peer) if peer == *sender));
        if !from_peer {
            tracing::warn!(%sender, message = %original.id, "notification from someone the message did not go to");
            return Ok(None);
        }
        Ok(Some((original.id, state)))
    }
}
