//! The message parser: start line, header lines (with folding), Content-Length framing.
//!
//! One pass over the bytes. On x86_64 CPUs with AVX2, the header lines of a message of
//! the common shape are taken by [`super::fast`] (colons and line ends from 64-byte bit
//! masks); otherwise, and for every error, the portable pass: memchr's SSE2 searchers
//! (inlined, see [`super::find`]) find each header's colon and line end. Either way a
//! perfect hash names the header. Headers go into the caller's slots as offsets; a value
//! is stored from the colon to the line end and trimmed when it is read
//! (`header::trim_value`), so the values nobody reads cost nothing. Allocates nothing.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::chars::{as_str, is_scheme, is_token, parse_u32};
use super::error::{HeaderLabel, ParseError, ParseErrorKind};
use super::fast;
use super::find::{find, find2};
use super::header::{HeaderKind, RawHeader, lookup_ends, lookup_head, trim_value};
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
    parse_with(bytes, slots, limits, mode, Pass::Fast)
}

/// Which header pass [`scan`] may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// The AVX2 pass (`fast`) where it applies, else the portable one.
    Fast,
    /// The portable pass only (tests compare the two).
    Portable,
}

/// [`parse`] with a choice of header pass.
pub(crate) fn parse_with<'a>(
    bytes: &'a [u8],
    slots: &'a mut [RawHeader],
    limits: &Limits,
    mode: Mode,
    pass: Pass,
) -> Result<Parsed<'a>, ParseError> {
    let Some(scanned) = scan(bytes, Some(&mut *slots), limits, mode, pass)? else {
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
///
/// With slots and [`Pass::Fast`], the header lines are first given to the AVX2 pass
/// ([`fast`]), which takes the common shape of a message and gives up on anything
/// else; [`portable_headers`] then parses them, and reports every error.
pub(crate) fn scan<'a>(
    bytes: &'a [u8],
    slots: Option<&mut [RawHeader]>,
    limits: &Limits,
    mode: Mode,
    pass: Pass,
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
    // `move`: the closures copy what they use, so those values need no stack slot.
    let too_large = move |offset: usize| {
        err(
            ParseErrorKind::MessageTooLarge {
                limit: u32::try_from(max_size).unwrap_or(u32::MAX),
            },
            offset,
        )
    };
    let window = input.get(..max_size).unwrap_or(input);
    let incomplete = move |offset: usize| -> Result<Option<Scanned<'a>>, ParseError> {
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
    let Some(line_end) = find(b'\n', window) else {
        return incomplete(window.len());
    };
    let line = window.get(..line_end).unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let start_line = parse_start_line(line, start, limits)?;

    // Headers. Offsets below are relative to `window`, or to `rest` (the current line
    // onwards); all are below `window.len()`, so the wrapping additions never wrap.
    let max_headers = limits
        .max_headers
        .min(slots.as_ref().map_or(usize::MAX, |slots| slots.len()));
    // Slots hold u32 offsets from the start of `bytes`.
    let offsets_fit = start
        .checked_add(window.len())
        .is_some_and(|end| end <= u32::MAX as usize);
    // The slots a line may fill: the `count`th line finds its slot, or is one too many,
    // or (none when framing, or when offsets would not fit) is not stored.
    let store = slots.is_some();
    let slots = match slots {
        Some(slots) if offsets_fit => slots.get_mut(..max_headers).unwrap_or_default(),
        _ => &mut [],
    };
    let rest = window.get(line_end.wrapping_add(1)..).unwrap_or(&[]);
    // The AVX2 pass first, where it applies (see `fast`); the portable pass otherwise.
    let fast = match store && offsets_fit && pass == Pass::Fast {
        // Offsets into `bytes`, as the slots hold them.
        true => fast::headers(fast::Block {
            window: bytes.get(..start.wrapping_add(window.len())).unwrap_or(&[]),
            from: start.wrapping_add(line_end).wrapping_add(1),
            slots: &mut *slots,
            max_line: limits.max_header_line,
        }),
        false => None,
    };
    // Only the first header line can start with white space: a later one that does is
    // part of the line before it (a fold).
    if let [b' ' | b'\t', ..] = rest {
        return Err(err(
            ParseErrorKind::UnexpectedContinuation,
            start.saturating_add(line_end).saturating_add(1),
        ));
    }
    let found = match fast {
        Some(found) => HeaderBlock {
            header_end: found.header_end.wrapping_sub(start),
            ..found
        },
        None => {
            let frame = Frame {
                window,
                input_len: input.len(),
                start,
                max_size,
                mode,
            };
            match portable_headers(frame, rest, slots, store, max_headers, limits)? {
                Some(found) => found,
                None => return Ok(None),
            }
        }
    };
    let HeaderBlock {
        count,
        header_end,
        content_length,
    } = found;

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

/// The header lines as a pass found them.
pub(crate) struct HeaderBlock {
    /// Header lines stored in the slots.
    pub(crate) count: usize,
    /// End of the empty line (in the window for the portable pass, in the input for
    /// the fast one).
    pub(crate) header_end: usize,
    /// The Content-Length value, when there is one.
    pub(crate) content_length: Option<u32>,
}

/// What the portable pass needs to say why it stopped.
#[derive(Clone, Copy)]
struct Frame<'a> {
    /// The bytes looked at: the message from its start line, cut at the size limit.
    window: &'a [u8],
    /// Bytes from the start line to the end of the input.
    input_len: usize,
    /// Leading CRLFs skipped.
    start: usize,
    /// The size limit (at most `u32::MAX`).
    max_size: usize,
    mode: Mode,
}

