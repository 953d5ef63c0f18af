//! Batched store writes: the store work of several engine events, or several texts, in
//! one transaction (one commit, one disk sync), for throughput.

use std::time::SystemTime;

use super::incoming::{Incoming, IncomingRow};
use super::{MessagingError, Messenger, TEXT_PLAIN, TextFormat, is_notification_key, key_row};
use crate::engine::{Command, Event};
use crate::store::{Aor, MessageId, MessageState, NewOutgoing, StoreError};
use crate::ua;

/// A store write waiting for the batch's commit.
#[derive(Debug)]
enum Deferred<'e> {
    /// A message moves forward (if the store allows it).
    State {
        id: MessageId,
        state: MessageState,
        reason: Option<String>,
    },
    /// A received message is stored.
    Row(IncomingRow<'e>),
}

/// Writes waiting for a commit, and the commands that may leave only after it.
#[derive(Debug, Default)]
struct Pending<'e> {
    writes: Vec<Deferred<'e>>,
    after: Vec<Command>,
}

impl Messenger {
    /// [`on_event`](Messenger::on_event) for several events, their message writes (state
    /// changes of 1:1 and network-group messages, received rows) in one transaction. The
    /// commands come back in event order, and none of them before the commit that they
    /// depend on: a 200 never acknowledges a row that is not on disk.
    ///
    /// Fan-out member events are written one by one, in order (the batch so far is
    /// committed first). On `Err` no command is returned; what was committed before the
    /// error is answered when the sender's retransmission arrives (a duplicate, answered
    /// 200 and not stored again).
    pub fn on_events(
        &mut self,
        events: &[Event],
        now: SystemTime,
    ) -> Result<Vec<Command>, MessagingError> {
        let mut commands = Vec::new();
        let mut pending = Pending::default();
        for event in events {
            let state = match event {
                Event::MessageSending { id, .. }
                | Event::MessageAccepted { id, .. }
                | Event::MessageFailed { id, .. }
                    if is_notification_key(*id) =>
                {
                    commands.extend(self.on_event(event, now)?);
                    continue;
                }
                Event::MessageSending {
                    id, member: None, ..
                } => Some((*id, MessageState::Sending, None)),
                Event::MessageAccepted {
                    id, member: None, ..
                } => Some((*id, MessageState::Sent, None)),
                Event::MessageFailed {
                    id,
                    member: None,
                    reason,
                    ..
                } => Some((*id, MessageState::Failed, Some(reason.to_string()))),
                _ => None,
            };
            if let Some((id, state, reason)) = state {
                pending.writes.push(Deferred::State {
                    id: MessageId(key_row(id)),
                    state,
                    reason,
                });
                continue;
            }
            match event {
                Event::MessageReceived(message) => match self.prepare_incoming(message, now)? {
                    Incoming::Answer(answer) => pending.after.extend(answer),
                    Incoming::Report { change, then } => {
                        if let Some((id, state)) = change {
                            pending.writes.push(Deferred::State {
                                id,
                                state,
                                reason: None,
                            });
                        }
                        pending.after.extend(then);
                    }
                    Incoming::Store { row, then } => {
                        pending.writes.push(Deferred::Row(row));
                        pending.after.extend(then);
                    }
                },
                Event::MessageSending { .. }
                | Event::MessageAccepted { .. }
                | Event::MessageFailed { .. } => {
                    // A fan-out member's copy: written in order, after the batch so far.
                    self.commit(&mut pending, &mut commands, now)?;
                    commands.extend(self.on_event(event, now)?);
                }
                _ => {}
            }
        }
        self.commit(&mut pending, &mut commands, now)?;
        Ok(commands)
    }

    /// Commits the waiting writes, then releases the commands that waited for them.
    fn commit(
        &mut self,
        pending: &mut Pending<'_>,
        commands: &mut Vec<Command>,
        now: SystemTime,
    ) -> Result<(), MessagingError> {
        if !pending.writes.is_empty() {
            let writes = &pending.writes;
            self.store.batch(|batch| {
                for write in writes {
                    match write {
                        Deferred::State { id, state, reason } => {
                            match batch.set_state(*id, *state, reason.as_deref(), now) {
                                // A late event never moves a message back (as `advance`).
                                Ok(())
                                | Err(StoreError::InvalidTransition { .. })
                                | Err(StoreError::NotFound { .. }) => {}
                                Err(error) => return Err(error),
                            }
                        }
                        Deferred::Row(row) => {
                            batch.insert_incoming(&row.new_incoming(now))?;
                        }
                    }
                }
                Ok(())
            })?;
            pending.writes.clear();
        }
        commands.append(&mut pending.after);
        Ok(())
    }

    /// [`send_text`](Messenger::send_text) for several `(to, text)` pairs, stored `queued`
    /// in one transaction; the ids and commands in the same order.
    pub fn send_texts(
        &mut self,
        account: ua::AccountId,
        texts: &[(&str, &str)],
        now: SystemTime,
    ) -> Result<Vec<(MessageId, Command)>, MessagingError> {
        let (store_account, _) = self.account(account)?.clone();
        let format = self.text_format;
        let mut prepared = Vec::with_capacity(texts.len());
        for (to, text) in texts {
            let peer = Aor::parse(to)?;
            let conversation = self.store.conversation_with_peer(store_account, &peer)?;
            let imdn_message_id = match format {
                TextFormat::Plain => None,
                TextFormat::CpimDelivery => Some(self.random_token()),
            };
            let call_id = self.random_token();
            prepared.push((peer, conversation, *text, imdn_message_id, call_id));
        }
        let ids = self.store.batch(|batch| {
            prepared
                .iter()
                .map(|(_, conversation, text, imdn_message_id, call_id)| {
                    let id = batch.insert_outgoing(&NewOutgoing {
                        conversation: *conversation,
                        body: text.as_bytes(),
                        content_type: TEXT_PLAIN,
                        imdn_message_id: imdn_message_id.as_deref(),
                        created_at: now,
                    })?;
                    batch.assign_sip_ids(id, call_id)?;
                    Ok(id)
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        ids.into_iter()
            .zip(&prepared)
            .map(|(id, (peer, ..))| {
                let message = self.outgoing(id, peer.as_str(), None)?;
                Ok((id, Command::SendMessage { account, message }))
            })
            .collect()
    }
}
