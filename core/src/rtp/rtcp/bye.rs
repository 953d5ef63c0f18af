//! RTCP goodbye packets, BYE (RFC 3550 §6.6).

use super::{PACKET_TYPE_BYE, RtcpError, check_count, finish_packet, read_u32, start_packet};

/// A goodbye (BYE) view: the sources leaving and an optional reason (RFC 3550 §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    sources: &'a [u8],
    reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    pub(super) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        let sources_length = usize::from(count).saturating_mul(4);
        let sources = body.get(..sources_length).ok_or(RtcpError::CountMismatch {
            packet_type: PACKET_TYPE_BYE,
            count,
            length: body.len(),
        })?;
        let rest = body.get(sources_length..).unwrap_or_default();
        let reason = match rest.split_first() {
            None => None,
            Some((length, text)) => Some(text.get(..usize::from(*length)).ok_or(
                RtcpError::ItemOverrun {
                    packet_type: PACKET_TYPE_BYE,
                    offset: sources_length,
                },
            )?),
        };
        Ok(Self { sources, reason })
    }

    /// The SSRC/CSRC identifiers leaving the session.
    pub fn sources(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        self.sources.chunks_exact(4).map(|chunk| read_u32(chunk, 0))
    }

    /// The reason for leaving, if one was given.
    pub fn reason(&self) -> Option<&'a [u8]> {
        self.reason
    }
}

/// Appends a BYE for up to 31 sources with an optional reason of up to 255 bytes.
pub fn write_bye(
    sources: &[u32],
    reason: Option<&[u8]>,
    out: &mut Vec<u8>,
) -> Result<(), RtcpError> {
    check_count(sources.len())?;
    let reason_length = match reason {
        Some(text) => Some(
            u8::try_from(text.len()).map_err(|_| RtcpError::TextTooLong { length: text.len() })?,
        ),
        None => None,
    };
    let start = start_packet(out, sources.len(), PACKET_TYPE_BYE);
    for source in sources {
        out.extend_from_slice(&source.to_be_bytes());
    }
    if let (Some(text), Some(length)) = (reason, reason_length) {
        out.push(length);
        out.extend_from_slice(text);
    }
    finish_packet(out, start);
    Ok(())
}
