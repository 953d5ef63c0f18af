//! Parses each file a given number of times with one parser, for instruction counts
//! under callgrind (stable on a busy machine, unlike wall time):
//!
//! ```text
//! cargo build --release -p ims-bench --example parse_loop
//! valgrind --tool=callgrind target/release/examples/parse_loop ims-core 2000 bench/data/invite.sip
//! valgrind --tool=callgrind target/release/examples/parse_loop ims-core 0 bench/data/invite.sip
//! ```
//!
//! The difference of the two totals over 2000 is the cost of one parse without process
//! start-up. Parsers: `ims-core`, `ims-core+via+cseq` (also reads the top Via's branch
//! and the CSeq, like the benches' `+Via+CSeq` rows), `rsip`, `rsipstack`, `httparse`
//! (give it an HTTP request), `memchr` (the LF scan the benches use as the floor) and
//! `memchr-crlf` (memchr's substring searcher for CRLF, the floor the issue measured).

use std::hint::black_box;
use std::process::ExitCode;

use ims_bench::peers::{Ours, Peer};

/// One parse of the bytes; a non-zero result means it parsed.
type Parser = Box<dyn FnMut(&[u8]) -> usize>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(parser), Some(iterations)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: parse_loop PARSER ITERATIONS FILE...");
        return ExitCode::FAILURE;
    };
    let mut ours = Ours::new();
    let mut parse: Parser = match parser.as_str() {
        "ims-core" => Box::new(move |bytes| ours.parse(bytes)),
        "ims-core+via+cseq" => Box::new(move |bytes| ours.parse_typed(bytes)),
        "rsip" => Box::new(|bytes| usize::from(Peer::Rsip.parse(bytes).is_ok())),
        "rsipstack" => Box::new(|bytes| usize::from(Peer::Rsipstack.parse(bytes).is_ok())),
        "httparse" => Box::new(|bytes| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            usize::from(matches!(
                request.parse(bytes),
                Ok(httparse::Status::Complete(_))
            ))
        }),
        "memchr" => Box::new(|bytes| memchr::memchr_iter(b'\n', bytes).count()),
        "memchr-crlf" => {
            let crlf = memchr::memmem::Finder::new(b"\r\n");
            Box::new(move |bytes| crlf.find_iter(bytes).count())
        }
        other => {
            eprintln!("unknown parser {other}");
            return ExitCode::FAILURE;
        }
    };
    let mut total = 0usize;
    for path in &args[2..] {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("{path}: {error}");
                return ExitCode::FAILURE;
            }
        };
        if parse(&bytes) == 0 {
            eprintln!("{path}: {parser} does not parse it");
            return ExitCode::FAILURE;
        }
        for _ in 0..iterations {
            total += parse(black_box(&bytes));
        }
    }
    println!("{total}");
    ExitCode::SUCCESS
}
