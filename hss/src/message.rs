//! Diameter messages (RFC 6733 §3): the 20-octet header, stream framing with a size
//! limit, and a writer that fills in the length at the end.
//!
//! ```text
//! | Version (1) | Message Length (3) | Flags R P E T (1) | Command Code (3) |
//! | Application-ID (4) | Hop-by-Hop Identifier (4) | End-to-End Identifier (4) | AVPs
//! ```

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use thiserror::Error;

use crate::avp::AvpIter;

/// The header size.
pub const HEADER_LEN: usize = 20;
/// The only protocol version (RFC 6733 §3).
pub const VERSION: u8 = 1;
/// The R bit: a request.
pub const FLAG_REQUEST: u8 = 0x80;
/// The P bit: proxiable.
pub const FLAG_PROXIABLE: u8 = 0x40;
/// The E bit: an answer carrying a protocol error (3xxx).
pub const FLAG_ERROR: u8 = 0x20;
/// The T bit: a possible retransmission.
pub const FLAG_RETRANSMITTED: u8 = 0x10;
/// The default cap on the length of a message imshss reads.
pub const DEFAULT_MAX_MESSAGE: usize = 65_536;

/// The fixed header of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The Message Length field: header and AVPs.
    pub length: usize,
    /// R, P, E, T and the reserved bits.
    pub flags: u8,
    /// The command code (24 bits).
    pub command: u32,
    /// The Application-ID.
    pub application: u32,
    /// The Hop-by-Hop Identifier, echoed in the answer.
    pub hop_by_hop: u32,
    /// The End-to-End Identifier, echoed in the answer.
    pub end_to_end: u32,
}

impl Header {
    /// Reads the header at the start of `bytes`; `None` if fewer than 20 octets are there.
    /// The version is not checked here (see [`frame`]).
    pub fn read(bytes: &[u8]) -> Option<Header> {
        let word = |at: usize| -> Option<u32> {
            let field: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
            Some(u32::from_be_bytes(field))
        };
        let first = word(0)?;
        let second = word(4)?;
        Some(Header {
            length: usize::try_from(first & 0x00ff_ffff).ok()?,
            flags: second.to_be_bytes().first().copied()?,
            command: second & 0x00ff_ffff,
            application: word(8)?,
            hop_by_hop: word(12)?,
            end_to_end: word(16)?,
        })
    }

    /// Whether the R bit is set.
    pub fn is_request(&self) -> bool {
        self.flags & FLAG_REQUEST != 0
    }
}

/// Why a stream's next message cannot be framed; the connection cannot be trusted past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The version octet is not 1.
    #[error("unsupported Diameter version {version}")]
    UnsupportedVersion {
        /// The version octet.
        version: u8,
    },
    /// The Message Length is below the header size.
    #[error("message length {length} is below the 20-octet header")]
    TooShort {
        /// The Message Length field.
        length: usize,
    },
    /// The Message Length is above the configured cap.
    #[error("message length {length} is above the limit of {max}")]
    TooLong {
        /// The Message Length field.
        length: usize,
        /// The cap.
        max: usize,
    },
}

/// How many octets the message at the start of `buffer` takes, read from its first four
/// octets (version and length): `Ok(None)` until they have arrived. The caller waits
/// until that many octets are buffered. A length that is not a multiple of four is framed
/// all the same (the answer is DIAMETER_INVALID_MESSAGE_LENGTH, see [`Message::parse`]).
pub fn frame(buffer: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    let [version, l0, l1, l2, ..] = *buffer else {
        return Ok(None);
    };
    if version != VERSION {
        return Err(FrameError::UnsupportedVersion { version });
    }
    let length = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
    if length < HEADER_LEN {
        return Err(FrameError::TooShort { length });
    }
    if length > max {
        return Err(FrameError::TooLong { length, max });
    }
    Ok(Some(length))
}

/// A whole message, borrowed from the buffer it was framed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The header.
    pub header: Header,
    /// The AVPs, unparsed.
    pub body: &'a [u8],
}

/// Why a framed message is not well formed; the stream itself is still in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Fewer than 20 octets.
    #[error("message of {length} octets has no complete header")]
    Truncated {
        /// Octets given.
        length: usize,
    },
    /// The Message Length field disagrees with the octets given, or is not a multiple of
    /// four (RFC 6733 §3).
    #[error("message length field {field} but {actual} octets")]
    BadLength {
        /// The Message Length field.
        field: usize,
        /// Octets given.
        actual: usize,
    },
}