/// The portable header pass: every header line from `rest` (the tail of the window
/// after the start line) to the empty line, stored in `slots` (none when not
/// `store`), and every error. `Ok(None)` when a stream needs more bytes.
///
/// Out of line, so that its code does not change with the fast pass's call in
/// [`scan`].
#[inline(never)]
fn portable_headers(
    frame: Frame<'_>,
    mut rest: &[u8],
    slots: &mut [RawHeader],
    store: bool,
    max_headers: usize,
    limits: &Limits,
) -> Result<Option<HeaderBlock>, ParseError> {
    let Frame {
        window,
        input_len,
        start,
        max_size,
        mode,
    } = frame;
    let too_large = move |offset: usize| {
        err(
            ParseErrorKind::MessageTooLarge {
                limit: u32::try_from(max_size).unwrap_or(u32::MAX),
            },
            offset,
        )
    };
    let incomplete = move |offset: usize| -> Result<Option<HeaderBlock>, ParseError> {
        if window.len() >= max_size && input_len > max_size {
            Err(too_large(start.saturating_add(offset)))
        } else {
            match mode {
                Mode::Stream => Ok(None),
                Mode::Datagram => Err(err(ParseErrorKind::Truncated, start.saturating_add(offset))),
            }
        }
    };
    let mut count = 0usize;
    let mut content_length: Option<u32> = None;
    let header_end = loop {
        // The line's offset in `window`.
        let pos = window.len().wrapping_sub(rest.len());
        match rest {
            [b'\r', b'\n', ..] => break pos.wrapping_add(2),
            [b'\n', ..] => break pos.wrapping_add(1),
            [b'\r', found, ..] => {
                return Err(err(
                    ParseErrorKind::UnexpectedByte { found: *found },
                    start.saturating_add(pos).saturating_add(1),
                ));
            }
            [] | [b'\r'] => return incomplete(pos),
            _ => {}
        }
        // The line's first LF, searched from the line start rather than from the colon:
        // the two searches do not wait for each other, and the next line's only wait
        // for this one. (No LF comes before the colon: `header_name` stops at the first
        // of the two.)
        let first_lf = find(b'\n', rest);
        // Name: a token, optional white space, then the colon.
        let Some((kind, name_len, colon)) = header_name(rest) else {
            if name_incomplete(rest) {
                return incomplete(window.len());
            }
            return Err(err(
                ParseErrorKind::InvalidHeaderName,
                start.saturating_add(pos),
            ));
        };
        let value_from = colon.wrapping_add(1);
        // Value: up to a line end not followed by SP/HTAB (RFC 3261 §7.3.1 folding).
        let Some(mut eol) = first_lf else {
            return incomplete(window.len());
        };
        loop {
            match rest.get(eol.wrapping_add(1)) {
                Some(b' ' | b'\t') => eol = eol.wrapping_add(1),
                Some(_) => break,
                None if mode == Mode::Datagram && window.len() == input_len => break,
                None => return incomplete(window.len()),
            }
            let Some(nl) = find(b'\n', rest.get(eol..).unwrap_or(&[])) else {
                return incomplete(window.len());
            };
            eol = eol.wrapping_add(nl);
        }
        let label = || HeaderLabel::new(kind, rest.get(..name_len).unwrap_or(&[]));
        if eol > limits.max_header_line {
            return Err(ParseError::in_header(
                ParseErrorKind::HeaderTooLong {
                    limit: u32::try_from(limits.max_header_line).unwrap_or(u32::MAX),
                },
                start.saturating_add(pos),
                label(),
            ));
        }
        if kind == HeaderKind::ContentLength {
            let (skipped, value) = trim_value(rest.get(value_from..eol).unwrap_or(&[]));
            let at = start
                .saturating_add(pos)
                .saturating_add(value_from)
                .saturating_add(skipped);
            let Some(length) = parse_u32(value) else {
                return Err(ParseError::in_header(
                    ParseErrorKind::InvalidContentLength,
                    at,
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
                        at,
                        label(),
                    ));
                }
                _ => content_length = Some(length),
            }
        }
        match slots.get_mut(count) {
            Some(slot) => {
                // Every offset is below start + window.len() <= u32::MAX (checked above).
                // The value is stored untrimmed (colon to line end); it is trimmed when
                // read (`trim_value`), since most values never are.
                let name_start = start.wrapping_add(pos);
                *slot = RawHeader {
                    kind,
                    name_start: name_start as u32,
                    name_len: name_len as u32,
                    value_start: name_start.wrapping_add(value_from) as u32,
                    value_len: eol.wrapping_sub(value_from) as u32,
                };
            }
            _ if count >= max_headers => {
                return Err(ParseError::in_header(
                    ParseErrorKind::TooManyHeaders {
                        limit: u32::try_from(max_headers).unwrap_or(u32::MAX),
                    },
                    start.saturating_add(pos),
                    label(),
                ));
            }
            // A slot, but the offsets would not fit in it.
            None if store => return Err(too_large(start.saturating_add(pos))),
            _ => {}
        }
        count = count.wrapping_add(1);
        // `eol` is the index of an LF in `rest`, so the next line always starts in it.
        let Some(next) = rest.get(eol.wrapping_add(1)..) else {
            return incomplete(window.len());
        };
        rest = next;
    };
    Ok(Some(HeaderBlock {
        count,
        header_end,
        content_length,
    }))
}

