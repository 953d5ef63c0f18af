//! The built imsload binary against the real Kamailio of the harness (loopback): 1,000
//! users register, hold, exchange MESSAGEs and network-mode group texts, and de-register.
//! The JSON report's counts must equal the transactions asked for exactly, and Kamailio's
//! location table (usrloc, asked through kamcmd) must hold every contact while they are
//! registered and none at the end. And two outages: Kamailio stopped for 5 s, and for longer
//! than Timer F (transactions time out); the users register again afterwards.
#![allow(clippy::disallowed_methods)] // a test driver waits on real processes

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ims_tests::{Kamailio, KamailioBuilder};
use serde_json::Value;

mod common;
use common::*;

const USERS: usize = 1000;
const PASSWORD: &str = "load-secret";
const GROUP_SIZE: usize = 10;

/// Contacts in Kamailio's location table (its usrloc statistics, read with kamcmd).
fn contacts(kamailio: &Kamailio) -> u64 {
    statistic(&kamailio_socket(kamailio), "location_contacts")
}

fn base_args(command: &mut Command, kamailio: &Kamailio, scenario: &str, report: &Path) {
    command
        .arg(scenario)
        .arg("--target")
        .arg(kamailio.addr().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .arg("--password")
        .arg(PASSWORD)
        .args([
            "--register-rate",
            "1000",
            "--seed",
            "10",
            "--progress-interval",
            "1s",
        ])
        .arg("--report")
        .arg(report);
}

/// Asserts `started` = `succeeded` = `expected`, no failure, and a 2xx count to match.
fn assert_all_ok(summary: &Value, kind: &str, expected: u64) {
    let t = &summary["transactions"][kind];
    assert_eq!(t["started"], expected, "{kind} started: {t:#}");
    assert_eq!(t["succeeded"], expected, "{kind} succeeded: {t:#}");
    assert_eq!(t["failed"], 0, "{kind} failed: {t:#}");
    assert_eq!(t["by_class"]["2xx"], expected, "{kind} 2xx: {t:#}");
    assert!(
        t["latency_ms"]["p50"].as_f64().unwrap_or(0.0) > 0.0,
        "{kind}: {t:#}"
    );
    let max = t["latency_ms"]["max"].as_f64().unwrap_or(0.0);
    let p99 = t["latency_ms"]["p99"].as_f64().unwrap_or(f64::MAX);
    assert!(max >= p99, "{kind}: max below p99: {t:#}");
}

/// Values recorded per tag in the report's latency.hlog (every interval decoded).
fn hlog_counts(report: &Path) -> std::collections::BTreeMap<String, u64> {
    use base64::Engine as _;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let bytes = std::fs::read(report.join("latency.hlog")).expect("latency.hlog");
    assert!(bytes.starts_with(b"#imsload "), "header comment first");
    let mut counts = std::collections::BTreeMap::new();
    let mut deserializer = Deserializer::new();
    let mut last_start = Duration::ZERO;
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(interval) = entry.expect("a well-formed log line") {
            assert!(
                interval.start_timestamp() >= last_start,
                "intervals in time order"
            );
            last_start = interval.start_timestamp();
            let compressed = base64::engine::general_purpose::STANDARD
                .decode(interval.encoded_histogram())
                .expect("base64");
            let histogram: hdrhistogram::Histogram<u64> = deserializer
                .deserialize(&mut compressed.as_slice())
                .expect("a V2 compressed histogram");
            let tag = interval.tag().expect("every interval is tagged").as_str();
            *counts.entry(tag.to_owned()).or_default() += histogram.len();
        }
    }
    counts
}

