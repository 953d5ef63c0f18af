//! DTMF as RTP telephone-events (RFC 4733 §2.3): the 4-byte payload, digits, a sender
//! that produces the packet sequence with end-bit redundancy, and a receiver that
//! reports each event once.

use thiserror::Error;

/// Bytes in one telephone-event payload.
pub const EVENT_PAYLOAD_LENGTH: usize = 4;

/// How many times the final (end-bit) packet is sent (RFC 4733 §2.5.1.4).
pub const END_REDUNDANCY: usize = 3;

/// Why a telephone-event payload could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// The payload is shorter than 4 bytes.
    #[error("telephone-event payload of {length} bytes is shorter than 4")]
    Truncated {
        /// The length found.
        length: usize,
    },
    /// The output buffer is shorter than 4 bytes.
    #[error("output buffer of {available} bytes is shorter than 4")]
    BufferTooSmall {
        /// Bytes available.
        available: usize,
    },
    /// The volume is above 63 (the field is 6 bits).
    #[error("volume {volume} does not fit in 6 bits")]
    InvalidVolume {
        /// The volume given.
        volume: u8,
    },
    /// The character is not a DTMF digit (0-9, *, #, A-D).
    #[error("{character:?} is not a DTMF digit")]
    UnknownDigit {
        /// The character given.
        character: char,
    },
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TelephoneEvent {
    /// The event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 A-D, 16 flash (RFC 4733 §3.2).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0, 0 to 63.
    pub volume: u8,
    /// Duration so far, in timestamp units from the event's RTP timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads a telephone-event payload; bytes past the first 4 are ignored.
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let [event, flags, high, low, ..] = *payload else {
            return Err(DtmfError::Truncated {
                length: payload.len(),
            });
        };
        Ok(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([high, low]),
        })
    }

    /// Writes this event into the first 4 bytes of `out` (the R bit is sent as 0).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, DtmfError> {
        if self.volume > 0x3F {
            return Err(DtmfError::InvalidVolume {
                volume: self.volume,
            });
        }
        let available = out.len();
        let target = out
            .first_chunk_mut::<EVENT_PAYLOAD_LENGTH>()
            .ok_or(DtmfError::BufferTooSmall { available })?;
        let [high, low] = self.duration.to_be_bytes();
        *target = [self.event, u8::from(self.end) << 7 | self.volume, high, low];
        Ok(EVENT_PAYLOAD_LENGTH)
    }
}

/// The event code of a DTMF digit (RFC 4733 §3.2): `0`-`9`, `*`, `#`, `A`-`D`.
pub fn digit_to_event(character: char) -> Result<u8, DtmfError> {
    match character {
        '0'..='9' => Ok(character as u8 - b'0'),
        '*' => Ok(10),
        '#' => Ok(11),
        'A'..='D' => Ok(character as u8 - b'A' + 12),
        'a'..='d' => Ok(character as u8 - b'a' + 12),
        _ => Err(DtmfError::UnknownDigit { character }),
    }
}

/// The DTMF digit of an event code, if it is one (0 to 15).
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// One packet of a telephone-event the sender wants sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// Set on the first packet of the event (RFC 4733 §2.5.1.1).
    pub marker: bool,
    /// The payload; every packet of one event shares the event's RTP timestamp.
    pub event: TelephoneEvent,
}

/// The packets of one event: one every `interval` timestamp units while the tone lasts,
/// then the final packet three times with the E bit (RFC 4733 §2.5.1).
///
/// The caller stamps each with the same RTP timestamp (the event's start) and
/// consecutive sequence numbers, and sends one per packet interval.
pub fn event_packets(
    event: u8,
    volume: u8,
    duration: u16,
    interval: u16,
) -> impl Iterator<Item = EventPacket> {
    let interval = interval.max(1);
    let updates = duration.div_ceil(interval).max(1);
    (1..=updates)
        .map(move |step| (step, step.saturating_mul(interval).min(duration), false))
        .chain((0..END_REDUNDANCY).map(move |_| (updates, duration, true)))
        .enumerate()
        .map(move |(index, (_, elapsed, end))| EventPacket {
            marker: index == 0,
            event: TelephoneEvent {
                event,
                end,
                volume,
                duration: elapsed,
            },
        })
}

/// Turns received telephone-event packets into events, reporting each once even when
/// its end packet is repeated or its start was lost.
#[derive(Debug, Clone, Default)]
pub struct TelephoneEventReceiver {
    /// RTP timestamp of the event in progress.
    current: Option<u32>,
    /// RTP timestamp of the last event that ended.
    last_ended: Option<u32>,
}

impl TelephoneEventReceiver {
    /// Creates a receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one packet with RTP `timestamp`; returns the event when it first ends
    /// (the E bit), once per event whatever the redundancy.
    pub fn receive(
        &mut self,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<Option<TelephoneEvent>, DtmfError> {
        let event = TelephoneEvent::parse(payload)?;
        if self.last_ended == Some(timestamp) {
            return Ok(None);
        }
        if !event.end {
            self.current = Some(timestamp);
            return Ok(None);
        }
        self.current = None;
        self.last_ended = Some(timestamp);
        Ok(Some(event))
    }

    /// Whether an event has started and not yet ended.
    pub fn in_progress(&self) -> bool {
        self.current.is_some()
    }
}

#[cfg(test)]
#[path = "dtmf_tests.rs"]
mod tests;
