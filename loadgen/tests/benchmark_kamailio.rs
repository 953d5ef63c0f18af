//! `imsload benchmark` against the real Kamailio of the harness (loopback): a short
//! stepwise run at low SAPS finds no step over the IHS limit, so its DOC is the last step;
//! every attempt is accounted for in the JSON report and agrees with what Kamailio itself
//! counted (MESSAGE requests relayed, REGISTERs accepted); an impossible 0 ms threshold
//! makes the first step fail, and the summary says so.
#![allow(clippy::disallowed_methods)] // a test driver waits on real processes

use std::path::Path;
use std::process::{Command, Output};

use ims_tests::Kamailio;
use serde_json::Value;

mod common;
use common::*;

const USERS: usize = 300;
const PASSWORD: &str = "bench-secret";

fn kamailio() -> Kamailio {
    let mut builder = Kamailio::builder();
    for user in 0..USERS {
        builder = builder.user(&format!("vu{user}"), PASSWORD);
    }
    builder.start().expect("start Kamailio")
}

/// One of Kamailio's statistics (kamcmd on its control socket), e.g. `location_contacts`.
fn kamailio_statistic(kamailio: &Kamailio, name: &str) -> u64 {
    statistic(&kamailio_socket(kamailio), name)
}

fn benchmark(kamailio: &Kamailio, report: &Path, extra: &[&str]) -> Output {
    imsload()
        .arg("benchmark")
        .arg("--target")
        .arg(kamailio.addr().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .arg("--password")
        .arg(PASSWORD)
        .args([
            "--workers",
            "2",
            "--seed",
            "186008",
            "--register-rate",
            "500",
        ])
        .arg("--report")
        .arg(report)
        .args(extra)
        .output()
        .expect("run imsload benchmark")
}

#[test]
fn a_low_rate_stepwise_benchmark_has_its_doc_at_the_last_step_and_counts_every_attempt() {
    let kamailio = kamailio();
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("low");
    let output = benchmark(
        &kamailio,
        &report,
        &[
            "--base-saps",
            "20",
            "--step-saps",
            "20",
            "--step-duration",
            "3s",
            "--max-steps",
            "3",
        ],
    );
    let what = describe(&output);
    assert_eq!(output.status.code(), Some(0), "{what}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("DOC: 60 SAPS (step 3 of 3; IHS 0.00 % <= 0.10 %"),
        "{what}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for step in 1..=3 {
        assert!(stderr.contains(&format!("step {step}/3: ")), "{what}");
    }
    let s = summary(&report);
    assert_eq!(s["headline"], first, "the JSON's headline is the DOC line");
    assert_eq!(s["doc_saps"], 60.0);
    assert_eq!(s["doc_step"], 3);
    assert_eq!(s["failed_step"], Value::Null);
    assert_eq!(s["ending"], "completed");
    // The preamble: 80 % of 150 users per worker.
    assert_eq!(s["preamble"]["users"], 240);
    assert_eq!(s["preamble"]["registered"], 240);
    assert_eq!(s["preamble"]["failed"], 0);
    let steps = s["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3, "{s:#}");
    let (mut registered_delta, mut registrations_ok, mut messages) = (0i64, 0, 0);
    let mut all_attempts = 0;
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(step["step"], i + 1);
        assert_eq!(step["saps"], 20.0 * (i + 1) as f64);
        assert_eq!(step["evaluated"], true, "{step:#}");
        assert_eq!(step["completed"], true, "{step:#}");
        assert_eq!(step["passed"], true, "{step:#}");
        assert_eq!(step["inadequate"], 0, "{step:#}");
        assert_eq!(step["ihs_percent"], 0.0, "{step:#}");
        assert_eq!(step["skipped"], 0, "{step:#}");
        let scenarios = step["scenarios"].as_object().expect("scenarios");
        assert_eq!(scenarios.len(), 4, "the default traffic set has all four");
        let attempts = u(&step["attempts"]);
        let mut sum = 0;
        for (name, t) in scenarios {
            let (started, ok) = (u(&t["attempts"]), u(&t["succeeded"]));
            assert_eq!(ok, started, "{name} in step {}: {t:#}", i + 1);
            assert_eq!(t["failed"], 0);
            assert_eq!(t["over_threshold"], 0);
            assert_eq!(u(&t["by_code"]["200"]), ok, "{name}: one 200 per attempt");
            assert!(ok == 0 || t["latency_ms"]["p50"].as_f64().unwrap_or(0.0) > 0.0);
            sum += started;
            match name.as_str() {
                "register" => {
                    registered_delta += ok as i64;
                    registrations_ok += ok;
                }
                "de-register" => {
                    registered_delta -= ok as i64;
                    registrations_ok += ok;
                }
                "re-register" => registrations_ok += ok,
                "message" => messages += ok,
                other => panic!("unexpected scenario {other}"),
            }
        }
        assert_eq!(
            attempts,
            sum,
            "step {} attempts = its scenarios' attempts",
            i + 1
        );
        all_attempts += attempts;
    }
    // Poisson arrivals at 20, 40 and 60 SAPS for 3 s each: 360 expected, standard
    // deviation 19; 5 standard deviations either way.
    assert!(
        (265..=455).contains(&all_attempts),
        "{all_attempts} attempts: {s:#}"
    );
    // Every message reached its callee, and Kamailio relayed exactly those.
    assert_eq!(u(&s["messages_received"]), messages);
    assert_eq!(u(&s["retransmissions"]), 0, "loopback at low rate: {s:#}");
    assert_eq!(
        kamailio_statistic(&kamailio, "rcv_requests_message"),
        messages
    );
    // Everyone registered at the end of the steps was de-registered, and Kamailio
    // accepted exactly the REGISTERs counted: preamble + the steps' + the final ones.
    let deregistered = u(&s["final_deregistration"]["deregistered"]);
    assert_eq!(deregistered as i64, 240 + registered_delta, "{s:#}");
    assert_eq!(s["final_deregistration"]["failed"], 0);
    assert_eq!(s["final_deregistration"]["left_registered"], 0);
    assert_eq!(
        kamailio_statistic(&kamailio, "accepted_regs"),
        240 + registrations_ok + deregistered
    );
    assert_eq!(kamailio_statistic(&kamailio, "location_contacts"), 0);
    let html = std::fs::read_to_string(report.join("report.html")).expect("report.html");
    assert!(
        html.contains(&format!(
            "<h1>{}</h1>",
            first.replace('<', "&lt;").replace('>', "&gt;")
        )),
        "the DOC heads the HTML report"
    );
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(!html.contains("NaN") && !html.contains("<script"));
}

#[test]
fn an_impossible_zero_threshold_makes_the_first_step_fail() {
    let kamailio = kamailio();
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("zero");
    let output = benchmark(
        &kamailio,
        &report,
        &[
            "--base-saps",
            "20",
            "--step-duration",
            "2s",
            "--max-steps",
            "3",
            "--traffic",
            "message=1",
            "--threshold",
            "message=0ms",
        ],
    );
    let what = describe(&output);
    assert_eq!(output.status.code(), Some(1), "no DOC: exit 1\n{what}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some(
            "DOC: none: even the first step (20 SAPS) exceeded the IHS limit (IHS 100.00 % > 0.10 %)"
        ),
        "{what}"
    );
    let s = summary(&report);
    assert_eq!(s["doc_saps"], Value::Null);
    assert_eq!(s["failed_step"], 1);
    let first = &s["steps"][0];
    assert_eq!(first["evaluated"], true);
    assert_eq!(first["passed"], false);
    assert_eq!(first["ihs_percent"], 100.0);
    let message = &first["scenarios"]["message"];
    // Every message succeeded, late: inadequately handled all the same.
    assert!(u(&message["attempts"]) > 0, "{s:#}");
    assert_eq!(message["succeeded"], message["attempts"]);
    assert_eq!(message["over_threshold"], message["attempts"]);
    assert_eq!(message["inadequate"], message["attempts"]);
    // The run stopped at the first step: at most the start of the second, not evaluated.
    let steps = s["steps"].as_array().expect("steps");
    assert!(steps.len() <= 2, "{s:#}");
    assert!(steps.iter().skip(1).all(|step| step["evaluated"] == false));
    assert_eq!(s["final_deregistration"]["left_registered"], 0);
    assert_eq!(kamailio_statistic(&kamailio, "location_contacts"), 0);
}

/// Ctrl-C (SIGINT) in the preamble and in a step: the run stops, every registered user
/// is de-registered within the stop timeout, and the summary says it was interrupted.
#[test]
fn ctrl_c_stops_the_benchmark_and_de_registers_everyone() {
    let kamailio = kamailio();
    let dir = tempfile::tempdir().expect("temp dir");
    // Preamble at 100/s: 240 users take 2.4 s, the signal comes after 1 s; then in the
    // first step (30 s long) 3 s in.
    for (name, wait) in [("preamble", 1.0), ("step", 5.5)] {
        let report = dir.path().join(name);
        let child = imsload()
            .arg("benchmark")
            .arg("--target")
            .arg(kamailio.addr().to_string())
            .arg("--users")
            .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
            .arg("--password")
            .arg(PASSWORD)
            .args(["--workers", "2", "--seed", "7", "--register-rate", "100"])
            .args([
                "--base-saps",
                "20",
                "--step-duration",
                "30s",
                "--stop-timeout",
                "10s",
            ])
            .arg("--report")
            .arg(&report)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start imsload benchmark");
        std::thread::sleep(std::time::Duration::from_secs_f64(wait));
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let interrupted = std::time::Instant::now();
        let output = child.wait_with_output().expect("imsload after Ctrl-C");
        let what = describe(&output);
        assert!(
            interrupted.elapsed() < std::time::Duration::from_secs(12),
            "{name}: took {:?} after SIGINT\n{what}",
            interrupted.elapsed()
        );
        assert_eq!(output.status.code(), Some(1), "{name}: no DOC\n{what}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("Ctrl-C: stopping"),
            "{what}"
        );
        let s = summary(&report);
        assert_eq!(s["ending"], "interrupted", "{name}: {s:#}");
        assert_eq!(s["final_deregistration"]["left_registered"], 0, "{s:#}");
        assert_eq!(s["final_deregistration"]["failed"], 0, "{s:#}");
        assert_eq!(
            kamailio_statistic(&kamailio, "location_contacts"),
            0,
            "{name}: contacts left"
        );
    }
}
