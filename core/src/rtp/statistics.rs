//! Per-source receiver statistics (RFC 3550 A.1, A.3, A.8) and round-trip time from
//! LSR/DLSR (RFC 3550 §6.4.1).

use std::time::{Duration, Instant};

use super::rtcp::ReportBlock;
use super::sequence::{NtpTimestamp, duration_to_rtcp_units, rtcp_units_to_duration};

/// A jump larger than this many sequence numbers is a dropout (RFC 3550 A.1).
const MAX_DROPOUT: u16 = 3000;
/// A step back smaller than this many sequence numbers is reordering (RFC 3550 A.1).
const MAX_MISORDER: u16 = 100;
/// Sequential packets needed before a source is valid (RFC 3550 A.1).
const MIN_SEQUENTIAL: u8 = 2;
/// One cycle of 16-bit sequence numbers.
const SEQUENCE_MODULUS: u32 = 1 << 16;

/// What [`ReceiverStatistics::update`] decided about one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SequenceUpdate {
    /// The packet counts: in order, reordered within the window, or a duplicate.
    Accepted,
    /// The source is still on probation; the packet should not be played yet.
    Probation,
    /// A jump too large to be reordering; a second packet in sequence after it would
    /// restart the statistics.
    BadJump,
    /// Two sequential packets after a large jump: the sender restarted; statistics
    /// start over from this packet.
    Restarted,
}

/// Reception statistics for one synchronisation source, as RFC 3550 A.1 keeps them.
#[derive(Debug, Clone)]
pub struct ReceiverStatistics {
    clock_rate: u32,
    max_sequence: u16,
    cycles: u32,
    base_sequence: u32,
    bad_sequence: u32,
    probation: u8,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    initialised: bool,
    epoch: Option<Instant>,
    transit: Option<u32>,
    /// Jitter estimate scaled by 16 (RFC 3550 A.8, integer form).
    jitter_scaled: u32,
    last_sender_report: u32,
    last_sender_report_arrival: Option<Instant>,
}