/// Reads `token *(SP / HTAB) ":"` at the start of a header line: the kind, the name's
/// length and the colon's offset. `None` when the line does not start that way (or the
/// colon is not in the buffer yet): [`name_incomplete`] then says which.
#[inline(always)]
fn header_name(rest: &[u8]) -> Option<(HeaderKind, usize, usize)> {
    let colon = find2(b':', b'\n', rest)?;
    if rest.get(colon) != Some(&b':') {
        return None;
    }
    // The name's last byte is usually the one before the colon; white space there is
    // rare and walked over only then.
    let (name_len, last) = match rest.get(colon.wrapping_sub(1)) {
        Some(&last) if last != b' ' && last != b'\t' => (colon, last),
        _ => {
            let mut name_len = colon;
            while name_len > 0 && matches!(rest.get(name_len.wrapping_sub(1)), Some(b' ' | b'\t')) {
                name_len = name_len.wrapping_sub(1);
            }
            (name_len, *rest.get(name_len.checked_sub(1)?)?)
        }
    };
    let kind = match rest.first_chunk::<16>() {
        Some(head) if name_len <= 16 => lookup_head(head, name_len),
        _ => lookup_ends(rest, name_len, *rest.first()?, last),
    };
    // A known name is made of letters and `-` (the lookup compares exactly); any other
    // name is checked here.
    if kind == HeaderKind::Other && !rest.get(..name_len)?.iter().all(|&b| is_token(b)) {
        return None;
    }
    Some((kind, name_len, colon))
}

/// Whether a header line that [`header_name`] refused only lacks bytes: true when it is
/// a token and white space up to the end of the buffer; false when a byte there cannot
/// continue a header name (the name is not a token, or the colon is missing).
#[cold]
fn name_incomplete(rest: &[u8]) -> bool {
    let name_len = rest
        .iter()
        .position(|&b| !is_token(b))
        .unwrap_or(rest.len());
    let mut colon = name_len;
    while let Some(b' ' | b'\t') = rest.get(colon) {
        colon = colon.saturating_add(1);
    }
    rest.get(colon).is_none()
}

