//! The jitter buffer: a lock-free single-producer single-consumer hand-off from the
//! network task to the audio callback, with reordering, late and duplicate dropping,
//! adaptive playout delay and talkspurt handling on the consumer side.
//!
//! The network task owns the [`JitterProducer`]: it pushes each RTP packet with its
//! arrival time, which also feeds the RFC 3550 receiver statistics (for RTCP reports and
//! the jitter estimate). The audio callback owns the [`JitterConsumer`]: each
//! [`JitterConsumer::pull`] plays one frame (20 ms by default) and takes no lock, makes
//! no allocation and no system call; the ring (`ring.rs`, a bounded single-producer
//! single-consumer ring with a loom model test) and the reorder window are allocated
//! once, by [`jitter_buffer`]. A packet's header fields and used payload bytes are
//! copied once, by the producer, into the packet buffer of a ring slot. Ring slots and
//! reorder-window slots each own one packet buffer (a `Box`, allocated with the ring);
//! the consumer files a packet by swapping buffers between the ring slot and the window
//! slot, so the window gets the filled buffer and the ring slot, handed back to the
//! producer, a free one (the next fill overwrites what it held). A buffer is only ever reached through the one slot that owns
//! it, and it changes owner inside the ring's hand-off, so no code outside `ring.rs`
//! needs `unsafe`.
//!
//! Each packet is assumed to carry one frame of `frame_duration` timestamp units (ptime
//! 20 ms for G.711, the IMS default).

mod consumer;
mod ring;
mod sync;

pub use consumer::{JitterConsumer, JitterStatistics, Playout};

use std::time::{Duration, Instant};

use thiserror::Error;

use super::packet::RtpPacket;
use super::statistics::{ReceiverStatistics, units_since};

/// The largest payload one jitter-buffer slot holds: 60 ms of G.711 at 8 kHz.
pub const MAX_PAYLOAD: usize = 480;

/// A payload length copied in line: 20 ms of G.711 at 8 kHz, the IMS default (ptime
/// 20). Any other length is copied by `copy_from_slice`, a call into the C library's
/// `memcpy`, whose length dispatch and call cost about as much as the copy itself at
/// this size.
const BLOCK_PAYLOAD: usize = 160;

/// Copies `source` to the start of `target`; `false`, copying nothing, if it does not
/// fit.
#[inline(always)]
fn copy_payload(target: &mut [u8; MAX_PAYLOAD], source: &[u8]) -> bool {
    if let Ok(block) = <&[u8; BLOCK_PAYLOAD]>::try_from(source) {
        // In 16-byte pieces (the x86-64 baseline's vector width): the loop of a constant
        // count unrolls into ten vector moves, where one copy of 160 bytes would be
        // lowered to a `memcpy` call.
        let (pieces, _) = block.as_chunks::<16>();
        let (targets, _) = target.as_chunks_mut::<16>();
        for (target, piece) in targets.iter_mut().zip(pieces) {
            *target = *piece;
        }
        return true;
    }
    match target.get_mut(..source.len()) {
        Some(start) => {
            start.copy_from_slice(source);
            true
        }
        None => false,
    }
}

/// Why a packet was not handed to the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PushError {
    /// The payload does not fit in a slot.
    #[error("RTP payload of {length} bytes exceeds the jitter buffer slot of {MAX_PAYLOAD}")]
    PayloadTooLarge {
        /// The payload length.
        length: usize,
    },
    /// The ring is full: the consumer has stopped pulling or is far behind.
    #[error("jitter buffer ring is full ({capacity} packets)")]
    Full {
        /// The ring's capacity.
        capacity: usize,
    },
}

/// Settings of a jitter buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitterConfig {
    /// The RTP clock rate of the stream, in Hz (8000 for G.711).
    pub clock_rate: u32,
    /// The playout frame, one packet per pull (20 ms).
    pub frame: Duration,
    /// The smallest playout delay the adaptation may choose.
    pub minimum_delay: Duration,
    /// The largest playout delay the adaptation may choose.
    pub maximum_delay: Duration,
    /// Playout delay as a multiple of the RFC 3550 jitter estimate, before clamping.
    pub jitter_factor: u32,
    /// Slots in the ring and in the reorder window; packets further ahead than this
    /// restart playout.
    pub capacity: usize,
    /// Frames concealed in a row, with nothing buffered, before the buffer decides the
    /// talkspurt ended and goes idle.
    pub maximum_concealed_frames: u32,
    /// Frames buffered beyond the target delay before one is dropped to catch up with a
    /// sender whose clock runs faster than the sound card.
    pub drift_slack_frames: u32,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            clock_rate: 8000,
            frame: Duration::from_millis(20),
            minimum_delay: Duration::from_millis(40),
            maximum_delay: Duration::from_millis(200),
            jitter_factor: 3,
            capacity: 64,
            maximum_concealed_frames: 5,
            drift_slack_frames: 4,
        }
    }
}

