// Instant has no constructor but now(): tests take one arbitrary base and offset it.
#![allow(clippy::disallowed_methods)]

use super::*;
use crate::rtp::packet::RtpHeader;
use proptest::prelude::*;

const FRAME: Duration = Duration::from_millis(20);

fn packet(sequence: u16, timestamp: u32, marker: bool) -> JitterPacket {
    JitterPacket::new(sequence, timestamp, marker, 0, &sequence.to_be_bytes()).unwrap()
}

/// What one pull produced, without the borrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    Play(u16),
    Conceal(u16),
    Silence,
}

fn pull(consumer: &mut JitterConsumer) -> Out {
    match consumer.pull() {
        Playout::Packet(packet) => {
            assert_eq!(packet.payload(), packet.sequence.to_be_bytes());
            Out::Play(packet.sequence)
        }
        Playout::Conceal { sequence } => Out::Conceal(sequence),
        Playout::Silence => Out::Silence,
    }
}

/// A simulated stream: packets sent one per frame, each arriving at a given pull.
struct Simulation {
    producer: JitterProducer,
    consumer: JitterConsumer,
    start: Instant,
    pulls: u32,
}

impl Simulation {
    fn new(config: &JitterConfig) -> Self {
        let (producer, consumer) = jitter_buffer(config);
        Self {
            producer,
            consumer,
            start: Instant::now(),
            pulls: 0,
        }
    }

    fn push(&mut self, packet: JitterPacket) {
        let now = self.start + FRAME * self.pulls;
        self.producer.push_packet(now, packet, false).unwrap();
    }

    fn pull(&mut self) -> Out {
        self.pulls += 1;
        pull(&mut self.consumer)
    }

    fn played(&mut self, pulls: usize) -> Vec<Out> {
        (0..pulls).map(|_| self.pull()).collect()
    }
}

fn plays(outs: &[Out]) -> Vec<u16> {
    outs.iter()
        .filter_map(|out| match out {
            Out::Play(sequence) => Some(*sequence),
            _ => None,
        })
        .collect()
}

#[test]
fn in_order_stream_plays_after_the_minimum_delay() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    let mut outs = Vec::new();
    for sequence in 0..50u16 {
        simulation.push(packet(sequence, u32::from(sequence) * 160, sequence == 0));
        outs.push(simulation.pull());
    }
    // 40 ms minimum delay: two frames of silence, then every packet in order.
    assert_eq!(&outs[..2], &[Out::Silence, Out::Silence]);
    assert_eq!(plays(&outs), (0..48).collect::<Vec<_>>());
    let statistics = simulation.consumer.statistics();
    assert_eq!(statistics.played, 48);
    assert_eq!(statistics.talkspurts, 1);
    assert_eq!(statistics.lost + statistics.late + statistics.duplicate, 0);
    assert_eq!(
        simulation.consumer.target_delay(),
        Duration::from_millis(40)
    );
}

#[test]
fn reordered_packets_play_in_sequence_order() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    let order = [1u16, 0, 3, 2, 5, 4, 7, 6, 9, 8];
    let mut outs = Vec::new();
    for sequence in order {
        simulation.push(packet(sequence, u32::from(sequence) * 160, false));
        outs.push(simulation.pull());
    }
    outs.extend(simulation.played(10));
    assert_eq!(plays(&outs), (0..10).collect::<Vec<_>>());
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    let mut outs = Vec::new();
    for sequence in 0..10u16 {
        simulation.push(packet(sequence, u32::from(sequence) * 160, false));
        simulation.push(packet(sequence, u32::from(sequence) * 160, false));
        if sequence > 4 {
            // A copy of something already played.
            simulation.push(packet(sequence - 4, u32::from(sequence - 4) * 160, false));
        }
        outs.push(simulation.pull());
    }
    outs.extend(simulation.played(5));
    assert_eq!(plays(&outs), (0..10).collect::<Vec<_>>());
    let statistics = simulation.consumer.statistics();
    assert_eq!(statistics.duplicate, 10 + 5);
    assert_eq!(statistics.late, 0);
}

