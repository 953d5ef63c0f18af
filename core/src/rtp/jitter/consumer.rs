//! The audio side of the jitter buffer: reorder window, playout schedule and statistics.
//!
//! Everything here runs in the audio callback: no lock, no allocation, no system call.
//! Time is counted in pulls (one pull per frame), so the consumer needs no clock.

use std::time::Duration;

use super::ring::RingConsumer;
use super::{Arrival, JitterConfig, JitterPacket};
use crate::rtp::sequence::{extend_sequence, extend_timestamp};

/// What to play for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Playout<'a> {
    /// Decode and play this packet.
    Packet(&'a JitterPacket),
    /// The packet due now is missing: run packet loss concealment.
    Conceal {
        /// The sequence number of the missing packet.
        sequence: u16,
    },
    /// Nothing is due: play silence (buffering, between talkspurts, or idle).
    Silence,
}

/// Counters and current values of a jitter buffer's consumer side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterStatistics {
    /// Packets accepted into the reorder window.
    pub received: u64,
    /// Packets played.
    pub played: u64,
    /// Packets that arrived after their frame was concealed or skipped, dropped.
    pub late: u64,
    /// Packets received twice (already buffered or already played), dropped.
    pub duplicate: u64,
    /// Frames concealed and then followed by a later packet: confirmed losses (frames
    /// concealed at the end of a talkspurt are not counted).
    pub lost: u64,
    /// Frames concealed, confirmed losses and the tail of talkspurts alike.
    pub concealed: u64,
    /// Frames of silence: buffering, waiting for a talkspurt's playout time, idle.
    pub silence: u64,
    /// Packets dropped to shrink the buffer (sender clock faster than ours).
    pub dropped: u64,
    /// Playout restarts: a new SSRC, or a sequence jump beyond the window.
    pub resynchronised: u64,
    /// Buffered packets discarded by a restart.
    pub flushed: u64,
    /// Talkspurts started.
    pub talkspurts: u64,
    /// Packets whose timestamp jumped absurdly far from their sequence number.
    pub timestamp_jumps: u64,
    /// The playout delay the buffer aims for, in frames.
    pub target_delay_frames: u32,
    /// The latest jitter estimate (RFC 3550 A.8, each step clamped to the maximum
    /// delay), in timestamp units.
    pub jitter: u32,
    /// Packets waiting in the reorder window.
    pub buffered: u32,
}

/// An extended sequence number no packet has: it marks an empty window slot and a
/// `floor` or `highest` not yet set. Extension moves by at most 2^15 per packet from
/// a 16-bit start, so no stream reaches it.
const NONE: i64 = i64::MIN;

/// One slot of the reorder window. It owns a packet buffer, swapped with the ring slot
/// of each packet filed here (the module docs of `super` say how buffers move).
#[derive(Debug, Clone)]
struct Entry {
    /// The packet's extended sequence number, or [`NONE`] for an empty slot.
    sequence: i64,
    arrival: u64,
    talkspurt_start: bool,
    packet: Box<JitterPacket>,
}

impl Entry {
    fn empty() -> Self {
        Self {
            sequence: NONE,
            arrival: 0,
            talkspurt_start: false,
            packet: Box::new(JitterPacket::EMPTY),
        }
    }
}

/// The playout state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing to play and nothing buffered.
    Idle,
    /// A talkspurt starts when the pull counter reaches `start_arrival` plus the target.
    Waiting { start_arrival: u64 },
    /// Playing one packet (or concealment) per pull.
    Playing,
}

/// The audio side of a jitter buffer; see the [module docs](super).
#[derive(Debug)]
pub struct JitterConsumer {
    ring: RingConsumer<Arrival>,
    reorder: Reorder,
}

impl JitterConsumer {
    pub(super) fn new(ring: RingConsumer<Arrival>, config: &JitterConfig, capacity: usize) -> Self {
        Self {
            ring,
            reorder: Reorder::new(config, capacity),
        }
    }

    /// The counters and current values.
    pub fn statistics(&self) -> JitterStatistics {
        JitterStatistics {
            buffered: self.reorder.buffered,
            ..self.reorder.statistics
        }
    }

    /// The playout delay currently aimed for.
    pub fn target_delay(&self) -> Duration {
        self.reorder.target_delay()
    }

    /// Plays one frame: takes what the network pushed since the last pull, then says
    /// what to play now. Lock-free, allocation-free and wait-free.
    pub fn pull(&mut self) -> Playout<'_> {
        let Self { ring, reorder } = self;
        reorder.clock = reorder.clock.wrapping_add(1);
        // Each arrival is read in place; a packet kept moves into the window by a
        // swap of packet buffers with its ring slot.
        ring.drain_with(|arrival| reorder.accept(arrival));
        reorder.update_target();
        reorder.play()
    }
}

