//! `imsbench jitter` and `imsbench codec g711`: the media core's speed on a simulated
//! stream and on the user's audio.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::ensure;
use clap::{Args, Subcommand};
use ims_bench::codec::{self, Law};
use ims_bench::jitter::{self, Network};
use ims_core::rtp::JitterConfig;
use serde_json::json;

/// `imsbench jitter`
#[derive(Args)]
pub struct JitterArgs {
    /// Probability that a packet is lost, 0 to 1.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// The largest network delay in ms; each packet gets a uniform random share of it.
    #[arg(long, default_value_t = 0)]
    jitter: u64,
    /// Probability that a packet is held back 1 to 3 frames more (reordering), 0 to 1.
    #[arg(long, default_value_t = 0.0)]
    reorder: f64,
    /// Packets in the stream (20 ms each).
    #[arg(long, default_value_t = 100_000)]
    packets: u32,
    /// Seed of the simulated network.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The buffer's largest playout delay in ms.
    #[arg(long, default_value_t = 200)]
    max_delay: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// `imsbench codec`
#[derive(Args)]
pub struct CodecArgs {
    #[command(subcommand)]
    codec: CodecCommand,
}

#[derive(Subcommand)]
enum CodecCommand {
    /// G.711: encode and decode a 16-bit mono WAV file (or a generated 10 s 1 kHz tone at
    /// 8 kHz), print samples/s and the round trip's SNR.
    G711(G711Args),
}

#[derive(Args)]
struct G711Args {
    /// The companding law.
    #[arg(long, value_enum, default_value_t = Law::Mu)]
    law: Law,
    /// CPU time to spend on each measurement, in ms.
    #[arg(long, default_value_t = 300)]
    budget_ms: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// A 16-bit integer mono PCM WAV file; without it, a generated tone.
    wav: Option<PathBuf>,
}

fn probability(name: &str, value: f64) -> anyhow::Result<()> {
    ensure!(
        (0.0..=1.0).contains(&value),
        "--{name} is a probability from 0 to 1, got {value}"
    );
    Ok(())
}

pub fn jitter(args: &JitterArgs) -> anyhow::Result<ExitCode> {
    probability("loss", args.loss)?;
    probability("reorder", args.reorder)?;
    ensure!(args.packets > 0, "--packets must be at least 1");
    ensure!(
        args.jitter <= 10_000,
        "--jitter is at most 10000 ms, got {}",
        args.jitter
    );
    let network = Network {
        packets: args.packets,
        loss: args.loss,
        jitter: Duration::from_millis(args.jitter),
        reorder: args.reorder,
        seed: args.seed,
    };
    let config = JitterConfig {
        maximum_delay: Duration::from_millis(args.max_delay),
        ..JitterConfig::default()
    };
    ensure!(
        config.maximum_delay >= config.minimum_delay,
        "--max-delay must be at least the minimum delay of {} ms",
        config.minimum_delay.as_millis()
    );
    let arrivals = jitter::arrivals(&network);
    let outcome = jitter::run(&config, &network, &arrivals);
    let statistics = outcome.statistics;
    if args.json {
        let value = json!({
            "packets": args.packets,
            "loss": args.loss,
            "jitter_ms": args.jitter,
            "reorder": args.reorder,
            "seed": args.seed,
            "outcome": outcome,
        });
        println!("{value}");
    } else {
        println!(
            "stream: {} packets of 20 ms, loss {}, jitter {} ms, reorder {}, seed {}",
            args.packets, args.loss, args.jitter, args.reorder, args.seed
        );
        println!(
            "speed: {:.1} ns per packet (push + pull, thread CPU time), {} pushed, {} pulls, {} refused",
            outcome.nanos_per_packet, outcome.pushed, outcome.pulls, outcome.refused
        );
        println!(
            "delay: target {:.0} ms ({} frames), jitter estimate {} units",
            outcome.target_delay_ms, statistics.target_delay_frames, statistics.jitter
        );
        println!(
            "played {}, late {}, lost {}, concealed {}, duplicates {}, dropped (drift) {}, \
             silence {}, talkspurts {}, resynchronised {}",
            statistics.played,
            statistics.late,
            statistics.lost,
            statistics.concealed,
            statistics.duplicate,
            statistics.dropped,
            statistics.silence,
            statistics.talkspurts,
            statistics.resynchronised
        );
        println!("out-of-order plays: {}", outcome.out_of_order_plays);
    }
    Ok(if outcome.out_of_order_plays == 0 && outcome.refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn codec(args: &CodecArgs) -> anyhow::Result<ExitCode> {
    let CodecCommand::G711(args) = &args.codec;
    ensure!(args.budget_ms > 0, "--budget-ms must be at least 1");
    let signal = match &args.wav {
        Some(path) => codec::read_wav(path)?,
        None => codec::tone(1000.0, 16_000.0, 10),
    };
    let report = codec::measure(args.law, &signal, Duration::from_millis(args.budget_ms));
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let law = match report.law {
            Law::Mu => "µ-law",
            Law::A => "A-law",
        };
        println!(
            "G.711 {law}: {} ({} samples at {} Hz)",
            report.source, report.samples, report.sample_rate
        );
        println!(
            "encode {:.1} M samples/s, decode {:.1} M samples/s, encode+decode {:.1} M samples/s (thread CPU time)",
            report.encode_samples_per_second / 1e6,
            report.decode_samples_per_second / 1e6,
            report.round_trip_samples_per_second / 1e6
        );
        match report.snr_db {
            Some(snr) if snr.is_finite() => println!(
                "round trip: SNR {snr:.1} dB, largest error {}",
                report.max_error
            ),
            Some(_) => println!("round trip: exact"),
            None => println!("round trip: digital silence, SNR undefined"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