#[test]
fn missing_packets_are_concealed_and_late_ones_dropped() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    let mut outs = Vec::new();
    for sequence in 0..20u16 {
        if sequence != 5 {
            simulation.push(packet(sequence, u32::from(sequence) * 160, false));
        }
        if sequence == 12 {
            simulation.push(packet(5, 5 * 160, false));
        }
        outs.push(simulation.pull());
    }
    assert!(outs.contains(&Out::Conceal(5)));
    assert!(!plays(&outs).contains(&5));
    let statistics = simulation.consumer.statistics();
    assert_eq!(statistics.lost, 1);
    assert_eq!(statistics.late, 1);
}

#[test]
fn sequence_and_timestamp_wrap_around() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    let mut outs = Vec::new();
    let first_timestamp = u32::MAX - 160 * 10;
    for index in 0..100u16 {
        let sequence = 65_500u16.wrapping_add(index);
        let timestamp = first_timestamp.wrapping_add(u32::from(index) * 160);
        simulation.push(packet(sequence, timestamp, false));
        outs.push(simulation.pull());
    }
    outs.extend(simulation.played(4));
    let expected: Vec<u16> = (0..100u16)
        .map(|index| 65_500u16.wrapping_add(index))
        .collect();
    assert_eq!(plays(&outs), expected);
    let statistics = simulation.consumer.statistics();
    assert_eq!(statistics.timestamp_jumps + statistics.resynchronised, 0);
}

#[test]
fn a_talkspurt_ends_then_the_next_one_waits_for_its_delay() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    let mut outs = Vec::new();
    for sequence in 0..10u16 {
        simulation.push(packet(sequence, u32::from(sequence) * 160, sequence == 0));
        outs.push(simulation.pull());
    }
    // Silence from the sender for 1 s (50 frames): tail concealment, then idle.
    outs.extend(simulation.played(50));
    let concealed = outs
        .iter()
        .filter(|out| matches!(out, Out::Conceal(_)))
        .count();
    assert_eq!(concealed, 5);
    assert_eq!(outs.last(), Some(&Out::Silence));
    // The next talkspurt continues the sequence numbers, its timestamps jump by 1 s.
    let mut second = Vec::new();
    for sequence in 10..20u16 {
        let timestamp = u32::from(sequence) * 160 + 8000;
        simulation.push(packet(sequence, timestamp, sequence == 10));
        second.push(simulation.pull());
    }
    assert_eq!(&second[..2], &[Out::Silence, Out::Silence]);
    assert_eq!(plays(&second), (10..18).collect::<Vec<_>>());
    let statistics = simulation.consumer.statistics();
    assert_eq!(statistics.talkspurts, 2);
    assert_eq!(statistics.late, 0);
    assert_eq!(statistics.lost, 0, "the tail of a talkspurt is not a loss");
}

#[test]
fn a_lost_marker_is_inferred_from_the_timestamp_gap() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    for sequence in 0..5u16 {
        simulation.push(packet(sequence, u32::from(sequence) * 160, false));
        simulation.pull();
    }
    // Packet 5 (the marked first of a new talkspurt) is lost; 6 arrives unmarked, with
    // its timestamp 200 ms later than the sequence number implies: it starts the next
    // talkspurt, and 5 is concealed as lost.
    simulation.push(packet(6, 6 * 160 + 1600, false));
    let outs = simulation.played(6);
    assert!(plays(&outs).contains(&6));
    assert_eq!(simulation.consumer.statistics().talkspurts, 2);
}

#[test]
fn a_new_ssrc_restarts_playout() {
    let config = JitterConfig::default();
    let (mut producer, mut consumer) = jitter_buffer(&config);
    let now = Instant::now();
    let mut buffer = Vec::new();
    let mut outs = Vec::new();
    for (ssrc, sequence) in [(1u32, 100u16), (1, 101), (1, 102), (2, 7), (2, 8), (2, 9)] {
        buffer.clear();
        RtpHeader {
            sequence,
            timestamp: u32::from(sequence) * 160,
            ssrc,
            ..RtpHeader::default()
        }
        .write(&sequence.to_be_bytes(), 0, &mut buffer)
        .unwrap();
        producer
            .push(now, &RtpPacket::parse(&buffer).unwrap())
            .unwrap();
        outs.push(pull(&mut consumer));
    }
    outs.extend((0..4).map(|_| pull(&mut consumer)));
    assert_eq!(producer.ssrc(), Some(2));
    assert_eq!(plays(&outs), vec![100, 7, 8, 9]);
    assert_eq!(consumer.statistics().resynchronised, 1);
}

