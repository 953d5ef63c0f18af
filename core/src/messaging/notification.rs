//! The CPIM envelope (RFC 3862) and the delivery notifications (RFC 5438) of the
//! messaging service: wrapping a stored text for the wire, reading what arrives, and
//! writing the notification that answers a message asking for one.

use std::time::SystemTime;

use crate::im::cpim::{self, Address, CpimHead, Disposition};
use crate::im::{datetime, imdn};
use crate::store::Message;

/// What a received body is, once its CPIM envelope (if any) is read.
#[derive(Debug)]
pub(super) enum Content<'a> {
    /// Not CPIM: stored as it came.
    Plain,
    /// A CPIM message for the user.
    Message(CpimText<'a>),
    /// A CPIM body carrying a disposition notification.
    Notification(imdn::Notification<'a>),
    /// A CPIM body that cannot be read, or one whose `Require` names a header this
    /// client does not understand (RFC 3862 §3.5 forbids processing it): refused with 400.
    Refused,
}

/// The parts of a CPIM message that are stored or answered.
#[derive(Debug)]
pub(super) struct CpimText<'a> {
    /// The content's media type (`text/plain` when the content headers name none, the
    /// MIME default).
    pub content_type: &'a str,
    /// The content.
    pub body: &'a [u8],
    /// `imdn.Message-ID`, stored so that a resend of the same message is recognised.
    pub message_id: Option<&'a str>,
    /// `DateTime`, echoed in the notification.
    pub datetime: Option<&'a str>,
    /// The CPIM `From` URI, the notification's CPIM `To`.
    pub from: Option<&'a str>,
    /// What the sender asked to be told.
    pub disposition: Disposition,
}

impl CpimText<'_> {
    /// True when the sender asked for a positive delivery notification and gave the
    /// Message-ID that it must name (RFC 5438 §6.3: no Message-ID, nothing to report on).
    pub fn asks_for_delivery(&self) -> bool {
        self.disposition.positive_delivery && self.message_id.is_some()
    }
}

/// True for a `message/cpim` Content-Type (parameters and case ignored).
pub(super) fn is_cpim(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case(cpim::CONTENT_TYPE)
}

/// Reads a received body: plain, a CPIM message, a CPIM notification, or refused.
pub(super) fn read<'a>(content_type: &str, body: &'a [u8]) -> Content<'a> {
    if !is_cpim(content_type) {
        return Content::Plain;
    }
    let message = match cpim::parse(body) {
        Ok(message) => message,
        Err(error) => {
            tracing::warn!(%error, "malformed CPIM body refused");
            return Content::Refused;
        }
    };
    if let Some(required) = message.unsupported_required() {
        tracing::warn!(
            required,
            "CPIM body requires a header this client does not know"
        );
        return Content::Refused;
    }
    if imdn::is_notification(&message) {
        return match imdn::parse(message.body) {
            Ok(notification) => Content::Notification(notification),
            Err(error) => {
                tracing::warn!(%error, "malformed IMDN refused");
                Content::Refused
            }
        };
    }
    Content::Message(CpimText {
        content_type: message.content_type().unwrap_or("text/plain"),
        body: message.body,
        message_id: message.message_id,
        datetime: message.datetime,
        from: message.from.as_ref().map(|from| from.uri),
        disposition: message.disposition,
    })
}

/// The CPIM body of a stored outgoing text that carries an IMDN Message-ID: `From` the
/// account, `To` the peer, `DateTime` the time it was stored (so a resend after a restart
/// writes the same envelope), asking for `positive-delivery`.
pub(super) fn wrap(
    stored: &Message,
    to: &str,
    message_id: &str,
) -> Result<Vec<u8>, cpim::CpimError> {
    let mut body = Vec::with_capacity(stored.body.len() + 256);
    let head = CpimHead {
        from: Address::new(None, stored.sender.as_str()),
        to: Address::new(None, to),
        datetime: stored.created_at,
        message_id,
        disposition: Disposition::POSITIVE_DELIVERY,
        content_type: &stored.content_type,
        content_headers: &[],
    };
    cpim::write(&mut body, &head, &stored.body)?;
    Ok(body)
}

/// The CPIM body of a `delivered` notification (RFC 5438 §7.2.1.1) for `text`, from
/// the account `own` to `sender` (the SIP From, when the CPIM `From` is missing);
/// `message_id` is the notification's own Message-ID.
pub(super) fn delivered(
    text: &CpimText<'_>,
    own: &str,
    sender: &str,
    message_id: &str,
    now: SystemTime,
) -> Result<Vec<u8>, imdn::ImdnError> {
    let original = text.message_id.unwrap_or_default();
    // A message asking for a notification must carry DateTime (RFC 5438 §6.3); if it
    // did not, the time it arrived is the best this client can report.
    let mut received_at = Vec::new();
    let datetime = match text.datetime {
        Some(datetime) => datetime,
        None => {
            datetime::write(&mut received_at, now);
            std::str::from_utf8(&received_at).unwrap_or_default()
        }
    };
    let report = imdn::Notification::delivery(original, datetime, own, imdn::Status::Delivered);
    let mut body = Vec::with_capacity(512);
    imdn::write_cpim(
        &mut body,
        Address::new(None, own),
        Address::new(None, text.from.unwrap_or(sender)),
        now,
        message_id,
        &report,
    )?;
    Ok(body)
}
