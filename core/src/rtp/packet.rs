//! RTP data packets (RFC 3550 §5.1): a zero-copy view over received bytes and a writer
//! that appends to a caller-owned buffer or fills a caller-owned slice.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use thiserror::Error;

/// The RTP version this crate reads and writes (RFC 3550 §5.1).
pub const RTP_VERSION: u8 = 2;

/// Length of the fixed RTP header in bytes, without CSRCs or extension.
pub const FIXED_HEADER_LENGTH: usize = 12;

/// The most contributing sources one header can carry (the CC field is 4 bits).
pub const MAX_CSRC_COUNT: usize = 15;

/// Why an RTP packet could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtpError {
    /// The packet is shorter than the header it announces.
    #[error("RTP packet truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the header says are there.
        needed: usize,
        /// Bytes actually present.
        available: usize,
    },
    /// The version field is not 2.
    #[error("unsupported RTP version {version}")]
    UnsupportedVersion {
        /// The version found in the first two bits.
        version: u8,
    },
    /// The padding count is zero or exceeds the bytes after the header.
    #[error("invalid RTP padding length {padding} with {available} bytes after the header")]
    InvalidPadding {
        /// The padding count from the last byte.
        padding: u8,
        /// Bytes available after the header (payload plus padding).
        available: usize,
    },
    /// The writer was given more CSRCs than the 4-bit CC field can hold.
    #[error("too many CSRCs: {count} (at most 15)")]
    TooManyCsrcs {
        /// The number given.
        count: usize,
    },
    /// The writer was given a payload type above 127.
    #[error("payload type {payload_type} does not fit in 7 bits")]
    InvalidPayloadType {
        /// The payload type given.
        payload_type: u8,
    },
    /// The writer was given extension data whose length is not a multiple of 4 or is
    /// longer than 65535 words.
    #[error("extension length {length} is not a multiple of 4 or is too long")]
    InvalidExtensionLength {
        /// The length in bytes.
        length: usize,
    },
    /// The output slice is too small for the packet.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes the slice has.
        available: usize,
    },
}

/// A header extension (RFC 3550 §5.3.1): a 16-bit profile value and its data words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// The profile-defined 16 bits (0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension data, a multiple of 4 bytes long.
    pub data: &'a [u8],
}

/// A parsed RTP packet that borrows the datagram it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    bytes: &'a [u8],
    /// The fixed header (the first 12 bytes of `bytes`), so the fixed fields are read
    /// without a length check each.
    fixed: &'a [u8; FIXED_HEADER_LENGTH],
    csrc: &'a [u8],
    extension: Option<RtpExtension<'a>>,
    payload: &'a [u8],
    padding: u8,
}

fn read_u16(bytes: &[u8], offset: usize) -> u16 {
    match bytes.get(offset..).and_then(|rest| rest.first_chunk::<2>()) {
        Some(chunk) => u16::from_be_bytes(*chunk),
        None => 0,
    }
}

fn truncated(needed: usize, available: usize) -> RtpError {
    RtpError::Truncated { needed, available }
}