fn parse_start_line<'a>(
    line: &'a [u8],
    offset: usize,
    limits: &Limits,
) -> Result<StartLine<'a>, ParseError> {
    if let Some(start_line) = plain_status_line(line) {
        return Ok(start_line);
    }
    if line.len() > 4
        && line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
    {
        return status_line_general(line, offset);
    }
    match request_line(line, limits) {
        Some(request) => Ok(request),
        None => request_line_error(line, offset, limits),
    }
}

/// A request line in one pass: method token, SP, a Request-URI free of white space and
/// control characters, SP, version. `None` for anything else, which
/// [`request_line_error`] then diagnoses.
#[inline(never)]
fn request_line<'a>(line: &'a [u8], limits: &Limits) -> Option<StartLine<'a>> {
    // The method runs to the first SP; a known method is a token, any other is checked.
    let method_len = find(b' ', line)?;
    let method = line.get(..method_len)?;
    let known = Method::known(method);
    if method_len == 0 || (known.is_none() && !method.iter().all(|&b| is_token(b))) {
        return None;
    }
    let rest = line.get(method_len.checked_add(1)?..)?;
    // The usual Request-URI is visible ASCII up to the SP: one walk finds that SP and
    // checks every byte before it. Anything else (a control character, a byte above
    // 0x7e, no SP) takes the general path.
    let uri_len = visible_len(rest);
    if rest.get(uri_len) != Some(&b' ') {
        return request_uri_general(method, known, rest, limits);
    }
    let uri = rest.get(..uri_len)?;
    if uri_len > limits.max_uri_length || !has_scheme(uri) {
        return None;
    }
    request_line_end(method, known, uri, rest.get(uri_len.checked_add(1)?..)?)
}

/// The Request-URI and version of [`request_line`] when the URI is not all visible ASCII
/// up to an SP: a URI with other bytes above 0x7f (UTF-8) is allowed.
#[cold]
fn request_uri_general<'a>(
    method: &'a [u8],
    known: Option<Method<'static>>,
    rest: &'a [u8],
    limits: &Limits,
) -> Option<StartLine<'a>> {
    let uri_len = find(b' ', rest)?;
    let uri = rest.get(..uri_len)?;
    let controls = uri.iter().any(|&b| b < b' ' || b == 0x7f);
    if controls || uri_len > limits.max_uri_length || !has_scheme(uri) {
        return None;
    }
    request_line_end(method, known, uri, rest.get(uri_len.checked_add(1)?..)?)
}

/// A request line once its Request-URI `uri` is cut and checked: the version in `after`
/// (what follows the URI's SP), the method, and the URI as text.
#[inline(always)]
fn request_line_end<'a>(
    method: &'a [u8],
    known: Option<Method<'static>>,
    uri: &'a [u8],
    after: &'a [u8],
) -> Option<StartLine<'a>> {
    let version = parse_version(after)?;
    let method = match known {
        Some(method) => method,
        None => Method::from_token(as_str(method)?),
    };
    Some(StartLine::Request {
        method,
        uri: as_str(uri)?,
        version,
    })
}

/// How many bytes from the start are visible ASCII (`!` to `~`): eight bytes a step,
/// each word tested for bytes below 0x21 and above 0x7e with carry-free arithmetic.
#[inline]
fn visible_len(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let (words, tail) = bytes.as_chunks::<8>();
    let mut len = 0usize;
    for word in words {
        let word = u64::from_le_bytes(*word);
        // Below 0x21: the high bit of the lowest such byte is exact (a borrow only
        // marks bytes above it). 0x7f and above: exact in every byte.
        let below = word.wrapping_sub(ONES.wrapping_mul(0x21)) & !word;
        let above = (word & !HIGH).wrapping_add(ONES) | word;
        let stops = (below | above) & HIGH;
        if stops != 0 {
            return len.wrapping_add((stops.trailing_zeros() / 8) as usize);
        }
        len = len.wrapping_add(8);
    }
    len.wrapping_add(
        tail.iter()
            .position(|&b| !(b'!'..=b'~').contains(&b))
            .unwrap_or(tail.len()),
    )
}

/// The error of a request line [`request_line`] refused (or, should it be valid after
/// all, the line).
#[cold]
fn request_line_error<'a>(
    line: &'a [u8],
    offset: usize,
    limits: &Limits,
) -> Result<StartLine<'a>, ParseError> {
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
    has_scheme(uri) && uri.iter().all(|&b| b > b' ' && b != 0x7f)
}

