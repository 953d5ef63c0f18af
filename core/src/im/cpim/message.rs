//! The CPIM types: addresses, the disposition request, headers, the parsed message, and
//! namespace resolution (RFC 3862 §3.4).

use std::borrow::Cow;
use std::time::SystemTime;

use crate::im::datetime::{self, DateTimeError};

/// The media type of a CPIM body.
pub const CONTENT_TYPE: &str = "message/cpim";
/// The namespace of headers without a prefix (RFC 3862 §3.4).
pub const DEFAULT_NAMESPACE: &str = "urn:ietf:params:cpim-headers:";
/// The IMDN header namespace (RFC 5438 §6.1).
pub const IMDN_NAMESPACE: &str = "urn:ietf:params:imdn";
/// Largest CPIM body accepted, bytes (the largest SIP message we accept).
pub const MAX_SIZE: usize = 64 * 1024;
/// Most headers in each of the two header blocks.
pub const MAX_HEADERS: usize = 32;
/// Longest Message-ID written.
pub const MAX_MESSAGE_ID: usize = 128;

/// Why a CPIM body was refused, or could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CpimError {
    /// Past [`MAX_SIZE`] or [`MAX_HEADERS`].
    #[error("CPIM body exceeds the limit on {what}")]
    TooLarge {
        /// Which limit.
        what: &'static str,
    },
    /// A header block does not end with a blank line.
    #[error("CPIM {section} do not end with a blank line")]
    Truncated {
        /// `message headers` or `content headers`.
        section: &'static str,
    },
    /// The headers are not UTF-8.
    #[error("CPIM headers are not UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset in the body.
        offset: usize,
    },
    /// A header line does not fit the grammar.
    #[error("unexpected byte {found:#04x} at offset {offset} of the CPIM body")]
    UnexpectedByte {
        /// Byte offset in the body.
        offset: usize,
        /// The byte.
        found: u8,
    },
    /// A header that may appear once appears twice (RFC 3862 §3.6).
    #[error("CPIM header {header} appears more than once")]
    Duplicate {
        /// The header.
        header: &'static str,
    },
    /// A `From` or `To` value is not `[name] <URI>`.
    #[error("CPIM {header} is not a valid address")]
    InvalidAddress {
        /// The header.
        header: &'static str,
    },
    /// A value given to the writer cannot be written (a URI with `>`, a line break in a
    /// header, a Message-ID that is not a token).
    #[error("cannot write CPIM {field}: invalid value")]
    InvalidValue {
        /// Which field.
        field: &'static str,
    },
}

/// A `From` or `To` address: an optional display name and a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address<'a> {
    /// The display name, escapes undone (borrowed when it had none).
    pub display_name: Option<Cow<'a, str>>,
    /// The URI between `<` and `>`.
    pub uri: &'a str,
}

impl<'a> Address<'a> {
    /// An address to write.
    pub fn new(display_name: Option<&'a str>, uri: &'a str) -> Address<'a> {
        Address {
            display_name: display_name.map(Cow::Borrowed),
            uri,
        }
    }
}

/// The notifications a message asks for (`imdn.Disposition-Notification`, RFC 5438 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Disposition {
    /// `positive-delivery`: tell the sender when it was delivered.
    pub positive_delivery: bool,
    /// `negative-delivery`: tell the sender when delivery failed.
    pub negative_delivery: bool,
    /// `processing`: tell the sender when an intermediary processed or stored it.
    pub processing: bool,
    /// `display`: tell the sender when the user saw it.
    pub display: bool,
}

impl Disposition {
    /// No notification asked for (no header written).
    pub const NONE: Disposition = Disposition {
        positive_delivery: false,
        negative_delivery: false,
        processing: false,
        display: false,
    };

    /// Only `positive-delivery`, what ims-rs asks for.
    pub const POSITIVE_DELIVERY: Disposition = Disposition {
        positive_delivery: true,
        ..Disposition::NONE
    };

    /// True when nothing is asked for.
    pub fn is_empty(self) -> bool {
        self == Disposition::NONE
    }

    pub(super) fn tokens(self) -> impl Iterator<Item = &'static str> {
        [
            (self.positive_delivery, "positive-delivery"),
            (self.negative_delivery, "negative-delivery"),
            (self.processing, "processing"),
            (self.display, "display"),
        ]
        .into_iter()
        .filter_map(|(on, token)| on.then_some(token))
    }

    pub(super) fn parse(value: &str) -> Disposition {
        let mut disposition = Disposition::NONE;
        for token in value.split(',').map(str::trim) {
            let flag = if token.eq_ignore_ascii_case("positive-delivery") {
                &mut disposition.positive_delivery
            } else if token.eq_ignore_ascii_case("negative-delivery") {
                &mut disposition.negative_delivery
            } else if token.eq_ignore_ascii_case("processing") {
                &mut disposition.processing
            } else if token.eq_ignore_ascii_case("display") {
                &mut disposition.display
            } else {
                continue;
            };
            *flag = true;
        }
        disposition
    }
}

