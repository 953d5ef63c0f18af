//! imsbench: parser, codec and jitter-buffer throughput on the user's own data.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ims_core::sip::Limits;

use ims_bench::bench::{self, Input, Settings};
use ims_bench::messages::split;
use ims_bench::peers::Peer;
use ims_bench::report::{self, ParseLine};

#[global_allocator]
static ALLOCATOR: ims_bench::alloc::CountingAllocator = ims_bench::alloc::CountingAllocator;

mod aka;
mod media;

/// imsbench - ims-rs throughput on your own data.
#[derive(Parser)]
#[command(name = "imsbench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse SIP messages from files and report each, or measure parse throughput (--bench).
    Parse(ParseArgs),
    /// Every Milenage output (TS 35.206) for K, OP or OPc, RAND, SQN and AMF, as hex.
    Milenage(aka::MilenageArgs),
    /// The AKAv1-MD5/AKAv2-MD5 Digest answer (RFC 3310, RFC 4169) to an AKA nonce:
    /// response, or AUTS for a resync (exit 0); MAC-A mismatch (exit 1).
    AkaResponse(aka::AkaResponseArgs),
    /// Simulate an RTP stream (loss, jitter, reordering) through the jitter buffer: ns per
    /// push+pull and the buffer's statistics.
    Jitter(media::JitterArgs),
    /// Codec speed and round-trip error on a WAV file or a generated tone.
    Codec(media::CodecArgs),
}

#[derive(Args)]
struct ParseArgs {
    /// Print one JSON object per line.
    #[arg(long)]
    json: bool,
    /// Measure parse throughput in-process instead of reporting each message.
    #[arg(long)]
    bench: bool,
    /// Peer crates to measure beside ims-core on the same bytes (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', requires = "bench")]
    against: Vec<Peer>,
    /// Timed rounds per parser and message; the median round is reported.
    #[arg(long, default_value_t = 7, requires = "bench")]
    rounds: usize,
    /// Length of the warm-up and of each round, in milliseconds.
    #[arg(long, default_value_t = 25, requires = "bench")]
    round_ms: u64,
    /// Files holding one SIP message each, or a raw stream of several.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Parse(args) if args.bench => parse_bench(&args),
        Command::Parse(args) => Ok(parse_report(&args)),
        Command::Milenage(args) => aka::milenage(&args),
        Command::AkaResponse(args) => aka::aka_response(&args),
        Command::Jitter(args) => media::jitter(&args),
        Command::Codec(args) => media::codec(&args),
    }
}

/// A file's messages, named for the report (`file`, or `file#N` for a stream).
fn message_names(file: &str, count: usize) -> impl Iterator<Item = String> + '_ {
    (1..=count).map(move |n| {
        if count > 1 {
            format!("{file}#{n}")
        } else {
            file.to_owned()
        }
    })
}

fn parse_report(args: &ParseArgs) -> ExitCode {
    let mut all_ok = true;
    let emit = |line: &ParseLine<'_>, name: &str, bytes: Option<usize>| {
        if args.json {
            println!("{}", line.json());
        } else {
            println!("{}", line.text(name, bytes));
        }
    };
    for path in &args.files {
        let file = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                all_ok = false;
                emit(
                    &ParseLine::error(&file, format!("cannot read the file: {error}")),
                    &file,
                    None,
                );
                continue;
            }
        };
        let split = split(&bytes, &Limits::DEFAULT);
        let count = split.messages.len() + usize::from(split.error.is_some());
        for (message, name) in split.messages.iter().zip(message_names(&file, count)) {
            emit(
                &ParseLine::ok(&file, message),
                &name,
                Some(message.range.len()),
            );
        }
        if let Some(error) = split.error {
            all_ok = false;
            let name = message_names(&file, count).last().unwrap_or_default();
            emit(&ParseLine::error(&file, error.to_string()), &name, None);
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn parse_bench(args: &ParseArgs) -> anyhow::Result<ExitCode> {
    let mut contents = Vec::new();
    for path in &args.files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        contents.push((path.display().to_string(), bytes));
    }
    let mut all_ok = true;
    let mut inputs = Vec::new();
    for (file, bytes) in &contents {
        let split = split(bytes, &Limits::DEFAULT);
        let count = split.messages.len() + usize::from(split.error.is_some());
        for (message, name) in split.messages.iter().zip(message_names(file, count)) {
            let bytes = bytes.get(message.range.clone()).unwrap_or(&[]);
            inputs.push(Input { name, bytes });
        }
        if let Some(error) = split.error {
            // Ours cannot parse it, so there is nothing to compare; say so and go on.
            all_ok = false;
            eprintln!("imsbench: {file}: left out, ims-core rejects it: {error}");
        }
    }
    anyhow::ensure!(!inputs.is_empty(), "no message to measure");
    let mut peers = args.against.clone();
    peers.dedup();
    let settings = Settings {
        rounds: args.rounds,
        round: Duration::from_millis(args.round_ms),
    };
    let measured = bench::measure(&inputs, &peers, settings);
    let summary = bench::summarize(&measured, &peers);
    let lines = if args.json {
        report::bench_json(&measured, &summary)
    } else {
        report::bench_text(&measured, &summary)
    };
    for line in lines {
        println!("{line}");
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