#[test]
fn arrival_units_give_what_the_same_instants_give() {
    // A reordered, jittered stream pushed once with instants and once with the same
    // arrival times in 8 kHz units (whole milliseconds, so the conversion is exact).
    let config = JitterConfig::default();
    let (mut by_instant, mut instant_consumer) = jitter_buffer(&config);
    let (mut by_units, mut units_consumer) = jitter_buffer(&config);
    let start = Instant::now();
    let mut buffer = Vec::new();
    let mut outs = (Vec::new(), Vec::new());
    for frame in 0..300u32 {
        // Every fifth packet comes one frame late, after its successor.
        let sequence = match frame % 5 {
            3 => frame + 1,
            4 => frame - 1,
            _ => frame,
        };
        let arrival_ms = 20 * frame + (frame * 7) % 30;
        buffer.clear();
        RtpHeader {
            sequence: (65_400 + sequence) as u16,
            timestamp: sequence.wrapping_mul(160).wrapping_sub(20_000),
            ssrc: 5,
            ..RtpHeader::default()
        }
        .write(&((65_400 + sequence) as u16).to_be_bytes(), 0, &mut buffer)
        .unwrap();
        let packet = RtpPacket::parse(&buffer).unwrap();
        let now = start + Duration::from_millis(u64::from(arrival_ms));
        by_instant.push(now, &packet).unwrap();
        by_units
            .push_units(arrival_ms * 8 + 1_000, &packet)
            .unwrap();
        outs.0.push(pull(&mut instant_consumer));
        outs.1.push(pull(&mut units_consumer));
    }
    assert_eq!(outs.0, outs.1);
    assert_eq!(
        plays(&outs.0).len(),
        298,
        "{:?}",
        instant_consumer.statistics()
    );
    assert_eq!(instant_consumer.statistics(), units_consumer.statistics());
    assert!(instant_consumer.statistics().jitter > 0);
    assert_eq!(
        by_instant.statistics().jitter(),
        by_units.statistics().jitter()
    );
    assert_eq!(
        by_instant.statistics().cumulative_lost(),
        by_units.statistics().cumulative_lost()
    );
}

#[test]
fn a_jump_beyond_the_window_resynchronises() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    let mut outs = Vec::new();
    for index in 0..20u16 {
        let sequence = if index < 10 { index } else { index + 1000 };
        simulation.push(packet(sequence, u32::from(sequence) * 160, false));
        outs.push(simulation.pull());
    }
    outs.extend(simulation.played(4));
    let played = plays(&outs);
    assert!(played.windows(2).all(|pair| pair[0] < pair[1]));
    assert!(played.contains(&1019));
    assert_eq!(simulation.consumer.statistics().resynchronised, 1);
}

#[test]
fn absurd_timestamp_jumps_backwards_are_dropped() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    for sequence in 0..5u16 {
        simulation.push(packet(
            sequence,
            (1 << 30) | (u32::from(sequence) * 160),
            false,
        ));
        simulation.pull();
    }
    simulation.push(packet(5, 7, false));
    simulation.played(5);
    let statistics = simulation.consumer.statistics();
    assert_eq!(statistics.timestamp_jumps, 1);
    assert_eq!(statistics.received, 5);
}

