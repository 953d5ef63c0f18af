//! RTCP source description packets, SDES (RFC 3550 §6.5).

use super::{
    PACKET_TYPE_SOURCE_DESCRIPTION, RtcpError, check_count, finish_packet, read_u32, start_packet,
};

/// The type of an SDES item (RFC 3550 §6.5.1 to §6.5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SdesItemType {
    /// CNAME: canonical end-point identifier (type 1).
    Cname,
    /// NAME: user name (type 2).
    Name,
    /// EMAIL: electronic mail address (type 3).
    Email,
    /// PHONE: phone number (type 4).
    Phone,
    /// LOC: geographic user location (type 5).
    Location,
    /// TOOL: application or tool name (type 6).
    Tool,
    /// NOTE: notice or status (type 7).
    Note,
    /// PRIV: private extension (type 8).
    Private,
    /// Any other item type.
    Other(u8),
}

impl SdesItemType {
    /// The item type from its wire value (never 0, which ends a chunk's item list).
    pub fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Cname,
            2 => Self::Name,
            3 => Self::Email,
            4 => Self::Phone,
            5 => Self::Location,
            6 => Self::Tool,
            7 => Self::Note,
            8 => Self::Private,
            other => Self::Other(other),
        }
    }

    /// The wire value of this item type.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Cname => 1,
            Self::Name => 2,
            Self::Email => 3,
            Self::Phone => 4,
            Self::Location => 5,
            Self::Tool => 6,
            Self::Note => 7,
            Self::Private => 8,
            Self::Other(other) => other,
        }
    }
}

/// One SDES item: a type and up to 255 bytes of UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// The item type.
    pub item_type: SdesItemType,
    /// The item text as sent (RFC 3550 says UTF-8; not checked here).
    pub text: &'a [u8],
}

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The SSRC or CSRC described.
    pub ssrc: u32,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The items of this chunk, in order.
    pub fn items(&self) -> impl Iterator<Item = SdesItem<'a>> + 'a {
        let mut rest = self.items;
        std::iter::from_fn(move || {
            let [item_type, length, tail @ ..] = rest else {
                return None;
            };
            let text = tail.get(..usize::from(*length))?;
            rest = tail.get(usize::from(*length)..).unwrap_or_default();
            Some(SdesItem {
                item_type: SdesItemType::from_u8(*item_type),
                text,
            })
        })
    }

    /// The text of the first CNAME item, if any.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items()
            .find(|item| item.item_type == SdesItemType::Cname)
            .map(|item| item.text)
    }
}

/// Walks one chunk starting at `offset` in `body`: returns the chunk and the offset of
/// the next one.
fn walk_chunk(body: &[u8], offset: usize) -> Result<(SdesChunk<'_>, usize), RtcpError> {
    let overrun = |at: usize| RtcpError::ItemOverrun {
        packet_type: PACKET_TYPE_SOURCE_DESCRIPTION,
        offset: at,
    };
    let items_start = offset.saturating_add(4);
    if body.len() < items_start {
        return Err(overrun(offset));
    }
    let ssrc = read_u32(body, offset);
    let mut at = items_start;
    loop {
        let item_type = *body.get(at).ok_or(overrun(at))?;
        if item_type == 0 {
            break;
        }
        let length = *body.get(at.saturating_add(1)).ok_or(overrun(at))?;
        let end = at.saturating_add(2).saturating_add(usize::from(length));
        if end > body.len() {
            return Err(overrun(at));
        }
        at = end;
    }
    let items = body.get(items_start..at).unwrap_or_default();
    // Skip the null terminator and the padding to the next 32-bit boundary.
    let next = at.saturating_add(4) & !3;
    Ok((SdesChunk { ssrc, items }, next.min(body.len())))
}

/// A source description (SDES) view (RFC 3550 §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceDescription<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> SourceDescription<'a> {
    pub(super) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        let mut offset = 0;
        for _ in 0..count {
            offset = walk_chunk(body, offset)?.1;
        }
        Ok(Self { count, body })
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> usize {
        usize::from(self.count)
    }

    /// The chunks, in order.
    pub fn chunks(&self) -> impl Iterator<Item = SdesChunk<'a>> + 'a {
        let body = self.body;
        let mut offset = 0;
        (0..self.count).map_while(move |_| {
            let (chunk, next) = walk_chunk(body, offset).ok()?;
            offset = next;
            Some(chunk)
        })
    }
}

/// Appends an SDES packet to `out`: one chunk per `(ssrc, items)` pair, at most 31.
pub fn write_source_description(
    chunks: &[(u32, &[SdesItem<'_>])],
    out: &mut Vec<u8>,
) -> Result<(), RtcpError> {
    check_count(chunks.len())?;
    for (_, items) in chunks {
        for item in items.iter() {
            if item.text.len() > 255 {
                return Err(RtcpError::TextTooLong {
                    length: item.text.len(),
                });
            }
        }
    }
    let start = start_packet(out, chunks.len(), PACKET_TYPE_SOURCE_DESCRIPTION);
    for (ssrc, items) in chunks {
        out.extend_from_slice(&ssrc.to_be_bytes());
        for item in items.iter() {
            let length = u8::try_from(item.text.len()).unwrap_or(u8::MAX);
            out.extend_from_slice(&[item.item_type.to_u8(), length]);
            out.extend_from_slice(item.text);
        }
        // At least one null octet ends the list, then pad to 32 bits (RFC 3550 §6.5).
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }
    finish_packet(out, start);
    Ok(())
}
