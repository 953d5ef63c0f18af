//! Instant message disposition notifications, `message/imdn+xml` (RFC 5438 §7.2.1,
//! schema in §8): the document a recipient sends back to say a message was delivered,
//! displayed or processed, and the CPIM envelope it travels in.

use std::borrow::Cow;
use std::time::SystemTime;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::cpim::{self, Address, CpimError, CpimHead, CpimMessage, Disposition};
use super::xml::{self, Text};

/// The media type of a notification.
pub const CONTENT_TYPE: &str = "message/imdn+xml";
/// The notification's XML namespace (RFC 5438 §8).
pub const NAMESPACE: &str = "urn:ietf:params:xml:ns:imdn";
/// Largest document accepted, bytes.
pub const MAX_SIZE: usize = 16 * 1024;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 16;
/// Longest text of one element accepted, bytes.
pub const MAX_TEXT: usize = 4096;

/// Why a notification was refused, or could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImdnError {
    /// Not well-formed XML (or an undeclared entity).
    #[error("IMDN is not well-formed XML at byte {position}")]
    Xml {
        /// Byte offset.
        position: u64,
    },
    /// The root element is not `<imdn>` in the IMDN namespace.
    #[error("the root element is not <imdn>")]
    NotImdn,
    /// A required element is missing: `message-id`, `datetime`, or a notification with
    /// a status this module knows.
    #[error("IMDN lacks <{element}>")]
    Missing {
        /// The element.
        element: &'static str,
    },
    /// Past one of the limits.
    #[error("IMDN exceeds the limit on {what}")]
    TooLarge {
        /// Which limit.
        what: &'static str,
    },
    /// The writer was given a status that the notification kind does not have
    /// (`displayed` in a delivery notification), or an empty Message-ID.
    #[error("cannot write IMDN: invalid {field}")]
    InvalidValue {
        /// Which field.
        field: &'static str,
    },
    /// The CPIM envelope could not be written.
    #[error(transparent)]
    Cpim(#[from] CpimError),
}

/// Which notification a document carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<delivery-notification>`.
    Delivery,
    /// `<display-notification>`.
    Display,
    /// `<processing-notification>`.
    Processing,
}

impl Kind {
    fn element(self) -> &'static str {
        match self {
            Kind::Delivery => "delivery-notification",
            Kind::Display => "display-notification",
            Kind::Processing => "processing-notification",
        }
    }
}

/// The disposition reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Delivered to the recipient (delivery).
    Delivered,
    /// Could not be delivered (delivery).
    Failed,
    /// Shown to the user (display).
    Displayed,
    /// Processed by an intermediary (processing).
    Processed,
    /// Stored by an intermediary for later delivery (processing).
    Stored,
    /// The recipient refuses to tell (any kind).
    Forbidden,
    /// An error while producing the notification (any kind).
    Error,
}

impl Status {
    fn element(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Displayed => "displayed",
            Status::Processed => "processed",
            Status::Stored => "stored",
            Status::Forbidden => "forbidden",
            Status::Error => "error",
        }
    }

    /// True when a `kind` notification may carry this status (RFC 5438 §8).
    pub fn fits(self, kind: Kind) -> bool {
        match self {
            Status::Delivered | Status::Failed => kind == Kind::Delivery,
            Status::Displayed => kind == Kind::Display,
            Status::Processed | Status::Stored => kind == Kind::Processing,
            Status::Forbidden | Status::Error => true,
        }
    }

    fn parse(name: &str, kind: Kind) -> Option<Status> {
        let status = match name {
            "delivered" => Status::Delivered,
            "failed" => Status::Failed,
            "displayed" => Status::Displayed,
            "processed" => Status::Processed,
            "stored" => Status::Stored,
            "forbidden" => Status::Forbidden,
            "error" => Status::Error,
            _ => return None,
        };
        status.fits(kind).then_some(status)
    }
}

/// A notification: which message, when it was sent, who reports, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification<'a> {
    /// The `imdn.Message-ID` of the message reported on.
    pub message_id: Cow<'a, str>,
    /// The `DateTime` of the message reported on, as it carried it.
    pub datetime: Cow<'a, str>,
    /// The recipient that reports.
    pub recipient_uri: Option<Cow<'a, str>>,
    /// The recipient the sender addressed, when a service changed it.
    pub original_recipient_uri: Option<Cow<'a, str>>,
    /// Which notification.
    pub kind: Kind,
    /// What happened.
    pub status: Status,
}