#[test]
fn target_delay_adapts_to_jitter_within_bounds() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    for sequence in 0..400u16 {
        let now = simulation.start
            + FRAME * u32::from(sequence)
            + Duration::from_millis(u64::from(sequence % 2) * 60);
        simulation
            .producer
            .push_packet(
                now,
                packet(sequence, u32::from(sequence) * 160, false),
                false,
            )
            .unwrap();
        simulation.pull();
    }
    // |D| = 480 units every packet: jitter ~480, 3 x 480 = 1440 units = 9 frames.
    let statistics = simulation.consumer.statistics();
    assert!((470..=480).contains(&statistics.jitter), "{statistics:?}");
    assert_eq!(statistics.target_delay_frames, 9);
    // The maximum bounds it.
    let config = JitterConfig {
        maximum_delay: Duration::from_millis(100),
        ..JitterConfig::default()
    };
    let (mut producer, mut consumer) = jitter_buffer(&config);
    for sequence in 0..400u16 {
        let now = simulation.start
            + FRAME * u32::from(sequence)
            + Duration::from_millis(u64::from(sequence % 2) * 200);
        producer
            .push_packet(
                now,
                packet(sequence, u32::from(sequence) * 160, false),
                false,
            )
            .unwrap();
        consumer.pull();
    }
    assert_eq!(consumer.statistics().target_delay_frames, 5);
}

#[test]
fn a_fast_sender_is_caught_up_by_dropping_frames() {
    let mut simulation = Simulation::new(&JitterConfig::default());
    // The sender's clock runs 10 % fast: 11 packets every 10 pulls.
    let mut sequence = 0u16;
    for pull in 0..500 {
        let count = if pull % 10 == 0 { 2 } else { 1 };
        for _ in 0..count {
            simulation.push(packet(sequence, u32::from(sequence) * 160, false));
            sequence += 1;
        }
        simulation.pull();
    }
    let statistics = simulation.consumer.statistics();
    assert!(statistics.dropped >= 40, "{statistics:?}");
    assert!(statistics.buffered <= 2 + 4 + 1, "{statistics:?}");
}

#[test]
fn a_full_ring_refuses_packets() {
    let config = JitterConfig {
        capacity: 8,
        ..JitterConfig::default()
    };
    let (mut producer, _consumer) = jitter_buffer(&config);
    let now = Instant::now();
    for sequence in 0..8u16 {
        producer
            .push_packet(now, packet(sequence, 0, false), false)
            .unwrap();
    }
    assert_eq!(
        producer.push_packet(now, packet(8, 0, false), false),
        Err(PushError::Full { capacity: 8 })
    );
    assert_eq!(producer.rejected(), 1);
    assert_eq!(
        JitterPacket::new(0, 0, false, 0, &[0; MAX_PAYLOAD + 1]),
        Err(PushError::PayloadTooLarge {
            length: MAX_PAYLOAD + 1
        })
    );
}

#[test]
fn push_and_pull_on_two_threads() {
    let config = JitterConfig {
        capacity: 32,
        ..JitterConfig::default()
    };
    let (mut producer, mut consumer) = jitter_buffer(&config);
    const COUNT: u32 = if cfg!(miri) { 300 } else { 20_000 };
    let start = Instant::now();
    let network = std::thread::spawn(move || {
        let mut sent = 0u32;
        while sent < COUNT {
            let sequence = sent as u16;
            let now = start + FRAME * sent;
            match producer.push_packet(now, packet(sequence, sent.wrapping_mul(160), false), false)
            {
                Ok(()) => sent += 1,
                Err(PushError::Full { .. }) => std::thread::yield_now(),
                Err(error) => panic!("{error}"),
            }
        }
    });
    let mut played = Vec::new();
    let mut record = |out: Out| {
        if let Out::Play(sequence) = out {
            played.push(sequence);
        }
    };
    while !network.is_finished() {
        record(pull(&mut consumer));
        std::thread::yield_now();
    }
    network.join().unwrap();
    for _ in 0..200 {
        record(pull(&mut consumer));
    }
    // Whatever the interleaving, what plays is in order and never repeated.
    let extended: Vec<i64> = played
        .iter()
        .scan(None::<i64>, |reference, sequence| {
            let value = reference.map_or(i64::from(*sequence), |reference| {
                crate::rtp::sequence::extend_sequence(reference, *sequence)
            });
            *reference = Some(value);
            Some(value)
        })
        .collect();
    assert!(extended.windows(2).all(|pair| pair[0] < pair[1]));
    let statistics = consumer.statistics();
    assert_eq!(statistics.played as usize, played.len());
    let accounted = statistics.played
        + statistics.dropped
        + statistics.late
        + statistics.flushed
        + u64::from(statistics.buffered);
    assert_eq!(accounted, u64::from(COUNT), "{statistics:?}");
    assert_eq!(statistics.buffered, 0);
}

