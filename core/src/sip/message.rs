//! `SipMessage<'a>`: a request or response borrowed from the caller's buffer.

use super::error::{HeaderError, ParseError};
use super::header::{Header, HeaderKind, HeaderName, RawHeader, trim_value};
use super::limits::Limits;
use super::method::Method;
use super::parse;
use super::typed::{TypedHeader, split_list};

/// The SIP version of a start line (`SIP/2.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl Version {
    /// `SIP/2.0`, the only version ims-rs speaks.
    pub const SIP_2_0: Version = Version { major: 2, minor: 0 };
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP-Version`
    Request {
        /// The method.
        method: Method<'a>,
        /// The Request-URI as received (parse it with [`Uri::parse`](super::Uri::parse)).
        uri: &'a str,
        /// The SIP version.
        version: Version,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`
    Response {
        /// The SIP version.
        version: Version,
        /// The status code, 100..=699.
        status: u16,
        /// The reason phrase bytes (UTF-8 per the grammar, possibly empty).
        reason: &'a [u8],
    },
}

/// The result of parsing bytes from a stream.
#[derive(Debug, Clone, Copy)]
pub enum Parsed<'a> {
    /// A whole message; `length` bytes of the input belong to it (leading CRLFs included).
    Complete {
        /// The message.
        message: SipMessage<'a>,
        /// How many input bytes it used.
        length: usize,
    },
    /// More bytes are needed. Not an error.
    Incomplete,
}

/// A parsed SIP request or response that borrows the caller's buffer and header slots.
///
/// Parsing allocates nothing: header names and values are slices of the buffer, found
/// through the caller's [`RawHeader`] slots. Typed views ([`SipMessage::header`]) are
/// parsed only when asked for.
#[derive(Debug, Clone, Copy)]
pub struct SipMessage<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) start_line: StartLine<'a>,
    pub(crate) headers: &'a [RawHeader],
    pub(crate) body: &'a [u8],
}

impl<'a> SipMessage<'a> {
    /// Parses one message from stream bytes (TCP/TLS): Content-Length frames the body,
    /// leading CRLFs are skipped, and a message that is not whole yet gives
    /// [`Parsed::Incomplete`].
    pub fn parse(
        bytes: &'a [u8],
        slots: &'a mut [RawHeader],
        limits: &Limits,
    ) -> Result<Parsed<'a>, ParseError> {
        parse::parse(bytes, slots, limits, parse::Mode::Stream)
    }

    /// Parses the message of one datagram (UDP): a missing Content-Length means the body
    /// runs to the end of the datagram; bytes after the declared body are ignored
    /// (RFC 3261 §18.3); a body shorter than declared is an error.
    pub fn parse_datagram(
        bytes: &'a [u8],
        slots: &'a mut [RawHeader],
        limits: &Limits,
    ) -> Result<SipMessage<'a>, ParseError> {
        match parse::parse(bytes, slots, limits, parse::Mode::Datagram)? {
            Parsed::Complete { message, .. } => Ok(message),
            Parsed::Incomplete => Err(ParseError::new(
                super::ParseErrorKind::Truncated,
                bytes.len(),
            )),
        }
    }

    /// The message bytes, from the start line to the end of the body.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start_line
    }

    /// True for a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start_line, StartLine::Request { .. })
    }

    /// The method of a request.
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start_line {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI of a request, as received.
    pub fn request_uri(&self) -> Option<&'a str> {
        match self.start_line {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start_line {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> Option<&'a [u8]> {
        match self.start_line {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// The SIP version of the start line.
    pub fn version(&self) -> Version {
        match self.start_line {
            StartLine::Request { version, .. } | StartLine::Response { version, .. } => version,
        }
    }

    /// The body (empty when there is none).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// How many header lines the message has.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// Every header line in order.
    pub fn headers(&self) -> impl Iterator<Item = Header<'a>> + use<'a> {
        let bytes = self.bytes;
        self.headers.iter().map(move |raw| header_at(bytes, raw))
    }

    /// The value of the first header of `kind` (a whole line, list or not).
    pub fn raw(&self, kind: HeaderKind) -> Option<&'a [u8]> {
        self.raw_all(kind).next()
    }

    /// The values of every header line of `kind`, in order.
    pub fn raw_all(&self, kind: HeaderKind) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let bytes = self.bytes;
        self.headers
            .iter()
            .filter(move |raw| raw.kind == kind)
            .map(move |raw| value_at(bytes, raw))
    }

    /// The values of every header line named `name` (ignoring case; compact forms and
    /// full names are the same header).
    pub fn raw_named<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let wanted = HeaderName::from_wire(name);
        self.headers()
            .filter(move |h| h.name == wanted)
            .map(|h| h.value)
    }

    /// The first value of a typed header: `None` when absent, `Some(Err)` when malformed.
    ///
    /// For list headers (Via, Contact, Route, ...) this is the first element of the first
    /// line, e.g. the top Via.
    pub fn header<T: TypedHeader<'a> + 'a>(&self) -> Option<Result<T, HeaderError>> {
        self.header_values::<T>().next()
    }

    /// Every value of a typed header, across header lines and comma-separated lists.
    pub fn header_values<T: TypedHeader<'a> + 'a>(
        &self,
    ) -> impl Iterator<Item = Result<T, HeaderError>> + use<'a, T> {
        self.raw_all(T::KIND)
            .flat_map(|value| split_list(value, T::KIND.is_list()))
            .map(T::parse_named)
    }
}

/// The value of a header slot, trimmed (a parse stores it untrimmed).
pub(crate) fn value_at<'a>(bytes: &'a [u8], raw: &RawHeader) -> &'a [u8] {
    let start = raw.value_start as usize;
    let end = start.saturating_add(raw.value_len as usize);
    trim_value(bytes.get(start..end).unwrap_or(&[])).1
}

pub(crate) fn header_at<'a>(bytes: &'a [u8], raw: &RawHeader) -> Header<'a> {
    let start = raw.name_start as usize;
    let end = start.saturating_add(raw.name_len as usize);
    // Header names were checked to be token characters (ASCII) during the parse.
    let name = bytes
        .get(start..end)
        .and_then(|name| std::str::from_utf8(name).ok())
        .unwrap_or("");
    Header {
        name: raw.kind.with_name(name),
        value: value_at(bytes, raw),
    }
}