/// The reorder window, the playout schedule and the statistics.
#[derive(Debug)]
struct Reorder {
    /// `capacity` rounded up to a power of two, so a sequence number's slot is its low
    /// bits (`window_mask`): no division per packet.
    window: Box<[Entry]>,
    window_mask: u64,
    capacity: i64,
    frame_units: i64,
    half_frame_units: i64,
    absurd_jump: i64,
    minimum_frames: u32,
    maximum_frames: u32,
    jitter_factor: u32,
    maximum_concealed_frames: u32,
    drift_slack_frames: u32,
    state: State,
    clock: u64,
    next_sequence: i64,
    /// Sequence numbers below this are late or duplicates; [`NONE`] before playout
    /// started.
    floor: i64,
    /// The highest extended sequence number accepted, [`NONE`] before the first, and
    /// its extended timestamp.
    highest: i64,
    highest_timestamp: i64,
    anchored_sequence: i64,
    concealed_run: u32,
    /// Frames concealed with nothing buffered: losses if a packet follows, the tail of
    /// a talkspurt if the buffer goes idle.
    pending_lost: u64,
    played_mask: u64,
    /// Packets in the window; `statistics.buffered` is filled from it when read.
    buffered: u32,
    /// `statistics.target_delay_frames + drift_slack_frames`: a window deeper than this
    /// drops a frame.
    depth_limit: i64,
    /// The delays (jitter times `jitter_factor`, in timestamp units) that give the
    /// current `statistics.target_delay_frames`, inclusive; empty before the first pull.
    target_range: (u64, u64),
    statistics: JitterStatistics,
}

impl Reorder {
    fn new(config: &JitterConfig, capacity: usize) -> Self {
        let window_length = capacity
            .max(1)
            .checked_next_power_of_two()
            .unwrap_or(capacity);
        let window = vec![Entry::empty(); window_length].into_boxed_slice();
        let capacity_frames = u32::try_from(capacity).unwrap_or(u32::MAX);
        let drift_slack_frames = config.drift_slack_frames.max(1);
        let room = capacity_frames.saturating_sub(drift_slack_frames.saturating_add(2));
        let maximum_frames = config.frames_in(config.maximum_delay).min(room).max(1);
        let minimum_frames = config.frames_in(config.minimum_delay).min(maximum_frames);
        let mut consumer = Self {
            window,
            window_mask: u64::try_from(window_length)
                .unwrap_or(u64::MAX)
                .wrapping_sub(1),
            capacity: i64::try_from(capacity).unwrap_or(i64::MAX),
            frame_units: i64::from(config.frame_units()),
            half_frame_units: i64::from(config.frame_units() / 2),
            absurd_jump: i64::from(config.clock_rate).saturating_mul(60),
            minimum_frames,
            maximum_frames,
            jitter_factor: config.jitter_factor,
            maximum_concealed_frames: config.maximum_concealed_frames,
            drift_slack_frames,
            state: State::Idle,
            clock: 0,
            next_sequence: 0,
            floor: NONE,
            highest: NONE,
            highest_timestamp: 0,
            anchored_sequence: 0,
            concealed_run: 0,
            pending_lost: 0,
            played_mask: 0,
            buffered: 0,
            depth_limit: 0,
            target_range: (1, 0),
            statistics: JitterStatistics::default(),
        };
        consumer.set_target(minimum_frames);
        consumer
    }

    fn target_delay(&self) -> Duration {
        let frame = self.frame_units.unsigned_abs();
        let units = u64::from(self.statistics.target_delay_frames) * frame;
        let rate = self.absurd_jump.unsigned_abs() / 60;
        Duration::from_nanos(units.saturating_mul(1_000_000_000) / rate.max(1))
    }

