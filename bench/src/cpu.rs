//! The calling thread's CPU clock, so benches on this shared machine do not count the
//! time other processes take the core away.
#![allow(unsafe_code)] // clock_gettime

use std::hint::black_box;
use std::time::Duration;

/// CPU time the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> Duration {
    let mut spec = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `spec` is a valid, writable timespec for the call to fill in.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut spec) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(spec.tv_sec as u64, spec.tv_nsec as u32)
}

/// Runs `f` `iterations` times and returns the thread CPU time it took.
pub fn cpu_timed<R>(iterations: u64, mut f: impl FnMut() -> R) -> Duration {
    let start = thread_cpu_time();
    for _ in 0..iterations {
        black_box(f());
    }
    thread_cpu_time().saturating_sub(start)
}