// The ring alone (its loom model is core/tests/jitter_ring_loom.rs).

fn ring_push<T: Copy>(producer: &mut super::ring::RingProducer<T>, value: T) -> bool {
    producer.push_with(|slot| *slot = value)
}

/// Everything `drain_with` reads in one call, in order.
fn ring_drain<T: Copy>(consumer: &mut super::ring::RingConsumer<T>) -> Vec<T> {
    let mut values = Vec::new();
    let count = consumer.drain_with(|value| values.push(*value));
    assert_eq!(count, values.len(), "drain_with counts what it read");
    values
}

#[test]
fn ring_values_come_out_in_order_and_a_full_ring_refuses() {
    let (mut producer, mut consumer) = super::ring::ring::<u32>(3, 0);
    assert!(ring_drain(&mut consumer).is_empty());
    for round in 0..10u32 {
        // Rounds start at each slot position in turn (2 + 3 values per round).
        let base = round * 10;
        for value in 0..3 {
            assert!(ring_push(&mut producer, base + value));
        }
        let mut called = false;
        assert!(!producer.push_with(|_| called = true));
        assert!(!called, "a full ring does not call the fill");
        assert_eq!(ring_drain(&mut consumer), [base, base + 1, base + 2]);
        assert!(ring_push(&mut producer, base + 3));
        assert!(ring_push(&mut producer, base + 4));
        assert_eq!(ring_drain(&mut consumer), [base + 3, base + 4]);
        assert!(ring_drain(&mut consumer).is_empty());
        // A drain frees every slot it read: the ring takes three again.
        for value in 5..8 {
            assert!(ring_push(&mut producer, base + value));
        }
        assert!(!ring_push(&mut producer, base + 8));
        assert_eq!(ring_drain(&mut consumer), [base + 5, base + 6, base + 7]);
    }
}

#[test]
fn ring_two_threads_hand_over_every_value_once_in_order() {
    const COUNT: u64 = if cfg!(miri) { 200 } else { 200_000 };
    let (mut producer, mut consumer) = super::ring::ring::<[u64; 4]>(8, [0; 4]);
    let writer = std::thread::spawn(move || {
        for value in 0..COUNT {
            let item = [value, !value, value.rotate_left(7), value ^ 0x55];
            while !ring_push(&mut producer, item) {
                std::thread::yield_now();
            }
        }
    });
    let mut expected = 0;
    while expected < COUNT {
        let read = consumer.drain_with(|item| {
            assert_eq!(
                *item,
                [
                    expected,
                    !expected,
                    expected.rotate_left(7),
                    expected ^ 0x55
                ]
            );
            expected += 1;
        });
        assert!(read <= 8, "at most the ring's capacity at once");
        if read == 0 {
            std::thread::yield_now();
        }
    }
    writer.join().unwrap();
    assert!(ring_drain(&mut consumer).is_empty());
}

/// A first sequence number anywhere, or (half the cases) close enough to 65535 that a
/// stream of up to 200 packets wraps.
fn near_wrap_sequence() -> impl Strategy<Value = u16> {
    prop_oneof![any::<u16>(), 65_336u16..=u16::MAX]
}

/// A first timestamp anywhere, or (half the cases) close enough to 2^32 that a stream
/// of up to 200 packets of 160 units wraps.
fn near_wrap_timestamp() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (u32::MAX - 32_000)..=u32::MAX]
}

/// One packet's fate on a bad network: lost, or delayed some frames (beyond the window
/// too), and maybe sent again later.
#[derive(Debug, Clone)]
struct Fate {
    lost: bool,
    delay: u32,
    copies: Vec<u32>,
    marker: bool,
}

