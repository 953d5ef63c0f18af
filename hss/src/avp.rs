//! The AVP codec (RFC 6733 §4.1): reading AVPs in place from a message body and writing
//! them, grouped ones included, into a `Vec<u8>`.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           AVP Code                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V M P r r r r r|                  AVP Length                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Vendor-ID (opt)                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Data ...
//! +-+-+-+-+-+-+-+-+
//! ```
//! AVP Length counts the header and the data but not the padding to the next multiple of
//! four octets, which follows every AVP, the last one of a grouped AVP included (§4.4).

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use thiserror::Error;

/// The V bit: a Vendor-ID field follows the length.
pub const FLAG_VENDOR: u8 = 0x80;
/// The M bit: the receiver must understand this AVP or reject the message.
pub const FLAG_MANDATORY: u8 = 0x40;
/// The P bit (end-to-end protection; unused by imshss, kept when echoed).
pub const FLAG_PROTECTED: u8 = 0x20;

/// The header size of an AVP without a Vendor-ID.
const HEADER: usize = 8;
/// The header size of an AVP with a Vendor-ID.
const VENDOR_HEADER: usize = 12;
/// The largest AVP length the 24-bit field can carry.
const MAX_LENGTH: usize = 0x00ff_ffff;

/// Why the AVPs of a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AvpError {
    /// Fewer octets are left than an AVP header needs.
    #[error("AVP header truncated at offset {offset}: {available} octets left")]
    TruncatedHeader {
        /// Offset of the AVP in the body it was read from.
        offset: usize,
        /// Octets left there.
        available: usize,
    },
    /// The AVP Length is below its header size or runs past the end of the body.
    #[error("AVP {code} at offset {offset} has length {length}, {available} octets left")]
    BadLength {
        /// Offset of the AVP in the body it was read from.
        offset: usize,
        /// The AVP code.
        code: u32,
        /// The AVP Length field.
        length: usize,
        /// Octets left from the AVP's start.
        available: usize,
    },
}

/// One AVP, borrowed from the message it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Avp<'a> {
    /// The AVP code.
    pub code: u32,
    /// The flag octet (V, M, P).
    pub flags: u8,
    /// The Vendor-ID, 0 when the V bit is clear.
    pub vendor: u32,
    /// The data, without header or padding.
    pub data: &'a [u8],
    /// The whole AVP as received, header included and padding excluded (echoed in
    /// Failed-AVP).
    pub raw: &'a [u8],
}

impl<'a> Avp<'a> {
    /// Whether the M bit is set.
    pub fn is_mandatory(&self) -> bool {
        self.flags & FLAG_MANDATORY != 0
    }

    /// The data as Unsigned32 / Enumerated, or `None` if it is not four octets.
    pub fn u32(&self) -> Option<u32> {
        let bytes: [u8; 4] = self.data.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }

    /// The data as UTF8String, or `None` if it is not UTF-8.
    pub fn utf8(&self) -> Option<&'a str> {
        std::str::from_utf8(self.data).ok()
    }

    /// The AVPs inside a grouped AVP.
    pub fn grouped(&self) -> AvpIter<'a> {
        AvpIter::new(self.data)
    }
}

/// Reads the AVPs of a body (or of a grouped AVP's data) one after the other; after the
/// first error it yields nothing more.
#[derive(Debug, Clone)]
pub struct AvpIter<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> AvpIter<'a> {
    /// An iterator over the AVPs in `body`.
    pub fn new(body: &'a [u8]) -> AvpIter<'a> {
        AvpIter {
            rest: body,
            offset: 0,
            failed: false,
        }
    }

    fn read(&mut self) -> Result<Avp<'a>, AvpError> {
        let rest = self.rest;
        let offset = self.offset;
        let truncated = AvpError::TruncatedHeader {
            offset,
            available: rest.len(),
        };
        let (code, flags, length) = match rest {
            [c0, c1, c2, c3, flags, l0, l1, l2, ..] => (
                u32::from_be_bytes([*c0, *c1, *c2, *c3]),
                *flags,
                usize::from(*l0) << 16 | usize::from(*l1) << 8 | usize::from(*l2),
            ),
            _ => return Err(truncated),
        };
        let header = if flags & FLAG_VENDOR != 0 {
            VENDOR_HEADER
        } else {
            HEADER
        };
        let bad_length = AvpError::BadLength {
            offset,
            code,
            length,
            available: rest.len(),
        };
        if length < header {
            return Err(bad_length);
        }
        let raw = rest.get(..length).ok_or(bad_length)?;
        let vendor = match raw {
            [_, _, _, _, _, _, _, _, v0, v1, v2, v3, ..] if header == VENDOR_HEADER => {
                u32::from_be_bytes([*v0, *v1, *v2, *v3])
            }
            _ => 0,
        };
        let data = raw.get(header..).unwrap_or_default();
        // The padding may be missing after the last AVP of a body; take what is there.
        let padded = padded_len(length).min(rest.len());
        self.rest = rest.get(padded..).unwrap_or_default();
        self.offset = offset.saturating_add(padded);
        Ok(Avp {
            code,
            flags,
            vendor,
            data,
            raw,
        })
    }
}

impl<'a> Iterator for AvpIter<'a> {
    type Item = Result<Avp<'a>, AvpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let item = self.read();
        self.failed = item.is_err();
        Some(item)
    }
}

/// `length` rounded up to a multiple of four.
pub fn padded_len(length: usize) -> usize {
    length.saturating_add(3) & !3
}

/// Appends one AVP: header (with the Vendor-ID and V bit when `vendor` is not 0), data and
/// padding. `flags` gives M and P; V follows from `vendor`.
pub fn write(out: &mut Vec<u8>, code: u32, flags: u8, vendor: u32, data: &[u8]) {
    let start = begin(out, code, flags, vendor);
    out.extend_from_slice(data);
    end(out, start);
}

/// Appends an Unsigned32 / Enumerated AVP.
pub fn write_u32(out: &mut Vec<u8>, code: u32, flags: u8, vendor: u32, value: u32) {
    write(out, code, flags, vendor, &value.to_be_bytes());
}

/// Starts an AVP whose data the caller appends next (a grouped AVP's inner AVPs); returns
/// the start to hand to [`end`].
pub fn begin(out: &mut Vec<u8>, code: u32, flags: u8, vendor: u32) -> usize {
    let start = out.len();
    out.extend_from_slice(&code.to_be_bytes());
    let flags = if vendor == 0 {
        flags & !FLAG_VENDOR
    } else {
        flags | FLAG_VENDOR
    };
    out.extend_from_slice(&[flags, 0, 0, 0]);
    if vendor != 0 {
        out.extend_from_slice(&vendor.to_be_bytes());
    }
    start
}

/// Ends the AVP begun at `start`: writes its length and pads it. An AVP longer than the
/// 24-bit field allows cannot come out of imshss (its answers are small); its length is
/// capped rather than wrapped.
pub fn end(out: &mut Vec<u8>, start: usize) {
    let length = out.len().saturating_sub(start).min(MAX_LENGTH);
    let [_, l0, l1, l2] = u32::try_from(length).unwrap_or(0).to_be_bytes();
    if let Some(field) = out.get_mut(start.saturating_add(5)..start.saturating_add(8)) {
        field.copy_from_slice(&[l0, l1, l2]);
    }
    out.resize(padded_len(out.len()), 0);
}

#[cfg(test)]
mod tests;
