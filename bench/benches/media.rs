//! Media core benchmarks (issue #8).
//!
//! - `jitter/push_pull_reordered`: one frame of a stream through the jitter buffer: each
//!   packet due at this frame is read from a 172-byte datagram (`RtpPacket::parse`, the
//!   sequence number and timestamp patched in first) and pushed with its arrival time
//!   (which feeds the RFC 3550 statistics), then one pull. The stream is a seeded
//!   simulation ([`ims_bench::jitter`]): 20 % of the packets held back 1 to 3 frames
//!   (reordered), up to 10 ms of delay jitter, no loss, so one packet per frame on
//!   average; sequence numbers and timestamps wrap during the run. Target: <= 50 ns per
//!   packet and 0 allocations.
//! - `jitter/push_units_pull_reordered`: the same, with the arrival time given to
//!   `JitterProducer::push_units` in 8 kHz units instead of an `Instant` to `push`.
//! - `jitter/harness_only` and `jitter/harness_only_units`: the same steps without the
//!   buffer (patch, parse, arrival time and loop; the packet goes to `black_box`), so
//!   the buffer's share is the whole step minus its harness. The buffer's instructions
//!   alone come from callgrind (`push` + `pull` inclusive), see bench/RESULTS.md.
//! - `g711/{mulaw,alaw}_{encode,decode,round_trip}`: one second (8000 samples) of a
//!   1 kHz tone plus noise, through the `Codec` trait. Target: >= 1 G samples/s.
//! - `rtp/parse` and `rtp/write`: a 172-byte G.711 packet (12-byte header, 160 bytes of
//!   payload) read by ims-core's zero-copy view and by the `rtp` crate (webrtc-rs),
//!   from a `&[u8]` (as a socket's receive buffer gives it) and from a `bytes::Bytes`;
//!   written into a slice by both.
//!
//! Allocations per operation are counted once, outside criterion's timing, with a
//! counting global allocator, and printed before the groups run. The clock is the
//! thread's CPU clock (`iter_custom`), as in the other benches: the machine is shared.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use ims_bench::alloc::{CountingAllocator, allocations};
use ims_bench::cpu::cpu_timed;
use ims_bench::jitter::{self, Arrival, FRAME, Network, packet_fields};
use ims_core::media::codec::{ALaw, Codec, MuLaw};
use ims_core::rtp::{
    JitterConfig, JitterConsumer, JitterProducer, Playout, RtpHeader, RtpPacket, jitter_buffer,
};
use webrtc_util::marshal::{Marshal, Unmarshal};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Allocations made by `iterations` calls of `f`, per call.
fn allocations_per_call<R>(iterations: u64, mut f: impl FnMut() -> R) -> f64 {
    let before = allocations();
    for _ in 0..iterations {
        black_box(f());
    }
    (allocations() - before) as f64 / iterations as f64
}

// ---------------------------------------------------------------------------------------
// Jitter buffer

/// Packets in one cycle of the simulated stream; a multiple of 65536's divisors, so the
/// sequence numbers of later cycles continue without a jump.
const CYCLE: u32 = 4096;

/// A stream that replays one simulated cycle of arrivals forever, frame by frame.
struct Stream {
    producer: JitterProducer,
    consumer: JitterConsumer,
    /// Per frame of the cycle: the range of `arrivals` due at that frame.
    frames: Vec<(usize, usize)>,
    /// Packet index in the cycle, and whether it belongs to the previous cycle (it
    /// arrives after the cycle's last frame, so it wrapped to this cycle's start).
    arrivals: Vec<(u32, bool)>,
    start: Instant,
    frame: u64,
    /// An RTP datagram whose sequence number and timestamp each push patches.
    datagram: Vec<u8>,
}

