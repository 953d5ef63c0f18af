//! End to end without sockets: a 1 kHz tone -> G.711 -> RTP -> a simulated network with
//! 10 % loss and up to 60 ms jitter -> jitter buffer -> decoder; the tone comes out and
//! the statistics match the loss injected. DTMF digits sent are the digits received.
// Instant has no constructor but now(): the test takes one base and offsets it.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use ims_core::media::codec::{Codec, MuLaw};
use ims_core::media::dtmf::{
    TelephoneEventReceiver, digit_to_event, event_packets, event_to_digit,
};
use ims_core::media::playout::{Concealment, FrameDecoder, RenderedFrame};
use ims_core::media::port::{AudioSource, ToneGenerator, tone_power_ratio};
use ims_core::rtp::{JitterConfig, RtpHeader, RtpPacket, jitter_buffer};

/// A small seeded generator (xorshift64*) so the run is repeatable.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

#[test]
fn tone_survives_loss_and_jitter() {
    const PACKETS: u32 = 3000;
    let mut random = Random(0x1234_5678_9ABC_DEF1);
    let mut tone = ToneGenerator::new(1000.0, 10_000, 8000);
    let mut encoder = MuLaw;
    // Send: one packet every 20 ms, each delayed 0..60 ms, 10 % dropped.
    let mut in_flight: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut dropped = 0u32;
    for index in 0..PACKETS {
        let mut pcm = [0i16; 160];
        tone.read(&mut pcm);
        let mut payload = [0u8; 160];
        encoder.encode(&pcm, &mut payload).unwrap();
        let mut datagram = Vec::new();
        RtpHeader {
            marker: index == 0,
            payload_type: 0,
            sequence: (60_000 + index) as u16,
            timestamp: (u32::MAX - 80_000).wrapping_add(index * 160),
            ssrc: 0xCAFE,
            ..RtpHeader::default()
        }
        .write(&payload, 0, &mut datagram)
        .unwrap();
        if random.below(10) == 0 {
            dropped += 1;
            continue;
        }
        let arrival_ms = index * 20 + random.below(61) as u32;
        in_flight.push((arrival_ms, datagram));
    }
    in_flight.sort_by_key(|(arrival, _)| *arrival);

    let config = JitterConfig {
        maximum_delay: Duration::from_millis(160),
        ..JitterConfig::default()
    };
    let (mut producer, mut consumer) = jitter_buffer(&config);
    let mut decoder = FrameDecoder::new(MuLaw, Concealment::RepeatFade);
    let start = Instant::now();
    let mut output = Vec::new();
    let mut decoded = 0u32;
    let mut arrivals = in_flight.iter().peekable();
    for pull in 0..PACKETS + 20 {
        let now_ms = pull * 20;
        while let Some((_, datagram)) = arrivals.next_if(|(arrival, _)| *arrival <= now_ms) {
            let now = start + Duration::from_millis(u64::from(now_ms));
            let packet = RtpPacket::parse(datagram).unwrap();
            producer.push(now, &packet).unwrap();
        }
        let mut frame = [0i16; 160];
        if decoder.render(consumer.pull(), &mut frame) == RenderedFrame::Decoded {
            decoded += 1;
        }
        output.extend_from_slice(&frame);
    }
    let statistics = consumer.statistics();
    let rtcp = producer.statistics();
    // RTCP's view: cumulative loss equals what the network dropped (the first packet
    // is on probation; it was sent, so the count may differ by one).
    assert!(
        (i64::from(rtcp.cumulative_lost()) - i64::from(dropped)).abs() <= 1,
        "lost {} dropped {dropped}",
        rtcp.cumulative_lost()
    );
    // The jitter buffer's view: everything that arrived played, except packets later
    // than the adapted delay; losses were concealed.
    let late_tolerance = u64::from(PACKETS) / 50;
    assert!(statistics.late <= late_tolerance, "{statistics:?}");
    let missing = statistics.lost + statistics.late;
    assert!(
        missing.abs_diff(u64::from(dropped)) <= 2,
        "{statistics:?} dropped {dropped}"
    );
    assert_eq!(u64::from(decoded), statistics.played);
    assert!(statistics.target_delay_frames >= 3, "{statistics:?}");
    // The tone is there: 1 kHz holds most of the power of the steady part.
    let steady = &output[8000..output.len() - 8000];
    let ratio = tone_power_ratio(steady, 1000.0, 8000);
    assert!(ratio > 0.8, "1 kHz power ratio {ratio}");
    eprintln!("dropped {dropped}, {statistics:?}, tone power ratio {ratio:.3}");
}

#[test]
fn dtmf_digits_sent_are_digits_received() {
    let digits = "0123456789*#ABCD";
    let mut receiver = TelephoneEventReceiver::new();
    let mut received = String::new();
    let mut timestamp = 0u32;
    let mut sequence = 0u16;
    let mut datagram = Vec::new();
    for digit in digits.chars() {
        let event = digit_to_event(digit).unwrap();
        for packet in event_packets(event, 10, 800, 160) {
            let mut payload = [0u8; 4];
            packet.event.write(&mut payload).unwrap();
            datagram.clear();
            RtpHeader {
                marker: packet.marker,
                payload_type: 101,
                sequence,
                timestamp,
                ssrc: 1,
                ..RtpHeader::default()
            }
            .write(&payload, 0, &mut datagram)
            .unwrap();
            sequence = sequence.wrapping_add(1);
            let parsed = RtpPacket::parse(&datagram).unwrap();
            if let Some(done) = receiver
                .receive(parsed.timestamp(), parsed.payload())
                .unwrap()
            {
                received.push(event_to_digit(done.event).unwrap());
            }
        }
        timestamp = timestamp.wrapping_add(1600);
    }
    assert_eq!(received, digits);
}
