//! Answers read late are still timed from their arrival (the kernel's receive time):
//! `--coalesce`, where a worker gathers answers, and the steered twin socket (the
//! default), where 1xx/2xx answers wait for the worker's next step instead of waking it.
//! The registrar here is the engine's scripted one (Digest checked for real) on a UDP
//! socket of its own on loopback, so the test can see when each request reached it.
#![allow(clippy::disallowed_methods)] // the registrar here is a driver: it owns the clock

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ims_core::sim::{Registrar, SimPeer};
use ims_core::sip::typed::CallId;
use ims_core::sip::{Limits, MessageWriter, RawHeader, SipMessage, WriteOptions};
use ims_core::transport::Transport;

mod common;
use common::*;

const USERS: usize = 300;
const PASSWORD: &str = "secret";

/// What the registrar saw: for each Call-ID, when its 401 left and when the REGISTER
/// with credentials that answered it came in.
#[derive(Default)]
struct Seen {
    challenged: HashMap<String, Instant>,
    answered_after: Vec<Duration>,
}

struct Peer {
    address: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Seen>,
}

/// The scripted registrar on 127.0.0.1, answering OPTIONS (the probe) with 200 itself.
fn registrar() -> Peer {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let address = socket.local_addr().expect("address");
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let mut registrar = Registrar::new("ims.test");
        for i in 0..USERS {
            registrar.add_user(&format!("vu{i}"), PASSWORD);
        }
        let mut seen = Seen::default();
        let mut buffer = vec![0u8; 65_536];
        while !stopped.load(Ordering::Acquire) {
            let Ok((n, from)) = socket.recv_from(&mut buffer) else {
                continue;
            };
            let now = Instant::now();
            let bytes = &buffer[..n];
            let mut slots = [RawHeader::EMPTY; 64];
            let Ok(request) = SipMessage::parse_datagram(bytes, &mut slots, &Limits::DEFAULT)
            else {
                continue;
            };
            let call_id = match request.header::<CallId>() {
                Some(Ok(CallId(id))) => id.to_owned(),
                _ => String::new(),
            };
            let method = request.method().map(|m| m.as_str().to_owned());
            if method.as_deref() == Some("OPTIONS") {
                let mut out = Vec::new();
                MessageWriter::response_to(
                    &mut out,
                    &request,
                    200,
                    "OK",
                    Some("p"),
                    WriteOptions::default(),
                )
                .finish(b"");
                socket.send_to(&out, from).expect("send");
                continue;
            }
            if let Some(challenged) = seen.challenged.remove(&call_id) {
                seen.answered_after.push(now.duration_since(challenged));
            }
            for answer in registrar.on_message(now, from, Transport::Udp, bytes) {
                socket.send_to(&answer, from).expect("send");
                if answer.starts_with(b"SIP/2.0 401 ") {
                    seen.challenged.insert(call_id.clone(), Instant::now());
                }
            }
        }
        seen
    });
    Peer {
        address,
        stop,
        thread,
    }
}

/// Records the voluntary context switches so far of each worker thread of process `pid`
/// (from /proc) in `threads`: a thread's count stays after it exited.
fn voluntary_switches(pid: u32, threads: &mut HashMap<String, u64>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.flatten() {
        let worker = std::fs::read_to_string(task.path().join("comm"))
            .is_ok_and(|name| name.starts_with("imsload-worker"));
        if !worker {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        let count = status
            .lines()
            .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|count| count.trim().parse::<u64>().ok());
        if let Some(count) = count {
            let seen = threads
                .entry(task.file_name().to_string_lossy().into_owned())
                .or_default();
            *seen = (*seen).max(count);
        }
    }
}

/// What one run gave: the summary, what the registrar saw, and about how often imsload's
/// worker slept and woke (voluntary context switches, read every few milliseconds until
/// it exited).
struct Run {
    summary: serde_json::Value,
    seen: Seen,
    switches: u64,
}