    /// Says what to play this frame, after the arrivals were accepted.
    fn play(&mut self) -> Playout<'_> {
        match self.decide() {
            Decision::Play(index) => {
                self.statistics.played += 1;
                match self.window.get(index) {
                    Some(entry) => Playout::Packet(&entry.packet),
                    None => Playout::Silence,
                }
            }
            Decision::Conceal(sequence) => {
                self.statistics.concealed += 1;
                Playout::Conceal { sequence }
            }
            Decision::Silence => {
                self.statistics.silence += 1;
                Playout::Silence
            }
        }
    }

    /// The window slot of `sequence`: its low bits (the window's length is a power of
    /// two), so any `capacity` consecutive sequence numbers have distinct slots.
    fn index(&self, sequence: i64) -> usize {
        // Two's complement: the low bits of a negative number are its value modulo the
        // window length, as for a positive one.
        usize::try_from(sequence as u64 & self.window_mask).unwrap_or(0)
    }

    fn was_played(&self, sequence: i64) -> bool {
        let distance = self.next_sequence - 1 - sequence;
        (0..64).contains(&distance) && self.played_mask & (1 << distance) != 0
    }

    fn flush(&mut self) {
        for entry in self.window.iter_mut() {
            entry.sequence = NONE;
        }
        self.statistics.flushed += u64::from(self.buffered);
        self.buffered = 0;
    }

    fn start_talkspurt(&mut self, sequence: i64) {
        self.next_sequence = sequence;
        self.anchored_sequence = sequence;
        self.state = State::Waiting {
            start_arrival: self.clock,
        };
        self.statistics.talkspurts += 1;
    }

    /// Sets the target delay from the latest jitter estimate; once per pull, after the
    /// arrivals (each of which carries the estimate after it) were accepted.
    /// The division runs only when the delay leaves the range that gives the current
    /// target, which the jitter estimate's small steps seldom do.
    fn update_target(&mut self) {
        let delay = u64::from(self.statistics.jitter) * u64::from(self.jitter_factor);
        let (lowest, highest) = self.target_range;
        if (lowest..=highest).contains(&delay) {
            return;
        }
        let frame = self.frame_units.unsigned_abs().max(1);
        let frames = u32::try_from(delay.div_ceil(frame)).unwrap_or(u32::MAX);
        let target = frames.clamp(self.minimum_frames, self.maximum_frames);
        self.set_target(target);
        // ceil(delay / frame) == target exactly for delays in ((target - 1) * frame,
        // target * frame]; the clamps widen the range to 0 and to infinity.
        let lowest = if target == self.minimum_frames {
            0
        } else {
            (u64::from(target) - 1) * frame + 1
        };
        let highest = if target == self.maximum_frames {
            u64::MAX
        } else {
            u64::from(target) * frame
        };
        self.target_range = (lowest, highest);
    }

    fn set_target(&mut self, target: u32) {
        self.statistics.target_delay_frames = target;
        self.depth_limit = i64::from(target) + i64::from(self.drift_slack_frames);
    }

    /// Files one arrival into the reorder window, or counts why it was dropped. A packet
    /// filed takes the window slot's buffer in exchange for its own, so the ring slot
    /// goes back to the producer with a free buffer.
    fn accept(&mut self, arrival: &mut Arrival) {
        if arrival.new_source {
            self.flush();
            self.floor = NONE;
            self.highest = NONE;
            self.state = State::Idle;
            self.statistics.resynchronised += 1;
        }
        self.statistics.jitter = arrival.jitter;
        let packet = &arrival.packet;
        let known = self.highest != NONE;
        let (sequence, timestamp) = if known {
            (
                extend_sequence(self.highest, packet.sequence),
                extend_timestamp(self.highest_timestamp, packet.timestamp),
            )
        } else {
            (i64::from(packet.sequence), i64::from(packet.timestamp))
        };
        if sequence < self.floor {
            self.drop_behind(sequence);
            return;
        }
        let mut talkspurt_start = packet.marker;
        // The next packet in order, one frame on: its timestamp deviates by 0, so none of
        // the checks below applies.
        let in_step = sequence == self.highest.wrapping_add(1)
            && timestamp == self.highest_timestamp.wrapping_add(self.frame_units);
        if known && !in_step {
            let expected = self.highest_timestamp + (sequence - self.highest) * self.frame_units;
            let deviation = timestamp - expected;
            if deviation < -self.absurd_jump {
                self.statistics.timestamp_jumps += 1;
                return;
            }
            if deviation > self.absurd_jump {
                self.statistics.timestamp_jumps += 1;
            }
            // A timestamp gap without the marker: the talkspurt's first packet was lost
            // or unmarked (RFC 3551 §4.1), so this one starts it.
            if deviation > self.half_frame_units && sequence > self.highest {
                talkspurt_start = true;
            }
        }
        match self.state {
            State::Idle => self.start_talkspurt(sequence),
            State::Waiting { .. } if sequence < self.next_sequence => {
                let span = if known { self.highest - sequence } else { 0 };
                if span < self.capacity {
                    self.next_sequence = sequence;
                    self.anchored_sequence = sequence;
                }
            }
            _ => {}
        }
        if sequence < self.next_sequence {
            self.statistics.late += 1;
            return;
        }
        if sequence >= self.next_sequence + self.capacity {
            self.flush();
            self.statistics.resynchronised += 1;
            self.start_talkspurt(sequence);
        }
        let index = self.index(sequence);
        let clock = self.clock;
        let Some(entry) = self.window.get_mut(index) else {
            return;
        };
        if entry.sequence == sequence {
            self.statistics.duplicate += 1;
            return;
        }
        let replaced = entry.sequence != NONE;
        entry.sequence = sequence;
        entry.arrival = clock;
        entry.talkspurt_start = talkspurt_start;
        std::mem::swap(&mut entry.packet, &mut arrival.packet);
        self.statistics.received += 1;
        if !replaced {
            self.buffered += 1;
        }
        if sequence > self.highest {
            self.highest = sequence;
            self.highest_timestamp = timestamp;
        }
    }

    /// Counts a packet below the floor: a duplicate if it was played, late otherwise.
    #[cold]
    fn drop_behind(&mut self, sequence: i64) {
        if self.was_played(sequence) {
            self.statistics.duplicate += 1;
        } else {
            self.statistics.late += 1;
        }
    }

    /// Moves playout one sequence number on.
    fn advance(&mut self, played: bool) {
        self.played_mask = (self.played_mask << 1) | u64::from(played);
        self.next_sequence += 1;
        self.floor = self.next_sequence;
    }

    fn occupied_at(&self, sequence: i64) -> Option<usize> {
        let index = self.index(sequence);
        self.window
            .get(index)
            .filter(|entry| entry.sequence == sequence)
            .map(|_| index)
    }

    /// Empties the slot holding `sequence`; says whether it held it.
    fn take(&mut self, sequence: i64) -> bool {
        let entry = self
            .occupied_at(sequence)
            .and_then(|index| self.window.get_mut(index));
        match entry {
            Some(entry) => {
                entry.sequence = NONE;
                self.buffered = self.buffered.saturating_sub(1);
                true
            }
            None => false,
        }
    }

    fn decide(&mut self) -> Decision {
        let target = u64::from(self.statistics.target_delay_frames);
        match self.state {
            State::Idle => return Decision::Silence,
            State::Waiting { start_arrival } => {
                if self.clock < start_arrival.saturating_add(target) {
                    return Decision::Silence;
                }
                self.state = State::Playing;
                self.concealed_run = 0;
            }
            State::Playing => {}
        }
        if self.highest != NONE {
            let depth = self.highest - self.next_sequence + 1;
            if self.buffered > 0 && depth > self.depth_limit {
                if self.take(self.next_sequence) {
                    self.statistics.dropped += 1;
                } else {
                    self.statistics.lost += 1;
                }
                self.advance(false);
            }
        }
        if let Some(index) = self.occupied_at(self.next_sequence) {
            let Some(entry) = self.window.get_mut(index) else {
                return Decision::Silence;
            };
            if entry.talkspurt_start && entry.sequence != self.anchored_sequence {
                self.anchored_sequence = entry.sequence;
                if self.clock < entry.arrival.saturating_add(target) {
                    self.state = State::Waiting {
                        start_arrival: entry.arrival,
                    };
                    self.statistics.talkspurts += 1;
                    return Decision::Silence;
                }
                self.statistics.talkspurts += 1;
            }
            entry.sequence = NONE;
            self.buffered = self.buffered.saturating_sub(1);
            self.concealed_run = 0;
            if self.pending_lost > 0 {
                self.statistics.lost += self.pending_lost;
                self.pending_lost = 0;
            }
            self.advance(true);
            return Decision::Play(index);
        }
        let sequence = self.next_sequence as u16;
        if self.buffered > 0 {
            self.statistics.lost += 1 + self.pending_lost;
            self.pending_lost = 0;
            self.advance(false);
            return Decision::Conceal(sequence);
        }
        if self.concealed_run < self.maximum_concealed_frames {
            self.concealed_run += 1;
            self.pending_lost += 1;
            self.advance(false);
            return Decision::Conceal(sequence);
        }
        // The talkspurt is over: rewind past the frames concealed at its tail, so the
        // next talkspurt's sequence numbers (which continue from the last packet) play.
        if self.highest != NONE {
            let rewind = (self.next_sequence - (self.highest + 1)).clamp(0, 63);
            self.played_mask >>= rewind;
            self.next_sequence -= rewind;
            self.floor = self.next_sequence;
        }
        self.pending_lost = 0;
        self.state = State::Idle;
        Decision::Silence
    }
}

/// What [`JitterConsumer::decide`] chose, before borrowing the window for the caller.
enum Decision {
    Play(usize),
    Conceal(u16),
    Silence,
}
