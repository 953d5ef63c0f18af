//! The messaging service: the store and the engine's pager events tied together so that
//! nothing the user typed is lost (issue #7). The application owns one [`Messenger`],
//! feeds it every engine event, and sends the commands it returns.
//!
//! - Sending: the message is stored `queued` with its Call-ID and CSeq *before* the
//!   `SendMessage` command exists; `sending` when the engine sends it; `sent` on a 2xx;
//!   `failed` (with the reason) otherwise.
//! - After a restart, [`Messenger::resend_pending`] sends `queued`/`sending` messages
//!   again with their stored Call-ID and CSeq, so a receiver that already has one drops
//!   the duplicate.
//! - Receiving: a MESSAGE is stored (duplicates by Call-ID + CSeq are recognised), filed
//!   under its group when it carries `X-Group`, and only then answered 200.

use std::collections::HashMap;
use std::time::SystemTime;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::engine::{Command, Event};
use crate::store::{
    self, Aor, Counterpart, GroupMode as StoreGroupMode, MessageId, MessageState, NewIncoming,
    NewOutgoing, Store, StoreError,
};
use crate::ua::{self, GroupMode, GroupTarget, OutgoingMessage};

/// Content type of typed text.
pub const TEXT_PLAIN: &str = "text/plain;charset=UTF-8";

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
}

impl Messenger {
    /// Wraps an open store; `seed` feeds the Call-IDs it makes (the driver gives OS
    /// randomness, tests a fixed seed).
    pub fn new(store: Store, seed: [u8; 32]) -> Messenger {
        Messenger {
            store,
            rng: StdRng::from_seed(seed),
            accounts: HashMap::new(),
        }
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

    fn call_id(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Stores a 1:1 text as `queued` and returns the command that sends it.
    pub fn send_text(
        &mut self,
        account: ua::AccountId,
        to: &str,
        text: &str,
        now: SystemTime,
    ) -> Result<(MessageId, Command), MessagingError> {
        let (store_account, _) = self.account(account)?.clone();
        let peer = Aor::parse(to)?;
        let conversation = self.store.conversation_with_peer(store_account, &peer)?;
        let id = self.queue(conversation, text.as_bytes(), now)?;
        let message = self.outgoing(id, peer.as_str(), text.as_bytes(), None)?;
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
        let id = self.queue(conversation, text.as_bytes(), now)?;
        if let GroupMode::FanOut { members } = &target.mode {
            let members: Vec<Aor> = members.iter().filter_map(|m| Aor::parse(m).ok()).collect();
            self.store.add_recipients(id, &members, now)?;
        }
        let uri = target.uri.clone();
        let message = self.outgoing(id, &uri, text.as_bytes(), Some(target))?;
        Ok((id, Command::SendMessage { account, message }))
    }

    fn queue(
        &mut self,
        conversation: store::ConversationId,
        body: &[u8],
        now: SystemTime,
    ) -> Result<MessageId, MessagingError> {
        let id = self.store.insert_outgoing(&NewOutgoing {
            conversation,
            body,
            content_type: TEXT_PLAIN,
            imdn_message_id: None,
            created_at: now,
        })?;
        // The Call-ID is stored before anything is sent: a resend after a crash reuses it.
        let call_id = self.call_id();
        self.store.record_sip_ids(id, &call_id, 1)?;
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

    /// The engine's message for stored message `id`.
    fn outgoing(
        &self,
        id: MessageId,
        to: &str,
        body: &[u8],
        group: Option<GroupTarget>,
    ) -> Result<OutgoingMessage, MessagingError> {
        let stored = self.store.message(id)?.ok_or(MessagingError::Missing {
            what: "message",
            id: id.0,
        })?;
        Ok(OutgoingMessage {
            id: message_key(id),
            to: to.to_owned(),
            body: body.to_vec(),
            content_type: stored.content_type,
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
            let Some(conversation) = self.store.conversation(message.conversation)? else {
                continue;
            };
            let (to, group) = match conversation.counterpart {
                Counterpart::Peer(peer) => (peer.as_str().to_owned(), None),
                Counterpart::Group(group) => {
                    let target = self.group_target(group)?;
                    (target.uri.clone(), Some(target))
                }
            };
            let outgoing = self.outgoing(message.id, &to, &message.body, group)?;
            commands.push(Command::SendMessage {
                account,
                message: outgoing,
            });
        }
        Ok(commands)
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

    fn received(
        &mut self,
        message: &ua::IncomingMessage,
        now: SystemTime,
    ) -> Result<Vec<Command>, MessagingError> {
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
            return Ok(vec![respond(404)]);
        };
        let Ok(sender) = Aor::parse(&message.from) else {
            return Ok(vec![respond(400)]);
        };
        let conversation = match &message.group {
            Some((name, uri)) => {
                if sender == own {
                    // Our own group message forked back to us: already stored as sent.
                    return Ok(vec![respond(200)]);
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
        let stored = self.store.insert_incoming(&NewIncoming {
            conversation,
            sender: &sender,
            sender_display_name: message.from_display.as_deref(),
            body: &message.body,
            content_type: &message.content_type,
            sip_call_id: Some(&message.call_id),
            sip_cseq: Some(message.cseq),
            imdn_message_id: None,
            received_at: now,
        })?;
        if stored.is_none() {
            tracing::debug!(call_id = %message.call_id, "duplicate MESSAGE answered, not stored again");
        }
        Ok(vec![respond(200)])
    }
}

/// The engine's message id for a store row.
pub fn message_key(id: MessageId) -> u64 {
    u64::try_from(id.0).unwrap_or(0)
}

fn key_row(key: u64) -> i64 {
    i64::try_from(key).unwrap_or(i64::MAX)
}