impl JitterConfig {
    /// The frame length in RTP timestamp units.
    pub fn frame_units(&self) -> u32 {
        let units = self.frame.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000;
        u32::try_from(units).unwrap_or(u32::MAX).max(1)
    }

    /// Converts a delay into whole frames, rounding up, at least 1.
    pub(crate) fn frames_in(&self, delay: Duration) -> u32 {
        let frame = self.frame.as_nanos().max(1);
        u32::try_from(delay.as_nanos().div_ceil(frame))
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

/// One RTP packet copied into a fixed-size slot, as the consumer hands it out.
// `repr(C)`: the header fields lie together before the payload, so the header and a
// 160-byte payload span three cache lines of the slot, not four.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct JitterPacket {
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The RTP sequence number.
    pub sequence: u16,
    length: u16,
    /// The marker bit: the first packet of a talkspurt.
    pub marker: bool,
    /// The payload type.
    pub payload_type: u8,
    payload: [u8; MAX_PAYLOAD],
}

impl JitterPacket {
    /// An empty slot, for allocating the reorder window.
    pub(crate) const EMPTY: Self = Self {
        timestamp: 0,
        sequence: 0,
        length: 0,
        marker: false,
        payload_type: 0,
        payload: [0; MAX_PAYLOAD],
    };

    /// Copies the header fields and the used payload bytes of `other` into this slot
    /// (the bytes past the payload are left as they were).
    pub(crate) fn copy_from(&mut self, other: &Self) {
        self.timestamp = other.timestamp;
        self.sequence = other.sequence;
        self.length = other.length;
        self.marker = other.marker;
        self.payload_type = other.payload_type;
        if let (BLOCK_PAYLOAD, Some(block)) = (
            usize::from(other.length),
            other.payload.first_chunk::<BLOCK_PAYLOAD>(),
        ) {
            copy_payload(&mut self.payload, block);
        } else {
            copy_payload(&mut self.payload, other.payload());
        }
    }

    /// Sets this slot to `packet`'s fields and payload, copying only the payload bytes;
    /// `sequence` and `timestamp` are the packet's, already read by the caller.
    fn set_from_rtp(
        &mut self,
        packet: &RtpPacket<'_>,
        sequence: u16,
        timestamp: u32,
    ) -> Result<(), PushError> {
        let payload = packet.payload();
        let length = payload.len();
        let too_large = PushError::PayloadTooLarge { length };
        if !copy_payload(&mut self.payload, payload) {
            return Err(too_large);
        }
        // MAX_PAYLOAD fits in 16 bits, so the copy above checked this too.
        self.length = u16::try_from(length).map_err(|_| too_large)?;
        self.sequence = sequence;
        self.timestamp = timestamp;
        self.marker = packet.marker();
        self.payload_type = packet.payload_type();
        Ok(())
    }

    /// Copies the fields and payload of `packet` into a slot.
    pub fn from_rtp(packet: &RtpPacket<'_>) -> Result<Self, PushError> {
        Self::new(
            packet.sequence(),
            packet.timestamp(),
            packet.marker(),
            packet.payload_type(),
            packet.payload(),
        )
    }

    /// Builds a slot from its parts.
    pub fn new(
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload_type: u8,
        payload: &[u8],
    ) -> Result<Self, PushError> {
        let length = payload.len();
        let too_large = PushError::PayloadTooLarge { length };
        let mut slot = [0u8; MAX_PAYLOAD];
        slot.get_mut(..length)
            .ok_or(too_large)?
            .copy_from_slice(payload);
        Ok(Self {
            sequence,
            timestamp,
            marker,
            payload_type,
            length: u16::try_from(length).map_err(|_| too_large)?,
            payload: slot,
        })
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        self.payload
            .get(..usize::from(self.length))
            .unwrap_or_default()
    }
}

/// What travels through the ring: a packet plus what the network side knew about it.
/// The packet's buffer is swapped into the reorder window when the consumer keeps it,
/// and a free buffer from the window takes its place in the slot.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    /// The playout jitter estimate after this packet, in timestamp units.
    pub(crate) jitter: u32,
    /// The first packet from a new SSRC: the consumer starts over.
    pub(crate) new_source: bool,
    pub(crate) packet: Box<JitterPacket>,
}