impl<'a> Notification<'a> {
    /// A delivery notification (`delivered` or `failed`) for the message `message_id`
    /// sent at `datetime` (its CPIM `DateTime` value), reported by `recipient_uri`.
    pub fn delivery(
        message_id: &'a str,
        datetime: &'a str,
        recipient_uri: &'a str,
        status: Status,
    ) -> Notification<'a> {
        Notification {
            message_id: Cow::Borrowed(message_id),
            datetime: Cow::Borrowed(datetime),
            recipient_uri: Some(Cow::Borrowed(recipient_uri)),
            original_recipient_uri: None,
            kind: Kind::Delivery,
            status,
        }
    }

    /// The reported message's `datetime` as an instant.
    pub fn sent_at(&self) -> Result<SystemTime, super::datetime::DateTimeError> {
        super::datetime::parse(&self.datetime)
    }
}

/// Appends the `message/imdn+xml` document. On error nothing is appended.
pub fn write(out: &mut Vec<u8>, notification: &Notification<'_>) -> Result<(), ImdnError> {
    if !notification.status.fits(notification.kind) {
        return Err(ImdnError::InvalidValue { field: "status" });
    }
    if notification.message_id.trim().is_empty() {
        return Err(ImdnError::InvalidValue {
            field: "message-id",
        });
    }
    out.extend_from_slice(xml::DECLARATION);
    out.extend_from_slice(b"<imdn xmlns=\"");
    out.extend_from_slice(NAMESPACE.as_bytes());
    out.extend_from_slice(b"\">\r\n");
    let element = |out: &mut Vec<u8>, name: &str, value: &str| {
        out.extend_from_slice(b" <");
        out.extend_from_slice(name.as_bytes());
        out.push(b'>');
        xml::push_text(out, value);
        out.extend_from_slice(b"</");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b">\r\n");
    };
    element(out, "message-id", &notification.message_id);
    element(out, "datetime", &notification.datetime);
    if let Some(uri) = &notification.recipient_uri {
        element(out, "recipient-uri", uri);
    }
    if let Some(uri) = &notification.original_recipient_uri {
        element(out, "original-recipient-uri", uri);
    }
    let kind = notification.kind.element().as_bytes();
    out.extend_from_slice(b" <");
    out.extend_from_slice(kind);
    out.extend_from_slice(b"><status><");
    out.extend_from_slice(notification.status.element().as_bytes());
    out.extend_from_slice(b"/></status></");
    out.extend_from_slice(kind);
    out.extend_from_slice(b">\r\n</imdn>\r\n");
    Ok(())
}

/// Appends a whole CPIM body carrying `notification` (RFC 5438 §7.2.1.1): `From` the
/// reporting recipient, `To` the original sender, the notification's own `message_id`,
/// `Content-Type: message/imdn+xml` and `Content-Disposition: notification`. A
/// notification never asks for notifications. On error nothing is appended.
pub fn write_cpim(
    out: &mut Vec<u8>,
    from: Address<'_>,
    to: Address<'_>,
    now: SystemTime,
    message_id: &str,
    notification: &Notification<'_>,
) -> Result<(), ImdnError> {
    let start = out.len();
    let head = CpimHead {
        from,
        to,
        datetime: now,
        message_id,
        disposition: Disposition::NONE,
        content_type: CONTENT_TYPE,
        content_headers: &[("Content-Disposition", "notification")],
    };
    cpim::write_head(out, &head)?;
    if let Err(error) = write(out, notification) {
        out.truncate(start);
        return Err(error);
    }
    Ok(())
}

/// True when a parsed CPIM body carries a notification: its content is
/// `message/imdn+xml`, or its `Content-Disposition` is `notification`.
pub fn is_notification(message: &CpimMessage<'_>) -> bool {
    let media_type = |value: &str| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case(CONTENT_TYPE)
    };
    let disposition = |value: &str| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("notification")
    };
    message.content_type().is_some_and(media_type)
        || message
            .content_header("Content-Disposition")
            .is_some_and(disposition)
}

/// What an open element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Root,
    /// A text child of the root.
    Field(Field),
    /// A `*-notification` element.
    Notification(Kind),
    /// `<status>` inside a notification.
    Status(Kind),
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    MessageId,
    Datetime,
    RecipientUri,
    OriginalRecipientUri,
}

