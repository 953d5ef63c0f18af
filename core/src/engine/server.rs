//! The server side: matching requests to server transactions (RFC 3261 §17.2.3, with the
//! RFC 2543 fallback), answering OPTIONS and CANCEL, handing the rest to the application.

use std::net::SocketAddr;
use std::time::Instant;

use crate::sip::typed::{CSeq, CallId, From, To, TypedHeader, Via, split_list};
use crate::sip::{
    HeaderKind, HeaderName, Limits, MessageWriter, RawHeader, SipMessage, WriteOptions,
};
use crate::transaction::{
    ServerState, ServerTransaction, TimerAction, TransactionKey, TransactionKind,
};
use crate::transport::{Transport, response_destination, write_top_via};

use super::client::MAGIC_COOKIE;
use super::event::{CommandError, Event, IncomingRequest};
use super::hub::{Engine, Server, Target};

/// Methods this engine answers itself or hands up.
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY";

impl Engine {
    /// A request arrived.
    pub(super) fn handle_request(
        &mut self,
        now: Instant,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        request: &SipMessage<'_>,
    ) {
        let Some(method) = request.method() else {
            return;
        };
        let is_ack = method.as_str() == "ACK";
        let via = match request.header::<Via>() {
            Some(Ok(via)) => via,
            _ => {
                self.stats.malformed += 1;
                tracing::warn!(%remote, "request without a usable Via dropped");
                return;
            }
        };
        if let Err(invalid) = request.validate() {
            self.stats.malformed += 1;
            tracing::warn!(%remote, reason = %invalid, "invalid request");
            if !is_ack {
                self.respond_stateless(
                    transport,
                    local,
                    remote,
                    request,
                    &via,
                    invalid.status,
                    &invalid.to_string(),
                );
            }
            return;
        }
        let Some(index_key) = server_key(
            request,
            &via,
            if is_ack { "INVITE" } else { method.as_str() },
        ) else {
            self.stats.malformed += 1;
            return;
        };
        if let Some(&key) = self.server_index.get(&index_key) {
            self.retransmitted_request(now, key, is_ack);
            return;
        }
        if is_ack {
            // An ACK for a 2xx belongs to a dialog; there are none yet.
            tracing::debug!(%remote, "ACK outside any transaction ignored");
            return;
        }
        let kind = TransactionKind::of(method.as_str());
        let response_to = if transport.is_reliable() {
            remote
        } else {
            response_destination(&via, remote)
        };
        let key = self.next_key();
        let to_tag = self.token(8);
        let respond_by =
            (kind == TransactionKind::NonInvite).then(|| now + self.config.timers.t1_x64());
        self.stats.server_transactions += 1;
        self.server_index.insert(index_key.clone(), key);
        self.servers.insert(
            key,
            Server {
                machine: ServerTransaction::start(
                    kind,
                    transport.is_reliable(),
                    &self.config.timers,
                ),
                index_key,
                request: request.as_bytes().to_vec(),
                transport,
                local,
                source: remote,
                response_to,
                to_tag,
                last_response: None,
                respond_by,
                scheduled: None,
            },
        );
        let transaction = TransactionKey(key);
        match method.as_str() {
            "INVITE" => {
                // §17.2.1: 100 Trying at once, so the client stops retransmitting.
                let _ = self.respond(now, transaction, 100, None, &[], b"");
                self.hand_up(transaction, request, remote, transport);
            }
            "OPTIONS" => {
                let headers = [
                    ("Allow".to_owned(), ALLOW.to_owned()),
                    (
                        "Accept".to_owned(),
                        "application/sdp, text/plain".to_owned(),
                    ),
                ];
                let _ = self.respond(now, transaction, 200, None, &headers, b"");
            }
            "CANCEL" => self.cancel(now, transaction, request, &via),
            "MESSAGE" => {
                let account = self.account_for(request);
                self.incoming_message(now, transaction, request, account);
            }
            _ => {
                if !self.take_reg_notify(now, transaction, request) {
                    self.hand_up(transaction, request, remote, transport);
                }
            }
        }
        self.reschedule_server(key);
    }

