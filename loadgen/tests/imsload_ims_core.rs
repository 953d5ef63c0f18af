//! The built imsload binary against the local IMS core (scripts/ims-core: Kamailio as P-,
//! I- and S-CSCF, imshss as the HSS, loopback): 1,000 users with IMS AKA keys derived as
//! imshss's pattern subscribers have them register through the P-CSCF, each challenged
//! once (401, then 200 for the AKA answer), and de-register. The JSON report's counts must
//! be exact, and the S-CSCF's usrloc (asked through kamcmd) must hold every user while
//! they are registered and none at the end. And the reg-event scenario: users subscribe
//! to their own registration state at the S-CSCF and each gets its NOTIFY.
#![allow(clippy::disallowed_methods)] // a test driver waits on real processes

use std::process::Stdio;
use std::time::{Duration, Instant};

use ims_tests::ImsCore;

mod common;
use common::*;

const USERS: u64 = 1000;

#[test]
fn thousand_aka_users_register_through_the_ims_core_and_deregister() {
    let _serial = one_ims_core_at_a_time();
    let started = Instant::now();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    assert_eq!(scscf_records(&core), 0, "no user registered before the run");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("register");
    let child = imsload()
        .arg("register")
        .arg("--target")
        .arg(core.pcscf().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", USERS - 1))
        .arg("--aka-derived")
        .args([
            "--rate",
            "250",
            "--duration",
            "2s",
            "--seed",
            "12",
            "--progress-interval",
            "1s",
            "--no-tui",
        ])
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imsload");
    // 1,000 at 250/s: registered after about 4 s, held 2 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut peak = 0;
    while peak < USERS && Instant::now() < deadline {
        peak = peak.max(scscf_records(&core));
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("imsload register");
    check_output(&output, "imsload register with AKA");
    assert_eq!(peak, USERS, "users in the S-CSCF's usrloc while registered");

    let summary = summary(&report);
    assert_eq!(summary["ending"], "completed");
    assert_eq!(summary["users"], USERS);
    assert_eq!(summary["failures"], 0);
    assert_all_200(&summary, "register", USERS);
    // Each registration challenged exactly once: twice as many REGISTERs as attempts (the
    // S-CSCF challenges every REGISTER without credentials, so an attempt sends at least
    // 2: a 401, then the 200 for the AKA answer).
    let register = &summary["transactions"]["register"];
    assert_eq!(register["requests"], 2 * USERS, "{register:#}");
    assert_all_200(&summary, "deregister", USERS);
    // The S-CSCF reuses no nonce (ims_auth max_nonce_reuse 0): a de-registration is
    // challenged too, so in all 4 REGISTERs per user went out, and no other request.
    let engine = &summary["engine"];
    let sent = engine["messages_sent"].as_u64().unwrap_or(0);
    let retransmitted = engine["retransmissions"].as_u64().unwrap_or(0);
    assert_eq!(sent - retransmitted, 4 * USERS, "{engine:#}");
    // A 401 or a 200 for each, plus at most one more answer per retransmission.
    let received = engine["messages_received"].as_u64().unwrap_or(0);
    assert!(
        (4 * USERS..=4 * USERS + retransmitted).contains(&received),
        "{engine:#}"
    );
    assert!(
        summary["transactions"].get("refresh").is_none()
            || summary["transactions"]["refresh"]["started"] == 0,
        "no refresh within the 600 s lifetime: {:#}",
        summary["transactions"]
    );
    assert_eq!(summary["engine"]["timeouts"], 0, "{:#}", summary["engine"]);

    // De-registered contacts leave usrloc at the S-CSCF's next timer runs.
    let left = zero_within(Duration::from_secs(15), || scscf_records(&core));
    assert_eq!(
        left, 0,
        "users left in the S-CSCF's usrloc after de-registering"
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(90), "took {elapsed:?}");
}

/// reg-event: 200 users register with AKA (each on its own port: the P-CSCF asserts the
/// identity registered from the request's address and port, so users sharing one would
/// subscribe as someone else and be refused), subscribe to their own registration at the
/// S-CSCF through the P-CSCF, get the NOTIFY with the full state, are held, de-register.
#[test]
fn reg_event_users_subscribe_at_the_s_cscf_and_each_gets_a_notify() {
    const FEW: u64 = 200;
    let _serial = one_ims_core_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("reg-event");
    let output = imsload()
        .arg("reg-event")
        .arg("--target")
        .arg(core.pcscf().to_string())
        .arg("--users")
        .arg(format!("vu{{0..{}}}@ims.test", FEW - 1))
        .args([
            "--aka-derived",
            "--port-per-user",
            "--rate",
            "100",
            "--duration",
            "2s",
            "--seed",
            "13",
            "--no-tui",
        ])
        .arg("--report")
        .arg(&report)
        .output()
        .expect("run imsload reg-event");
    check_output(&output, "imsload reg-event");
    let summary = summary(&report);
    assert_eq!(summary["scenario"], "reg-event");
    assert_eq!(summary["ending"], "completed");
    assert_eq!(summary["failures"], 0);
    assert_all_200(&summary, "register", FEW);
    assert_all_200(&summary, "deregister", FEW);
    // One SUBSCRIBE per user once registered, each answered 200 by the S-CSCF.
    assert_all_200(&summary, "subscribe", FEW);
    // Each subscription's first NOTIFY (full state, the user's contact active). The
    // S-CSCF tells of a de-registered contact only when its usrloc timer removes it (2 s
    // later), after imsload has finished: no second NOTIFY reaches the users.
    assert_eq!(
        summary["received"]["reg_notifies"], FEW,
        "{:#}",
        summary["received"]
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("subscribe") && table.contains(&format!("{FEW} reg-event NOTIFYs")),
        "{table}"
    );
}