/// The URI starts with a scheme (a letter, then letters, digits, `+`, `-`, `.`) and a colon.
#[inline]
fn has_scheme(uri: &[u8]) -> bool {
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
    rest.get(scheme_len) == Some(&b':')
}

#[inline]
fn parse_version(bytes: &[u8]) -> Option<Version> {
    if bytes == b"SIP/2.0" {
        return Some(Version::SIP_2_0);
    }
    let numbers = bytes
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case(b"SIP/"))
        .and(bytes.get(4..))?;
    let dot = memchr::memchr(b'.', numbers)?;
    let major = parse_u32(numbers.get(..dot)?)?;
    let minor = parse_u32(numbers.get(dot.checked_add(1)?..)?)?;
    Some(Version { major, minor })
}

/// Nearly every status line is `SIP/2.0 `, three digits, then SP and the reason or
/// nothing: read in place. `None` for anything else (errors included), which
/// [`status_line_general`] then reads.
#[inline(always)]
fn plain_status_line(line: &[u8]) -> Option<StartLine<'_>> {
    let (b"SIP/2.0 ", rest) = line.split_first_chunk::<8>()? else {
        return None;
    };
    let (&[a, b, c], reason) = rest.split_first_chunk::<3>()?;
    let reason = match reason {
        [] => reason,
        [b' ', reason @ ..] => reason,
        _ => return None,
    };
    if ![a, b, c].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digit = |d: u8| u16::from(d.wrapping_sub(b'0'));
    let status = digit(a)
        .wrapping_mul(100)
        .wrapping_add(digit(b).wrapping_mul(10))
        .wrapping_add(digit(c));
    (100..=699)
        .contains(&status)
        .then_some(StartLine::Response {
            version: Version::SIP_2_0,
            status,
            reason,
        })
}

