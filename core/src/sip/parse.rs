//! The message parser: start line, header lines (with folding), Content-Length framing.
//!
//! One pass over the bytes with `memchr` for line ends; headers go into the caller's
//! slots as offsets. Allocates nothing.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::chars::{as_str, is_scheme, is_token, parse_u32, trim_ws};
use super::error::{HeaderLabel, ParseError, ParseErrorKind};
use super::header::{HeaderKind, RawHeader};
use super::limits::Limits;
use super::message::{Parsed, SipMessage, StartLine, Version};
use super::method::Method;

/// How the end of the message is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// TCP/TLS: Content-Length is required; missing bytes mean "read more".
    Stream,
    /// UDP: the datagram is all there is.
    Datagram,
}

fn err(kind: ParseErrorKind, offset: usize) -> ParseError {
    ParseError::new(kind, offset)
}

/// Skips the CRLFs (keep-alives) that may precede a message (RFC 3261 §7.5).
pub(crate) fn skip_leading_crlf(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(bytes.len())
}

/// Where a whole message lies in the input, and its start line.
pub(crate) struct Scanned<'a> {
    start_line: StartLine<'a>,
    /// Header lines found.
    count: usize,
    /// Leading CRLFs skipped.
    start: usize,
    /// End of the empty line, relative to `start`.
    header_end: usize,
    /// End of the body, relative to `start`.
    end: usize,
}

impl Scanned<'_> {
    /// Input bytes the message uses, leading CRLFs included.
    pub(crate) fn length(&self) -> usize {
        self.start.saturating_add(self.end)
    }
}

/// Parses one message into `slots`; see [`SipMessage::parse`].
pub(crate) fn parse<'a>(
    bytes: &'a [u8],
    slots: &'a mut [RawHeader],
    limits: &Limits,
    mode: Mode,
) -> Result<Parsed<'a>, ParseError> {
    let Some(scanned) = scan(bytes, Some(&mut *slots), limits, mode)? else {
        return Ok(Parsed::Incomplete);
    };
    let input = bytes.get(scanned.start..).unwrap_or(&[]);
    let length = scanned.length();
    let message = SipMessage {
        bytes: bytes.get(..length).unwrap_or(&[]),
        start_line: scanned.start_line,
        headers: slots.get(..scanned.count).unwrap_or(&[]),
        body: input.get(scanned.header_end..scanned.end).unwrap_or(&[]),
    };
    Ok(Parsed::Complete { message, length })
}