/// Registers and de-registers the users at `rate` REGISTER transactions per second, with
/// `args` added to the command line.
fn run(rate: u32, args: &[&str]) -> Run {
    let peer = registrar();
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report");
    let mut output = imsload()
        .args(["register", "--target"])
        .arg(peer.address.to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .args(["--password", PASSWORD, "--seed", "7"])
        .args([
            "-r",
            &rate.to_string(),
            "--register-rate",
            &rate.to_string(),
        ])
        .args(["--workers", "1", "--no-tui"])
        .args(args)
        .arg("--report")
        .arg(&report)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run imsload");
    let mut threads = HashMap::new();
    while output.try_wait().expect("wait").is_none() {
        voluntary_switches(output.id(), &mut threads);
        std::thread::sleep(Duration::from_millis(2));
    }
    let switches = threads.values().sum();
    let output = output.wait_with_output().expect("imsload output");
    peer.stop.store(true, Ordering::Release);
    let seen = peer.thread.join().expect("registrar thread");
    check_output(&output, &format!("imsload register {args:?}"));
    Run {
        summary: summary(&report),
        seen,
        switches,
    }
}

/// The median gap, in ms, between a 401 leaving the registrar and its credentials arriving.
fn credentials_after(seen: &Seen) -> f64 {
    assert_eq!(seen.answered_after.len(), USERS, "every challenge answered");
    median(
        seen.answered_after
            .iter()
            .map(|gap| gap.as_secs_f64() * 1000.0)
            .collect(),
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn latency(summary: &serde_json::Value, kind: &str, what: &str) -> f64 {
    let t = &summary["transactions"][kind];
    assert_eq!(t["succeeded"], USERS as u64, "{kind}: {t:#}");
    assert_eq!(t["failed"], 0, "{kind}: {t:#}");
    t["latency_ms"][what].as_f64().expect("latency")
}

/// Answers that come close together are read together, up to the interval late: the
/// credentials after each 401 leave later than without it. The de-registrations (one
/// transaction each, answered at once) are still timed from the answers' arrival, so
/// their latency stays far below how late the answers were read.
#[test]
fn gathered_answers_are_timed_from_their_arrival() {
    let Run { summary, seen, .. } = run(1000, &["--coalesce", "30ms"]);
    let read_late = credentials_after(&seen);
    let deregister = latency(&summary, "deregister", "p50");
    let register = latency(&summary, "register", "p50");
    eprintln!(
        "gathering: credentials {read_late:.2} ms after their 401 (median), register p50 {register:.2} ms, deregister p50 {deregister:.2} ms"
    );
    assert!(
        read_late >= 8.0,
        "with 30 ms gathering, the credentials should follow their 401 late: median {read_late:.2} ms"
    );
    assert!(
        deregister <= 4.0 && deregister * 3.0 < read_late,
        "a de-registration's answer is timed from its arrival: p50 {deregister:.2} ms, \
         answers read {read_late:.2} ms late at the median"
    );

    // Without gathering, every answer is read as it comes: the credentials follow at once.
    let Run { summary, seen, .. } = run(1000, &["--coalesce", "0ms"]);
    let prompt = credentials_after(&seen);
    let deregister = latency(&summary, "deregister", "p50");
    eprintln!(
        "at once: credentials {prompt:.2} ms after their 401 (median), deregister p50 {deregister:.2} ms"
    );
    assert!(
        prompt < read_late / 2.0,
        "without gathering the credentials follow sooner: {prompt:.2} ms against {read_late:.2} ms"
    );
}

/// The default twin socket: the 401s still wake the worker, so the credentials follow at
/// once; the 200s of registrations and de-registrations do not, so the worker sleeps and
/// wakes far less often than with `--wake-per-answer`; and those 200s, read at the next
/// step, are still timed from their arrival.
#[test]
fn steered_200s_do_not_wake_the_worker_and_are_timed_from_their_arrival() {
    // Slow enough that most answers come alone: each wakes the worker when not steered.
    let steered = run(300, &[]);
    let every = run(300, &["--wake-per-answer"]);
    for (name, run) in [("steered", &steered), ("--wake-per-answer", &every)] {
        let credentials = credentials_after(&run.seen);
        let register = latency(&run.summary, "register", "p50");
        let deregister = latency(&run.summary, "deregister", "p50");
        eprintln!(
            "{name}: {} voluntary context switches, credentials {credentials:.2} ms after their 401 (median), register p50 {register:.2} ms, deregister p50 {deregister:.2} ms",
            run.switches
        );
        assert!(
            credentials < 4.0,
            "{name}: a 401 wakes the worker, the credentials follow at once: {credentials:.2} ms"
        );
        assert!(
            deregister < 4.0,
            "{name}: a de-registration is timed from its 200's arrival: p50 {deregister:.2} ms"
        );
    }
    // Of the 900 answers, 600 are 200s: steered, the worker sleeps and wakes well under
    // 3/4 as often (about half, measured; answers that come together share a wake-up).
    assert!(
        steered.switches * 4 < every.switches * 3,
        "the {} 200s should not wake the worker: {} context switches steered, {} with --wake-per-answer",
        2 * USERS,
        steered.switches,
        every.switches
    );
}