impl Stream {
    // Instant has no constructor but now(): the stream takes one base and offsets it.
    #[allow(clippy::disallowed_methods)]
    fn new() -> Self {
        let network = Network {
            packets: CYCLE,
            loss: 0.0,
            jitter: Duration::from_millis(10),
            reorder: 0.2,
            seed: 8,
        };
        // Arrivals past the cycle's last frame wrap to its start (they belong to the
        // next cycle's time), so every frame of every cycle sees the same pattern.
        let mut arrivals = jitter::arrivals(&network);
        let frame_of =
            |arrival: &Arrival| (arrival.at.as_nanos().div_ceil(FRAME.as_nanos()) as u32) % CYCLE;
        arrivals.sort_by_key(|arrival| (frame_of(arrival), arrival.at));
        let mut frames = Vec::with_capacity(CYCLE as usize);
        let mut next = 0;
        for frame in 0..CYCLE {
            let first = next;
            while arrivals
                .get(next)
                .is_some_and(|arrival| frame_of(arrival) == frame)
            {
                next += 1;
            }
            frames.push((first, next));
        }
        let reordered = arrivals
            .windows(2)
            .filter(|pair| pair[0].index > pair[1].index)
            .count();
        assert!(reordered > 100, "the stream is reordered ({reordered})");
        let arrivals = arrivals
            .iter()
            .map(|arrival| (arrival.index, arrival.at >= FRAME * CYCLE))
            .collect();
        // A minimum delay of 80 ms holds the reordered packets (up to 3 frames + 10 ms
        // late), so each packet plays: the common path, not the late-drop one.
        let config = JitterConfig {
            minimum_delay: Duration::from_millis(80),
            ..JitterConfig::default()
        };
        let (producer, consumer) = jitter_buffer(&config);
        Self {
            producer,
            consumer,
            frames,
            arrivals,
            start: Instant::now(),
            frame: 0,
            datagram: datagram(),
        }
    }

    /// Pushes the packets due at the next frame, then pulls once; returns the sequence
    /// number played, if a packet played. `MODE` says what runs besides the harness
    /// (the datagram patch, `RtpPacket::parse`, the arrival time, the loop): the buffer
    /// through `push(Instant)` ([`WHOLE_INSTANT`]) or `push_units` ([`WHOLE_UNITS`]), or
    /// nothing ([`HARNESS_INSTANT`], [`HARNESS_UNITS`]: the parsed packet and the arrival
    /// time go to `black_box` instead), so the harness can be timed alone. Inlined into
    /// one named function per mode, which callgrind counts per call
    /// (`--toggle-collect='*Stream::step_whole_instant*'`).
    #[inline(always)]
    fn step<const MODE: u8>(&mut self) -> Option<u16> {
        let by_units = MODE == WHOLE_UNITS || MODE == HARNESS_UNITS;
        let buffer = MODE == WHOLE_INSTANT || MODE == WHOLE_UNITS;
        let cycle = self.frame / u64::from(CYCLE);
        let in_cycle = (self.frame % u64::from(CYCLE)) as usize;
        let (first, end) = self.frames.get(in_cycle).copied().unwrap_or_default();
        // 20 ms per frame: 160 units of the 8 kHz clock, or an `Instant`.
        let units = (self.frame as u32).wrapping_mul(jitter::FRAME_UNITS);
        let now = if by_units {
            self.start
        } else {
            self.start + Duration::from_millis(20 * self.frame)
        };
        for &(index, wrapped) in self.arrivals.get(first..end).unwrap_or_default() {
            let Some(cycle) = cycle.checked_sub(u64::from(wrapped)) else {
                continue; // From the cycle before the first.
            };
            let (sequence, timestamp) = packet_fields(cycle * u64::from(CYCLE) + u64::from(index));
            if let Some(field) = self.datagram.get_mut(2..8) {
                field[..2].copy_from_slice(&sequence.to_be_bytes());
                field[2..].copy_from_slice(&timestamp.to_be_bytes());
            }
            if let Ok(packet) = RtpPacket::parse(&self.datagram) {
                if !buffer {
                    black_box((&packet, now, units));
                } else if by_units {
                    let _ = self.producer.push_units(units, &packet);
                } else {
                    let _ = self.producer.push(now, &packet);
                }
            }
        }
        self.frame += 1;
        if !buffer {
            return None;
        }
        match self.consumer.pull() {
            Playout::Packet(packet) => Some(packet.sequence),
            _ => None,
        }
    }
}

impl Stream {
    #[inline(never)]
    fn step_whole_instant(&mut self) -> Option<u16> {
        self.step::<WHOLE_INSTANT>()
    }

    #[inline(never)]
    fn step_whole_units(&mut self) -> Option<u16> {
        self.step::<WHOLE_UNITS>()
    }

    #[inline(never)]
    fn step_harness_instant(&mut self) -> Option<u16> {
        self.step::<HARNESS_INSTANT>()
    }

    #[inline(never)]
    fn step_harness_units(&mut self) -> Option<u16> {
        self.step::<HARNESS_UNITS>()
    }
}

