//! Speed ratios that hold up on a busy machine: ims-core and one other parser take turns
//! in short batches (a few hundred microseconds each) on the thread CPU clock, and each
//! pair of neighbouring batches gives one ratio. The median ratio over many pairs is
//! reported, with the medians of the per-message times. A machine whose speed drifts
//! (other builds, frequency, cache) moves both sides of a pair alike.
//!
//! ```text
//! cargo build --profile bench -p ims-bench --example parse_ratio
//! target/release/examples/parse_ratio bench/data/invite.sip bench/data/register.sip ...
//! ```
//!
//! Against: rsip and rsipstack on the same bytes, the memchr LF scan of the same bytes
//! (the floor), and httparse on `http-post.http` (same size as the INVITE) when that file
//! sits next to the messages.
#![allow(unsafe_code)] // clock_gettime

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ims_bench::peers::{Ours, Peer};

fn thread_cpu_time() -> Duration {
    let mut spec = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `spec` is a valid, writable timespec for the call to fill in.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut spec) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(spec.tv_sec as u64, spec.tv_nsec as u32)
}

/// Nanoseconds per call of `f` over `iterations` calls.
fn batch(iterations: u32, f: &mut dyn FnMut() -> usize) -> f64 {
    let start = thread_cpu_time();
    for _ in 0..iterations {
        black_box(f());
    }
    thread_cpu_time().saturating_sub(start).as_nanos() as f64 / f64::from(iterations)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

const PAIRS: usize = 301;
/// Target length of one batch.
const BATCH_NS: f64 = 300_000.0;

/// (ims-core ns, other ns, other / ims-core) as medians over the pairs.
fn compare(ours: &mut dyn FnMut() -> usize, other: &mut dyn FnMut() -> usize) -> (f64, f64, f64) {
    // Warm up and size the batches.
    let ours_ns = batch(2000, ours);
    let other_ns = batch(200, other);
    let ours_iterations = ((BATCH_NS / ours_ns) as u32).max(1);
    let other_iterations = ((BATCH_NS / other_ns) as u32).max(1);
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..PAIRS {
        // Alternate which side goes first.
        let (x, y) = if pair % 2 == 0 {
            let x = batch(ours_iterations, ours);
            (x, batch(other_iterations, other))
        } else {
            let y = batch(other_iterations, other);
            (batch(ours_iterations, ours), y)
        };
        a.push(x);
        b.push(y);
        ratios.push(y / x);
    }
    (median(&mut a), median(&mut b), median(&mut ratios))
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let mut ours = Ours::new();
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("{path}: cannot read");
            return ExitCode::FAILURE;
        };
        let name = Path::new(path)
            .file_name()
            .map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        let row = |other: &str, f: &mut dyn FnMut() -> usize, ours: &mut Ours| {
            let (ours_ns, other_ns, ratio) = compare(&mut || ours.parse(&bytes), f);
            println!(
                "{name}\t{} bytes\tims-core {ours_ns:.0} ns\t{other} {other_ns:.0} ns\t{other}/ims-core {ratio:.2}",
                bytes.len()
            );
        };
        for peer in [Peer::Rsip, Peer::Rsipstack] {
            if peer.parse(&bytes).is_ok() {
                row(
                    peer.name(),
                    &mut || usize::from(peer.parse(&bytes).is_ok()),
                    &mut ours,
                );
            }
        }
        row(
            "memchr-floor",
            &mut || memchr::memchr_iter(b'\n', black_box(&bytes)).count(),
            &mut ours,
        );
        let crlf = memchr::memmem::Finder::new(b"\r\n");
        row(
            "memchr-crlf-floor",
            &mut || crlf.find_iter(black_box(&bytes)).count(),
            &mut ours,
        );
        let http = Path::new(path).with_file_name("http-post.http");
        if name == "invite.sip"
            && let Ok(http) = std::fs::read(http)
        {
            row(
                "httparse(http-post)",
                &mut || {
                    let mut headers = [httparse::EMPTY_HEADER; 32];
                    let mut request = httparse::Request::new(&mut headers);
                    usize::from(matches!(
                        request.parse(black_box(&http)),
                        Ok(httparse::Status::Complete(_))
                    ))
                },
                &mut ours,
            );
        }
    }
    ExitCode::SUCCESS
}