impl Arrival {
    /// What the ring's slots hold before their first use.
    fn empty() -> Self {
        Self {
            jitter: 0,
            new_source: false,
            packet: Box::new(JitterPacket::EMPTY),
        }
    }
}

/// The jitter estimate that drives the playout delay: RFC 3550 A.8, except that one
/// transit difference counts for at most the maximum delay, so a single timing jump
/// (a sender restart, a clock step) cannot pin the delay at its maximum.
#[derive(Debug, Clone)]
struct PlayoutJitter {
    clamp: u32,
    transit: Option<u32>,
    scaled: u32,
}

impl PlayoutJitter {
    fn new(config: &JitterConfig) -> Self {
        let units = config.maximum_delay.as_nanos() * u128::from(config.clock_rate) / 1_000_000_000;
        Self {
            clamp: u32::try_from(units).unwrap_or(u32::MAX),
            transit: None,
            scaled: 0,
        }
    }

    fn reset(&mut self) {
        self.transit = None;
        self.scaled = 0;
    }

    /// Records one arrival, at `arrival` timestamp units of the producer's clock, and
    /// returns the estimate in timestamp units.
    fn update(&mut self, arrival: u32, timestamp: u32) -> u32 {
        let transit = arrival.wrapping_sub(timestamp);
        match &mut self.transit {
            Some(previous) => {
                let difference = (transit.wrapping_sub(*previous) as i32)
                    .unsigned_abs()
                    .min(self.clamp);
                self.scaled = self
                    .scaled
                    .wrapping_add(difference)
                    .wrapping_sub(self.scaled.wrapping_add(8) >> 4);
                *previous = transit;
            }
            None => self.transit = Some(transit),
        }
        self.scaled >> 4
    }
}

/// `JitterProducer::source` before the first packet.
const NO_SOURCE: u64 = 0;

/// An SSRC as `JitterProducer::source` keeps it: bit 32 set, so no SSRC gives
/// [`NO_SOURCE`].
fn source_key(ssrc: u32) -> u64 {
    1 << 32 | u64::from(ssrc)
}

/// Creates a jitter buffer: the producer for the network task and the consumer for the
/// audio callback. All memory is allocated here.
pub fn jitter_buffer(config: &JitterConfig) -> (JitterProducer, JitterConsumer) {
    let capacity = config.capacity.max(4);
    let (producer, consumer) = ring::ring(capacity, Arrival::empty());
    (
        JitterProducer {
            ring: producer,
            statistics: ReceiverStatistics::new(config.clock_rate),
            playout_jitter: PlayoutJitter::new(config),
            epoch: None,
            source: NO_SOURCE,
            capacity,
            clock_rate: config.clock_rate,
            rejected: 0,
        },
        JitterConsumer::new(consumer, config, capacity),
    )
}

/// The network side of a jitter buffer.
#[derive(Debug)]
pub struct JitterProducer {
    ring: ring::RingProducer<Arrival>,
    statistics: ReceiverStatistics,
    playout_jitter: PlayoutJitter,
    /// The first arrival: arrival times are converted once per packet to timestamp
    /// units since then (modulo 2^32), for both jitter estimators.
    epoch: Option<Instant>,
    /// The current SSRC with bit 32 set ([`source_key`]), or [`NO_SOURCE`] before the
    /// first packet: one compare per packet.
    source: u64,
    capacity: usize,
    clock_rate: u32,
    rejected: u64,
}

impl JitterProducer {
    /// Hands a received RTP packet to the consumer, updating the receiver statistics
    /// with its arrival time `now`. A new SSRC restarts statistics and playout.
    pub fn push(&mut self, now: Instant, packet: &RtpPacket<'_>) -> Result<(), PushError> {
        // Checked here too, so a refused packet does not set the epoch.
        if packet.payload().len() > MAX_PAYLOAD {
            return Err(self.too_large(packet.payload().len()));
        }
        let arrival = self.arrival_units(now);
        self.push_units(arrival, packet)
    }

