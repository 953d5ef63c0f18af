//! `imsload mixed` against real peers on loopback: arrivals mixed by weight over MESSAGEs,
//! group texts, re-registrations and (through the local IMS core's S-CSCF) subscriptions
//! to the reg event. The JSON report's counts must add up exactly: each scenario's
//! arrivals are its weight's share of --count (every run of weights-sum arrivals of a
//! worker holds each scenario its weight's times), they sum to --count, each matches the
//! transactions of its type, nothing fails, and no user is left registered.
#![allow(clippy::disallowed_methods)] // a test driver waits on real processes

use std::process::Stdio;
use std::time::{Duration, Instant};

use ims_tests::{ImsCore, Kamailio};
use serde_json::Value;

mod common;
use common::*;

const USERS: usize = 200;
const PASSWORD: &str = "mixed-secret";

/// Asserts each scenario of `weights` ran exactly its share of `count` arrivals, every one
/// ended well, and the arrivals add up to `count`.
#[track_caller]
fn assert_scenarios(summary: &Value, weights: &[(&str, u64)], count: u64) {
    let total: u64 = weights.iter().map(|(_, weight)| weight).sum();
    let scenarios = &summary["scenarios"];
    let mut sum = 0;
    for (name, weight) in weights {
        let scenario = &scenarios[*name];
        let expected = count * weight / total;
        assert_eq!(scenario["weight"], *weight, "{name}: {scenario:#}");
        assert_eq!(scenario["started"], expected, "{name}: {scenario:#}");
        assert_eq!(scenario["succeeded"], expected, "{name}: {scenario:#}");
        assert_eq!(scenario["failed"], 0, "{name}: {scenario:#}");
        sum += u(&scenario["started"]);
    }
    assert_eq!(sum, count, "the arrivals add up to --count: {scenarios:#}");
    assert_eq!(
        scenarios.as_object().map(|o| o.len()),
        Some(weights.len()),
        "only the weighted scenarios are listed: {scenarios:#}"
    );
}