/// The one pass over a message: start line, header lines (stored in `slots` when given),
/// Content-Length framing. `Ok(None)` when a stream needs more bytes. Stream framing
/// runs this same pass without slots, so framing and parsing always agree.
pub(crate) fn scan<'a>(
    bytes: &'a [u8],
    mut slots: Option<&mut [RawHeader]>,
    limits: &Limits,
    mode: Mode,
) -> Result<Option<Scanned<'a>>, ParseError> {
    let start = skip_leading_crlf(bytes);
    let input = bytes.get(start..).unwrap_or(&[]);
    if input.is_empty() {
        return match mode {
            Mode::Stream => Ok(None),
            Mode::Datagram => Err(err(ParseErrorKind::Empty, start)),
        };
    }
    // Offsets are stored as u32; cap the window we look at by the size limit.
    let max_size = limits.max_message_size.min(u32::MAX as usize);
    let too_large = |offset: usize| {
        err(
            ParseErrorKind::MessageTooLarge {
                limit: u32::try_from(max_size).unwrap_or(u32::MAX),
            },
            offset,
        )
    };
    let window = input.get(..max_size).unwrap_or(input);
    let incomplete = |offset: usize| -> Result<Option<Scanned<'a>>, ParseError> {
        if window.len() >= max_size && input.len() > max_size {
            Err(too_large(start.saturating_add(offset)))
        } else {
            match mode {
                Mode::Stream => Ok(None),
                Mode::Datagram => Err(err(ParseErrorKind::Truncated, start.saturating_add(offset))),
            }
        }
    };

    // Start line.
    let Some(line_end) = memchr::memchr(b'\n', window) else {
        return incomplete(window.len());
    };
    let line = window.get(..line_end).unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let start_line = parse_start_line(line, start, limits)?;

    // Headers.
    let max_headers = limits
        .max_headers
        .min(slots.as_ref().map_or(usize::MAX, |slots| slots.len()));
    let mut count = 0usize;
    let mut pos = line_end.saturating_add(1);
    let mut content_length: Option<u32> = None;
    let header_end = loop {
        let Some(&first) = window.get(pos) else {
            return incomplete(pos);
        };
        match first {
            b'\r' => match window.get(pos.saturating_add(1)) {
                Some(b'\n') => break pos.saturating_add(2),
                Some(&found) => {
                    return Err(err(
                        ParseErrorKind::UnexpectedByte { found },
                        start.saturating_add(pos).saturating_add(1),
                    ));
                }
                None => return incomplete(pos),
            },
            b'\n' => break pos.saturating_add(1),
            b' ' | b'\t' => {
                return Err(err(
                    ParseErrorKind::UnexpectedContinuation,
                    start.saturating_add(pos),
                ));
            }
            _ => {}
        }
        // Name: a token, optional white space, then the colon.
        let rest = window.get(pos..).unwrap_or(&[]);
        let name_len = rest
            .iter()
            .position(|&b| !is_token(b))
            .unwrap_or(rest.len());
        let name = rest.get(..name_len).unwrap_or(&[]);
        let mut colon = name_len;
        while let Some(b' ' | b'\t') = rest.get(colon) {
            colon = colon.saturating_add(1);
        }
        match rest.get(colon) {
            Some(b':') if name_len > 0 => {}
            Some(_) => {
                return Err(err(
                    ParseErrorKind::InvalidHeaderName,
                    start.saturating_add(pos),
                ));
            }
            None => return incomplete(window.len()),
        }
        let kind = HeaderKind::lookup(name);
        let value_from = pos.saturating_add(colon).saturating_add(1);
        // Value: up to a line end not followed by SP/HTAB (RFC 3261 §7.3.1 folding).
        let mut search = value_from;
        let eol = loop {
            let tail = window.get(search..).unwrap_or(&[]);
            let Some(nl) = memchr::memchr(b'\n', tail) else {
                return incomplete(window.len());
            };
            let nl = search.saturating_add(nl);
            match window.get(nl.saturating_add(1)) {
                Some(b' ' | b'\t') => search = nl.saturating_add(1),
                Some(_) => break nl,
                None if mode == Mode::Datagram && window.len() == input.len() => break nl,
                None => return incomplete(window.len()),
            }
        };
        let label = || HeaderLabel::new(kind, name);
        if eol.saturating_sub(pos) > limits.max_header_line {
            return Err(ParseError::in_header(
                ParseErrorKind::HeaderTooLong {
                    limit: u32::try_from(limits.max_header_line).unwrap_or(u32::MAX),
                },
                start.saturating_add(pos),
                label(),
            ));
        }
        let raw_value = window.get(value_from..eol).unwrap_or(&[]);
        let value = trim_ws(raw_value);
        // Where the trimmed value starts inside the buffer.
        let leading = raw_value
            .len()
            .saturating_sub(value.len())
            .saturating_sub(trailing_ws(raw_value));
        let value_start = value_from.saturating_add(leading);
        if kind == HeaderKind::ContentLength {
            let Some(length) = parse_u32(value) else {
                return Err(ParseError::in_header(
                    ParseErrorKind::InvalidContentLength,
                    start.saturating_add(value_start),
                    label(),
                ));
            };
            match content_length {
                Some(first) if first != length => {
                    return Err(ParseError::in_header(
                        ParseErrorKind::ConflictingContentLength {
                            first,
                            second: length,
                        },
                        start.saturating_add(value_start),
                        label(),
                    ));
                }
                _ => content_length = Some(length),
            }
        }
        if count >= max_headers {
            return Err(ParseError::in_header(
                ParseErrorKind::TooManyHeaders {
                    limit: u32::try_from(max_headers).unwrap_or(u32::MAX),
                },
                start.saturating_add(pos),
                label(),
            ));
        }
        if let Some(slot) = slots.as_deref_mut().and_then(|slots| slots.get_mut(count)) {
            // All offsets are below max_size <= u32::MAX.
            let absolute = |offset: usize| u32::try_from(start.saturating_add(offset));
            *slot = RawHeader {
                kind,
                name_start: absolute(pos).map_err(|_| too_large(pos))?,
                name_len: u32::try_from(name_len).map_err(|_| too_large(pos))?,
                value_start: absolute(value_start).map_err(|_| too_large(pos))?,
                value_len: u32::try_from(value.len()).map_err(|_| too_large(pos))?,
            };
        }
        count = count.saturating_add(1);
        pos = eol.saturating_add(1);
    };

    // Body.
    let after_headers = input.len().saturating_sub(header_end);
    let body_length = match (content_length, mode) {
        (Some(length), _) => length as usize,
        (None, Mode::Datagram) => after_headers,
        (None, Mode::Stream) => {
            return Err(err(ParseErrorKind::MissingContentLength, start));
        }
    };
    let end = header_end.saturating_add(body_length);
    if end > max_size {
        return Err(too_large(start));
    }
    if end > input.len() {
        return match mode {
            Mode::Stream => Ok(None),
            Mode::Datagram => Err(err(
                ParseErrorKind::ContentLengthExceedsData {
                    declared: content_length.unwrap_or(0),
                    available: u32::try_from(after_headers).unwrap_or(u32::MAX),
                },
                start.saturating_add(header_end),
            )),
        };
    }
    Ok(Some(Scanned {
        start_line,
        count,
        start,
        header_end,
        end,
    }))
}

