//! RTCP sender and receiver reports and their report blocks (RFC 3550 §6.4).

use super::{
    PACKET_TYPE_RECEIVER_REPORT, PACKET_TYPE_SENDER_REPORT, RtcpError, check_count, finish_packet,
    read_u32, start_packet,
};
use crate::rtp::sequence::NtpTimestamp;

/// Bytes in one report block.
const REPORT_BLOCK_LENGTH: usize = 24;
/// Bytes in the sender information of an SR.
const SENDER_INFO_LENGTH: usize = 20;

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on (SSRC_n).
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, as a fixed-point number
    /// with the binary point at the left edge (lost/expected * 256).
    pub fraction_lost: u8,
    /// Cumulative number of packets lost, a signed 24-bit value (late duplicates can
    /// make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received: cycles in the high 16 bits.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter in timestamp units (RFC 3550 A.8).
    pub jitter: u32,
    /// Last SR timestamp: the middle 32 bits of the NTP time in the last SR, or 0.
    pub last_sender_report: u32,
    /// Delay since the last SR, in units of 1/65536 s, or 0.
    pub delay_since_last_sender_report: u32,
}

impl ReportBlock {
    fn parse(bytes: &[u8]) -> Self {
        let lost_word = read_u32(bytes, 4);
        // Sign-extend the 24-bit cumulative loss.
        let cumulative_lost = ((lost_word << 8) as i32) >> 8;
        Self {
            ssrc: read_u32(bytes, 0),
            fraction_lost: (lost_word >> 24) as u8,
            cumulative_lost,
            extended_highest_sequence: read_u32(bytes, 8),
            jitter: read_u32(bytes, 12),
            last_sender_report: read_u32(bytes, 16),
            delay_since_last_sender_report: read_u32(bytes, 20),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        // Clamp the cumulative loss into the signed 24-bit range.
        let clamped = self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF);
        let lost_word = (u32::from(self.fraction_lost) << 24) | (clamped as u32 & 0x00FF_FFFF);
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&lost_word.to_be_bytes());
        out.extend_from_slice(&self.extended_highest_sequence.to_be_bytes());
        out.extend_from_slice(&self.jitter.to_be_bytes());
        out.extend_from_slice(&self.last_sender_report.to_be_bytes());
        out.extend_from_slice(&self.delay_since_last_sender_report.to_be_bytes());
    }
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// Wall-clock time when the report was sent.
    pub ntp_timestamp: NtpTimestamp,
    /// The same instant in the RTP timestamp units of the sender's stream.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
}

/// Report blocks of an SR or RR, read lazily from the packet bytes.
fn blocks(bytes: &[u8]) -> impl ExactSizeIterator<Item = ReportBlock> + '_ {
    bytes
        .chunks_exact(REPORT_BLOCK_LENGTH)
        .map(ReportBlock::parse)
}

/// Splits a report body after `fixed` bytes into the report blocks and the
/// profile-specific extension.
fn split_blocks(
    packet_type: u8,
    count: u8,
    body: &[u8],
    fixed: usize,
) -> Result<(&[u8], &[u8]), RtcpError> {
    let blocks_length = usize::from(count).saturating_mul(REPORT_BLOCK_LENGTH);
    let end = fixed.saturating_add(blocks_length);
    let mismatch = RtcpError::CountMismatch {
        packet_type,
        count,
        length: body.len(),
    };
    let blocks = body.get(fixed..end).ok_or(mismatch)?;
    let extension = body.get(end..).ok_or(mismatch)?;
    Ok((blocks, extension))
}

/// A sender report (SR) view (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// The sender information.
    pub info: SenderInfo,
    blocks: &'a [u8],
    extension: &'a [u8],
}

impl<'a> SenderReport<'a> {
    pub(super) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        let fixed = 4usize.saturating_add(SENDER_INFO_LENGTH);
        let (blocks, extension) = split_blocks(PACKET_TYPE_SENDER_REPORT, count, body, fixed)?;
        let ntp = (u64::from(read_u32(body, 4)) << 32) | u64::from(read_u32(body, 8));
        Ok(Self {
            ssrc: read_u32(body, 0),
            info: SenderInfo {
                ntp_timestamp: NtpTimestamp(ntp),
                rtp_timestamp: read_u32(body, 12),
                packet_count: read_u32(body, 16),
                octet_count: read_u32(body, 20),
            },
            blocks,
            extension,
        })
    }

    /// The reception report blocks.
    pub fn report_blocks(&self) -> impl ExactSizeIterator<Item = ReportBlock> + 'a {
        blocks(self.blocks)
    }

    /// Profile-specific extension bytes after the report blocks.
    pub fn extension(&self) -> &'a [u8] {
        self.extension
    }
}

/// A receiver report (RR) view (RFC 3550 §6.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// The reporter's SSRC.
    pub ssrc: u32,
    blocks: &'a [u8],
    extension: &'a [u8],
}

impl<'a> ReceiverReport<'a> {
    pub(super) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        let (blocks, extension) = split_blocks(PACKET_TYPE_RECEIVER_REPORT, count, body, 4)?;
        Ok(Self {
            ssrc: read_u32(body, 0),
            blocks,
            extension,
        })
    }

    /// The reception report blocks.
    pub fn report_blocks(&self) -> impl ExactSizeIterator<Item = ReportBlock> + 'a {
        blocks(self.blocks)
    }

    /// Profile-specific extension bytes after the report blocks.
    pub fn extension(&self) -> &'a [u8] {
        self.extension
    }
}

/// Appends a sender report (SR) with up to 31 report blocks to `out`.
pub fn write_sender_report(
    ssrc: u32,
    info: &SenderInfo,
    report_blocks: &[ReportBlock],
    out: &mut Vec<u8>,
) -> Result<(), RtcpError> {
    check_count(report_blocks.len())?;
    let start = start_packet(out, report_blocks.len(), PACKET_TYPE_SENDER_REPORT);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(&info.ntp_timestamp.0.to_be_bytes());
    out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
    out.extend_from_slice(&info.packet_count.to_be_bytes());
    out.extend_from_slice(&info.octet_count.to_be_bytes());
    for block in report_blocks {
        block.write(out);
    }
    finish_packet(out, start);
    Ok(())
}

/// Appends a receiver report (RR) with up to 31 report blocks to `out`.
pub fn write_receiver_report(
    ssrc: u32,
    report_blocks: &[ReportBlock],
    out: &mut Vec<u8>,
) -> Result<(), RtcpError> {
    check_count(report_blocks.len())?;
    let start = start_packet(out, report_blocks.len(), PACKET_TYPE_RECEIVER_REPORT);
    out.extend_from_slice(&ssrc.to_be_bytes());
    for block in report_blocks {
        block.write(out);
    }
    finish_packet(out, start);
    Ok(())
}
