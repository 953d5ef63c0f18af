//! Smoke tests of the peer harness: real Kamailio (scripts/peers/kamailio.cfg) and real SIPp
//! (scripts/peers/sipp/*.xml) on loopback.

use std::path::Path;
use std::time::Duration;

use ims_tests::{HarnessError, Kamailio, Sipp, SippTransport, SippUser, require_program};

const TIMEOUT: Duration = Duration::from_secs(20);

fn kamailio() -> Kamailio {
    Kamailio::builder()
        .user("alice", "alice-secret")
        .user("bob", "bob's secret")
        .user("carol", "carol-secret")
        .start()
        .expect("start Kamailio")
}

fn user(kamailio: &Kamailio, name: &str) -> SippUser {
    let password = match name {
        "bob" => "bob's secret".to_owned(),
        other => format!("{other}-secret"),
    };
    SippUser::new(name, &password, kamailio.domain())
}

/// Registers `name` with a SIPp run on `port`, asserting the 200.
fn register(kamailio: &Kamailio, name: &str, port: u16) {
    Sipp::new("register.xml", &user(kamailio, name))
        .local_port(port)
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp")
        .assert_success();
}

#[test]
fn kamailio_answers_options_and_stops_by_pid() {
    let kamailio = kamailio();
    assert!(kamailio.ping(Duration::from_secs(2)).expect("ping"));
    let pid = kamailio.pid();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(kamailio);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "Kamailio pid {pid} still exists after its guard was dropped"
    );
}

#[test]
fn sipp_registers_with_digest_over_udp() {
    let kamailio = kamailio();
    let outcome = Sipp::new("register.xml", &user(&kamailio, "alice"))
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp");
    outcome.assert_success();
    let responses = outcome.received_responses();
    assert!(
        responses
            .first()
            .is_some_and(|r| r.starts_with("SIP/2.0 401")),
        "{responses:?}"
    );
    assert!(
        responses
            .last()
            .is_some_and(|r| r.starts_with("SIP/2.0 200")),
        "{responses:?}"
    );
    assert!(kamailio.is_registered("alice").expect("kamcmd"));
    assert!(!kamailio.is_registered("bob").expect("kamcmd"));
}

#[test]
fn sipp_registers_with_digest_over_tcp() {
    let kamailio = kamailio();
    Sipp::new("register.xml", &user(&kamailio, "carol"))
        .transport(SippTransport::Tcp)
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp")
        .assert_success();
    assert!(kamailio.is_registered("carol").expect("kamcmd"));
}

#[test]
fn wrong_password_is_rejected() {
    let kamailio = kamailio();
    let wrong = SippUser::new("alice", "not-her-password", kamailio.domain());
    let outcome = Sipp::new("register-rejected.xml", &wrong)
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp");
    outcome.assert_success();
    let responses = outcome.received_responses();
    assert!(
        responses
            .last()
            .is_some_and(|r| r.starts_with("SIP/2.0 401") || r.starts_with("SIP/2.0 403")),
        "{responses:?}"
    );
    assert!(!kamailio.is_registered("alice").expect("kamcmd"));
    // The plain register scenario fails with the wrong password.
    Sipp::new("register.xml", &wrong)
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp")
        .assert_failure();
}

#[test]
fn message_reaches_a_registered_user() {
    let kamailio = kamailio();
    // bob is a "registered UAS": a register run, then an answering run on the same port.
    let bob_port = ims_tests::free_port_block(1).expect("port");
    register(&kamailio, "bob", bob_port);
    let mut bob = Sipp::new("message-uas.xml", &user(&kamailio, "bob"))
        .local_port(bob_port)
        .spawn(kamailio.addr())
        .expect("start SIPp UAS");
    bob.wait_listening(TIMEOUT).expect("SIPp UAS listens");
    let alice = Sipp::new("message.xml", &user(&kamailio, "alice").peer("bob"))
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp UAC");
    alice.assert_success();
    let bob = bob.wait().expect("collect SIPp UAS");
    bob.assert_success();
    assert!(
        bob.actions
            .contains("received MESSAGE: hello bob from alice"),
        "{}",
        bob.report()
    );
    // MESSAGE creates no dialog, so the proxy does not record-route it.
    assert!(!bob.messages.contains("Record-Route:"), "{}", bob.report());
}

#[test]
fn message_to_unknown_user_gets_404() {
    let kamailio = kamailio();
    let outcome = Sipp::new(
        "message-unknown.xml",
        &user(&kamailio, "alice").peer("nobody"),
    )
    .run(kamailio.addr(), TIMEOUT)
    .expect("run SIPp");
    outcome.assert_success();
    assert!(
        outcome
            .received_responses()
            .iter()
            .any(|r| r.starts_with("SIP/2.0 404")),
        "{}",
        outcome.report()
    );
}

#[test]
fn message_to_known_but_unregistered_user_gets_480() {
    let kamailio = kamailio();
    let outcome = Sipp::new("message.xml", &user(&kamailio, "alice").peer("carol"))
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp");
    outcome.assert_failure();
    assert!(
        outcome
            .received_responses()
            .iter()
            .any(|r| r.starts_with("SIP/2.0 480")),
        "{}",
        outcome.report()
    );
}

#[test]
fn group_message_fans_out_to_registered_members_except_the_sender() {
    let group = "sip:team@ims.test";
    let kamailio = Kamailio::builder()
        .user("alice", "alice-secret")
        .user("bob", "bob's secret")
        .user("carol", "carol-secret")
        .user("dave", "dave-secret")
        .group_member(group, "sip:alice@ims.test")
        .group_member(group, "sip:bob@ims.test")
        .group_member(group, "sip:carol@ims.test")
        // dave is a member but never registers: he is skipped, not looped.
        .group_member(group, "sip:dave@ims.test")
        .start()
        .expect("start Kamailio");
    let mut receivers = Vec::new();
    for name in ["bob", "carol"] {
        let port = ims_tests::free_port_block(1).expect("port");
        register(&kamailio, name, port);
        let mut uas = Sipp::new("message-uas.xml", &user(&kamailio, name).peer("alice"))
            .local_port(port)
            .spawn(kamailio.addr())
            .expect("start SIPp UAS");
        uas.wait_listening(TIMEOUT).expect("SIPp UAS listens");
        receivers.push((name, uas));
    }
    // alice is registered too, and must not get her own message back.
    let alice_port = ims_tests::free_port_block(1).expect("port");
    register(&kamailio, "alice", alice_port);
    let sent = Sipp::new("message.xml", &user(&kamailio, "alice").peer("team"))
        .local_port(alice_port)
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp UAC");
    sent.assert_success();
    let finals: Vec<String> = sent
        .received_responses()
        .into_iter()
        .filter(|r| !r.starts_with("SIP/2.0 1"))
        .collect();
    assert_eq!(
        finals.len(),
        1,
        "one final response to the sender: {finals:?}"
    );
    for (name, mut uas) in receivers {
        let outcome = uas.wait().expect("collect SIPp UAS");
        outcome.assert_success();
        assert!(
            outcome
                .actions
                .contains("received MESSAGE: hello team from alice"),
            "{name}: {}",
            outcome.report()
        );
    }
    assert!(
        kamailio.log().contains("to 2 member(s)"),
        "{}",
        kamailio.log()
    );
}

#[test]
fn missing_peer_names_the_install_script() {
    let error = require_program("ims-tests-no-such-peer").expect_err("not installed");
    assert!(matches!(error, HarnessError::MissingProgram { .. }));
    assert!(error.to_string().contains("scripts/test"), "{error}");
}