impl<'a> Message<'a> {
    /// Reads one whole message (as [`frame`] delimited it).
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, MessageError> {
        let header = Header::read(bytes).ok_or(MessageError::Truncated {
            length: bytes.len(),
        })?;
        if header.length != bytes.len() || header.length % 4 != 0 {
            return Err(MessageError::BadLength {
                field: header.length,
                actual: bytes.len(),
            });
        }
        Ok(Message {
            header,
            body: bytes.get(HEADER_LEN..).unwrap_or_default(),
        })
    }

    /// The top-level AVPs.
    pub fn avps(&self) -> AvpIter<'a> {
        AvpIter::new(self.body)
    }
}

/// Writes a message: the header first, AVPs appended to [`MessageWriter::buffer`], the
/// length filled in by [`MessageWriter::finish`].
#[derive(Debug)]
pub struct MessageWriter {
    /// The message so far.
    pub buffer: Vec<u8>,
}

impl MessageWriter {
    /// A message with this header (its `length` is ignored).
    pub fn new(header: &Header) -> MessageWriter {
        let mut buffer = Vec::with_capacity(512);
        buffer.push(VERSION);
        buffer.extend_from_slice(&[0, 0, 0]);
        buffer.extend_from_slice(&(header.command & 0x00ff_ffff).to_be_bytes());
        if let Some(flags) = buffer.get_mut(4) {
            *flags = header.flags;
        }
        buffer.extend_from_slice(&header.application.to_be_bytes());
        buffer.extend_from_slice(&header.hop_by_hop.to_be_bytes());
        buffer.extend_from_slice(&header.end_to_end.to_be_bytes());
        MessageWriter { buffer }
    }

    /// The finished message with its length.
    pub fn finish(mut self) -> Vec<u8> {
        let length = u32::try_from(self.buffer.len()).unwrap_or(u32::MAX) & 0x00ff_ffff;
        let [_, l0, l1, l2] = length.to_be_bytes();
        if let Some(field) = self.buffer.get_mut(1..4) {
            field.copy_from_slice(&[l0, l1, l2]);
        }
        self.buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_waits_for_the_header_and_checks_length() {
        let mut bytes = vec![1, 0, 0, 24, 0x80, 0, 1, 24];
        assert_eq!(frame(&bytes[..3], 100), Ok(None));
        assert_eq!(frame(&bytes, 100), Ok(Some(24)));
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(frame(&bytes, 100), Ok(Some(24)));
        assert_eq!(
            frame(&bytes, 20),
            Err(FrameError::TooLong {
                length: 24,
                max: 20
            })
        );
        bytes[3] = 19;
        assert_eq!(frame(&bytes, 100), Err(FrameError::TooShort { length: 19 }));
        bytes[0] = 2;
        assert_eq!(
            frame(&bytes, 100),
            Err(FrameError::UnsupportedVersion { version: 2 })
        );
        assert_eq!(frame(&[], 100), Ok(None));
    }

    #[test]
    fn parse_rejects_lengths_that_disagree() {
        let mut bytes = vec![1, 0, 0, 24, 0x80, 0, 1, 24];
        bytes.extend_from_slice(&[0; 16]);
        assert!(Message::parse(&bytes).is_ok());
        assert_eq!(
            Message::parse(&bytes[..23]),
            Err(MessageError::BadLength {
                field: 24,
                actual: 23
            })
        );
        assert_eq!(
            Message::parse(&bytes[..10]),
            Err(MessageError::Truncated { length: 10 })
        );
        bytes[3] = 22;
        bytes.truncate(22);
        assert_eq!(
            Message::parse(&bytes),
            Err(MessageError::BadLength {
                field: 22,
                actual: 22
            })
        );
    }

    #[test]
    fn writer_fills_in_length_and_ids() {
        let header = Header {
            length: 0,
            flags: FLAG_PROXIABLE,
            command: 300,
            application: 16_777_216,
            hop_by_hop: 0x0102_0304,
            end_to_end: 0x0a0b_0c0d,
        };
        let bytes = MessageWriter::new(&header).finish();
        assert_eq!(
            bytes,
            [
                1, 0, 0, 20, 0x40, 0, 1, 44, 1, 0, 0, 0, 1, 2, 3, 4, 10, 11, 12, 13
            ]
        );
        assert_eq!(
            Header::read(&bytes),
            Some(Header {
                length: 20,
                ..header
            })
        );
    }
}