/// 200 users at the harness Kamailio: 1,000 arrivals, message 6 : group-chat 2 :
/// refresh 2, over two workers (500 each, 50 cycles of 10).
#[test]
fn mixed_arrivals_add_up_exactly_at_kamailio() {
    const GROUP_SIZE: usize = 10;
    const COUNT: u64 = 1000;
    let started = Instant::now();
    let mut builder = Kamailio::builder();
    for user in 0..USERS {
        builder = builder.user(&format!("vu{user}"), PASSWORD);
    }
    let kamailio = builder.start().expect("start Kamailio");
    provision_groups(kamailio.db(), USERS, GROUP_SIZE);
    let socket = kamailio_socket(&kamailio);
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("mixed");
    let child = imsload()
        .arg("mixed")
        .arg("--target")
        .arg(kamailio.addr().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .arg("--password")
        .arg(PASSWORD)
        .args([
            "--weights",
            "message=6,group-chat=2,refresh=2",
            "--group-size",
            "10",
            "--rate",
            "250",
            "--count",
            "1000",
            "--workers",
            "2",
            "--register-rate",
            "1000",
            "--seed",
            "20",
            "--no-tui",
        ])
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imsload mixed");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut peak = 0;
    while peak < USERS as u64 && Instant::now() < deadline {
        peak = peak.max(statistic(&socket, "location_contacts"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("imsload mixed");
    check_output(&output, "imsload mixed");
    assert_eq!(peak, USERS as u64, "every user registered first");
    assert_eq!(
        statistic(&socket, "location_contacts"),
        0,
        "contacts left after the run"
    );

    let summary = summary(&report);
    assert_eq!(summary["scenario"], "mixed");
    assert_eq!(summary["ending"], "completed");
    assert_eq!(summary["failures"], 0);
    assert_scenarios(
        &summary,
        &[("message", 6), ("group-chat", 2), ("refresh", 2)],
        COUNT,
    );
    let t = &summary["transactions"];
    for (kind, expected) in [
        ("register", USERS as u64),
        ("message", 600),
        ("group_message", 200),
        ("refresh", 200),
        ("deregister", USERS as u64),
    ] {
        assert_eq!(t[kind]["started"], expected, "{kind}: {:#}", t[kind]);
        assert_eq!(t[kind]["succeeded"], expected, "{kind}: {:#}", t[kind]);
        assert_eq!(t[kind]["failed"], 0, "{kind}: {:#}", t[kind]);
    }
    // The texts reached their receivers exactly once: each MESSAGE its peer, each group
    // text the 9 other members (Kamailio forks it).
    assert_eq!(summary["received"]["messages"], 600);
    assert_eq!(
        summary["received"]["group_messages"],
        200 * (GROUP_SIZE as u64 - 1)
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("scenarios: group-chat 200 (20.0 %, weight 2): 200 ok, 0 failed"),
        "{table}"
    );
    let html = std::fs::read_to_string(report.join("report.html")).expect("report.html");
    assert!(
        html.contains("<tr><td>message</td><td>6</td><td>600</td><td>60.0</td><td>600</td><td>0</td><td>0</td></tr>"),
        "{html}"
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(40), "took {elapsed:?}");
}

/// 200 users with IMS AKA through the local IMS core (each on its own port: the P-CSCF
/// tells UEs apart by address and port): 500 arrivals, message 6 : group-chat 2 :
/// refresh 1 : reg-event 1, the group texts sent to each member (the core has no group
/// server), over two workers (250 each, 25 cycles of 10). No user subscribes at
/// registration: each reg-event arrival subscribes a registered user to its registration
/// state at the S-CSCF in a new dialog, ends with the 200 and the first NOTIFY, and the
/// user then unsubscribes (Expires: 0).
///
/// About 2 % of the first NOTIFYs reach the user before the SUBSCRIBE's 200. Such a
/// NOTIFY carries no Record-Route, so the unsubscription must still follow the 200's
/// (through the P-CSCF, which answers 404 "Not here" to an in-dialog request that does
/// not route through it): every unsubscribe gets 200.
#[test]
fn mixed_arrivals_with_reg_event_add_up_exactly_through_the_ims_core() {
    const GROUP_SIZE: u64 = 5;
    const COUNT: u64 = 500;
    let _serial = one_ims_core_at_a_time();
    let started = Instant::now();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("mixed");
    let output = imsload()
        .arg("mixed")
        .arg("--target")
        .arg(core.pcscf().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .args([
            "--aka-derived",
            "--port-per-user",
            "--weights",
            "message=6,group-chat=2,refresh=1,reg-event=1",
            "--group-mode",
            "fan-out",
            "--group-size",
            "5",
            "--rate",
            "100",
            "--count",
            "500",
            "--workers",
            "2",
            "--register-rate",
            "200",
            "--seed",
            "21",
            "--no-tui",
        ])
        .arg("--report")
        .arg(&report)
        .output()
        .expect("run imsload mixed");
    check_output(&output, "imsload mixed through the IMS core");
    let summary = summary(&report);
    assert_eq!(summary["ending"], "completed");
    assert_eq!(summary["failures"], 0);
    assert_scenarios(
        &summary,
        &[
            ("message", 6),
            ("group-chat", 2),
            ("refresh", 1),
            ("reg-event", 1),
        ],
        COUNT,
    );
    let users = USERS as u64;
    assert_all_200(&summary, "register", users);
    assert_all_200(&summary, "message", 300);
    assert_all_200(&summary, "group_message", 100);
    // Only the refresh arrivals re-register.
    assert_all_200(&summary, "refresh", 50);
    assert_all_200(&summary, "deregister", users);
    // One SUBSCRIBE per reg-event arrival, and one that ends it.
    assert_all_200(&summary, "subscribe", 50);
    assert_all_200(&summary, "unsubscribe", 50);
    assert_eq!(summary["received"]["messages"], 300);
    assert_eq!(
        summary["received"]["group_messages"],
        100 * (GROUP_SIZE - 1)
    );
    // Each subscription's first NOTIFY (the full state); the S-CSCF sends no reginfo
    // document after an unsubscription.
    assert_eq!(
        summary["received"]["reg_notifies"], 50,
        "{:#}",
        summary["received"]
    );
    // No contact is left, and no record: no subscription outlives its arrival (a
    // subscription would keep its user's record at the S-CSCF for its 600 s lifetime).
    let scscf = core.control_socket("scscf");
    assert_eq!(
        zero_within(Duration::from_secs(15), || statistic(
            &scscf,
            "active_contacts"
        )),
        0,
        "contacts left in the S-CSCF's usrloc"
    );
    assert_eq!(
        zero_within(Duration::from_secs(15), || scscf_records(&core)),
        0,
        "records left in the S-CSCF's usrloc"
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

/// A registrar without the reg event package (the harness Kamailio routes each user's
/// SUBSCRIBE to the user itself, which answers 501): each reg-event arrival's SUBSCRIBE
/// fails, so does the arrival (nothing to unsubscribe), and the run still ends at --count
/// with the failures counted (exit status 1).
#[test]
fn reg_event_arrivals_fail_without_a_reg_event_server_and_the_run_ends() {
    const FEW: usize = 20;
    let started = Instant::now();
    let mut builder = Kamailio::builder();
    for user in 0..FEW {
        builder = builder.user(&format!("vu{user}"), PASSWORD);
    }
    let kamailio = builder.start().expect("start Kamailio");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("mixed");
    let output = imsload()
        .arg("mixed")
        .arg("--target")
        .arg(kamailio.addr().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", FEW - 1))
        .arg("--password")
        .arg(PASSWORD)
        .args([
            "--weights",
            "message=1,reg-event=1",
            "--count",
            "40",
            "--rate",
            "100",
            "--seed",
            "22",
            "--no-tui",
        ])
        .arg("--report")
        .arg(&report)
        .output()
        .expect("run imsload mixed");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let summary = summary(&report);
    assert_eq!(summary["ending"], "completed");
    let scenarios = &summary["scenarios"];
    assert_eq!(scenarios["message"]["succeeded"], 20, "{scenarios:#}");
    assert_eq!(scenarios["reg-event"]["started"], 20, "{scenarios:#}");
    assert_eq!(scenarios["reg-event"]["failed"], 20, "{scenarios:#}");
    // One SUBSCRIBE per reg-event arrival (20, as many as the users); each came back 501.
    let subscribe = &summary["transactions"]["subscribe"];
    assert_eq!(subscribe["failed"], 20, "{subscribe:#}");
    assert_eq!(
        subscribe["by_code"],
        serde_json::json!({ "501": 20 }),
        "{subscribe:#}"
    );
    assert_eq!(
        summary["transactions"]["unsubscribe"]["started"], 0,
        "nothing to unsubscribe"
    );
    assert_eq!(
        summary["failures"], 20,
        "only the SUBSCRIBEs are failed transactions"
    );
    assert_eq!(
        statistic(&kamailio_socket(&kamailio), "location_contacts"),
        0,
        "contacts left after the run"
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}