impl<'a> RtpPacket<'a> {
    /// Reads an RTP packet from `bytes` without copying (RFC 3550 §5.1).
    ///
    /// Checks the version, the CSRC list, the extension length and the padding count
    /// against the datagram's length; never panics on any input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RtpError> {
        let available = bytes.len();
        let fixed = bytes
            .first_chunk::<FIXED_HEADER_LENGTH>()
            .ok_or(truncated(FIXED_HEADER_LENGTH, available))?;
        let [first, ..] = *fixed;
        let version = first >> 6;
        if version != RTP_VERSION {
            return Err(RtpError::UnsupportedVersion { version });
        }
        let has_padding = first & 0x20 != 0;
        let has_extension = first & 0x10 != 0;
        let csrc_count = usize::from(first & 0x0F);
        let csrc_end = FIXED_HEADER_LENGTH.saturating_add(csrc_count.saturating_mul(4));
        let csrc = bytes
            .get(FIXED_HEADER_LENGTH..csrc_end)
            .ok_or(truncated(csrc_end, available))?;
        let mut header_end = csrc_end;
        let extension = if has_extension {
            let data_start = csrc_end.saturating_add(4);
            if available < data_start {
                return Err(truncated(data_start, available));
            }
            let profile = read_u16(bytes, csrc_end);
            let words = usize::from(read_u16(bytes, csrc_end.saturating_add(2)));
            let data_end = data_start.saturating_add(words.saturating_mul(4));
            let data = bytes
                .get(data_start..data_end)
                .ok_or(truncated(data_end, available))?;
            header_end = data_end;
            Some(RtpExtension { profile, data })
        } else {
            None
        };
        let body = bytes.get(header_end..).unwrap_or_default();
        let mut padding = 0u8;
        let payload = if has_padding {
            padding = body.last().copied().unwrap_or(0);
            let keep = body.len().checked_sub(usize::from(padding));
            match (padding, keep) {
                (1.., Some(keep)) => body.get(..keep).unwrap_or_default(),
                _ => {
                    return Err(RtpError::InvalidPadding {
                        padding,
                        available: body.len(),
                    });
                }
            }
        } else {
            body
        };
        Ok(Self {
            bytes,
            fixed,
            csrc,
            extension,
            payload,
            padding,
        })
    }

    /// The whole packet as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The padding flag (P).
    pub fn has_padding(&self) -> bool {
        self.padding != 0
    }

    /// Number of padding bytes at the end, 0 when the P flag is clear.
    pub fn padding_length(&self) -> u8 {
        self.padding
    }

    /// The marker bit (M); for audio it marks the first packet of a talkspurt (RFC 3551 §4.1).
    pub fn marker(&self) -> bool {
        let [_, second, ..] = *self.fixed;
        second & 0x80 != 0
    }

    /// The 7-bit payload type (PT).
    pub fn payload_type(&self) -> u8 {
        let [_, second, ..] = *self.fixed;
        second & 0x7F
    }

    /// The 16-bit sequence number.
    pub fn sequence(&self) -> u16 {
        let [_, _, high, low, ..] = *self.fixed;
        u16::from_be_bytes([high, low])
    }

    /// The 32-bit RTP timestamp, in units of the payload's clock rate.
    pub fn timestamp(&self) -> u32 {
        let [_, _, _, _, b0, b1, b2, b3, ..] = *self.fixed;
        u32::from_be_bytes([b0, b1, b2, b3])
    }

    /// The synchronisation source identifier (SSRC).
    pub fn ssrc(&self) -> u32 {
        let [.., b0, b1, b2, b3] = *self.fixed;
        u32::from_be_bytes([b0, b1, b2, b3])
    }

    /// Number of contributing sources (CC).
    pub fn csrc_count(&self) -> usize {
        self.csrc.len() / 4
    }

    /// The contributing source identifiers, in order.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        self.csrc.chunks_exact(4).map(|chunk| {
            chunk
                .first_chunk::<4>()
                .map_or(0, |c| u32::from_be_bytes(*c))
        })
    }

    /// The header extension, if the X flag is set.
    pub fn extension(&self) -> Option<RtpExtension<'a>> {
        self.extension
    }

    /// The payload, without header, extension or padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The header fields of this packet, borrowing its CSRC list and extension.
    pub fn header(&self) -> RtpHeader<'a> {
        RtpHeader {
            marker: self.marker(),
            payload_type: self.payload_type(),
            sequence: self.sequence(),
            timestamp: self.timestamp(),
            ssrc: self.ssrc(),
            csrc: self.csrc,
            extension: self.extension,
        }
    }
}

