// Instant has no constructor but now(): tests take one arbitrary base and offset it.
#![allow(clippy::disallowed_methods)]

use super::*;

const FRAME: Duration = Duration::from_millis(20);

/// Feeds packets `sequences` sent every 20 ms (160 units at 8 kHz) and arriving with
/// `delay(index)` extra delay.
fn feed(
    statistics: &mut ReceiverStatistics,
    start: Instant,
    sequences: impl IntoIterator<Item = u16>,
    delay: impl Fn(u32) -> Duration,
) {
    for (index, sequence) in sequences.into_iter().enumerate() {
        let index = index as u32;
        let arrival = start + FRAME * index + delay(index);
        let timestamp = u32::from(sequence).wrapping_mul(160);
        statistics.update(arrival, sequence, timestamp);
    }
}

#[test]
fn probation_needs_two_sequential_packets() {
    let now = Instant::now();
    let mut statistics = ReceiverStatistics::new(8000);
    assert_eq!(statistics.update(now, 10, 0), SequenceUpdate::Probation);
    assert_eq!(statistics.expected(), 0);
    assert_eq!(statistics.update(now, 11, 160), SequenceUpdate::Accepted);
    assert_eq!(statistics.received(), 1);
    assert_eq!(statistics.expected(), 1);
    assert_eq!(statistics.extended_highest_sequence(), 11);
}

#[test]
fn probation_restarts_on_a_gap() {
    let now = Instant::now();
    let mut statistics = ReceiverStatistics::new(8000);
    assert_eq!(statistics.update(now, 10, 0), SequenceUpdate::Probation);
    assert_eq!(statistics.update(now, 20, 0), SequenceUpdate::Probation);
    assert_eq!(statistics.update(now, 21, 0), SequenceUpdate::Accepted);
}

#[test]
fn extended_sequence_counts_cycles_across_wrap() {
    let mut statistics = ReceiverStatistics::new(8000);
    let sequences = (0..200u32).map(|index| (65_500 + index) as u16);
    feed(&mut statistics, Instant::now(), sequences, |_| {
        Duration::ZERO
    });
    // 65500 + 199 = 65699 = one cycle + 163.
    assert_eq!(statistics.extended_highest_sequence(), 65_536 + 163);
    assert_eq!(statistics.expected(), 199);
    assert_eq!(statistics.received(), 199);
    assert_eq!(statistics.cumulative_lost(), 0);
}

#[test]
fn loss_and_fraction_lost_per_interval() {
    let start = Instant::now();
    let mut statistics = ReceiverStatistics::new(8000);
    // 0..100 with every 10th missing (10 lost of the 100 expected after probation).
    let sequences = (0..=100u16).filter(|sequence| *sequence == 0 || sequence % 10 != 5);
    feed(&mut statistics, start, sequences, |_| Duration::ZERO);
    assert_eq!(statistics.expected(), 100);
    assert_eq!(statistics.cumulative_lost(), 10);
    let block = statistics.report_block(start, 99);
    assert_eq!(block.ssrc, 99);
    assert_eq!(block.cumulative_lost, 10);
    // 10/100 * 256 = 25.6, truncated.
    assert_eq!(block.fraction_lost, 25);
    assert_eq!(block.extended_highest_sequence, 100);
    // The next interval has no loss.
    feed(&mut statistics, start, 101..=150u16, |_| Duration::ZERO);
    let block = statistics.report_block(start, 99);
    assert_eq!(block.fraction_lost, 0);
    assert_eq!(block.cumulative_lost, 10);
}

#[test]
fn duplicates_make_loss_negative_and_fraction_zero() {
    let start = Instant::now();
    let mut statistics = ReceiverStatistics::new(8000);
    let sequences = [0u16, 1, 2, 3, 3, 3, 4];
    feed(&mut statistics, start, sequences, |_| Duration::ZERO);
    assert_eq!(statistics.cumulative_lost(), -2);
    assert_eq!(statistics.report_block(start, 1).fraction_lost, 0);
}

#[test]
fn sender_restart_after_a_large_jump() {
    let start = Instant::now();
    let mut statistics = ReceiverStatistics::new(8000);
    feed(&mut statistics, start, 0..10u16, |_| Duration::ZERO);
    assert_eq!(statistics.update(start, 40_000, 0), SequenceUpdate::BadJump);
    assert_eq!(
        statistics.update(start, 40_001, 160),
        SequenceUpdate::Restarted
    );
    assert_eq!(statistics.expected(), 1);
    assert_eq!(statistics.received(), 1);
    assert_eq!(
        statistics.update(start, 40_002, 320),
        SequenceUpdate::Accepted
    );
}

#[test]
fn jitter_is_zero_for_constant_delay() {
    let mut statistics = ReceiverStatistics::new(8000);
    feed(&mut statistics, Instant::now(), 0..500u16, |_| {
        Duration::from_millis(35)
    });
    assert_eq!(statistics.jitter(), 0);
}

#[test]
fn jitter_converges_to_mean_deviation() {
    let mut statistics = ReceiverStatistics::new(8000);
    // Alternating 0 and 10 ms extra delay: |D| is 80 units every packet.
    feed(&mut statistics, Instant::now(), 0..2000u16, |index| {
        Duration::from_millis(u64::from(index % 2) * 10)
    });
    let jitter = statistics.jitter();
    assert!((76..=80).contains(&jitter), "jitter {jitter}");
    assert_eq!(
        statistics.jitter_duration().as_millis(),
        u128::from(jitter) / 8
    );
}

#[test]
fn jitter_survives_timestamp_wrap() {
    let mut statistics = ReceiverStatistics::new(8000);
    let start = Instant::now();
    for index in 0..400u32 {
        let timestamp = (u32::MAX - 160 * 200).wrapping_add(index * 160);
        statistics.update(start + FRAME * index, index as u16, timestamp);
    }
    assert_eq!(statistics.jitter(), 0);
}

#[test]
fn report_block_carries_lsr_and_dlsr() {
    let start = Instant::now();
    let mut statistics = ReceiverStatistics::new(8000);
    feed(&mut statistics, start, 0..10u16, |_| Duration::ZERO);
    let sender_time = NtpTimestamp(0x0000_1234_5678_0000);
    statistics.on_sender_report(start, sender_time);
    let block = statistics.report_block(start + Duration::from_millis(250), 5);
    assert_eq!(block.last_sender_report, 0x1234_5678);
    assert_eq!(block.delay_since_last_sender_report, 16_384);
}

#[test]
fn round_trip_time_from_lsr_and_dlsr() {
    // RFC 3550 §6.4.1 figure: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000
    // (46853.125 s), DLSR = 0x0005:4000 (5.250 s): RTT = 6.125 s.
    let arrival = NtpTimestamp(0xB710_8000 << 16);
    let block = ReportBlock {
        last_sender_report: 0xB705_2000,
        delay_since_last_sender_report: 0x0005_4000,
        ..ReportBlock::default()
    };
    assert_eq!(
        round_trip_time(arrival, &block),
        Some(Duration::from_millis(6125))
    );
    let no_report = ReportBlock::default();
    assert_eq!(round_trip_time(arrival, &no_report), None);
    let inconsistent = ReportBlock {
        delay_since_last_sender_report: 0x00FF_0000,
        ..block
    };
    assert_eq!(round_trip_time(arrival, &inconsistent), None);
}
