//! Stream framing for TCP/TLS: how long the next whole message is, without copying.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::error::ParseError;
use super::limits::Limits;
use super::parse::{Mode, Pass, scan};

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
/// Runs the parser's own pass without storing headers, so a framed message always parses
/// to the same length. Errors are the parser's: a broken start line or header line,
/// Content-Length missing, invalid or conflicting, or a message past the size limit.
pub fn frame_stream(bytes: &[u8], limits: &Limits) -> Result<Frame, ParseError> {
    match bytes {
        [] => return Ok(Frame::Incomplete),
        [b'\r', b'\n', b'\r', b'\n', ..] => return Ok(Frame::KeepAlive { length: 4 }),
        [b'\r', b'\n', b'\r'] | [b'\r'] => return Ok(Frame::Incomplete),
        [b'\r', b'\n', ..] => return Ok(Frame::KeepAlive { length: 2 }),
        _ => {}
    }
    match scan(bytes, None, limits, Mode::Stream, Pass::Portable)? {
        Some(scanned) => Ok(Frame::Message {
            length: scanned.length(),
        }),
        None => Ok(Frame::Incomplete),
    }
}
