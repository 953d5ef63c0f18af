//! imsload with one UDP port per user (`--port-per-user`) through the local IMS core
//! (scripts/ims-core: Kamailio as P-, I- and S-CSCF, imshss, loopback). Kamailio's P-CSCF
//! tells UEs apart by source address and port: users behind one socket share one P-CSCF
//! contact, and when one of them de-registers the others' MESSAGEs are refused with 403
//! ("register first"). With a port each:
//! - the `message` scenario: 200 AKA users register (the P-CSCF holds 200 contacts more
//!   than before), exchange 400 MESSAGEs and de-register, every transaction answered 200;
//! - `imsload benchmark` with a traffic set of de-registration and messaging only: about
//!   half the users de-register while the others keep messaging, and every MESSAGE is
//!   answered 200. The same run on shared sockets gets 403s: what the mode is for.
#![allow(clippy::disallowed_methods)] // a test driver waits on real processes

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ims_tests::ImsCore;
use serde_json::Value;

mod common;
use common::*;

const USERS: u64 = 200;

/// One of a CSCF's statistics (kamcmd on its control socket).
fn cscf_statistic(core: &ImsCore, cscf: &str, name: &str) -> u64 {
    statistic(&core.control_socket(cscf), name)
}

#[test]
fn users_with_a_port_each_register_message_and_deregister_through_the_ims_core() {
    let _serial = one_ims_core_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let before = cscf_statistic(&core, "pcscf", "registered_contacts");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("message");
    let child = imsload()
        .arg("message")
        .arg("--target")
        .arg(core.pcscf().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .args(["--aka-derived", "--port-per-user"])
        .args([
            "--workers",
            "2",
            "--register-rate",
            "200",
            "--rate",
            "100",
            "--count",
            "400",
            "--seed",
            "10",
            "--no-tui",
        ])
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imsload");
    // Registered after about 1 s, texting for about 4 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut peak = 0;
    while peak < before + USERS && Instant::now() < deadline {
        peak = peak.max(cscf_statistic(&core, "pcscf", "registered_contacts"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("imsload message");
    check_output(&output, "imsload message --port-per-user");
    // One P-CSCF contact per user: with a shared socket it would be one per worker.
    assert_eq!(
        peak - before,
        USERS,
        "contacts at the P-CSCF while registered"
    );

    let s = summary(&report);
    assert_eq!(s["ending"], "completed", "{s:#}");
    assert_eq!(s["users"], USERS);
    assert_eq!(s["failures"], 0, "{s:#}");
    assert_all_200(&s, "register", USERS);
    assert_all_200(&s, "message", 400);
    assert_all_200(&s, "deregister", USERS);
    // Every MESSAGE reached its callee, on the callee's own port.
    assert_eq!(s["received"]["messages"], 400, "{:#}", s["received"]);
    assert_eq!(s["engine"]["timeouts"], 0, "{:#}", s["engine"]);
}

/// `imsload benchmark` with every user registered by the preamble and a traffic set of
/// de-registration and messaging only (2 steps of 5 s at 20 and 21 SAPS, thresholds wide
/// enough that only the answers count), with or without a port per user.
fn deregister_while_messaging(core: &ImsCore, report: &Path, port_per_user: bool) -> Value {
    let mut command = imsload();
    command
        .arg("benchmark")
        .arg("--target")
        .arg(core.pcscf().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .arg("--aka-derived")
        .args([
            "--registered-share",
            "100",
            "--traffic",
            "de-register=1,message=1",
            "--threshold",
            "de-register=5s,message=5s",
            "--base-saps",
            "20",
            "--step-saps",
            "1",
            "--step-duration",
            "5s",
            "--max-steps",
            "2",
            "--workers",
            "2",
            "--seed",
            "7",
        ])
        .arg("--report")
        .arg(report);
    if port_per_user {
        command.arg("--port-per-user");
    }
    let output = command.output().expect("run imsload benchmark");
    let s = summary(report);
    if port_per_user {
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    }
    s
}

#[test]
fn with_a_port_each_half_the_users_deregister_while_the_others_still_message() {
    let _serial = one_ims_core_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let dir = tempfile::tempdir().expect("temp dir");

    let s = deregister_while_messaging(&core, &dir.path().join("per-user"), true);
    assert_eq!(s["ending"], "completed", "{s:#}");
    assert_eq!(s["preamble"]["registered"], USERS, "{s:#}");
    assert_eq!(s["preamble"]["failed"], 0);
    let steps = s["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{s:#}");
    let (mut deregistered, mut messages) = (0, 0);
    for step in steps {
        assert_eq!(step["evaluated"], true, "{step:#}");
        assert_eq!(step["passed"], true, "{step:#}");
        assert_eq!(step["inadequate"], 0, "{step:#}");
        assert_eq!(step["skipped"], 0, "{step:#}");
        let mut sum = 0;
        for (name, t) in step["scenarios"].as_object().expect("scenarios") {
            let (attempts, ok) = (u(&t["attempts"]), u(&t["succeeded"]));
            assert_eq!(ok, attempts, "{name}: {t:#}");
            assert_eq!(t["failed"], 0, "{name}: {t:#}");
            let codes = t["by_code"].as_object().expect("by_code");
            assert!(
                ok == 0 || (codes.len() == 1 && u(&t["by_code"]["200"]) == ok),
                "{name}: every answer a 200 (no 403 'register first'): {t:#}"
            );
            sum += attempts;
            match name.as_str() {
                "de-register" => deregistered += ok,
                "message" => messages += ok,
                other => panic!("unexpected scenario {other}"),
            }
        }
        assert_eq!(u(&step["attempts"]), sum, "{step:#}");
    }
    // About 105 of each (Poisson, 5 s at 20 and 21 SAPS, half each): about half the
    // users de-registered while the rest kept messaging.
    assert!((70..=140).contains(&deregistered), "{deregistered}: {s:#}");
    assert!((70..=140).contains(&messages), "{messages}: {s:#}");
    assert_eq!(u(&s["messages_received"]), messages, "{s:#}");
    let end = &s["final_deregistration"];
    assert_eq!(u(&end["deregistered"]), USERS - deregistered, "{s:#}");
    assert_eq!(end["failed"], 0);
    assert_eq!(end["left_registered"], 0);

    // The same on one socket per worker: once a user behind a socket de-registers, the
    // P-CSCF refuses the MESSAGEs of the others behind it.
    let s = deregister_while_messaging(&core, &dir.path().join("shared"), false);
    let refused: u64 = s["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| {
            step["scenarios"]["message"]["by_code"]["403"]
                .as_u64()
                .unwrap_or(0)
        })
        .sum();
    assert!(refused > 0, "no 403 with shared sockets: {s:#}");
}