    /// The account a request's Request-URI names (by the Contact user).
    fn account_for(&self, request: &SipMessage<'_>) -> Option<crate::ua::AccountId> {
        request
            .request_uri()
            .and_then(|uri| crate::sip::Uri::parse(uri).ok())
            .and_then(|uri| {
                uri.user()
                    .and_then(|user| self.accounts_by_user.get(user).copied())
            })
    }

    fn hand_up(
        &mut self,
        transaction: TransactionKey,
        request: &SipMessage<'_>,
        remote: SocketAddr,
        transport: Transport,
    ) {
        let account = self.account_for(request);
        self.events
            .push_back(Event::IncomingRequest(Box::new(IncomingRequest {
                transaction,
                account,
                method: request
                    .method()
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
                bytes: request.as_bytes().to_vec(),
                source: remote,
                transport,
            })));
    }

    /// CANCEL (RFC 3261 §9.2): 200 to the CANCEL and 487 to the INVITE it names, or 481.
    fn cancel(
        &mut self,
        now: Instant,
        transaction: TransactionKey,
        request: &SipMessage<'_>,
        via: &Via<'_>,
    ) {
        let invite =
            server_key(request, via, "INVITE").and_then(|k| self.server_index.get(&k).copied());
        let pending =
            invite.filter(|k| self.servers.get(k).is_some_and(|s| s.machine.can_respond()));
        match pending {
            Some(invite) => {
                let _ = self.respond(now, transaction, 200, None, &[], b"");
                let _ = self.respond(now, TransactionKey(invite), 487, None, &[], b"");
            }
            None => {
                let _ = self.respond(now, transaction, 481, None, &[], b"");
            }
        }
    }

    /// A retransmitted request (or an ACK) matched server transaction `key`.
    fn retransmitted_request(&mut self, now: Instant, key: u64, is_ack: bool) {
        let timers = self.config.timers;
        let Some(server) = self.servers.get_mut(&key) else {
            return;
        };
        match server.machine.on_request(now, is_ack, &timers) {
            crate::transaction::RequestAction::ResendResponse => {
                if let Some(bytes) = server.last_response.clone() {
                    let (transport, local, remote) =
                        (server.transport, server.local, server.response_to);
                    self.stats.retransmissions += 1;
                    self.queue(transport, local, remote, bytes);
                }
            }
            crate::transaction::RequestAction::Absorb => {}
            crate::transaction::RequestAction::DeliverAck => {
                tracing::debug!("ACK for a 2xx: no dialog layer yet");
            }
        }
        self.reschedule_server(key);
    }

