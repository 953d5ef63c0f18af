//! Wrap-around arithmetic for RTP sequence numbers and timestamps, and NTP timestamps
//! as RTCP carries them (RFC 3550 §4).

use std::time::Duration;

/// Extends a 16-bit sequence number to 64 bits, picking the value nearest `reference`.
///
/// `reference` is an already extended number; the result differs from it by at most
/// 32768 in either direction, so a stream that wraps from 65535 to 0 keeps counting up.
pub fn extend_sequence(reference: i64, sequence: u16) -> i64 {
    let delta = sequence.wrapping_sub(reference as u16) as i16;
    reference.wrapping_add(i64::from(delta))
}

/// Extends a 32-bit RTP timestamp to 64 bits, picking the value nearest `reference`.
pub fn extend_timestamp(reference: i64, timestamp: u32) -> i64 {
    let delta = timestamp.wrapping_sub(reference as u32) as i32;
    reference.wrapping_add(i64::from(delta))
}

/// A 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, the fraction in the
/// low 32 (RFC 3550 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTimestamp(pub u64);

/// Seconds from 1900-01-01 (the NTP era) to 1970-01-01 (the Unix epoch).
const NTP_UNIX_OFFSET_SECONDS: u64 = 2_208_988_800;

impl NtpTimestamp {
    /// Converts a time since the Unix epoch (e.g. `SystemTime::duration_since(UNIX_EPOCH)`,
    /// read by the driver) into an NTP timestamp.
    pub fn from_unix(since_epoch: Duration) -> Self {
        let seconds = since_epoch.as_secs().wrapping_add(NTP_UNIX_OFFSET_SECONDS);
        let fraction = (u64::from(since_epoch.subsec_nanos()) << 32) / 1_000_000_000;
        Self((seconds << 32) | fraction)
    }

    /// The middle 32 bits, the form RTCP's LSR and round-trip arithmetic use
    /// (units of 1/65536 s).
    pub fn middle_32(self) -> u32 {
        (self.0 >> 16) as u32
    }

    /// The high 32 bits: whole seconds since 1900.
    pub fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The low 32 bits: the fraction of a second in units of 2^-32 s.
    pub fn fraction(self) -> u32 {
        self.0 as u32
    }
}

/// Converts a duration into units of 1/65536 s (RTCP's DLSR unit), saturating.
pub fn duration_to_rtcp_units(duration: Duration) -> u32 {
    let units = (duration.as_nanos() << 16) / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Converts units of 1/65536 s into a duration.
pub fn rtcp_units_to_duration(units: u32) -> Duration {
    Duration::from_nanos((u64::from(units) * 1_000_000_000) >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_extends_across_wrap_both_ways() {
        assert_eq!(extend_sequence(65_535, 0), 65_536);
        assert_eq!(extend_sequence(65_536, 65_535), 65_535);
        assert_eq!(extend_sequence(10, 12), 12);
        assert_eq!(extend_sequence(10, 8), 8);
        assert_eq!(extend_sequence(0, 65_535), -1);
        let mut extended = 65_000_i64;
        for step in 0..200_000_u32 {
            let raw = (65_000_u32 + step) as u16;
            extended = extend_sequence(extended, raw);
            assert_eq!(extended, 65_000 + i64::from(step));
        }
    }

    #[test]
    fn timestamp_extends_across_wrap() {
        assert_eq!(extend_timestamp(i64::from(u32::MAX), 159), 1 << 32 | 159);
        assert_eq!(extend_timestamp(1 << 32, u32::MAX - 159), (1 << 32) - 160);
    }

    #[test]
    fn ntp_from_unix_epoch_and_middle_bits() {
        let ntp = NtpTimestamp::from_unix(Duration::from_millis(1_500));
        assert_eq!(ntp.seconds(), 2_208_988_801);
        assert_eq!(ntp.fraction(), 1 << 31);
        assert_eq!(ntp.middle_32(), (2_208_988_801_u32 << 16) | 0x8000);
    }

    #[test]
    fn rtcp_units_round_trip() {
        assert_eq!(duration_to_rtcp_units(Duration::from_secs(1)), 65_536);
        assert_eq!(duration_to_rtcp_units(Duration::from_millis(500)), 32_768);
        assert_eq!(rtcp_units_to_duration(65_536), Duration::from_secs(1));
        assert_eq!(
            duration_to_rtcp_units(Duration::from_secs(1 << 20)),
            u32::MAX
        );
    }
}
