//! The engine's side of pager-mode IM (RFC 3428) and group chat: MESSAGE requests,
//! their outcome events, and the per-group pacing (the next message of a group leaves
//! only after a 2xx, or the failure of every copy, of the previous one).

use std::time::Instant;

use crate::sip::{HeaderName, MessageWriter, Method, Uri, WriteOptions};
use crate::transaction::TransactionKey;
use crate::transport::Transport;
use crate::ua::message::{GroupMode, InFlight, MessageError, OutgoingMessage, write_x_group};
use crate::ua::{AccountId, IncomingMessage};

use super::event::{CommandError, Event};
use super::hub::{Engine, Owner};

/// What the engine remembers of one MESSAGE copy in flight.
#[derive(Debug)]
pub(super) struct OutgoingCopy {
    pub(super) account: AccountId,
    pub(super) id: u64,
    /// The member, for a fan-out copy.
    pub(super) member: Option<String>,
    /// The group queue it belongs to.
    pub(super) group: Option<String>,
}

impl Engine {
    /// `Command::SendMessage`.
    pub(super) fn send_message(
        &mut self,
        now: Instant,
        account: AccountId,
        message: OutgoingMessage,
    ) -> Result<(), CommandError> {
        let unsafe_text = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0);
        if unsafe_text(&message.content_type)
            || unsafe_text(&message.to)
            // Call-ID is `word ["@" word]` (RFC 3261 §25.1): visible ASCII, no space.
            || message
                .call_id
                .as_deref()
                .is_some_and(|c| c.is_empty() || !c.bytes().all(|b| b.is_ascii_graphic() && b != b'"'))
            || message.headers.iter().any(|(n, v)| {
                n.is_empty()
                    || !n.bytes().all(|b| b.is_ascii_graphic() && b != b':')
                    || unsafe_text(v)
            })
            || message
                .group
                .as_ref()
                .is_some_and(|g| unsafe_text(&g.uri) || unsafe_text(&g.name))
        {
            return Err(CommandError::UnsafeHeader);
        }
        if let Some(group) = &message.group {
            let queue = self
                .group_queues
                .entry((account, group.uri.clone()))
                .or_default();
            if queue.in_flight.is_some() {
                queue.waiting.push_back(message);
                return Ok(());
            }
        }
        self.dispatch_message(now, account, message);
        Ok(())
    }

    /// Sends a message now: one MESSAGE, or one per member in fan-out mode.
    fn dispatch_message(&mut self, now: Instant, account: AccountId, message: OutgoingMessage) {
        let targets: Vec<(String, Option<String>)> = match &message.group {
            None => vec![(message.to.clone(), None)],
            Some(group) => match &group.mode {
                GroupMode::Network => vec![(group.uri.clone(), None)],
                GroupMode::FanOut { members } => {
                    let own = self
                        .accounts
                        .get(account.index())
                        .map(|a| a.config.aor.clone());
                    members
                        .iter()
                        .filter(|m| own.as_deref().is_none_or(|own| !super::same_uri(own, m)))
                        .map(|m| (m.clone(), Some(m.clone())))
                        .collect()
                }
            },
        };
        let group_key = message.group.as_ref().map(|g| g.uri.clone());
        let mut message = message;
        if let Some(GroupMode::FanOut { members }) = message.group.as_ref().map(|g| &g.mode) {
            // Each copy lists the members (RFC 5365 shape) so every receiver learns the
            // group and can answer all.
            let boundary = format!("ims-rs-{}", self.token(8));
            let name = message
                .group
                .as_ref()
                .map(|g| g.name.clone())
                .unwrap_or_default();
            match fan_out_body(
                &boundary,
                &name,
                members,
                &message.content_type,
                &message.body,
            ) {
                Some((content_type, body)) => {
                    message.content_type = content_type;
                    message.body = body;
                }
                None => {
                    tracing::warn!(
                        id = message.id,
                        "cannot build the fan-out body; sending the text alone"
                    );
                }
            }
        }
        if targets.is_empty() {
            self.events.push_back(Event::MessageFailed {
                account,
                id: message.id,
                member: None,
                reason: MessageError::NoMembers,
            });
            return;
        }
        if let Some(key) = &group_key {
            let queue = self.group_queues.entry((account, key.clone())).or_default();
            queue.in_flight = Some(InFlight {
                id: message.id,
                outstanding: targets.len(),
            });
        }
        if message.call_id.is_none() {
            message.call_id = Some(self.token(16));
        }
        for (target, member) in targets {
            // The copies of a fan-out share the Call-ID and CSeq (each has its own branch
            // and From tag): a member that gets one again after a restart drops it, and
            // orders the group's texts by CSeq as it does in network mode.
            let result = self.send_message_copy(
                now,
                account,
                &message,
                &target,
                message.call_id.clone(),
                member.clone(),
                group_key.clone(),
            );
            if let Err(reason) = result {
                self.events.push_back(Event::MessageFailed {
                    account,
                    id: message.id,
                    member: member.clone(),
                    reason,
                });
                self.copy_done(now, account, group_key.as_deref(), message.id, false);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn send_message_copy(
        &mut self,
        now: Instant,
        account_id: AccountId,
        message: &OutgoingMessage,
        target: &str,
        call_id: Option<String>,
        member: Option<String>,
        group_key: Option<String>,
    ) -> Result<(), MessageError> {
        if Uri::parse(target).is_err() {
            return Err(MessageError::InvalidUri {
                uri: target.to_owned(),
            });
        }
        let branch = self.new_branch();
        let from_tag = self.token(8);
        let call_id = call_id.unwrap_or_else(|| self.token(16));
        let cseq = message
            .cseq
            .filter(|_| message.call_id.as_deref() == Some(call_id.as_str()))
            .unwrap_or(1);
        let mtu_limit = self.config.mtu.saturating_sub(200);
        let user_agent = self.config.user_agent.clone();
        let Some(account) = self.accounts.get(account_id.index()) else {
            self.drop_branch(branch);
            return Err(MessageError::Transport);
        };
        let remote = account.registration.next_hop;
        let mut transport = account.transport;
        let mut local = account.local;
        let mut bytes = Vec::with_capacity(512 + message.body.len());
        loop {
            bytes.clear();
            let via = super::registration::via_value(transport, local, branch.as_str());
            let mut writer = MessageWriter::request(
                &mut bytes,
                Method::Message,
                target,
                WriteOptions::default(),
            );
            writer.header(HeaderName::Via, &via);
            for route in &account.registration.service_route {
                writer.header(HeaderName::Route, route.as_bytes());
            }
            writer
                .header_number(HeaderName::MaxForwards, 70)
                .header_with(HeaderName::From, |b| {
                    b.extend_from_slice(account.address.as_bytes());
                    b.extend_from_slice(b";tag=");
                    b.extend_from_slice(from_tag.as_bytes());
                })
                .header_with(HeaderName::To, |b| {
                    b.push(b'<');
                    b.extend_from_slice(target.as_bytes());
                    b.push(b'>');
                })
                .header(HeaderName::CallId, call_id.as_bytes())
                .header_with(HeaderName::CSeq, |b| {
                    b.extend_from_slice(cseq.to_string().as_bytes());
                    b.extend_from_slice(b" MESSAGE");
                });
            if let Some(group) = &message.group {
                writer.header_with(HeaderName::XGroup, |b| {
                    write_x_group(b, &group.name, &group.uri)
                });
            }
            account.write_ims_headers(&mut writer);
            if let Some(agent) = &user_agent {
                writer.header(HeaderName::UserAgent, agent.as_bytes());
            }
            for (name, value) in &message.headers {
                writer.header(HeaderName::from_wire(name), value.as_bytes());
            }
            writer.header(HeaderName::ContentType, message.content_type.as_bytes());
            writer.finish(&message.body);
            // RFC 3261 §18.1.1 / RFC 3428 §7: too large for UDP goes over TCP.
            if transport == Transport::Udp && bytes.len() > mtu_limit {
                match self.local_for(Transport::Tcp, remote) {
                    Some(tcp) => {
                        transport = Transport::Tcp;
                        local = tcp;
                        continue;
                    }
                    None => {
                        self.drop_branch(branch);
                        return Err(MessageError::TooLargeForUdp { size: bytes.len() });
                    }
                }
            }
            break;
        }
        let slot = self.next_key();
        self.outgoing.insert(
            slot,
            OutgoingCopy {
                account: account_id,
                id: message.id,
                member: member.clone(),
                group: group_key,
            },
        );
        self.events.push_back(Event::MessageSending {
            account: account_id,
            id: message.id,
            member,
            call_id,
            cseq,
        });
        self.start_client(
            now,
            Owner::Message(slot),
            "MESSAGE",
            branch,
            transport,
            local,
            remote,
            bytes,
        );
        Ok(())
    }

    /// A final response to a MESSAGE copy.
    pub(super) fn message_response(&mut self, now: Instant, slot: u64, status: u16, reason: &str) {
        let Some(copy) = self.outgoing.remove(&slot) else {
            return;
        };
        let accepted = (200..300).contains(&status);
        if accepted {
            self.events.push_back(Event::MessageAccepted {
                account: copy.account,
                id: copy.id,
                member: copy.member,
                status,
            });
        } else {
            self.events.push_back(Event::MessageFailed {
                account: copy.account,
                id: copy.id,
                member: copy.member,
                reason: MessageError::Rejected {
                    status,
                    reason: reason.to_owned(),
                },
            });
        }
        self.copy_done(now, copy.account, copy.group.as_deref(), copy.id, accepted);
    }

    /// A MESSAGE copy got no final response.
    pub(super) fn message_failed(&mut self, now: Instant, slot: u64, timeout: bool) {
        let Some(copy) = self.outgoing.remove(&slot) else {
            return;
        };
        self.events.push_back(Event::MessageFailed {
            account: copy.account,
            id: copy.id,
            member: copy.member,
            reason: if timeout {
                MessageError::Timeout
            } else {
                MessageError::Transport
            },
        });
        self.copy_done(now, copy.account, copy.group.as_deref(), copy.id, false);
    }

    /// One copy of a group's message in flight ended; the next message leaves after the
    /// first 2xx or when every copy has failed. Copies of an older message are ignored.
    fn copy_done(
        &mut self,
        now: Instant,
        account: AccountId,
        group: Option<&str>,
        id: u64,
        accepted: bool,
    ) {
        let Some(group) = group else { return };
        let key = (account, group.to_owned());
        let Some(queue) = self.group_queues.get_mut(&key) else {
            return;
        };
        let Some(in_flight) = queue.in_flight.as_mut().filter(|f| f.id == id) else {
            return;
        };
        in_flight.outstanding = in_flight.outstanding.saturating_sub(1);
        let release = accepted || in_flight.outstanding == 0;
        if !release {
            return;
        }
        queue.in_flight = None;
        match queue.waiting.pop_front() {
            Some(next) => self.dispatch_message(now, account, next),
            None => {
                self.group_queues.remove(&key);
            }
        }
    }

    /// A MESSAGE request arrived: hand it up as [`Event::MessageReceived`] (or answer 413
    /// for a body over the limit, 400 for unusable headers).
    pub(super) fn incoming_message(
        &mut self,
        now: Instant,
        transaction: TransactionKey,
        request: &crate::sip::SipMessage<'_>,
        account: Option<AccountId>,
    ) {
        if request.body().len() > self.config.max_message_body {
            let _ = self.respond(now, transaction, 413, None, &[], b"");
            return;
        }
        match IncomingMessage::from_request(request, transaction, account) {
            Some(message) => self
                .events
                .push_back(Event::MessageReceived(Box::new(message))),
            None => {
                let _ = self.respond(now, transaction, 400, None, &[], b"");
            }
        }
    }
}

/// multipart/mixed with the text and an `application/resource-lists+xml` part listing
/// the members; `None` when a part cannot be written (e.g. the text holds the boundary).
fn fan_out_body(
    boundary: &str,
    name: &str,
    members: &[String],
    content_type: &str,
    body: &[u8],
) -> Option<(String, Vec<u8>)> {
    use crate::im::{multipart, resource_lists};
    let entries: Vec<resource_lists::Entry<'_>> = members
        .iter()
        .map(|m| {
            let mut entry = resource_lists::Entry::new(m, None);
            entry.copy_control = Some(resource_lists::CopyControl::To);
            entry
        })
        .collect();
    let mut list = Vec::new();
    resource_lists::write(&mut list, Some(name), &entries).ok()?;
    let parts = [
        multipart::OutgoingPart {
            content_type,
            headers: &[],
            body,
        },
        multipart::OutgoingPart {
            content_type: "application/resource-lists+xml",
            headers: &[("Content-Disposition", "recipient-list")],
            body: &list,
        },
    ];
    let mut out = Vec::with_capacity(body.len() + list.len() + 256);
    multipart::write(&mut out, boundary, &parts).ok()?;
    let mut content = Vec::new();
    multipart::write_content_type(&mut content, boundary).ok()?;
    Some((String::from_utf8(content).ok()?, out))
}
