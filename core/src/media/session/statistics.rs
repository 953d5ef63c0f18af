//! The counters a session's threads publish (atomics: no lock) and the snapshot its
//! owner reads.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::rtp::JitterStatistics;

/// A snapshot of a media session's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MediaStatistics {
    /// RTP packets sent (audio and telephone-events).
    pub packets_sent: u64,
    /// RTP payload octets sent.
    pub octets_sent: u64,
    /// RTP packets that could not be sent (socket error or full buffer).
    pub send_failures: u64,
    /// RTP packets received from the current remote source and accepted.
    pub packets_received: u64,
    /// RTP payload octets received from the current remote source.
    pub octets_received: u64,
    /// Packets the remote source should have sent so far (RFC 3550 A.3).
    pub packets_expected: u64,
    /// Packets lost from the remote source, cumulative (RFC 3550 A.3; duplicates can
    /// make it negative).
    pub packets_lost: i64,
    /// Interarrival jitter of the remote source (RFC 3550 A.8).
    pub jitter: Duration,
    /// Round-trip time from the latest report block about our stream (RFC 3550 §6.4.1).
    pub round_trip_time: Option<Duration>,
    /// What the remote's latest report block says it lost of our stream, cumulative.
    pub remote_packets_lost: Option<i64>,
    /// What the remote's latest report block says it lost of our stream since its
    /// previous report, in 1/256.
    pub remote_fraction_lost: Option<u8>,
    /// Datagrams on the RTP port that are not RTP (truncated, wrong version, garbage).
    pub invalid_packets: u64,
    /// RTP packets from an SSRC other than the current remote source, dropped.
    pub unknown_ssrc: u64,
    /// RTP packets of a payload type that is neither the codec, telephone-event nor
    /// comfort noise, dropped.
    pub unknown_payload_type: u64,
    /// Telephone-event payloads too short to read, dropped.
    pub invalid_dtmf: u64,
    /// DTMF digits received.
    pub dtmf_received: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// RTCP compound packets received and read.
    pub rtcp_received: u64,
    /// RTCP datagrams that did not parse, dropped.
    pub rtcp_invalid: u64,
    /// Packets the jitter buffer refused (payload too large, ring full).
    pub jitter_buffer_rejected: u64,
    /// The jitter buffer's own counters (late, lost, concealed, ...).
    pub jitter_buffer: JitterStatistics,
    /// The jitter buffer's current target playout delay.
    pub jitter_buffer_delay: Duration,
    /// Media clock ticks that ran so late that the clock skipped ahead.
    pub clock_skips: u64,
}

/// Counters written by the session's threads, read by [`SharedStatistics::snapshot`].
#[derive(Debug, Default)]
pub(crate) struct SharedStatistics {
    pub(crate) packets_sent: AtomicU64,
    pub(crate) octets_sent: AtomicU64,
    pub(crate) send_failures: AtomicU64,
    pub(crate) packets_received: AtomicU64,
    pub(crate) octets_received: AtomicU64,
    pub(crate) packets_expected: AtomicU64,
    pub(crate) packets_lost: AtomicU64,
    pub(crate) jitter_nanos: AtomicU64,
    /// Nanoseconds, `u64::MAX` while unknown.
    pub(crate) round_trip_nanos: AtomicU64,
    /// `u64::MAX` while unknown; otherwise the i64 as u64.
    pub(crate) remote_lost: AtomicU64,
    /// `u32::MAX` while unknown.
    pub(crate) remote_fraction_lost: AtomicU32,
    pub(crate) invalid_packets: AtomicU64,
    pub(crate) unknown_ssrc: AtomicU64,
    pub(crate) unknown_payload_type: AtomicU64,
    pub(crate) invalid_dtmf: AtomicU64,
    pub(crate) dtmf_received: AtomicU64,
    pub(crate) rtcp_sent: AtomicU64,
    pub(crate) rtcp_received: AtomicU64,
    pub(crate) rtcp_invalid: AtomicU64,
    pub(crate) jitter_buffer_rejected: AtomicU64,
    pub(crate) clock_skips: AtomicU64,
    /// The jitter buffer's counters, in field order.
    jitter_buffer: [AtomicU64; JITTER_FIELDS],
    jitter_buffer_delay_nanos: AtomicU64,
}

