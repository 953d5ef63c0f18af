//! Pager-mode instant messages (RFC 3428) and the group chat of this project: what the
//! application asks to send, what arrives, and how group messages are paced.

use std::collections::VecDeque;

use crate::sip::SipMessage;
use crate::sip::typed::{CSeq, CallId, ContentType, From, To, XGroup};

/// How a group message reaches the members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMode {
    /// The core network resolves the group URI and forks the MESSAGE to every member
    /// (the paper's mode): one MESSAGE, Request-URI and To = the group URI.
    Network,
    /// The core has no group support: one MESSAGE per member, To = the member, the same
    /// `X-Group` header, and a body listing the members.
    FanOut {
        /// The members' URIs (the sender's own AOR is skipped).
        members: Vec<String>,
    },
}

/// The group a message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTarget {
    /// The group's name, sent in `X-Group`.
    pub name: String,
    /// The group URI, `sip:friends@ims.test`.
    pub uri: String,
    /// How it is delivered.
    pub mode: GroupMode,
}

/// A message the application wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The application's id for it (e.g. the store's row id); events name it.
    pub id: u64,
    /// The peer's URI (ignored for a group message: the group decides).
    pub to: String,
    /// The body.
    pub body: Vec<u8>,
    /// Its Content-Type, e.g. `text/plain;charset=UTF-8` or `message/cpim`.
    pub content_type: String,
    /// The Call-ID to use (resending after a restart reuses the stored one so the
    /// receiver can drop the duplicate); `None`: a new one.
    pub call_id: Option<String>,
    /// The CSeq number to use with `call_id`.
    pub cseq: Option<u32>,
    /// Set for a group chat message.
    pub group: Option<GroupTarget>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

/// A MESSAGE that arrived, for the application to store and then answer with
/// `Command::Respond` (200 once it is stored: nothing acknowledged is lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// The server transaction to answer on.
    pub transaction: crate::transaction::TransactionKey,
    /// The account the Request-URI names, if any.
    pub account: Option<super::AccountId>,
    /// The sender (From URI).
    pub from: String,
    /// The sender's display name, if any.
    pub from_display: Option<String>,
    /// To URI (the group URI for a network-mode group message).
    pub to: String,
    /// Call-ID and CSeq number: with `from`, what duplicates are recognised by.
    pub call_id: String,
    /// The CSeq number.
    pub cseq: u32,
    /// Content-Type as received (`text/plain` when absent, RFC 3428 §4... default).
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
    /// The group (name, URI) from `X-Group`, for a group message.
    pub group: Option<(String, String)>,
    /// The members a client fan-out copy lists (its resource-lists part); empty otherwise.
    /// `body` and `content_type` are then those of the text part.
    pub group_members: Vec<String>,
    /// P-Asserted-Identity, when the network asserted who sent it.
    pub asserted_identity: Option<String>,
}

impl IncomingMessage {
    /// Reads a MESSAGE request; `None` when From/To/Call-ID/CSeq are unusable.
    pub(crate) fn from_request(
        request: &SipMessage<'_>,
        transaction: crate::transaction::TransactionKey,
        account: Option<super::AccountId>,
    ) -> Option<IncomingMessage> {
        let from = request.header::<From>()?.ok()?;
        let to = request.header::<To>()?.ok()?;
        let call_id = request.header::<CallId>()?.ok()?;
        let cseq = request.header::<CSeq>()?.ok()?;
        let content_type = request
            .raw(crate::sip::HeaderKind::ContentType)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_else(|| "text/plain".to_owned());
        let _ = request.header::<ContentType>();
        let group = request
            .header::<XGroup>()
            .and_then(Result::ok)
            .map(|group| {
                let name = group
                    .display_name
                    .and_then(|d| d.to_text().map(|t| t.into_owned()))
                    .unwrap_or_default();
                (name, group.uri.as_str().to_owned())
            });
        let asserted_identity = request
            .header::<crate::sip::typed::PAssertedIdentity>()
            .and_then(Result::ok)
            .map(|p| p.uri.as_str().to_owned());
        let mut body = request.body().to_vec();
        let mut content_type = content_type;
        let mut group_members = Vec::new();
        if group.is_some()
            && content_type
                .to_ascii_lowercase()
                .starts_with("multipart/mixed")
            && let Ok(parts) = crate::im::multipart::parse(content_type.as_bytes(), request.body())
        {
            let mut text = None;
            for part in &parts {
                let part_type = part.content_type().to_ascii_lowercase();
                if part_type.starts_with("application/resource-lists+xml") {
                    if let Ok(lists) = crate::im::resource_lists::parse(part.body) {
                        group_members = lists
                            .entries()
                            .map(|e| e.uri.clone().into_owned())
                            .collect();
                    }
                } else if text.is_none() {
                    text = Some(part);
                }
            }
            if let Some(text) = text {
                body = text.body.to_vec();
                content_type = text.content_type().to_owned();
            }
        }
        Some(IncomingMessage {
            group_members,
            transaction,
            account,
            from: from.uri.as_str().to_owned(),
            from_display: from
                .display_name
                .and_then(|d| d.to_text().map(|t| t.into_owned())),
            to: to.uri.as_str().to_owned(),
            call_id: call_id.0.to_owned(),
            cseq: cseq.seq,
            content_type,
            body,
            group,
            asserted_identity,
        })
    }
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// A final error response.
    #[error("{status} {reason}")]
    Rejected {
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// No final response within Timer F.
    #[error("no response (timeout)")]
    Timeout,
    /// The transport failed.
    #[error("could not reach the next hop")]
    Transport,
    /// The request is larger than UDP allows (MTU - 200) and no TCP is available.
    #[error("message of {size} bytes is too large for UDP and no TCP transport is available")]
    TooLargeForUdp {
        /// The request size.
        size: usize,
    },
    /// The URI is not usable.
    #[error("{uri:?} is not a SIP or tel URI")]
    InvalidUri {
        /// What was given.
        uri: String,
    },
    /// A fan-out group without members other than the sender.
    #[error("the group has no members to send to")]
    NoMembers,
}

/// One group's sending state: message n+1 leaves after a 2xx (or the failure of every
/// copy) of message n.
#[derive(Debug, Default)]
pub(crate) struct GroupQueue {
    /// The message in flight: its id, copies outstanding, and whether a 2xx came.
    pub(crate) in_flight: Option<InFlight>,
    pub(crate) waiting: VecDeque<OutgoingMessage>,
}

#[derive(Debug)]
pub(crate) struct InFlight {
    pub(crate) id: u64,
    pub(crate) outstanding: usize,
}

/// Writes `"Name" <uri>` for X-Group (quotes and backslashes escaped).
pub(crate) fn write_x_group(out: &mut Vec<u8>, name: &str, uri: &str) {
    out.push(b'"');
    for byte in name.bytes().filter(|b| *b != b'\r' && *b != b'\n') {
        if byte == b'"' || byte == b'\\' {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out.extend_from_slice(b"\" <");
    out.extend_from_slice(uri.as_bytes());
    out.push(b'>');
}
