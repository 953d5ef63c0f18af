//! `imsbench jitter`: a simulated RTP stream through the jitter buffer.
//!
//! One packet of 20 ms is sent per frame. Each packet is lost with probability `loss`,
//! else it is delayed by a uniform random network delay of 0 to `jitter`, plus one to
//! three frames more with probability `reorder`. The consumer pulls once per frame, after
//! pushing every packet that has arrived by then. The random draws come from a seeded
//! generator, so a run is repeatable. The time measured is the thread's CPU time spent
//! in the push and pull loop.

use std::time::{Duration, Instant};

use ims_core::rtp::{
    JitterConfig, JitterPacket, JitterStatistics, Playout, extend_sequence, jitter_buffer,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::cpu::thread_cpu_time;

/// The frame (and packet) length of the simulated stream.
pub const FRAME: Duration = Duration::from_millis(20);

/// RTP timestamp units per frame at 8 kHz.
pub const FRAME_UNITS: u32 = 160;

/// Bytes of payload per packet: 20 ms of G.711.
pub const PAYLOAD: usize = 160;

/// What the simulated network does to the stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Network {
    /// Packets sent.
    pub packets: u32,
    /// Probability that a packet is lost, 0 to 1.
    pub loss: f64,
    /// The largest random network delay; each packet gets a uniform share of it.
    pub jitter: Duration,
    /// Probability that a packet is held back one to three frames more, 0 to 1.
    pub reorder: f64,
    /// The seed of the random draws.
    pub seed: u64,
}

/// One packet on its way: its index in the stream and when it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// The packet's index in the stream (sequence and timestamp follow from it).
    pub index: u32,
    /// Arrival time since the stream started.
    pub at: Duration,
}

/// The arrivals of a simulated stream, in arrival order.
pub fn arrivals(network: &Network) -> Vec<Arrival> {
    let mut random = StdRng::seed_from_u64(network.seed);
    let jitter_nanos = u64::try_from(network.jitter.as_nanos()).unwrap_or(u64::MAX);
    let mut arrivals = Vec::with_capacity(network.packets as usize);
    for index in 0..network.packets {
        if random.random_bool(network.loss.clamp(0.0, 1.0)) {
            continue;
        }
        let mut delay = Duration::from_nanos(random.random_range(0..=jitter_nanos));
        if random.random_bool(network.reorder.clamp(0.0, 1.0)) {
            delay += FRAME * random.random_range(1..=3);
        }
        arrivals.push(Arrival {
            index,
            at: FRAME * index + delay,
        });
    }
    // Stable: two packets arriving at the same instant keep their sending order.
    arrivals.sort_by_key(|arrival| arrival.at);
    arrivals
}

/// The RTP fields of the packet at `index` of a stream: sequence numbers and timestamps
/// start near their wrap-around points, so every long run crosses both.
pub fn packet_fields(index: u64) -> (u16, u32) {
    let sequence = (65_000u64.wrapping_add(index)) as u16;
    let timestamp = (u64::from(u32::MAX - 100 * FRAME_UNITS))
        .wrapping_add(index.wrapping_mul(u64::from(FRAME_UNITS))) as u32;
    (sequence, timestamp)
}

/// What one simulated run measured.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Outcome {
    /// Packets pushed (sent minus lost).
    pub pushed: u64,
    /// Pushes refused (ring full or payload too large): should be 0.
    pub refused: u64,
    /// Frames pulled.
    pub pulls: u64,
    /// Thread CPU time spent in push and pull, in nanoseconds.
    pub cpu_nanos: u64,
    /// Nanoseconds per packet: the CPU time over the packets pushed.
    pub nanos_per_packet: f64,
    /// Frames played whose sequence number was not above the one played before: 0 when
    /// playout is in order and nothing played twice.
    pub out_of_order_plays: u64,
    /// The buffer's counters at the end.
    #[serde(serialize_with = "serialize_statistics")]
    pub statistics: JitterStatistics,
    /// The final target playout delay in milliseconds.
    pub target_delay_ms: f64,
}

fn serialize_statistics<S: serde::Serializer>(
    statistics: &JitterStatistics,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct View {
        received: u64,
        played: u64,
        late: u64,
        duplicate: u64,
        lost: u64,
        concealed: u64,
        silence: u64,
        dropped: u64,
        resynchronised: u64,
        flushed: u64,
        talkspurts: u64,
        timestamp_jumps: u64,
        target_delay_frames: u32,
        jitter: u32,
        buffered: u32,
    }
    View {
        received: statistics.received,
        played: statistics.played,
        late: statistics.late,
        duplicate: statistics.duplicate,
        lost: statistics.lost,
        concealed: statistics.concealed,
        silence: statistics.silence,
        dropped: statistics.dropped,
        resynchronised: statistics.resynchronised,
        flushed: statistics.flushed,
        talkspurts: statistics.talkspurts,
        timestamp_jumps: statistics.timestamp_jumps,
        target_delay_frames: statistics.target_delay_frames,
        jitter: statistics.jitter,
        buffered: statistics.buffered,
    }
    .serialize(serializer)
}