    /// [`Self::push`] with the arrival time already in units of the stream's RTP clock
    /// (`clock_rate` Hz) since any fixed instant, modulo 2^32: for a network task that
    /// keeps such a tick count itself, this skips the `Instant` subtraction and the
    /// conversion per packet. Only differences between arrivals matter, so the fixed
    /// instant is the caller's choice; a stream should be pushed with one of the two
    /// forms, not both, since their instants differ.
    pub fn push_units(&mut self, arrival: u32, packet: &RtpPacket<'_>) -> Result<(), PushError> {
        if packet.payload().len() > MAX_PAYLOAD {
            return Err(self.too_large(packet.payload().len()));
        }
        let ssrc = packet.ssrc();
        let new_source = self.source != source_key(ssrc) && self.change_source(ssrc);
        let sequence = packet.sequence();
        let timestamp = packet.timestamp();
        self.publish(arrival, sequence, timestamp, new_source, |slot| {
            slot.set_from_rtp(packet, sequence, timestamp)
        })
    }

    /// Takes `ssrc` as the current source; says whether it replaces another, in which
    /// case statistics and playout start over.
    #[cold]
    fn change_source(&mut self, ssrc: u32) -> bool {
        let replaced = self.source != NO_SOURCE;
        if replaced {
            self.statistics = ReceiverStatistics::new(self.clock_rate);
            self.playout_jitter.reset();
        }
        self.source = source_key(ssrc);
        replaced
    }

    /// Hands an already copied packet to the consumer (same SSRC as before).
    pub fn push_packet(
        &mut self,
        now: Instant,
        packet: JitterPacket,
        new_source: bool,
    ) -> Result<(), PushError> {
        let arrival = self.arrival_units(now);
        self.publish(
            arrival,
            packet.sequence,
            packet.timestamp,
            new_source,
            |slot| {
                slot.copy_from(&packet);
                Ok(())
            },
        )
    }

    /// Counts a refused packet whose payload does not fit a slot.
    fn too_large(&mut self, length: usize) -> PushError {
        self.rejected = self.rejected.saturating_add(1);
        PushError::PayloadTooLarge { length }
    }

    /// `now` in timestamp units since the first arrival, modulo 2^32: the time base of
    /// both jitter estimators.
    fn arrival_units(&mut self, now: Instant) -> u32 {
        let epoch = *self.epoch.get_or_insert(now);
        units_since(now.saturating_duration_since(epoch), self.clock_rate)
    }

    /// Updates the statistics with the arrival time (in timestamp units, see
    /// [`Self::push_units`]) and fills the next ring slot in place with `fill`.
    fn publish(
        &mut self,
        arrival: u32,
        sequence: u16,
        timestamp: u32,
        new_source: bool,
        fill: impl FnOnce(&mut JitterPacket) -> Result<(), PushError>,
    ) -> Result<(), PushError> {
        // Probation and jumps matter to RTCP only; playout handles them itself.
        self.statistics.update_units(arrival, sequence, timestamp);
        let jitter = self.playout_jitter.update(arrival, timestamp);
        let mut filled = Ok(());
        let pushed = self.ring.push_with(|slot| {
            slot.jitter = jitter;
            slot.new_source = new_source;
            filled = fill(&mut slot.packet);
        });
        if !pushed {
            self.rejected = self.rejected.saturating_add(1);
            return Err(PushError::Full {
                capacity: self.capacity,
            });
        }
        // The payload size was checked before, so this fill cannot fail.
        filled
    }

    /// The RFC 3550 receiver statistics of the current source, for RTCP reports.
    pub fn statistics(&self) -> &ReceiverStatistics {
        &self.statistics
    }

    /// Mutable statistics, to build report blocks and record sender reports.
    pub fn statistics_mut(&mut self) -> &mut ReceiverStatistics {
        &mut self.statistics
    }

    /// The SSRC of the current source, once a packet arrived.
    pub fn ssrc(&self) -> Option<u32> {
        (self.source != NO_SOURCE).then_some(self.source as u32)
    }

    /// Packets refused so far: too large, or the ring was full.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
}

#[cfg(test)]
mod tests;