    /// Sends a response on server transaction `transaction`.
    pub(super) fn respond(
        &mut self,
        now: Instant,
        transaction: TransactionKey,
        status: u16,
        reason: Option<&str>,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), CommandError> {
        if !(100..=699).contains(&status) {
            return Err(CommandError::InvalidStatus(status));
        }
        let unsafe_text = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0);
        if reason.is_some_and(unsafe_text)
            || headers.iter().any(|(name, value)| {
                name.is_empty()
                    || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
                    || unsafe_text(value)
            })
        {
            return Err(CommandError::UnsafeHeader);
        }
        let timers = self.config.timers;
        let user_agent = self.config.user_agent.clone();
        let key = transaction.0;
        let server = self
            .servers
            .get_mut(&key)
            .filter(|s| s.machine.can_respond())
            .ok_or(CommandError::NoTransaction(transaction))?;
        let reason = reason.unwrap_or(default_reason(status));
        let bytes = write_response(server, status, reason, user_agent.as_deref(), headers, body)
            .ok_or(CommandError::NoTransaction(transaction))?;
        server.machine.on_send_response(now, status, &timers);
        if status >= 200 {
            server.respond_by = None;
        }
        let (transport, local, remote) = (server.transport, server.local, server.response_to);
        server.last_response = Some(bytes.clone());
        let terminated = server.machine.state() == ServerState::Terminated;
        self.queue(transport, local, remote, bytes);
        if terminated {
            self.remove_server(key);
        } else {
            self.reschedule_server(key);
        }
        Ok(())
    }

    /// A response that needs no transaction: to a request that failed validation.
    #[allow(clippy::too_many_arguments)]
    fn respond_stateless(
        &mut self,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        request: &SipMessage<'_>,
        via: &Via<'_>,
        status: u16,
        warning: &str,
    ) {
        let to_tag = self.token(8);
        let mut out = Vec::with_capacity(512);
        let mut writer = MessageWriter::response_to(
            &mut out,
            request,
            status,
            default_reason(status),
            Some(&to_tag),
            WriteOptions::default(),
        );
        writer.header_with(HeaderName::Warning, |b| {
            b.extend_from_slice(b"399 ims-rs \"");
            b.extend(warning.bytes().filter(|c| *c != b'"' && *c != b'\\'));
            b.push(b'"');
        });
        writer.finish(b"");
        let destination = if transport.is_reliable() {
            remote
        } else {
            response_destination(via, remote)
        };
        self.queue(transport, local, destination, out);
    }

    /// A datagram whose Content-Length promises more body than it holds (RFC 3261 §18.3):
    /// a request gets 400 Bad Request, without a transaction and without reaching the
    /// application; an ACK or a response is dropped. `header_end` is where the body
    /// starts. The header section parsed, so the request is parsed once more with its
    /// body filled up to the declared length, for the headers the 400 copies.
    pub(super) fn reject_short_body(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
        header_end: usize,
        declared: u32,
        slots: &mut [RawHeader],
    ) {
        // The parser checked header_end + declared against the message size limit.
        let Some(length) = usize::try_from(declared)
            .ok()
            .and_then(|declared| header_end.checked_add(declared))
            .filter(|length| *length > bytes.len())
        else {
            return;
        };
        let mut filled = Vec::with_capacity(length);
        filled.extend_from_slice(bytes);
        filled.resize(length, b' ');
        let limits = self.config.limits;
        let Ok(request) = SipMessage::parse_datagram(&filled, slots, &limits) else {
            return;
        };
        if request.method().is_none_or(|m| m.as_str() == "ACK") {
            return;
        }
        let Some(Ok(via)) = request.header::<Via>() else {
            return;
        };
        let available = bytes.len().saturating_sub(header_end);
        let warning =
            format!("Content-Length {declared} exceeds the {available} body bytes received");
        self.respond_stateless(Transport::Udp, local, remote, &request, &via, 400, &warning);
    }

    pub(super) fn reschedule_server(&mut self, key: u64) {
        let Some(server) = self.servers.get_mut(&key) else {
            return;
        };
        let next = [server.machine.next_deadline(), server.respond_by]
            .into_iter()
            .flatten()
            .min();
        if next != server.scheduled {
            server.scheduled = next;
            if let Some(at) = next {
                self.schedule(at, Target::Server(key));
            }
        }
    }

    pub(super) fn remove_server(&mut self, key: u64) {
        if let Some(server) = self.servers.remove(&key) {
            self.server_index.remove(&server.index_key);
        }
    }

    /// A server timer fired.
    pub(super) fn server_timer(&mut self, now: Instant, key: u64, at: Instant) {
        let timers = self.config.timers;
        let Some(server) = self.servers.get_mut(&key) else {
            return;
        };
        if server.scheduled != Some(at) {
            return;
        }
        server.scheduled = None;
        if server.respond_by.is_some_and(|by| by <= now) && server.machine.can_respond() {
            tracing::warn!(transaction = %TransactionKey(key), "application never answered the request");
            self.remove_server(key);
            self.events.push_back(Event::RequestTimedOut {
                transaction: TransactionKey(key),
            });
            return;
        }
        loop {
            let Some(server) = self.servers.get_mut(&key) else {
                return;
            };
            match server.machine.on_timer(now, &timers) {
                TimerAction::Nothing => break,
                TimerAction::Retransmit => {
                    if let Some(bytes) = server.last_response.clone() {
                        let (transport, local, remote) =
                            (server.transport, server.local, server.response_to);
                        self.stats.retransmissions += 1;
                        self.queue(transport, local, remote, bytes);
                    }
                }
                TimerAction::Timeout | TimerAction::Terminated => {
                    self.remove_server(key);
                    return;
                }
            }
        }
        self.reschedule_server(key);
    }
}