const JITTER_FIELDS: usize = 16;

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl SharedStatistics {
    pub(crate) fn new() -> Self {
        let statistics = Self::default();
        statistics
            .round_trip_nanos
            .store(u64::MAX, Ordering::Relaxed);
        statistics.remote_lost.store(u64::MAX, Ordering::Relaxed);
        statistics
            .remote_fraction_lost
            .store(u32::MAX, Ordering::Relaxed);
        statistics
    }

    /// Publishes the jitter buffer's counters (from the media thread, each frame).
    pub(crate) fn publish_jitter_buffer(&self, statistics: &JitterStatistics, delay: Duration) {
        let values = jitter_fields(statistics);
        for (slot, value) in self.jitter_buffer.iter().zip(values) {
            slot.store(value, Ordering::Relaxed);
        }
        self.jitter_buffer_delay_nanos
            .store(nanos(delay), Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MediaStatistics {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut jitter = [0u64; JITTER_FIELDS];
        for (value, slot) in jitter.iter_mut().zip(&self.jitter_buffer) {
            *value = load(slot);
        }
        let round_trip = load(&self.round_trip_nanos);
        let remote_lost = load(&self.remote_lost);
        let remote_fraction = self.remote_fraction_lost.load(Ordering::Relaxed);
        MediaStatistics {
            packets_sent: load(&self.packets_sent),
            octets_sent: load(&self.octets_sent),
            send_failures: load(&self.send_failures),
            packets_received: load(&self.packets_received),
            octets_received: load(&self.octets_received),
            packets_expected: load(&self.packets_expected),
            packets_lost: load(&self.packets_lost) as i64,
            jitter: Duration::from_nanos(load(&self.jitter_nanos)),
            round_trip_time: (round_trip != u64::MAX).then(|| Duration::from_nanos(round_trip)),
            remote_packets_lost: (remote_lost != u64::MAX).then_some(remote_lost as i64),
            remote_fraction_lost: u8::try_from(remote_fraction).ok(),
            invalid_packets: load(&self.invalid_packets),
            unknown_ssrc: load(&self.unknown_ssrc),
            unknown_payload_type: load(&self.unknown_payload_type),
            invalid_dtmf: load(&self.invalid_dtmf),
            dtmf_received: load(&self.dtmf_received),
            rtcp_sent: load(&self.rtcp_sent),
            rtcp_received: load(&self.rtcp_received),
            rtcp_invalid: load(&self.rtcp_invalid),
            jitter_buffer_rejected: load(&self.jitter_buffer_rejected),
            jitter_buffer: jitter_statistics(jitter),
            jitter_buffer_delay: Duration::from_nanos(load(&self.jitter_buffer_delay_nanos)),
            clock_skips: load(&self.clock_skips),
        }
    }
}

/// A duration in nanoseconds, saturating.
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn jitter_fields(statistics: &JitterStatistics) -> [u64; JITTER_FIELDS] {
    [
        statistics.received,
        statistics.played,
        statistics.late,
        statistics.duplicate,
        statistics.lost,
        statistics.concealed,
        statistics.silence,
        statistics.dropped,
        statistics.resynchronised,
        statistics.flushed,
        statistics.talkspurts,
        statistics.timestamp_jumps,
        u64::from(statistics.target_delay_frames),
        u64::from(statistics.jitter),
        u64::from(statistics.buffered),
        0,
    ]
}

fn jitter_statistics(values: [u64; JITTER_FIELDS]) -> JitterStatistics {
    let [
        received,
        played,
        late,
        duplicate,
        lost,
        concealed,
        silence,
        dropped,
        resynchronised,
        flushed,
        talkspurts,
        timestamp_jumps,
        target_delay_frames,
        jitter,
        buffered,
        _,
    ] = values;
    let small = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
    JitterStatistics {
        received,
        played,
        late,
        duplicate,
        lost,
        concealed,
        silence,
        dropped,
        resynchronised,
        flushed,
        talkspurts,
        timestamp_jumps,
        target_delay_frames: small(target_delay_frames),
        jitter: small(jitter),
        buffered: small(buffered),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_buffer_counters_survive_the_round_trip() {
        let statistics = JitterStatistics {
            received: 1,
            played: 2,
            late: 3,
            duplicate: 4,
            lost: 5,
            concealed: 6,
            silence: 7,
            dropped: 8,
            resynchronised: 9,
            flushed: 10,
            talkspurts: 11,
            timestamp_jumps: 12,
            target_delay_frames: 13,
            jitter: 14,
            buffered: 15,
        };
        let shared = SharedStatistics::new();
        shared.publish_jitter_buffer(&statistics, Duration::from_millis(60));
        let snapshot = shared.snapshot();
        assert_eq!(snapshot.jitter_buffer, statistics);
        assert_eq!(snapshot.jitter_buffer_delay, Duration::from_millis(60));
        assert_eq!(snapshot.round_trip_time, None);
        assert_eq!(snapshot.remote_packets_lost, None);
        assert_eq!(snapshot.remote_fraction_lost, None);
    }
}
