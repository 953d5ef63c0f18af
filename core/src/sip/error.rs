//! Errors of the message layer: what is wrong and where.

use std::fmt;

use super::header::HeaderKind;

/// Why a message could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The bytes end before the message does (datagram mode, or a stream that was closed).
    #[error("message is truncated")]
    Truncated,
    /// The input holds only CRLF keep-alives, no message.
    #[error("no message, only CRLF keep-alives")]
    Empty,
    /// A byte the grammar does not allow here.
    #[error("unexpected byte {found:#04x}")]
    UnexpectedByte {
        /// The byte found.
        found: u8,
    },
    /// The method of the request line is not a token.
    #[error("invalid method")]
    InvalidMethod,
    /// The Request-URI is empty, holds white space or lacks a scheme.
    #[error("invalid Request-URI")]
    InvalidRequestUri,
    /// The SIP-Version is not `SIP/<digits>.<digits>`.
    #[error("invalid SIP version")]
    InvalidVersion,
    /// The status code is not three digits in 100..=699.
    #[error("invalid status code")]
    InvalidStatusCode,
    /// The start line has extra or missing spaces.
    #[error("malformed start line")]
    InvalidStartLine,
    /// A header line has no colon or an empty or non-token name.
    #[error("invalid header name")]
    InvalidHeaderName,
    /// A continuation line (starting with white space) comes before any header.
    #[error("continuation line before the first header")]
    UnexpectedContinuation,
    /// Content-Length is not a non-negative decimal number.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Two Content-Length headers disagree, so the message cannot be framed.
    #[error("conflicting Content-Length headers ({first} and {second})")]
    ConflictingContentLength {
        /// The first value.
        first: u32,
        /// The disagreeing value.
        second: u32,
    },
    /// Content-Length promises more body than the datagram holds.
    #[error("Content-Length {declared} exceeds the {available} body bytes present")]
    ContentLengthExceedsData {
        /// The declared length.
        declared: u32,
        /// The bytes actually present after the headers.
        available: u32,
    },
    /// A stream message without Content-Length (RFC 3261 §18.3 requires it on streams).
    #[error("Content-Length is required on a stream transport")]
    MissingContentLength,
    /// The message exceeds [`Limits::max_message_size`](super::Limits::max_message_size).
    #[error("message exceeds the size limit of {limit} bytes")]
    MessageTooLarge {
        /// The limit in force.
        limit: u32,
    },
    /// More headers than [`Limits::max_headers`](super::Limits::max_headers) or the slots given.
    #[error("more than {limit} headers")]
    TooManyHeaders {
        /// The limit in force.
        limit: u32,
    },
    /// A header is longer than [`Limits::max_header_line`](super::Limits::max_header_line).
    #[error("header longer than the limit of {limit} bytes")]
    HeaderTooLong {
        /// The limit in force.
        limit: u32,
    },
    /// The Request-URI is longer than [`Limits::max_uri_length`](super::Limits::max_uri_length).
    #[error("Request-URI longer than the limit of {limit} bytes")]
    UriTooLong {
        /// The limit in force.
        limit: u32,
    },
}

/// The name of the header an error concerns, copied so that the error stays `Copy` and
/// outlives the buffer (long names are cut at 32 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HeaderLabel {
    bytes: [u8; 32],
    len: u8,
}

impl HeaderLabel {
    pub(crate) fn new(kind: HeaderKind, wire_name: &[u8]) -> Self {
        let name = kind.canonical().map(str::as_bytes).unwrap_or(wire_name);
        let mut bytes = [0u8; 32];
        let len = name.len().min(bytes.len());
        if let (Some(target), Some(source)) = (bytes.get_mut(..len), name.get(..len)) {
            target.copy_from_slice(source);
        }
        HeaderLabel {
            bytes,
            len: u8::try_from(len).unwrap_or(0),
        }
    }

    /// The header name (lossy if the wire name was not UTF-8).
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or(&[]);
        std::str::from_utf8(bytes).unwrap_or("<non-UTF-8 header name>")
    }
}

impl fmt::Debug for HeaderLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A message that could not be parsed: what is wrong, at which byte offset, and in which
/// header if any.
///
/// The offset counts from the start of the slice that was passed in: the `bytes` of
/// [`SipMessage::parse`](super::SipMessage::parse) or
/// [`SipMessage::parse_datagram`](super::SipMessage::parse_datagram), or of
/// [`frame_stream`](super::frame_stream). Leading CRLFs the parser skipped count too.
/// A caller that parses a stream buffer from some position onwards adds that position
/// to get an offset into its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// Offset of the offending byte from the start of the slice given to the parser (see
    /// the type's documentation).
    pub offset: usize,
    /// The header concerned, when the error is inside one.
    pub header: Option<HeaderLabel>,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, offset: usize) -> Self {
        ParseError {
            kind,
            offset,
            header: None,
        }
    }

    pub(crate) fn in_header(kind: ParseErrorKind, offset: usize, label: HeaderLabel) -> Self {
        ParseError {
            kind,
            offset,
            header: Some(label),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)?;
        if let Some(header) = &self.header {
            write!(f, " in header {}", header.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// Why a typed header view could not be read from a header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderErrorKind {
    /// The value is empty where the grammar needs something.
    #[error("empty value")]
    Empty,
    /// A byte the header's grammar does not allow here.
    #[error("unexpected byte {found:#04x}")]
    UnexpectedByte {
        /// The byte found.
        found: u8,
    },
    /// The value ends where the grammar needs more.
    #[error("value ends too early")]
    UnexpectedEnd,
    /// A number is malformed or out of range.
    #[error("invalid or out-of-range number")]
    InvalidNumber,
    /// A quoted string is not closed.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// `<` without `>`.
    #[error("unterminated angle bracket")]
    UnterminatedAngle,
    /// The URI is malformed.
    #[error("invalid URI")]
    InvalidUri,
    /// The host is malformed (name, IPv4 or IPv6 reference).
    #[error("invalid host")]
    InvalidHost,
    /// Text that must be UTF-8 is not.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// A required parameter is missing.
    #[error("missing required part")]
    Missing,
}

/// A header value that does not fit its typed view: what is wrong, the header, and the
/// offset inside the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{header}: {kind} at offset {offset} of the value")]
pub struct HeaderError {
    /// What is wrong.
    pub kind: HeaderErrorKind,
    /// The header's canonical name.
    pub header: &'static str,
    /// Offset inside the header value.
    pub offset: usize,
}
