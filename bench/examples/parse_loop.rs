//! Parses each file a given number of times, for instruction counts under callgrind
//! (stable on a busy machine, unlike wall time):
//!
//! ```text
//! cargo build --release -p ims-bench --example parse_loop
//! valgrind --tool=callgrind target/release/examples/parse_loop 2000 bench/data/invite.sip
//! valgrind --tool=callgrind target/release/examples/parse_loop 0 bench/data/invite.sip
//! ```
//!
//! The difference of the two totals over 2000 is the cost of one parse without process
//! start-up. With `--typed` it also reads the top Via's branch and the CSeq, like the
//! `+Via+CSeq` rows of the benches.

use std::hint::black_box;

use ims_bench::peers::Ours;

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let typed = args.first().is_some_and(|a| a == "--typed");
    if typed {
        args.remove(0);
    }
    let Some(iterations) = args.first().and_then(|n| n.parse::<u64>().ok()) else {
        eprintln!("usage: parse_loop [--typed] ITERATIONS FILE...");
        return std::process::ExitCode::FAILURE;
    };
    let mut ours = Ours::new();
    let mut total = 0usize;
    for path in &args[1..] {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("{path}: {error}");
                return std::process::ExitCode::FAILURE;
            }
        };
        for _ in 0..iterations {
            total += if typed {
                ours.parse_typed(black_box(&bytes))
            } else {
                ours.parse(black_box(&bytes))
            };
        }
    }
    println!("{total}");
    std::process::ExitCode::SUCCESS
}