/// [`Stream::step`] modes: the whole step, with the arrival time as an `Instant` or in
/// 8 kHz units, and the harness alone with the same arrival time.
const WHOLE_INSTANT: u8 = 0;
const WHOLE_UNITS: u8 = 1;
const HARNESS_INSTANT: u8 = 2;
const HARNESS_UNITS: u8 = 3;

/// Runs the warm-up and the allocation count of one mode (`step`, `buffer`: whether it
/// runs the buffer) on a fresh stream, then times it as `name`.
fn jitter_step(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    mut step: impl FnMut(&mut Stream) -> Option<u16>,
    buffer: bool,
) {
    let mut stream = Stream::new();
    // Warm up past the first cycle (buffering) and check playout is healthy.
    let mut played = 0u64;
    for _ in 0..2 * CYCLE {
        played += u64::from(step(&mut stream).is_some());
    }
    let allocations = allocations_per_call(u64::from(4 * CYCLE), || step(&mut stream));
    let statistics = stream.consumer.statistics();
    println!(
        "jitter/{name}: {:.3} allocations per frame; after {} frames: played {}, late {}, \
         lost {}, duplicates {}, target delay {} frames",
        allocations,
        6 * CYCLE,
        statistics.played,
        statistics.late,
        statistics.lost,
        statistics.duplicate,
        statistics.target_delay_frames
    );
    if buffer {
        assert!(played > u64::from(2 * CYCLE) * 9 / 10, "{statistics:?}");
    }
    group.bench_function(name, |b| {
        b.iter_custom(|n| cpu_timed(n, || step(&mut stream)))
    });
    let statistics = stream.consumer.statistics();
    assert!(
        statistics.played * 100 >= statistics.received * 95,
        "{statistics:?}"
    );
}

fn jitter_buffer_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("jitter");
    group.throughput(Throughput::Elements(1));
    // One call each, not a table of function pointers: a direct call per step.
    jitter_step(
        &mut group,
        "push_pull_reordered",
        Stream::step_whole_instant,
        true,
    );
    jitter_step(
        &mut group,
        "push_units_pull_reordered",
        Stream::step_whole_units,
        true,
    );
    jitter_step(
        &mut group,
        "harness_only",
        Stream::step_harness_instant,
        false,
    );
    jitter_step(
        &mut group,
        "harness_only_units",
        Stream::step_harness_units,
        false,
    );
    group.finish();
}

// ---------------------------------------------------------------------------------------
// G.711

/// One second at 8 kHz: a 1 kHz tone at -6 dBFS plus a little pseudo-random noise, so
/// the codes are not a short repeating pattern.
fn speech_like() -> Vec<i16> {
    let mut state = 0x2545_f491_u32;
    (0..8000)
        .map(|n| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = (state % 2001) as f64 - 1000.0;
            let tone = 16_000.0 * (std::f64::consts::TAU * 1000.0 * f64::from(n) / 8000.0).sin();
            (tone + noise) as i16
        })
        .collect()
}

fn g711_law<C: Codec + Copy>(c: &mut Criterion, name: &str, codec: C) {
    let pcm = speech_like();
    let mut payload = vec![0u8; pcm.len()];
    let mut decoded = vec![0i16; pcm.len()];
    let mut codec = codec;
    let mut group = c.benchmark_group("g711");
    group.throughput(Throughput::Elements(pcm.len() as u64));
    group.bench_function(format!("{name}_encode"), |b| {
        b.iter_custom(|n| cpu_timed(n, || codec.encode(black_box(&pcm), &mut payload)))
    });
    group.bench_function(format!("{name}_decode"), |b| {
        b.iter_custom(|n| cpu_timed(n, || codec.decode(black_box(&payload), &mut decoded)))
    });
    group.bench_function(format!("{name}_round_trip"), |b| {
        b.iter_custom(|n| {
            cpu_timed(n, || {
                let _ = codec.encode(black_box(&pcm), &mut payload);
                codec.decode(&payload, &mut decoded)
            })
        })
    });
    group.finish();
    let allocations = allocations_per_call(100, || {
        let _ = codec.encode(&pcm, &mut payload);
        codec.decode(&payload, &mut decoded)
    });
    println!("g711/{name}: {allocations:.3} allocations per second of audio");
}

fn g711(c: &mut Criterion) {
    g711_law(c, "mulaw", MuLaw);
    g711_law(c, "alaw", ALaw);
}

// ---------------------------------------------------------------------------------------
// RTP