impl ReceiverStatistics {
    /// Creates empty statistics for a source whose RTP clock runs at `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate: clock_rate.max(1),
            max_sequence: 0,
            cycles: 0,
            base_sequence: 0,
            bad_sequence: SEQUENCE_MODULUS + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            initialised: false,
            epoch: None,
            transit: None,
            jitter_scaled: 0,
            last_sender_report: 0,
            last_sender_report_arrival: None,
        }
    }

    fn init_sequence(&mut self, sequence: u16) {
        self.base_sequence = u32::from(sequence);
        self.max_sequence = sequence;
        self.bad_sequence = SEQUENCE_MODULUS + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
        // A restarted sender has a new timing base: start the transit time afresh.
        self.transit = None;
    }

    /// Records one received packet: its sequence number, RTP timestamp and arrival time.
    ///
    /// Follows `update_seq` of RFC 3550 A.1 (probation, dropout, misorder, restart) and
    /// updates the interarrival jitter of A.8 for every packet that counts.
    pub fn update(&mut self, arrival: Instant, sequence: u16, timestamp: u32) -> SequenceUpdate {
        let epoch = *self.epoch.get_or_insert(arrival);
        let units = units_since(arrival.saturating_duration_since(epoch), self.clock_rate);
        self.update_units(units, sequence, timestamp)
    }

    /// [`Self::update`] with the arrival time already in timestamp units since any fixed
    /// instant, modulo 2^32 (the jitter depends only on differences between arrivals):
    /// the jitter buffer converts each arrival once for both of its estimators.
    pub(crate) fn update_units(
        &mut self,
        arrival: u32,
        sequence: u16,
        timestamp: u32,
    ) -> SequenceUpdate {
        // The common case first: the next packet in order from a valid source.
        if self.probation == 0 && sequence == self.max_sequence.wrapping_add(1) {
            if sequence == 0 {
                self.cycles = self.cycles.wrapping_add(SEQUENCE_MODULUS);
            }
            self.max_sequence = sequence;
            self.received = self.received.wrapping_add(1);
            self.update_jitter(arrival, timestamp);
            return SequenceUpdate::Accepted;
        }
        if !self.initialised {
            self.initialised = true;
            self.init_sequence(sequence);
            self.max_sequence = sequence.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
        }
        let delta = sequence.wrapping_sub(self.max_sequence);
        let outcome = if self.probation > 0 {
            if sequence == self.max_sequence.wrapping_add(1) {
                self.probation -= 1;
                self.max_sequence = sequence;
                if self.probation == 0 {
                    self.init_sequence(sequence);
                    SequenceUpdate::Accepted
                } else {
                    SequenceUpdate::Probation
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_sequence = sequence;
                SequenceUpdate::Probation
            }
        } else if delta < MAX_DROPOUT {
            if sequence < self.max_sequence {
                self.cycles = self.cycles.wrapping_add(SEQUENCE_MODULUS);
            }
            self.max_sequence = sequence;
            SequenceUpdate::Accepted
        } else if u32::from(delta) <= SEQUENCE_MODULUS - u32::from(MAX_MISORDER) {
            if u32::from(sequence) == self.bad_sequence {
                self.init_sequence(sequence);
                SequenceUpdate::Restarted
            } else {
                self.bad_sequence = u32::from(sequence.wrapping_add(1));
                SequenceUpdate::BadJump
            }
        } else {
            SequenceUpdate::Accepted
        };
        if matches!(
            outcome,
            SequenceUpdate::Accepted | SequenceUpdate::Restarted
        ) {
            self.received = self.received.wrapping_add(1);
            self.update_jitter(arrival, timestamp);
        }
        outcome
    }

    fn update_jitter(&mut self, arrival: u32, timestamp: u32) {
        let transit = arrival.wrapping_sub(timestamp);
        match &mut self.transit {
            Some(previous) => {
                let difference = (transit.wrapping_sub(*previous) as i32).unsigned_abs();
                // J += (|D| - J) / 16, kept scaled by 16 (RFC 3550 A.8).
                self.jitter_scaled = self
                    .jitter_scaled
                    .wrapping_add(difference)
                    .wrapping_sub((self.jitter_scaled.wrapping_add(8)) >> 4);
                *previous = transit;
            }
            None => self.transit = Some(transit),
        }
    }

    /// The interarrival jitter estimate in RTP timestamp units (RFC 3550 A.8).
    pub fn jitter(&self) -> u32 {
        self.jitter_scaled >> 4
    }

    /// The interarrival jitter estimate as a duration.
    pub fn jitter_duration(&self) -> Duration {
        Duration::from_nanos(u64::from(self.jitter()) * 1_000_000_000 / u64::from(self.clock_rate))
    }

    /// The extended highest sequence number received: cycles in the high 16 bits.
    pub fn extended_highest_sequence(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_sequence))
    }

    /// Packets expected since the base sequence number (RFC 3550 A.3).
    pub fn expected(&self) -> u32 {
        if !self.initialised || self.probation > 0 {
            return 0;
        }
        self.extended_highest_sequence()
            .wrapping_sub(self.base_sequence)
            .wrapping_add(1)
    }

    /// Packets received that counted, duplicates included (RFC 3550 A.3).
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Cumulative packets lost: expected minus received, clamped to 24 signed bits.
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7F_FFFF) as i32
    }

    /// Records an SR from this source: the middle 32 bits of its NTP time become the
    /// LSR of the next report block, and its arrival time the start of DLSR.
    pub fn on_sender_report(&mut self, arrival: Instant, ntp_timestamp: NtpTimestamp) {
        self.last_sender_report = ntp_timestamp.middle_32();
        self.last_sender_report_arrival = Some(arrival);
    }

    /// Builds a report block for this source at `now` and starts the next interval
    /// for the fraction lost (RFC 3550 A.3, §6.4.1).
    pub fn report_block(&mut self, now: Instant, ssrc: u32) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let delay = self.last_sender_report_arrival.map_or(0, |arrival| {
            duration_to_rtcp_units(now.saturating_duration_since(arrival))
        });
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost(),
            extended_highest_sequence: self.extended_highest_sequence(),
            jitter: self.jitter(),
            last_sender_report: self.last_sender_report,
            delay_since_last_sender_report: delay,
        }
    }
}

/// A duration in units of a `clock_rate` Hz clock, modulo 2^32, in 64-bit arithmetic
/// (no 128-bit division on the per-packet path).
pub(crate) fn units_since(elapsed: Duration, clock_rate: u32) -> u32 {
    let rate = u64::from(clock_rate);
    let whole = elapsed.as_secs().wrapping_mul(rate);
    let fraction = u64::from(elapsed.subsec_nanos()) * rate / 1_000_000_000;
    whole.wrapping_add(fraction) as u32
}

/// Round-trip time from a report block about our stream, received at wall-clock time
/// `arrival`: A - LSR - DLSR (RFC 3550 §6.4.1).
///
/// Returns `None` when the block carries no LSR or the numbers are inconsistent
/// (the delay exceeds the elapsed time).
pub fn round_trip_time(arrival: NtpTimestamp, block: &ReportBlock) -> Option<Duration> {
    if block.last_sender_report == 0 {
        return None;
    }
    let elapsed = arrival.middle_32().wrapping_sub(block.last_sender_report);
    let round_trip = elapsed.checked_sub(block.delay_since_last_sender_report)?;
    if round_trip > u32::MAX / 2 {
        return None;
    }
    Some(rtcp_units_to_duration(round_trip))
}

#[cfg(test)]
#[path = "statistics_tests.rs"]
mod tests;