fn fate() -> impl Strategy<Value = Fate> {
    (
        proptest::bool::weighted(0.1),
        prop_oneof![4 => 0u32..=2, 1 => 0u32..=12],
        proptest::collection::vec(0u32..=20, 0..=2),
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(lost, delay, copies, marker)| Fate {
            lost,
            delay,
            copies,
            marker,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the network does (loss, delays beyond the window, duplicates sent much
    /// later, stray marker bits), across sequence and timestamp wrap-around: what plays
    /// is in sequence order, each sequence number at most once, only what was sent, and
    /// every push is accounted for.
    #[test]
    fn any_arrival_plays_in_order_and_never_twice(
        first_sequence in near_wrap_sequence(),
        first_timestamp in near_wrap_timestamp(),
        fates in proptest::collection::vec(fate(), 1..200),
    ) {
        let mut simulation = Simulation::new(&JitterConfig::default());
        let count = fates.len() as u32;
        let mut arrivals: Vec<Vec<u32>> = vec![Vec::new(); count as usize + 40];
        for (index, fate) in fates.iter().enumerate() {
            let index = index as u32;
            if !fate.lost {
                arrivals[(index + fate.delay) as usize].push(index);
            }
            for extra in &fate.copies {
                arrivals[(index + fate.delay + extra) as usize].push(index);
            }
        }
        let mut outs = Vec::new();
        let mut pushes = 0u64;
        for arriving in &arrivals {
            for index in arriving {
                let sequence = first_sequence.wrapping_add(*index as u16);
                let timestamp = first_timestamp.wrapping_add(index * 160);
                let marker = fates[*index as usize].marker;
                simulation.push(packet(sequence, timestamp, marker));
                pushes += 1;
            }
            outs.push(simulation.pull());
        }
        // Played, as offsets from the first sequence number (all sent ones are < 200).
        let played: Vec<u32> = plays(&outs)
            .iter()
            .map(|sequence| u32::from(sequence.wrapping_sub(first_sequence)))
            .collect();
        prop_assert!(played.iter().all(|offset| *offset < count), "{:?}", played);
        prop_assert!(played.windows(2).all(|pair| pair[0] < pair[1]), "{:?}", played);
        let statistics = simulation.consumer.statistics();
        prop_assert_eq!(statistics.played, played.len() as u64);
        prop_assert_eq!(statistics.resynchronised, 0);
        prop_assert_eq!(
            pushes,
            statistics.received + statistics.late + statistics.duplicate
                + statistics.timestamp_jumps,
            "{:?}", statistics
        );
    }

    /// Any arrival order within the playout delay comes out in sequence order, with
    /// nothing lost, and no duplicate plays twice, across sequence and timestamp wrap.
    #[test]
    fn any_arrival_order_within_the_window_plays_in_order(
        first_sequence in near_wrap_sequence(),
        first_timestamp in near_wrap_timestamp(),
        delays in proptest::collection::vec((0u32..=3, proptest::option::of(0u32..=3)), 10..200),
    ) {
        let config = JitterConfig {
            minimum_delay: Duration::from_millis(60),
            drift_slack_frames: 8,
            ..JitterConfig::default()
        };
        let mut simulation = Simulation::new(&config);
        let count = delays.len() as u32;
        let mut arrivals: Vec<Vec<u32>> = vec![Vec::new(); count as usize + 8];
        for (index, (delay, duplicate)) in delays.iter().enumerate() {
            let index = index as u32;
            arrivals[(index + delay) as usize].push(index);
            if let Some(extra) = duplicate {
                arrivals[(index + delay + extra) as usize].push(index);
            }
        }
        let mut outs = Vec::new();
        for arriving in &arrivals {
            for index in arriving {
                let sequence = first_sequence.wrapping_add(*index as u16);
                let timestamp = first_timestamp.wrapping_add(index * 160);
                simulation.push(packet(sequence, timestamp, false));
            }
            outs.push(simulation.pull());
        }
        outs.extend(simulation.played(8));
        let expected: Vec<u16> = (0..count).map(|index| first_sequence.wrapping_add(index as u16)).collect();
        prop_assert_eq!(plays(&outs), expected);
        let statistics = simulation.consumer.statistics();
        prop_assert_eq!(statistics.lost + statistics.late + statistics.dropped, 0);
    }
}
