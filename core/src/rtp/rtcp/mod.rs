//! RTCP (RFC 3550 §6): zero-copy views of compound packets (SR, RR, SDES, BYE) and
//! writers that append them to a caller-owned buffer.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod bye;
mod report;
mod sdes;

pub use bye::{Bye, write_bye};
pub use report::{
    ReceiverReport, ReportBlock, SenderInfo, SenderReport, write_receiver_report,
    write_sender_report,
};
pub use sdes::{SdesChunk, SdesItem, SdesItemType, SourceDescription, write_source_description};

use thiserror::Error;

/// Packet type of a sender report (RFC 3550 §6.4.1).
pub const PACKET_TYPE_SENDER_REPORT: u8 = 200;
/// Packet type of a receiver report (RFC 3550 §6.4.2).
pub const PACKET_TYPE_RECEIVER_REPORT: u8 = 201;
/// Packet type of a source description (RFC 3550 §6.5).
pub const PACKET_TYPE_SOURCE_DESCRIPTION: u8 = 202;
/// Packet type of a goodbye (RFC 3550 §6.6).
pub const PACKET_TYPE_BYE: u8 = 203;
/// Packet type of an application-defined packet (RFC 3550 §6.7).
pub const PACKET_TYPE_APPLICATION: u8 = 204;

/// Why an RTCP packet could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// Fewer bytes than a header, or than the length a header announces.
    #[error("RTCP packet truncated at offset {offset}: need {needed} bytes, have {available}")]
    Truncated {
        /// Offset of the packet in the compound.
        offset: usize,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The version field is not 2.
    #[error("unsupported RTCP version {version} at offset {offset}")]
    UnsupportedVersion {
        /// Offset of the packet in the compound.
        offset: usize,
        /// The version found.
        version: u8,
    },
    /// The padding count is zero or larger than the packet.
    #[error("invalid RTCP padding {padding} at offset {offset}")]
    InvalidPadding {
        /// Offset of the packet in the compound.
        offset: usize,
        /// The padding count found.
        padding: u8,
    },
    /// A packet's body does not match its count field (report blocks, chunks, SSRCs).
    #[error("RTCP packet type {packet_type} body of {length} bytes does not hold {count} entries")]
    CountMismatch {
        /// The packet type.
        packet_type: u8,
        /// The count field.
        count: u8,
        /// The body length in bytes.
        length: usize,
    },
    /// An SDES item or BYE reason runs past the end of its packet.
    #[error("RTCP item overruns packet type {packet_type} at byte {offset}")]
    ItemOverrun {
        /// The packet type.
        packet_type: u8,
        /// Offset of the item within the packet body.
        offset: usize,
    },
    /// The writer was given more than 31 entries (the count field is 5 bits).
    #[error("too many entries for one RTCP packet: {count} (at most 31)")]
    TooManyEntries {
        /// The number given.
        count: usize,
    },
    /// The writer was given text longer than 255 bytes.
    #[error("RTCP text of {length} bytes is longer than 255")]
    TextTooLong {
        /// The length given.
        length: usize,
    },
}

