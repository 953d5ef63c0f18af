//! Stream framing for TCP/TLS: how long the next whole message is, without copying.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::chars::{parse_u32, trim_ws};
use super::error::{ParseError, ParseErrorKind};
use super::header::HeaderKind;
use super::limits::Limits;
use super::parse::skip_leading_crlf;

/// What the start of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// CRLF keep-alive (RFC 5626 §4.4.1): a ping is `CRLF CRLF` (length 4), a pong a
    /// single `CRLF` (length 2). Consume `length` bytes.
    KeepAlive {
        /// Bytes to consume.
        length: usize,
    },
    /// A whole message occupies the first `length` bytes (leading CRLFs that are not a
    /// keep-alive are included).
    Message {
        /// Bytes of the message.
        length: usize,
    },
    /// Not enough bytes yet.
    Incomplete,
}

/// Finds the extent of the next message (or keep-alive) in stream bytes.
///
/// Reads only the header block's Content-Length; the full parse happens later on exactly
/// `length` bytes. Errors when the headers exceed the message size limit, when
/// Content-Length is missing, invalid or conflicting, or when the message would exceed
/// the limit.
pub fn frame_stream(bytes: &[u8], limits: &Limits) -> Result<Frame, ParseError> {
    match bytes {
        [] => return Ok(Frame::Incomplete),
        [b'\r', b'\n', b'\r', b'\n', ..] => return Ok(Frame::KeepAlive { length: 4 }),
        [b'\r', b'\n', b'\r'] | [b'\r'] => return Ok(Frame::Incomplete),
        [b'\r', b'\n', ..] => return Ok(Frame::KeepAlive { length: 2 }),
        _ => {}
    }
    let start = skip_leading_crlf(bytes);
    let input = bytes.get(start..).unwrap_or(&[]);
    let max_size = limits.max_message_size;
    let too_large = || {
        ParseError::new(
            ParseErrorKind::MessageTooLarge {
                limit: u32::try_from(max_size).unwrap_or(u32::MAX),
            },
            start,
        )
    };
    let window = input.get(..max_size).unwrap_or(input);
    let Some(blank) = memchr::memmem::find(window, b"\r\n\r\n") else {
        return if input.len() > max_size {
            Err(too_large())
        } else {
            Ok(Frame::Incomplete)
        };
    };
    let header_end = blank.saturating_add(4);
    let head = window.get(..blank).unwrap_or(&[]);
    let mut content_length: Option<u32> = None;
    let mut next_line = 0usize;
    // Skip the start line; then each header line's name decides.
    for (index, line) in head.split(|&b| b == b'\n').enumerate() {
        let line_start = next_line;
        next_line = next_line.saturating_add(line.len()).saturating_add(1);
        if index == 0 {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = trim_ws(line.get(..colon).unwrap_or(&[]));
        if HeaderKind::lookup(name) != HeaderKind::ContentLength {
            continue;
        }
        let value = trim_ws(line.get(colon.saturating_add(1)..).unwrap_or(&[]));
        let offset = start.saturating_add(line_start);
        let length = parse_u32(value)
            .ok_or_else(|| ParseError::new(ParseErrorKind::InvalidContentLength, offset))?;
        match content_length {
            Some(first) if first != length => {
                return Err(ParseError::new(
                    ParseErrorKind::ConflictingContentLength {
                        first,
                        second: length,
                    },
                    offset,
                ));
            }
            _ => content_length = Some(length),
        }
    }
    let Some(body) = content_length else {
        return Err(ParseError::new(ParseErrorKind::MissingContentLength, start));
    };
    let end = header_end.saturating_add(body as usize);
    if end > max_size {
        return Err(too_large());
    }
    if end > input.len() {
        return Ok(Frame::Incomplete);
    }
    Ok(Frame::Message {
        length: start.saturating_add(end),
    })
}