/// Plays `arrivals` through a jitter buffer made with `config`: at each frame, pushes
/// what has arrived, then pulls; goes on until every packet had time to play out. The
/// whole loop runs on the thread CPU clock (one reading before, one after: a reading
/// per frame would cost more than the work).
// Instant has no constructor but now(): the simulation takes one base and offsets it.
#[allow(clippy::disallowed_methods)]
pub fn run(config: &JitterConfig, network: &Network, arrivals: &[Arrival]) -> Outcome {
    let (mut producer, mut consumer) = jitter_buffer(config);
    let start = Instant::now();
    let payload = [0x55u8; PAYLOAD];
    let frames = network.packets + 3 + frames_in(network.jitter) + frames_in(config.maximum_delay);
    // The frame at whose pull each packet is there: the first with `frame * FRAME >= at`.
    let due: Vec<(u32, u32, Instant)> = arrivals
        .iter()
        .map(|arrival| (frames_in(arrival.at), arrival.index, start + arrival.at))
        .collect();
    let mut next = due.iter().peekable();
    let mut pushed = 0u64;
    let mut refused = 0u64;
    let mut last_played: Option<i64> = None;
    let mut out_of_order_plays = 0u64;
    let began = thread_cpu_time();
    for frame in 0..=frames {
        while let Some(&(_, index, at)) = next.next_if(|(due, _, _)| *due <= frame) {
            let (sequence, timestamp) = packet_fields(u64::from(index));
            let packet = JitterPacket::new(sequence, timestamp, index == 0, 0, &payload);
            match packet.and_then(|packet| producer.push_packet(at, packet, false)) {
                Ok(()) => pushed += 1,
                Err(_) => refused += 1,
            }
        }
        if let Playout::Packet(packet) = consumer.pull() {
            let extended = match last_played {
                None => i64::from(packet.sequence),
                Some(last) => extend_sequence(last, packet.sequence),
            };
            if last_played.is_some_and(|last| extended <= last) {
                out_of_order_plays += 1;
            }
            last_played = Some(extended);
        }
    }
    let cpu = thread_cpu_time().saturating_sub(began);
    let cpu_nanos = u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX);
    Outcome {
        pushed,
        refused,
        pulls: u64::from(frames) + 1,
        cpu_nanos,
        nanos_per_packet: cpu_nanos as f64 / pushed.max(1) as f64,
        out_of_order_plays,
        statistics: consumer.statistics(),
        target_delay_ms: consumer.target_delay().as_secs_f64() * 1000.0,
    }
}

fn frames_in(delay: Duration) -> u32 {
    u32::try_from(delay.as_nanos().div_ceil(FRAME.as_nanos())).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(loss: f64, jitter_ms: u64, reorder: f64) -> Network {
        Network {
            packets: 2_000,
            loss,
            jitter: Duration::from_millis(jitter_ms),
            reorder,
            seed: 7,
        }
    }

    #[test]
    fn a_clean_network_plays_everything_in_order() {
        let network = network(0.0, 0, 0.0);
        let arrivals = arrivals(&network);
        assert_eq!(arrivals.len(), 2_000);
        let outcome = run(&JitterConfig::default(), &network, &arrivals);
        assert_eq!(outcome.pushed, 2_000);
        assert_eq!(outcome.statistics.played, 2_000);
        assert_eq!(outcome.statistics.lost + outcome.statistics.late, 0);
        assert_eq!(outcome.out_of_order_plays, 0);
    }

    #[test]
    fn loss_is_counted_near_the_rate_asked_for() {
        let network = network(0.1, 0, 0.0);
        let arrivals = arrivals(&network);
        let outcome = run(&JitterConfig::default(), &network, &arrivals);
        let lost = 2_000 - outcome.pushed;
        assert!((150..=250).contains(&lost), "{lost}");
        // The tail after the last packet is concealed, not lost; a lost last packet or
        // two are not seen as losses.
        let counted = outcome.statistics.lost;
        assert!(
            counted <= lost && counted + 3 >= lost,
            "{counted} vs {lost}"
        );
        assert_eq!(outcome.out_of_order_plays, 0);
    }

    #[test]
    fn reordering_and_jitter_play_in_order_and_the_same_seed_repeats() {
        let network = network(0.02, 60, 0.1);
        let first = arrivals(&network);
        assert_eq!(first, arrivals(&network));
        assert!(first.windows(2).any(|pair| pair[0].index > pair[1].index));
        let outcome = run(&JitterConfig::default(), &network, &first);
        assert_eq!(outcome.out_of_order_plays, 0);
        assert_eq!(outcome.statistics.duplicate, 0);
        assert!(outcome.statistics.target_delay_frames > 2);
    }
}