/// RFC 3862 §3.6 `NAMECHAR` plus `.`: what a header name, token or Message-ID may use.
pub(super) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^'..=b'`' | b'|' | b'~'
        )
}

/// One message header as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpimHeader<'a> {
    /// The prefix before `.`, if any.
    pub prefix: Option<&'a str>,
    /// The name after the prefix.
    pub name: &'a str,
    /// The namespace URI the prefix (or its absence) stands for; `None` for a prefix no
    /// `NS` header declares.
    pub namespace: Option<&'a str>,
    /// Parameters between `:` and the value (`;lang=fr`), as received.
    pub params: &'a str,
    /// The value, without surrounding white space.
    pub value: &'a str,
}

impl CpimHeader<'_> {
    /// True when the header is `name` in `namespace`.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == Some(namespace) && self.name == name
    }
}

/// A parsed CPIM body; every slice borrows the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimMessage<'a> {
    /// Every message header in order, the known ones and the unknown ones.
    pub headers: Vec<CpimHeader<'a>>,
    /// `From`.
    pub from: Option<Address<'a>>,
    /// Every `To`, in order.
    pub to: Vec<Address<'a>>,
    /// `DateTime` as received; [`CpimMessage::sent_at`] reads it.
    pub datetime: Option<&'a str>,
    /// `imdn.Message-ID`.
    pub message_id: Option<&'a str>,
    /// `imdn.Disposition-Notification` (unknown values ignored).
    pub disposition: Disposition,
    /// The MIME headers of the content, in order (a folded value keeps its line breaks).
    pub content_headers: Vec<(&'a str, &'a str)>,
    /// The content.
    pub body: &'a [u8],
}

impl<'a> CpimMessage<'a> {
    /// The first content header named `name`, ignoring ASCII case.
    pub fn content_header(&self, name: &str) -> Option<&'a str> {
        self.content_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The content's `Content-Type`.
    pub fn content_type(&self) -> Option<&'a str> {
        self.content_header("Content-Type")
    }

    /// `DateTime` as an instant; `None` without the header.
    pub fn sent_at(&self) -> Option<Result<SystemTime, DateTimeError>> {
        self.datetime.map(datetime::parse)
    }

    /// The first header a `Require` header names that this module does not understand
    /// (RFC 3862 §3.5: such a message must not be processed as if it were understood).
    pub fn unsupported_required(&self) -> Option<&'a str> {
        self.headers
            .iter()
            .filter(|h| h.is(DEFAULT_NAMESPACE, "Require"))
            .flat_map(|h| h.value.split(',').map(str::trim))
            .find(|required| {
                let (prefix, name) = match required.split_once('.') {
                    Some((prefix, name)) => (Some(prefix), name),
                    None => (None, *required),
                };
                let namespace = self.resolve(prefix);
                let known = match namespace {
                    Some(DEFAULT_NAMESPACE) => matches!(
                        name,
                        "From" | "To" | "cc" | "DateTime" | "Subject" | "NS" | "Require"
                    ),
                    Some(IMDN_NAMESPACE) => {
                        matches!(name, "Message-ID" | "Disposition-Notification")
                    }
                    _ => false,
                };
                !known
            })
    }

    fn resolve(&self, prefix: Option<&str>) -> Option<&'a str> {
        resolve(&self.headers, prefix)
    }
}

/// The namespace `prefix` stands for, from the `NS` headers (the last declaration wins).
pub(super) fn resolve<'a>(headers: &[CpimHeader<'a>], prefix: Option<&str>) -> Option<&'a str> {
    let declared = headers.iter().rev().find_map(|h| {
        let declaration = (h.prefix.is_none() && h.name == "NS").then(|| parse_ns(h.value))??;
        (declaration.0 == prefix).then_some(declaration.1)
    });
    match (prefix, declared) {
        (_, Some(namespace)) => Some(namespace),
        (None, None) => Some(DEFAULT_NAMESPACE),
        (Some(_), None) => None,
    }
}

/// `NS` value: `[prefix] <URI>` (RFC 3862 §3.4).
fn parse_ns(value: &str) -> Option<(Option<&str>, &str)> {
    let (prefix, rest) = value.split_once('<')?;
    let uri = rest.strip_suffix('>')?.trim();
    let prefix = prefix.trim();
    if uri.is_empty() || !prefix.bytes().all(is_token_char) || prefix.contains('.') {
        return None;
    }
    Some(((!prefix.is_empty()).then_some(prefix), uri))
}