/// The fields of an RTP header to write (RFC 3550 §5.1); the version is always 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader<'a> {
    /// The marker bit (M).
    pub marker: bool,
    /// The payload type, 0 to 127.
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
    /// The CSRC list as big-endian bytes, 4 per source (at most 15 sources).
    pub csrc: &'a [u8],
    /// The header extension, if any.
    pub extension: Option<RtpExtension<'a>>,
}

impl RtpHeader<'_> {
    /// Bytes this header takes on the wire, CSRCs and extension included.
    pub fn length(&self) -> usize {
        let extension = self
            .extension
            .map_or(0, |extension| extension.data.len().saturating_add(4));
        FIXED_HEADER_LENGTH
            .saturating_add(self.csrc.len())
            .saturating_add(extension)
    }

    fn validate(&self) -> Result<(), RtpError> {
        if self.payload_type > 0x7F {
            return Err(RtpError::InvalidPayloadType {
                payload_type: self.payload_type,
            });
        }
        if self.csrc.len() > MAX_CSRC_COUNT.saturating_mul(4) || !self.csrc.len().is_multiple_of(4)
        {
            return Err(RtpError::TooManyCsrcs {
                count: self.csrc.len().div_ceil(4),
            });
        }
        if let Some(extension) = self.extension {
            let length = extension.data.len();
            if length % 4 != 0 || length / 4 > usize::from(u16::MAX) {
                return Err(RtpError::InvalidExtensionLength { length });
            }
        }
        Ok(())
    }

    /// Writes this header, `payload` and `padding` padding bytes into `out`, returning
    /// the packet's length. Allocates nothing; `padding` of 0 means no padding.
    pub fn write_to_slice(
        &self,
        payload: &[u8],
        padding: u8,
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        self.validate()?;
        let header_length = self.length();
        let needed = header_length
            .saturating_add(payload.len())
            .saturating_add(usize::from(padding));
        let available = out.len();
        let packet = out
            .get_mut(..needed)
            .ok_or(RtpError::BufferTooSmall { needed, available })?;
        let csrc_count = u8::try_from(self.csrc.len() / 4).unwrap_or(0);
        let mut first = (RTP_VERSION << 6) | csrc_count;
        if padding > 0 {
            first |= 0x20;
        }
        if self.extension.is_some() {
            first |= 0x10;
        }
        let second = u8::from(self.marker) << 7 | self.payload_type;
        let mut writer = SliceWriter { out: packet, at: 0 };
        writer.put(&[first, second]);
        writer.put(&self.sequence.to_be_bytes());
        writer.put(&self.timestamp.to_be_bytes());
        writer.put(&self.ssrc.to_be_bytes());
        writer.put(self.csrc);
        if let Some(extension) = self.extension {
            let words = u16::try_from(extension.data.len() / 4).unwrap_or(u16::MAX);
            writer.put(&extension.profile.to_be_bytes());
            writer.put(&words.to_be_bytes());
            writer.put(extension.data);
        }
        writer.put(payload);
        if padding > 0 {
            for _ in 1..padding {
                writer.put(&[0]);
            }
            writer.put(&[padding]);
        }
        Ok(needed)
    }

    /// Appends this header, `payload` and `padding` padding bytes to `out`.
    pub fn write(&self, payload: &[u8], padding: u8, out: &mut Vec<u8>) -> Result<(), RtpError> {
        self.validate()?;
        let start = out.len();
        let needed = self
            .length()
            .saturating_add(payload.len())
            .saturating_add(usize::from(padding));
        out.resize(start.saturating_add(needed), 0);
        let tail = out.get_mut(start..).unwrap_or_default();
        self.write_to_slice(payload, padding, tail).map(|_| ())
    }
}

/// Copies successive pieces into a slice already checked to be long enough.
struct SliceWriter<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl SliceWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at.saturating_add(bytes.len());
        if let Some(target) = self.out.get_mut(self.at..end) {
            target.copy_from_slice(bytes);
        }
        self.at = end;
    }
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