/// The key a request is matched by: RFC 3261 §17.2.3 (branch, sent-by, method) when the
/// branch carries the magic cookie, else the RFC 2543 fields.
fn server_key(request: &SipMessage<'_>, via: &Via<'_>, method: &str) -> Option<String> {
    let port = via.sent_by.port.unwrap_or(5060);
    match via.branch() {
        Some(branch) if branch.starts_with(MAGIC_COOKIE) => Some(format!(
            "{branch}|{}:{port}|{method}",
            via.sent_by.host_str.to_ascii_lowercase()
        )),
        _ => {
            let from = request.header::<From>()?.ok()?;
            let call_id = request.header::<CallId>()?.ok()?;
            let cseq = request.header::<CSeq>()?.ok()?;
            Some(format!(
                "2543|{}|{}|{}|{}|{}|{}:{port}|{method}",
                request.request_uri()?,
                from.tag().unwrap_or(""),
                call_id.0,
                cseq.seq,
                String::from_utf8_lossy(request.raw(HeaderKind::Via)?),
                via.sent_by.host_str,
            ))
        }
    }
}

/// Writes a response to the server's request: Vias (the top one with received/rport),
/// From, To (with our tag past 100), Call-ID, CSeq, Server, then `headers` and `body`.
fn write_response(
    server: &Server,
    status: u16,
    reason: &str,
    user_agent: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<Vec<u8>> {
    let mut slots = [RawHeader::EMPTY; 128];
    let request = SipMessage::parse_datagram(&server.request, &mut slots, &Limits::DEFAULT).ok()?;
    let to_has_tag = matches!(request.header::<To>(), Some(Ok(to)) if to.tag().is_some());
    let mut out = Vec::with_capacity(server.request.len().min(1024) + body.len() + 128);
    let mut writer = MessageWriter::response(&mut out, status, reason, WriteOptions::default());
    let mut first_via = true;
    for header in request.headers() {
        match header.name.kind() {
            HeaderKind::Via if first_via => {
                first_via = false;
                let mut elements = split_list(header.value, true);
                let top = elements.next()?;
                let via = Via::parse(top).ok()?;
                writer.header_with(HeaderName::Via, |b| {
                    write_top_via(b, top, &via, server.source);
                    for element in elements {
                        b.extend_from_slice(b", ");
                        b.extend_from_slice(element);
                    }
                });
            }
            HeaderKind::Via | HeaderKind::From | HeaderKind::CallId | HeaderKind::CSeq => {
                writer.header(header.name, header.value);
            }
            HeaderKind::To => {
                writer.header_with(header.name, |b| {
                    b.extend_from_slice(header.value);
                    if !to_has_tag && status > 100 {
                        b.extend_from_slice(b";tag=");
                        b.extend_from_slice(server.to_tag.as_bytes());
                    }
                });
            }
            _ => {}
        }
    }
    if let Some(agent) = user_agent {
        writer.header(HeaderName::Server, agent.as_bytes());
    }
    for (name, value) in headers {
        writer.header(HeaderName::from_wire(name), value.as_bytes());
    }
    writer.finish(body);
    Some(out)
}

/// The RFC 3261 §21 reason phrase for `status`.
pub(super) fn default_reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match status / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirect",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}