/// A status line of any version; the error when it is not one.
#[cold]
fn status_line_general(line: &[u8], offset: usize) -> Result<StartLine<'_>, ParseError> {
    // Nearly every status line starts `SIP/2.0 `; only other versions need the search.
    let space = if line.starts_with(b"SIP/2.0 ") {
        Some(7)
    } else {
        find(b' ', line)
    };
    let Some(space) = space else {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"\r\nSIP/2.0 200 OK\r\n\
        Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;received=10.0.0.1\r\n\
        To: <sip:alice@ims.test>;tag=a6a1c5f60faecf035a1ae5b6e96e979a\r\n\
        Subject: folded\r\n  over\r\n\tlines\r\n\
        P-Associated-URI: <sip:alice@ims.test>, <tel:+14155550100>\r\n\
        x-odd :  spaced \r\n\
        l: 4\r\n\r\nbody";

    /// The one pass over every cut of a message (run under Miri by `scripts/test miri`,
    /// which checks the SSE2 searches the pass makes): a stream gets `Incomplete` until
    /// the last byte, a datagram an error, and the whole message its headers and body.
    #[test]
    fn every_cut_of_a_message() {
        let limits = Limits::DEFAULT;
        for len in 0..=MESSAGE.len() {
            let bytes = MESSAGE.get(..len).unwrap_or(MESSAGE);
            let mut slots = [RawHeader::EMPTY; 8];
            let result = parse(bytes, &mut slots, &limits, Mode::Stream);
            if len < MESSAGE.len() {
                assert!(
                    matches!(result, Ok(Parsed::Incomplete)),
                    "{len}: {result:?}"
                );
                let mut slots = [RawHeader::EMPTY; 8];
                let datagram = parse(bytes, &mut slots, &limits, Mode::Datagram);
                assert!(datagram.is_err(), "{len}: {datagram:?}");
                continue;
            }
            let Ok(Parsed::Complete { message, length }) = result else {
                panic!("{result:?}");
            };
            assert_eq!(length, MESSAGE.len());
            assert_eq!(message.status(), Some(200));
            let headers: Vec<(&str, &[u8])> = message
                .headers()
                .map(|header| (header.name.as_str(), header.value))
                .collect();
            assert_eq!(
                headers,
                [
                    (
                        "Via",
                        &b"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;received=10.0.0.1"[..]
                    ),
                    (
                        "To",
                        b"<sip:alice@ims.test>;tag=a6a1c5f60faecf035a1ae5b6e96e979a"
                    ),
                    ("Subject", b"folded\r\n  over\r\n\tlines"),
                    (
                        "P-Associated-URI",
                        b"<sip:alice@ims.test>, <tel:+14155550100>"
                    ),
                    ("x-odd", b"spaced"),
                    ("Content-Length", b"4"),
                ]
            );
            assert_eq!(message.body(), b"body");
        }
    }

    #[test]
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    fn visible_len_stops_at_the_first_other_byte() {
        for len in 0..40 {
            let mut bytes = vec![b'a'; len];
            assert_eq!(visible_len(&bytes), len);
            for at in 0..len {
                for stop in [0x00, 0x09, b' ', 0x7f, 0x80, 0xc3, 0xff] {
                    bytes[at] = stop;
                    assert_eq!(visible_len(&bytes), at, "{bytes:?}");
                    // A second stop after the first does not move it.
                    if at + 1 < len {
                        bytes[at + 1] = 0x00;
                        assert_eq!(visible_len(&bytes), at, "{bytes:?}");
                        bytes[at + 1] = b'a';
                    }
                    bytes[at] = b'a';
                }
                for visible in [b'!', b'~', b'0', b'%'] {
                    bytes[at] = visible;
                    assert_eq!(visible_len(&bytes), len);
                    bytes[at] = b'a';
                }
            }
        }
    }

    /// The one-walk Request-URI against the general path (the previous code) with every
    /// byte value at every place of the URI and around it.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "9 k lines, no unsafe; every_cut_of_a_message runs under Miri"
    )]
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    fn request_line_agrees_with_the_general_path() {
        let limits = Limits::DEFAULT;
        let line = b"INVITE sip:bob@biloxi.example.com SIP/2.0";
        for at in 7..line.len() {
            for b in 0..=255u8 {
                let mut changed = line.to_vec();
                changed[at] = b;
                let rest = &changed[7..];
                let general = request_uri_general(b"INVITE", Some(Method::Invite), rest, &limits);
                assert_eq!(request_line(&changed, &limits), general, "{changed:?}");
            }
        }
        // UTF-8 in the URI takes the general path and is accepted.
        let utf8 = "INVITE sip:j\u{f6}rg@example.com SIP/2.0";
        assert!(request_line(utf8.as_bytes(), &limits).is_some());
    }

    /// The in-place status line against the general one: every three bytes of digits
    /// and near misses, with every ending.
    #[test]
    #[cfg_attr(miri, ignore = "13 k lines, no unsafe")]
    fn plain_status_line_agrees_with_the_general_path() {
        let mut plain = 0;
        let bytes = [b'0', b'1', b'5', b'6', b'7', b'9', b'/', b':', b' ', b'a'];
        for a in bytes {
            for b in bytes {
                for c in bytes {
                    for end in [&b""[..], b" ", b" OK", b"  Two", b"x", b"0 OK", b"\t"] {
                        let line = [&b"SIP/2.0 "[..], &[a, b, c], end].concat();
                        let general = status_line_general(&line, 0);
                        if let Some(found) = plain_status_line(&line) {
                            plain += 1;
                            assert_eq!(Ok(found), general, "{line:?}");
                        }
                        let limits = Limits::DEFAULT;
                        assert_eq!(parse_start_line(&line, 0, &limits), general, "{line:?}");
                    }
                }
            }
        }
        // First digits 1, 5 and 6 (100..=699), any two digits after, and the four
        // endings that are none or start with SP.
        assert_eq!(plain, 3 * 6 * 6 * 4);
    }

    #[test]
    fn errors_name_the_offset() {
        let limits = Limits::DEFAULT;
        let mut slots = [RawHeader::EMPTY; 8];
        let cases: [(&[u8], ParseErrorKind, usize); 4] = [
            (
                b"SIP/2.0 200 OK\r\n folded: first\r\n\r\n",
                ParseErrorKind::UnexpectedContinuation,
                16,
            ),
            (
                b"SIP/2.0 200 OK\r\nVia x\r\n\r\n",
                ParseErrorKind::InvalidHeaderName,
                16,
            ),
            (
                b"SIP/2.0 200 OK\r\nl: 4\r\n\rx",
                ParseErrorKind::UnexpectedByte { found: b'x' },
                23,
            ),
            (
                b"SIP/2.0 200 OK\r\nl: x\r\n\r\n",
                ParseErrorKind::InvalidContentLength,
                19,
            ),
        ];
        for (bytes, kind, offset) in cases {
            let error = parse(bytes, &mut slots, &limits, Mode::Stream).unwrap_err();
            assert_eq!((error.kind, error.offset), (kind, offset), "{bytes:?}");
        }
    }
}