#[test]
fn thousand_users_register_message_group_chat_and_deregister() {
    let started = Instant::now();
    let kamailio = kamailio_with_users(Kamailio::builder(), USERS);
    provision_groups(kamailio.db(), USERS, GROUP_SIZE);
    let dir = tempfile::tempdir().expect("temp dir");

    // 1. register: every contact reaches usrloc while held, none is left after.
    let report = dir.path().join("register");
    let mut command = imsload();
    base_args(&mut command, &kamailio, "register", &report);
    command.args(["--rate", "1000", "--duration", "3s"]);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imsload");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut peak = 0;
    while peak < USERS as u64 && Instant::now() < deadline {
        peak = peak.max(contacts(&kamailio));
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("imsload register");
    check_output(&output, "register");
    assert_eq!(peak, USERS as u64, "contacts in usrloc while registered");
    assert_eq!(contacts(&kamailio), 0, "contacts left after register");
    let register = summary(&report);
    assert_eq!(register["ending"], "completed");
    assert_eq!(register["users"], USERS);
    assert_all_ok(&register, "register", USERS as u64);
    assert_all_ok(&register, "deregister", USERS as u64);
    assert_eq!(register["failures"], 0);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("register") && table.contains("p99.9 ms"),
        "{table}"
    );
    let series = std::fs::read_to_string(report.join("timeseries.csv")).expect("timeseries.csv");
    let mut lines = series.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("second,register_started,register_ok"))
    );
    let registered: u64 = lines
        .map(|line| {
            line.split(',')
                .nth(2)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(
        registered, USERS as u64,
        "per-second register_ok adds up:\n{series}"
    );

    // 2. message: 500 pairs, 2,000 MESSAGEs, each answered and received exactly once.
    let report = dir.path().join("message");
    let mut command = imsload();
    base_args(&mut command, &kamailio, "message", &report);
    command.args(["--rate", "1000", "--count", "2000"]);
    check_output(&command.output().expect("imsload message"), "message");
    let message = summary(&report);
    assert_all_ok(&message, "register", USERS as u64);
    assert_all_ok(&message, "message", 2000);
    assert_all_ok(&message, "deregister", USERS as u64);
    assert_eq!(message["received"]["messages"], 2000);
    assert_eq!(message["received"]["group_messages"], 0);
    assert_eq!(contacts(&kamailio), 0, "contacts left after message");
    let html = std::fs::read_to_string(report.join("report.html")).expect("report.html");
    assert_eq!(html.matches("<svg").count(), 3, "three charts");
    assert!(
        html.contains("<td>message</td><td>2000</td><td>2000</td><td>0</td>"),
        "{html}"
    );
    let logged = hlog_counts(&report);
    assert_eq!(logged.get("register"), Some(&(USERS as u64)), "{logged:?}");
    assert_eq!(logged.get("message"), Some(&2000), "{logged:?}");
    assert_eq!(
        logged.get("deregister"),
        Some(&(USERS as u64)),
        "{logged:?}"
    );

    // 3. group chat, network mode: 500 texts to groups of 10, each forked by Kamailio to
    // the 9 other members.
    let report = dir.path().join("group");
    let mut command = imsload();
    base_args(&mut command, &kamailio, "group-chat", &report);
    command.args(["--rate", "250", "--count", "500", "--group-size", "10"]);
    check_output(&command.output().expect("imsload group-chat"), "group-chat");
    let group = summary(&report);
    assert_all_ok(&group, "register", USERS as u64);
    assert_all_ok(&group, "group_message", 500);
    assert_all_ok(&group, "deregister", USERS as u64);
    assert_eq!(
        group["received"]["group_messages"],
        500 * (GROUP_SIZE as u64 - 1)
    );
    assert_eq!(group["received"]["messages"], 0);
    assert_eq!(contacts(&kamailio), 0, "contacts left after group-chat");
    // 4. Ctrl-C while registered: every user de-registers, within the stop timeout.
    let report = dir.path().join("interrupted");
    let mut command = imsload();
    base_args(&mut command, &kamailio, "register", &report);
    command.args([
        "--rate",
        "1000",
        "--duration",
        "60s",
        "--stop-timeout",
        "10s",
    ]);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imsload");
    let deadline = Instant::now() + Duration::from_secs(20);
    while contacts(&kamailio) < USERS as u64 {
        assert!(Instant::now() < deadline, "users never all registered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let interrupted_at = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("imsload after Ctrl-C");
    check_output(&output, "register, interrupted");
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(12),
        "took {:?} after SIGINT",
        interrupted_at.elapsed()
    );
    let interrupted = summary(&report);
    assert_eq!(interrupted["ending"], "interrupted");
    assert_all_ok(&interrupted, "register", USERS as u64);
    assert_all_ok(&interrupted, "deregister", USERS as u64);
    assert_eq!(contacts(&kamailio), 0, "contacts left after Ctrl-C");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Ctrl-C: de-registering"), "{stderr}");

    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

/// A harness Kamailio from `builder` with the users vu0 .. vu{users - 1}.
fn kamailio_with_users(mut builder: KamailioBuilder, users: usize) -> Kamailio {
    for user in 0..users {
        builder = builder.user(&format!("vu{user}"), PASSWORD);
    }
    builder.start().expect("start Kamailio")
}

/// An outage test's run: `users` users register (imsload register with `args` added: a
/// lifetime, a duration, ...); once all are in usrloc, Kamailio stops and restarts `down`
/// later, empty (usrloc lives in memory); every user must be registered again within
/// `again` of the restart. Gives imsload's output and summary, and Kamailio to ask usrloc.
fn through_outage(
    builder: KamailioBuilder,
    users: usize,
    args: &[&str],
    down: Duration,
    again: Duration,
) -> (Output, Value, Kamailio) {
    let mut kamailio = kamailio_with_users(builder, users);
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("outage");
    let child = imsload()
        .arg("register")
        .arg("--target")
        .arg(kamailio.addr().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", users - 1))
        .arg("--password")
        .arg(PASSWORD)
        .args(["--rate", "1000"])
        .args(args)
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imsload");
    let everyone = users as u64;
    let deadline = Instant::now() + Duration::from_secs(15);
    while contacts(&kamailio) < everyone {
        assert!(Instant::now() < deadline, "users never all registered");
        std::thread::sleep(Duration::from_millis(100));
    }
    kamailio.stop();
    std::thread::sleep(down);
    kamailio.restart().expect("restart Kamailio");
    let back = Instant::now();
    let mut registered = contacts(&kamailio);
    assert!(registered < everyone, "usrloc survived the restart");
    while registered < everyone {
        assert!(
            back.elapsed() < again,
            "only {registered} of {users} users registered again {:?} after the restart",
            back.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
        registered = contacts(&kamailio);
    }
    let output = child.wait_with_output().expect("imsload");
    let summary = summary(&report);
    (output, summary, kamailio)
}

/// Kamailio stops for 5 s while 500 users are registered with a 10 s lifetime, then comes
/// back empty (usrloc lives in memory): imsload keeps running, its refreshes are
/// retransmitted through the outage, and every user is registered again within one refresh
/// interval of the restart.
#[test]
fn users_register_again_after_kamailio_is_down_for_5_seconds() {
    const FEW: usize = 500;
    // Refresh at half the 10 s lifetime; a refresh sent during the outage is retransmitted
    // (Timer E up to T2) until Kamailio answers.
    let (output, summary, kamailio) = through_outage(
        Kamailio::builder(),
        FEW,
        &["--expires", "10", "--duration", "25s", "--seed", "11"],
        Duration::from_secs(5),
        Duration::from_secs(12),
    );
    check_output(&output, "register through an outage");
    assert_eq!(summary["ending"], "completed");
    assert_all_ok(&summary, "register", FEW as u64);
    assert_all_ok(&summary, "deregister", FEW as u64);
    let refresh = &summary["transactions"]["refresh"];
    assert!(
        refresh["started"].as_u64().unwrap_or(0) >= 2 * FEW as u64,
        "{refresh:#}"
    );
    assert!(
        summary["engine"]["retransmissions"].as_u64().unwrap_or(0) > 0,
        "the outage shows as retransmissions: {:#}",
        summary["engine"]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("retransmissions"),
        "progress lines: {stderr}"
    );
    assert_eq!(contacts(&kamailio), 0, "contacts left after the run");
}

/// Kamailio stops for longer than Timer F while 300 users refresh every 3 s: with
/// `--t1 50ms` Timer F is 64*T1 = 3.2 s, and the 7 s outage holds each user's next
/// refresh (3 s apart) and its timeout, so every user has at least one refresh time out.
/// imsload counts the timeouts (and nothing else fails), keeps running, the engine retries
/// each user after its back-off (RFC 5626 §4.5: 5 s, then 10 s, each 50-100 %), and once
/// Kamailio is back every user is registered again within the longest back-off a failure
/// before the restart can leave (10 s); then every user de-registers.
#[test]
fn users_register_again_after_kamailio_is_down_longer_than_timer_f() {
    const FEW: usize = 300;
    let started = Instant::now();
    let (output, summary, kamailio) = through_outage(
        Kamailio::builder().min_expires(6),
        FEW,
        &[
            "--t1",
            "50ms",
            "--expires",
            "6",
            "--duration",
            "24s",
            "--seed",
            "14",
            "--no-tui",
        ],
        Duration::from_secs(7),
        Duration::from_secs(12),
    );
    // The timeouts are failures: exit status 1, and the run still completes.
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(contacts(&kamailio), 0, "contacts left after the run");
    assert_eq!(summary["ending"], "completed");
    assert_all_ok(&summary, "register", FEW as u64);
    assert_all_ok(&summary, "deregister", FEW as u64);
    let refresh = &summary["transactions"]["refresh"];
    // A timeout per user at least; at most two: a retry comes 2.5 s after a timeout or
    // later, so a second one times out only if it started 3.2 s before the restart, and
    // a third comes 5 s after that, once Kamailio is back (1 per user on a quiet machine).
    let timeouts = u(&refresh["timeouts"]);
    assert!(
        (FEW as u64..=2 * FEW as u64).contains(&timeouts),
        "one or two timeouts per user: {refresh:#}"
    );
    assert_eq!(
        refresh["failed"], timeouts,
        "every failure a timeout: {refresh:#}"
    );
    assert_eq!(refresh["transport_errors"], 0, "{refresh:#}");
    assert_eq!(
        refresh["by_class"]
            .as_object()
            .map(|classes| classes.keys().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["2xx"]),
        "the answers that came were all 2xx: {refresh:#}"
    );
    assert_eq!(
        u(&refresh["started"]),
        u(&refresh["succeeded"]) + timeouts,
        "{refresh:#}"
    );
    assert_eq!(summary["failures"], timeouts);
    assert_eq!(
        summary["engine"]["timeouts"], timeouts,
        "the engine's Timer F count: only REGISTERs timed out: {:#}",
        summary["engine"]
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains(&format!("errors by code: timeout x{timeouts}")),
        "{table}"
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(45), "took {elapsed:?}");
}
