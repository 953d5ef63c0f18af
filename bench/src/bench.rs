//! `imsbench parse --bench`: in-process parse throughput of ims-core beside peer crates,
//! on the same bytes in the same run.
// A benchmark has to read the clock: the rounds are timed with `Instant::now`, which
// clippy.toml bans workspace-wide for the sans-IO engine (STYLE.md §2).
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::alloc::allocations;
use crate::peers::{Ours, Peer};

/// How long and how often each parser runs on each message.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Timed rounds; the median round is reported.
    pub rounds: usize,
    /// Target length of one round (and of the warm-up).
    pub round: Duration,
}

/// One message to measure.
pub struct Input<'a> {
    /// A name for the report: the file, with `#N` when the file holds several messages.
    pub name: String,
    /// The message bytes.
    pub bytes: &'a [u8],
}

/// Speed of one parser on one message.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Speed {
    /// Median nanoseconds per parse.
    pub ns: f64,
    /// Heap allocations per parse.
    pub allocs: f64,
}

/// What a peer did with one message.
#[derive(Debug, Clone)]
pub enum PeerOutcome {
    /// It parsed the message this fast.
    Parsed(Speed),
    /// It rejected the message with this error.
    Rejected(String),
}

/// The measurements of one message.
pub struct Measured {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// ims-core, parse only.
    pub ours: Speed,
    /// ims-core, parse plus the top Via's branch and the CSeq typed view.
    pub ours_typed: Speed,
    /// Each peer asked for.
    pub peers: Vec<(Peer, PeerOutcome)>,
}

/// Runs `f` for `settings.round` to warm up and size the rounds, then `settings.rounds`
/// timed rounds; returns the median nanoseconds per call.
fn time(settings: Settings, mut f: impl FnMut() -> usize) -> f64 {
    let warm_up = Instant::now();
    let mut calls = 0u64;
    while warm_up.elapsed() < settings.round {
        for _ in 0..16 {
            black_box(f());
        }
        calls += 16;
    }
    let per_call = warm_up.elapsed().as_nanos() as f64 / calls as f64;
    let iterations = ((settings.round.as_nanos() as f64 / per_call) as u64).max(1);
    let mut rounds: Vec<f64> = (0..settings.rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(f());
            }
            start.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// Heap allocations per call of `f`, averaged over a few calls.
fn count_allocations(mut f: impl FnMut() -> usize) -> f64 {
    const CALLS: u64 = 64;
    let before = allocations();
    for _ in 0..CALLS {
        black_box(f());
    }
    (allocations() - before) as f64 / CALLS as f64
}

fn speed(settings: Settings, mut f: impl FnMut() -> usize) -> Speed {
    let allocs = count_allocations(&mut f);
    Speed {
        ns: time(settings, f),
        allocs,
    }
}

/// Measures ims-core and each peer on each input.
pub fn measure(inputs: &[Input<'_>], peers: &[Peer], settings: Settings) -> Vec<Measured> {
    let mut ours = Ours::new();
    inputs
        .iter()
        .map(|input| {
            let bytes = input.bytes;
            let peers = peers
                .iter()
                .map(|&peer| {
                    let outcome = match peer.parse(bytes) {
                        Ok(()) => PeerOutcome::Parsed(speed(settings, || {
                            usize::from(peer.parse(bytes).is_ok())
                        })),
                        Err(error) => PeerOutcome::Rejected(error),
                    };
                    (peer, outcome)
                })
                .collect();
            Measured {
                name: input.name.clone(),
                bytes: bytes.len(),
                ours: speed(settings, || ours.parse(bytes)),
                ours_typed: speed(settings, || ours.parse_typed(bytes)),
                peers,
            }
        })
        .collect()
}

/// One peer over the messages it accepted.
#[derive(Debug, Clone, Default)]
pub struct PeerSummary {
    /// Mean ns per message over the accepted messages (`None` if it accepted none).
    pub ns_per_msg: Option<f64>,
    /// Mean allocations per message over the accepted messages.
    pub allocs_per_msg: Option<f64>,
    /// Peer time over ims-core time on the same (accepted) messages.
    pub speedup: Option<f64>,
    /// Names of the messages it rejected.
    pub rejected: Vec<String>,
}

/// Sums over all messages.
pub struct Summary {
    /// Messages measured.
    pub messages: usize,
    /// ims-core mean ns per message.
    pub ns_per_msg: f64,
    /// ims-core throughput in MB/s (10^6 bytes).
    pub mb_per_s: f64,
    /// ims-core mean allocations per message.
    pub allocs_per_msg: f64,
    /// ims-core mean ns per message with the Via and CSeq typed views.
    pub typed_ns_per_msg: f64,
    /// Each peer.
    pub peers: Vec<(Peer, PeerSummary)>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Aggregates the per-message measurements.
pub fn summarize(measured: &[Measured], peers: &[Peer]) -> Summary {
    let total_ns: f64 = measured.iter().map(|m| m.ours.ns).sum();
    let total_bytes: usize = measured.iter().map(|m| m.bytes).sum();
    let peers = peers
        .iter()
        .map(|&peer| {
            let mut summary = PeerSummary::default();
            let mut accepted = Vec::new();
            for m in measured {
                for (p, outcome) in &m.peers {
                    match outcome {
                        _ if *p != peer => {}
                        PeerOutcome::Parsed(speed) => accepted.push((m.ours.ns, *speed)),
                        PeerOutcome::Rejected(_) => summary.rejected.push(m.name.clone()),
                    }
                }
            }
            summary.ns_per_msg = mean(accepted.iter().map(|(_, s)| s.ns));
            summary.allocs_per_msg = mean(accepted.iter().map(|(_, s)| s.allocs));
            let ours_ns: f64 = accepted.iter().map(|(ours, _)| ours).sum();
            let theirs_ns: f64 = accepted.iter().map(|(_, s)| s.ns).sum();
            summary.speedup = (!accepted.is_empty() && ours_ns > 0.0).then(|| theirs_ns / ours_ns);
            (peer, summary)
        })
        .collect();
    Summary {
        messages: measured.len(),
        ns_per_msg: mean(measured.iter().map(|m| m.ours.ns)).unwrap_or(0.0),
        mb_per_s: if total_ns > 0.0 {
            total_bytes as f64 / total_ns * 1e3
        } else {
            0.0
        },
        allocs_per_msg: mean(measured.iter().map(|m| m.ours.allocs)).unwrap_or(0.0),
        typed_ns_per_msg: mean(measured.iter().map(|m| m.ours_typed.ns)).unwrap_or(0.0),
        peers,
    }
}