/// Parses a `message/imdn+xml` document.
pub fn parse(body: &[u8]) -> Result<Notification<'_>, ImdnError> {
    if body.len() > MAX_SIZE {
        return Err(ImdnError::TooLarge { what: "size" });
    }
    let mut reader = NsReader::from_reader(body);
    let mut stack: Vec<Open> = Vec::new();
    let mut seen_root = false;
    let mut text = Text::default();
    let mut fields: [Option<Cow<'_, str>>; 4] = [None, None, None, None];
    let mut outcome: Option<(Kind, Status)> = None;
    loop {
        let position = reader.buffer_position();
        let xml_error = ImdnError::Xml { position };
        let (namespace, event) = reader.read_resolved_event().map_err(|_| xml_error)?;
        let in_namespace = matches!(namespace, ResolveResult::Bound(ns) if ns.0 == NAMESPACE);
        let empty = matches!(event, Event::Empty(_));
        let text_too_long = |_| ImdnError::TooLarge { what: "text" };
        match event {
            Event::Start(element) | Event::Empty(element) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ImdnError::TooLarge { what: "depth" });
                }
                let local = element.local_name();
                let name = if in_namespace { local.as_ref() } else { "" };
                let open = match (stack.last().copied(), name) {
                    (None, "imdn") if !seen_root => Open::Root,
                    (None, _) if seen_root => return Err(xml_error),
                    (None, _) => return Err(ImdnError::NotImdn),
                    (Some(Open::Root), "message-id") => Open::Field(Field::MessageId),
                    (Some(Open::Root), "datetime") => Open::Field(Field::Datetime),
                    (Some(Open::Root), "recipient-uri") => Open::Field(Field::RecipientUri),
                    (Some(Open::Root), "original-recipient-uri") => {
                        Open::Field(Field::OriginalRecipientUri)
                    }
                    (Some(Open::Root), "delivery-notification") => {
                        Open::Notification(Kind::Delivery)
                    }
                    (Some(Open::Root), "display-notification") => Open::Notification(Kind::Display),
                    (Some(Open::Root), "processing-notification") => {
                        Open::Notification(Kind::Processing)
                    }
                    (Some(Open::Notification(kind)), "status") => Open::Status(kind),
                    (Some(Open::Status(kind)), status) => {
                        if let Some(status) = Status::parse(status, kind) {
                            outcome.get_or_insert((kind, status));
                        }
                        Open::Other
                    }
                    _ => Open::Other,
                };
                seen_root |= open == Open::Root;
                if matches!(open, Open::Field(_)) {
                    text = Text::default();
                }
                stack.push(open);
                if empty {
                    close(&mut stack, &mut text, &mut fields);
                }
            }
            Event::End(_) => close(&mut stack, &mut text, &mut fields),
            Event::Text(content) if matches!(stack.last(), Some(Open::Field(_))) => {
                text.push(content.xml10_content(), MAX_TEXT)
                    .map_err(text_too_long)?;
            }
            Event::CData(content) if matches!(stack.last(), Some(Open::Field(_))) => {
                text.push(content.xml10_content(), MAX_TEXT)
                    .map_err(text_too_long)?;
            }
            Event::GeneralRef(reference) => {
                let c = xml::resolve_reference(&reference).ok_or(xml_error)?;
                if matches!(stack.last(), Some(Open::Field(_))) {
                    text.push_char(c, MAX_TEXT).map_err(text_too_long)?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(ImdnError::NotImdn);
    }
    if !stack.is_empty() {
        return Err(ImdnError::Xml {
            position: reader.buffer_position(),
        });
    }
    let [message_id, datetime, recipient_uri, original_recipient_uri] = fields;
    let (kind, status) = outcome.ok_or(ImdnError::Missing { element: "status" })?;
    Ok(Notification {
        message_id: message_id.ok_or(ImdnError::Missing {
            element: "message-id",
        })?,
        datetime: datetime.ok_or(ImdnError::Missing {
            element: "datetime",
        })?,
        recipient_uri,
        original_recipient_uri,
        kind,
        status,
    })
}

/// Closes the top element; a finished text field is kept (the first of each wins).
fn close<'a>(stack: &mut Vec<Open>, text: &mut Text<'a>, fields: &mut [Option<Cow<'a, str>>; 4]) {
    if let Some(Open::Field(field)) = stack.pop() {
        let index = match field {
            Field::MessageId => 0,
            Field::Datetime => 1,
            Field::RecipientUri => 2,
            Field::OriginalRecipientUri => 3,
        };
        let value = std::mem::take(text).finish();
        if let Some(slot) = fields.get_mut(index).filter(|s| s.is_none()) {
            *slot = value;
        }
    }
}