fn trailing_ws(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rev()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count()
}

fn parse_start_line<'a>(
    line: &'a [u8],
    offset: usize,
    limits: &Limits,
) -> Result<StartLine<'a>, ParseError> {
    if line.len() > 4
        && line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
    {
        return parse_status_line(line, offset);
    }
    let Some(first_space) = memchr::memchr(b' ', line) else {
        return Err(err(ParseErrorKind::InvalidStartLine, offset));
    };
    let method = line.get(..first_space).unwrap_or(&[]);
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return Err(err(ParseErrorKind::InvalidMethod, offset));
    }
    let uri_start = first_space.saturating_add(1);
    let rest = line.get(uri_start..).unwrap_or(&[]);
    let Some(second_space) = memchr::memchr(b' ', rest) else {
        return Err(err(
            ParseErrorKind::InvalidStartLine,
            offset.saturating_add(uri_start),
        ));
    };
    let uri = rest.get(..second_space).unwrap_or(&[]);
    let uri_offset = offset.saturating_add(uri_start);
    if uri.len() > limits.max_uri_length {
        return Err(err(
            ParseErrorKind::UriTooLong {
                limit: u32::try_from(limits.max_uri_length).unwrap_or(u32::MAX),
            },
            uri_offset,
        ));
    }
    if !is_request_uri(uri) {
        return Err(err(ParseErrorKind::InvalidRequestUri, uri_offset));
    }
    let version_start = uri_start.saturating_add(second_space).saturating_add(1);
    let version = parse_version(line.get(version_start..).unwrap_or(&[])).ok_or_else(|| {
        err(
            ParseErrorKind::InvalidVersion,
            offset.saturating_add(version_start),
        )
    })?;
    let (Some(method), Some(uri)) = (as_str(method), as_str(uri)) else {
        return Err(err(ParseErrorKind::InvalidStartLine, offset));
    };
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri,
        version,
    })
}

/// A Request-URI: a scheme, a colon, then no white space or control characters.
fn is_request_uri(uri: &[u8]) -> bool {
    let Some((&first, rest)) = uri.split_first() else {
        return false;
    };
    if !first.is_ascii_alphabetic() {
        return false;
    }
    let scheme_len = rest
        .iter()
        .position(|&b| !is_scheme(b))
        .unwrap_or(rest.len());
    rest.get(scheme_len) == Some(&b':') && uri.iter().all(|&b| b > b' ' && b != 0x7f)
}

fn parse_version(bytes: &[u8]) -> Option<Version> {
    let numbers = bytes
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case(b"SIP/"))
        .and(bytes.get(4..))?;
    let dot = memchr::memchr(b'.', numbers)?;
    let major = parse_u32(numbers.get(..dot)?)?;
    let minor = parse_u32(numbers.get(dot.checked_add(1)?..)?)?;
    Some(Version { major, minor })
}

fn parse_status_line(line: &[u8], offset: usize) -> Result<StartLine<'_>, ParseError> {
    let Some(space) = memchr::memchr(b' ', line) else {
        return Err(err(ParseErrorKind::InvalidStartLine, offset));
    };
    let version = parse_version(line.get(..space).unwrap_or(&[]))
        .ok_or_else(|| err(ParseErrorKind::InvalidVersion, offset))?;
    let code_start = space.saturating_add(1);
    let rest = line.get(code_start..).unwrap_or(&[]);
    let code_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let code = rest.get(..code_len).unwrap_or(&[]);
    let status = (code.len() == 3)
        .then(|| parse_u32(code))
        .flatten()
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (100..=699).contains(c))
        .ok_or_else(|| {
            err(
                ParseErrorKind::InvalidStatusCode,
                offset.saturating_add(code_start),
            )
        })?;
    // The reason phrase may be empty; the SP before it is tolerated when missing.
    let reason = rest.get(code_len.saturating_add(1)..).unwrap_or(&[]);
    Ok(StartLine::Response {
        version,
        status,
        reason,
    })
}