fn datagram() -> Vec<u8> {
    let payload = [0x55u8; 160];
    let mut out = Vec::new();
    RtpHeader {
        marker: false,
        payload_type: 0,
        sequence: 4321,
        timestamp: 1_234_560,
        ssrc: 0x1234_5678,
        ..RtpHeader::default()
    }
    .write(&payload, 0, &mut out)
    .expect("a valid header");
    out
}

fn ours_parse(bytes: &[u8]) -> (u16, u32, usize) {
    match RtpPacket::parse(bytes) {
        Ok(packet) => (
            packet.sequence(),
            packet.timestamp(),
            packet.payload().len(),
        ),
        Err(_) => (0, 0, 0),
    }
}

fn theirs_parse_slice(mut bytes: &[u8]) -> (u16, u32, usize) {
    match rtp::packet::Packet::unmarshal(&mut bytes) {
        Ok(packet) => (
            packet.header.sequence_number,
            packet.header.timestamp,
            packet.payload.len(),
        ),
        Err(_) => (0, 0, 0),
    }
}

fn theirs_parse_bytes(bytes: &Bytes) -> (u16, u32, usize) {
    let mut bytes = bytes.clone();
    match rtp::packet::Packet::unmarshal(&mut bytes) {
        Ok(packet) => (
            packet.header.sequence_number,
            packet.header.timestamp,
            packet.payload.len(),
        ),
        Err(_) => (0, 0, 0),
    }
}

fn rtp_bench(c: &mut Criterion) {
    let bytes = datagram();
    let shared = Bytes::from(bytes.clone());
    let expected = (4321, 1_234_560, 160);
    assert_eq!(ours_parse(&bytes), expected);
    assert_eq!(theirs_parse_slice(&bytes), expected);
    assert_eq!(theirs_parse_bytes(&shared), expected);

    let payload = [0x55u8; 160];
    let header = RtpHeader {
        sequence: 4321,
        timestamp: 1_234_560,
        ssrc: 0x1234_5678,
        ..RtpHeader::default()
    };
    let theirs = rtp::packet::Packet {
        header: rtp::header::Header {
            version: 2,
            sequence_number: 4321,
            timestamp: 1_234_560,
            ssrc: 0x1234_5678,
            ..Default::default()
        },
        payload: Bytes::copy_from_slice(&payload),
    };
    let mut out = [0u8; 1500];
    let written = header.write_to_slice(&payload, 0, &mut out).expect("fits");
    assert_eq!(out.get(..written), Some(bytes.as_slice()));
    let written = theirs.marshal_to(&mut out).expect("fits");
    assert_eq!(out.get(..written), Some(bytes.as_slice()));

    println!(
        "rtp allocations per packet: ims-core parse {:.2}, rtp crate parse from &[u8] {:.2}, \
         from Bytes {:.2}; ims-core write_to_slice {:.2}, rtp crate marshal_to {:.2}",
        allocations_per_call(1000, || ours_parse(black_box(&bytes))),
        allocations_per_call(1000, || theirs_parse_slice(black_box(&bytes))),
        allocations_per_call(1000, || theirs_parse_bytes(black_box(&shared))),
        allocations_per_call(1000, || header.write_to_slice(&payload, 0, &mut out)),
        allocations_per_call(1000, || theirs.marshal_to(&mut out)),
    );

    let mut group = c.benchmark_group("rtp");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse/ims-core", |b| {
        b.iter_custom(|n| cpu_timed(n, || ours_parse(black_box(&bytes))))
    });
    group.bench_function("parse/rtp-crate-slice", |b| {
        b.iter_custom(|n| cpu_timed(n, || theirs_parse_slice(black_box(&bytes))))
    });
    group.bench_function("parse/rtp-crate-bytes", |b| {
        b.iter_custom(|n| cpu_timed(n, || theirs_parse_bytes(black_box(&shared))))
    });
    group.bench_function("write/ims-core", |b| {
        b.iter_custom(|n| {
            cpu_timed(n, || {
                black_box(&header).write_to_slice(black_box(&payload), 0, &mut out)
            })
        })
    });
    group.bench_function("write/rtp-crate", |b| {
        b.iter_custom(|n| cpu_timed(n, || black_box(&theirs).marshal_to(&mut out)))
    });
    group.finish();
}

criterion_group!(benches, jitter_buffer_bench, g711, rtp_bench);
criterion_main!(benches);
