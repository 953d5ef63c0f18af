//! The jitter buffer fed arbitrary packets, arrival times and pulls: no panic, and
//! between two restarts (new source or a jump beyond the window) what plays is in
//! sequence order and never twice.
#![no_main]
// Instant has no constructor but now(): the target takes one base and offsets it.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use ims_core::rtp::{JitterConfig, Playout, RtpHeader, RtpPacket, extend_sequence, jitter_buffer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&shape, mut data)) = data.split_first() else {
        return;
    };
    let config = JitterConfig {
        capacity: 4 + usize::from(shape & 0x3F),
        maximum_concealed_frames: u32::from(shape >> 6) * 3,
        ..JitterConfig::default()
    };
    let (mut producer, mut consumer) = jitter_buffer(&config);
    let start = Instant::now();
    let mut now = Duration::ZERO;
    let mut last_played: Option<i64> = None;
    let mut restarts = 0;
    let mut buffer = Vec::new();
    // Records: 1 opcode byte, then for a push 9 bytes (sequence, timestamp, flags, ssrc
    // selector, payload length).
    while let Some((&opcode, rest)) = data.split_first() {
        data = rest;
        if opcode & 0x80 == 0 {
            // Pull, after advancing the clock by opcode milliseconds.
            now += Duration::from_millis(u64::from(opcode));
            let played = match consumer.pull() {
                Playout::Packet(packet) => Some(packet.sequence),
                Playout::Conceal { .. } | Playout::Silence => None,
                _ => None,
            };
            let statistics = consumer.statistics();
            if statistics.resynchronised != restarts {
                restarts = statistics.resynchronised;
                last_played = None;
            }
            if let Some(sequence) = played {
                let extended =
                    last_played.map_or(i64::from(sequence), |last| extend_sequence(last, sequence));
                if let Some(last) = last_played {
                    assert!(extended > last, "played {extended} after {last}");
                }
                last_played = Some(extended);
            }
            continue;
        }
        let Some((record, rest)) = data.split_first_chunk::<9>() else {
            return;
        };
        data = rest;
        let sequence = u16::from_be_bytes([record[0], record[1]]);
        let timestamp = u32::from_be_bytes([record[2], record[3], record[4], record[5]]);
        let marker = record[6] & 1 != 0;
        let payload_type = record[6] >> 1;
        let ssrc = u32::from(record[7] & 3);
        let length = usize::from(record[8]) * 2;
        buffer.clear();
        let header = RtpHeader {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            ..RtpHeader::default()
        };
        if header
            .write(&[0x55; 510][..length], 0, &mut buffer)
            .is_err()
        {
            continue;
        }
        let Ok(packet) = RtpPacket::parse(&buffer) else {
            panic!("our own packet does not parse");
        };
        now += Duration::from_micros(u64::from(opcode & 0x7F) * 100);
        let _ = producer.push(start + now, &packet);
    }
    let statistics = consumer.statistics();
    assert!(statistics.played <= statistics.received);
});