/// One packet of an RTCP compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// A sender report (SR).
    SenderReport(SenderReport<'a>),
    /// A receiver report (RR).
    ReceiverReport(ReceiverReport<'a>),
    /// A source description (SDES).
    SourceDescription(SourceDescription<'a>),
    /// A goodbye (BYE).
    Bye(Bye<'a>),
    /// Any other packet type (APP, RTPFB, PSFB, XR, ...), left unparsed.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count or subtype field.
        count: u8,
        /// The body after the 4-byte header, without padding.
        body: &'a [u8],
    },
}

/// An iterator over the packets of an RTCP compound packet (RFC 3550 §6.1).
///
/// Yields each packet or the first error; after an error it yields nothing more.
#[derive(Debug, Clone)]
pub struct RtcpCompound<'a> {
    bytes: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> RtcpCompound<'a> {
    /// Starts reading the compound packet in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            failed: false,
        }
    }

    /// Checks the whole compound: every packet parses, and the first is an SR or RR
    /// (RFC 3550 §6.1, A.2). Returns the number of packets.
    pub fn validate(bytes: &'a [u8]) -> Result<usize, RtcpError> {
        let mut count = 0usize;
        for packet in Self::new(bytes) {
            let packet = packet?;
            if count == 0
                && !matches!(
                    packet,
                    RtcpPacket::SenderReport(_) | RtcpPacket::ReceiverReport(_)
                )
            {
                return Err(RtcpError::CountMismatch {
                    packet_type: packet_type_of(&packet),
                    count: 0,
                    length: bytes.len(),
                });
            }
            count = count.saturating_add(1);
        }
        Ok(count)
    }

    fn next_packet(&mut self) -> Result<RtcpPacket<'a>, RtcpError> {
        let offset = self.offset;
        let rest = self.bytes.get(offset..).unwrap_or_default();
        let header = rest.first_chunk::<4>().ok_or(RtcpError::Truncated {
            offset,
            needed: 4,
            available: rest.len(),
        })?;
        let version = header[0] >> 6;
        if version != 2 {
            return Err(RtcpError::UnsupportedVersion { offset, version });
        }
        let has_padding = header[0] & 0x20 != 0;
        let count = header[0] & 0x1F;
        let packet_type = header[1];
        let words = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let length = words.saturating_add(1).saturating_mul(4);
        let packet = rest.get(..length).ok_or(RtcpError::Truncated {
            offset,
            needed: length,
            available: rest.len(),
        })?;
        self.offset = offset.saturating_add(length);
        let mut body = packet.get(4..).unwrap_or_default();
        if has_padding {
            let padding = body.last().copied().unwrap_or(0);
            let keep = body.len().checked_sub(usize::from(padding));
            body = match (padding, keep) {
                (1.., Some(keep)) => body.get(..keep).unwrap_or_default(),
                _ => return Err(RtcpError::InvalidPadding { offset, padding }),
            };
        }
        Ok(match packet_type {
            PACKET_TYPE_SENDER_REPORT => {
                RtcpPacket::SenderReport(SenderReport::parse(count, body)?)
            }
            PACKET_TYPE_RECEIVER_REPORT => {
                RtcpPacket::ReceiverReport(ReceiverReport::parse(count, body)?)
            }
            PACKET_TYPE_SOURCE_DESCRIPTION => {
                RtcpPacket::SourceDescription(SourceDescription::parse(count, body)?)
            }
            PACKET_TYPE_BYE => RtcpPacket::Bye(Bye::parse(count, body)?),
            _ => RtcpPacket::Other {
                packet_type,
                count,
                body,
            },
        })
    }
}

fn packet_type_of(packet: &RtcpPacket<'_>) -> u8 {
    match packet {
        RtcpPacket::SenderReport(_) => PACKET_TYPE_SENDER_REPORT,
        RtcpPacket::ReceiverReport(_) => PACKET_TYPE_RECEIVER_REPORT,
        RtcpPacket::SourceDescription(_) => PACKET_TYPE_SOURCE_DESCRIPTION,
        RtcpPacket::Bye(_) => PACKET_TYPE_BYE,
        RtcpPacket::Other { packet_type, .. } => *packet_type,
    }
}

impl<'a> Iterator for RtcpCompound<'a> {
    type Item = Result<RtcpPacket<'a>, RtcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.bytes.len() {
            return None;
        }
        let result = self.next_packet();
        self.failed = result.is_err();
        Some(result)
    }
}

/// Reads a big-endian u32 at `offset`, or 0 past the end (callers check lengths first).
pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    bytes
        .get(offset..)
        .and_then(|rest| rest.first_chunk::<4>())
        .map_or(0, |chunk| u32::from_be_bytes(*chunk))
}

/// Appends a common header with a zero length and returns where it starts, for
/// [`finish_packet`] to patch.
pub(crate) fn start_packet(out: &mut Vec<u8>, count: usize, packet_type: u8) -> usize {
    let start = out.len();
    let count = u8::try_from(count).unwrap_or(0) & 0x1F;
    out.extend_from_slice(&[0x80 | count, packet_type, 0, 0]);
    start
}

/// Pads the packet that starts at `start` to a 32-bit boundary with zero bytes and
/// writes its length field (RFC 3550 §6.4.1: length in words minus one).
pub(crate) fn finish_packet(out: &mut Vec<u8>, start: usize) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    let words = out.len().saturating_sub(start) / 4;
    let field = u16::try_from(words.saturating_sub(1)).unwrap_or(u16::MAX);
    if let Some(slot) = out.get_mut(start.saturating_add(2)..start.saturating_add(4)) {
        slot.copy_from_slice(&field.to_be_bytes());
    }
}

/// Checks a writer's entry count against the 5-bit count field.
pub(crate) fn check_count(count: usize) -> Result<(), RtcpError> {
    if count > 31 {
        return Err(RtcpError::TooManyEntries { count });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
