//! Our engine and tokio driver against SIPp acting as a scripted registrar
//! (`scripts/peers/sipp/registrar-*.xml`) on loopback: a challenge with qop=auth-int only,
//! a stale nonce, 423 Interval Too Brief, 503 with Retry-After, and a wrong password.
//!
//! Each test checks twice: the engine's events, and SIPp's verdict on our bytes (its
//! scenario checks the Authorization fields and Expires with regexps and `<verifyauth>`, and
//! exits non-zero if any check fails). The REGISTERs SIPp received are also checked here,
//! from its message trace: one Call-ID and From tag, CSeq + 1 and a new branch each time.

use std::time::Duration;

use ims_core::engine::Event;
use ims_core::transport::Transport;
use ims_core::ua::RegistrationError;
use ims_tests::{
    Phone, RunningSipp, Sipp, SippOutcome, SippTransport, SippUser, TracedMessage, registered,
};

const PASSWORD: &str = "alice-secret";

/// Starts `scenario` as a registrar on a free loopback port, checking answers against
/// [`PASSWORD`].
fn registrar(scenario: &str, transport: SippTransport) -> RunningSipp {
    let alice = SippUser::new("alice", PASSWORD, "ims.test");
    Sipp::new(scenario, &alice)
        .transport(transport)
        .key("password", PASSWORD)
        .timeout(Duration::from_secs(15))
        .serve()
        .expect("start the SIPp registrar")
}

fn engine_transport(transport: SippTransport) -> Transport {
    match transport {
        SippTransport::Udp => Transport::Udp,
        SippTransport::Tcp => Transport::Tcp,
    }
}

/// Waits for SIPp to end and asserts its scenario went through: exit 0, one successful
/// call, no failed one. Prints SIPp's screen, errors and messages otherwise.
fn finish(mut sipp: RunningSipp) -> SippOutcome {
    let outcome = sipp.wait().expect("collect SIPp");
    drop(sipp); // the report below has SIPp's files; a panic now would print them twice
    outcome.assert_one_successful_call();
    outcome
}

/// The distinct REGISTERs SIPp received (retransmissions folded), after checking what every
/// REGISTER of one registration shares and what each changes.
fn registers(outcome: &SippOutcome, phone: &Phone, transport: Transport) -> Vec<TracedMessage> {
    let received = outcome.received_requests();
    let mut distinct: Vec<TracedMessage> = Vec::new();
    for request in received {
        if distinct.iter().any(|seen| seen.text == request.text) {
            continue; // a retransmission: same bytes
        }
        distinct.push(request);
    }
    let local = phone.local_address();
    let via_prefix = format!(
        "SIP/2.0/{} {local};rport;branch=z9hG4bK",
        match transport {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    );
    let report = || outcome.report();
    let first = distinct
        .first()
        .unwrap_or_else(|| panic!("SIPp received no REGISTER\n{}", report()));
    let call_id = first.header("Call-ID").expect("Call-ID");
    let from = first.header("From").expect("From");
    let mut branches = Vec::new();
    let mut cseqs = Vec::new();
    for register in &distinct {
        let context = || format!("in\n{}\n{}", register.text, report());
        assert_eq!(
            register.start_line(),
            "REGISTER sip:ims.test SIP/2.0",
            "{}",
            context()
        );
        let via: Vec<&str> = register.headers("Via").collect();
        assert_eq!(via.len(), 1, "{}", context());
        let branch = via[0]
            .strip_prefix(&via_prefix)
            .unwrap_or_else(|| panic!("Via is not {via_prefix}... {}", context()));
        assert!(
            !branch.is_empty() && branch.chars().all(|c| c.is_ascii_alphanumeric()),
            "{}",
            context()
        );
        branches.push(format!("z9hG4bK{branch}"));
        assert_eq!(register.header("Max-Forwards"), Some("70"), "{}", context());
        assert_eq!(register.header("From"), Some(from), "{}", context());
        assert!(
            from.starts_with("<sip:alice@ims.test>;tag="),
            "{}",
            context()
        );
        assert_eq!(
            register.header("To"),
            Some("<sip:alice@ims.test>"),
            "{}",
            context()
        );
        assert_eq!(register.header("Call-ID"), Some(call_id), "{}", context());
        let cseq = register.header("CSeq").expect("CSeq");
        let number: u32 = cseq
            .strip_suffix(" REGISTER")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("CSeq {cseq:?} {}", context()));
        cseqs.push(number);
        let contact = match transport {
            Transport::Udp => format!("<sip:alice@{local}>"),
            Transport::Tcp => format!("<sip:alice@{local};transport=tcp>"),
        };
        assert_eq!(
            register.header("Contact"),
            Some(contact.as_str()),
            "{}",
            context()
        );
        assert_eq!(register.header("Supported"), Some("path"), "{}", context());
        assert!(register.header("User-Agent").is_some(), "{}", context());
        assert_eq!(
            register.header("Content-Length"),
            Some("0"),
            "{}",
            context()
        );
    }
    for pair in cseqs.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "CSeq goes up by one: {cseqs:?}\n{}",
            report()
        );
    }
    let mut unique = branches.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        branches.len(),
        "a new branch for each REGISTER: {branches:?}"
    );
    distinct
}

fn registered_for(expected: u32) -> impl Fn(&Event) -> bool {
    move |event| matches!(event, Event::Registered { expires, .. } if *expires == expected)
}

fn auth_int_only_with_opaque(transport: SippTransport) {
    let sipp = registrar("registrar-auth-int.xml", transport);
    let ours = engine_transport(transport);
    let mut phone = Phone::start(sipp.local_address(), PASSWORD, ours, 600);
    phone.register();
    let event = phone.wait_for("registration", Duration::from_secs(10), registered);
    assert!(
        registered_for(300)(&event),
        "the lifetime of our Contact in the 200 (300 s), not the one asked for: {event:?}"
    );
    assert_eq!(phone.registering_count(), 2, "{:#?}", phone.seen());
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
    let outcome = finish(sipp);
    let registers = registers(&outcome, &phone, ours);
    assert_eq!(registers.len(), 2, "{}", outcome.report());
}

#[test]
fn answers_auth_int_only_challenge_with_opaque_over_udp() {
    auth_int_only_with_opaque(SippTransport::Udp);
}

#[test]
fn answers_auth_int_only_challenge_with_opaque_over_tcp() {
    auth_int_only_with_opaque(SippTransport::Tcp);
}

#[test]
fn answers_a_stale_nonce_again_without_failing() {
    let sipp = registrar("registrar-stale.xml", SippTransport::Udp);
    let mut phone = Phone::start(sipp.local_address(), PASSWORD, Transport::Udp, 600);
    phone.register();
    let event = phone.wait_for("registration", Duration::from_secs(10), registered);
    assert!(registered_for(600)(&event), "{event:?}");
    assert_eq!(
        phone.registering_count(),
        3,
        "challenge, answer, answer to the stale nonce: {:#?}",
        phone.seen()
    );
    assert!(
        !phone.saw_failure(),
        "a stale nonce is no failure: {:#?}",
        phone.seen()
    );
    let outcome = finish(sipp);
    let registers = registers(&outcome, &phone, Transport::Udp);
    assert_eq!(registers.len(), 3, "{}", outcome.report());
    // Each answer has a cnonce of its own.
    let cnonces: Vec<&str> = registers[1..]
        .iter()
        .map(|r| {
            let authorization = r.header("Authorization").expect("Authorization");
            authorization
                .split(", ")
                .find_map(|field| field.strip_prefix("cnonce="))
                .expect("cnonce")
        })
        .collect();
    assert_ne!(cnonces[0], cnonces[1], "a new cnonce for the new nonce");
}

#[test]
fn interval_too_brief_is_answered_with_min_expires() {
    let sipp = registrar("registrar-interval-too-brief.xml", SippTransport::Udp);
    let mut phone = Phone::start(sipp.local_address(), PASSWORD, Transport::Udp, 60);
    phone.register();
    let event = phone.wait_for("registration", Duration::from_secs(10), registered);
    assert!(
        registered_for(3600)(&event),
        "registered for Min-Expires: {event:?}"
    );
    assert_eq!(
        phone.registering_count(),
        3,
        "401, then 423, then 200: {:#?}",
        phone.seen()
    );
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
    let outcome = finish(sipp);
    let registers = registers(&outcome, &phone, Transport::Udp);
    let expires: Vec<Option<&str>> = registers.iter().map(|r| r.header("Expires")).collect();
    assert_eq!(
        expires,
        [Some("60"), Some("60"), Some("3600")],
        "{}",
        outcome.report()
    );
}

#[test]
fn service_unavailable_is_retried_after_retry_after() {
    let sipp = registrar("registrar-retry-after.xml", SippTransport::Udp);
    let mut phone = Phone::start(sipp.local_address(), PASSWORD, Transport::Udp, 600);
    phone.register();
    let failed = phone.wait_for("503", Duration::from_secs(10), |e| {
        matches!(e, Event::RegistrationFailed { .. })
    });
    let failed_at = phone.seen().last().expect("seen").at;
    let Event::RegistrationFailed {
        reason, retry_in, ..
    } = failed
    else {
        unreachable!()
    };
    assert_eq!(
        reason,
        RegistrationError::Unavailable {
            status: 503,
            reason: "Service Unavailable".to_owned()
        }
    );
    assert_eq!(retry_in, Some(Duration::from_secs(2)), "Retry-After: 2");
    let event = phone.wait_for("registration", Duration::from_secs(10), registered);
    assert!(registered_for(600)(&event), "{event:?}");
    let retried_at = phone
        .seen()
        .iter()
        .rev()
        .find(|seen| matches!(seen.event, Event::Registering { .. }))
        .expect("the retry")
        .at;
    // As the test thread saw the events (the back-off alone would be 0.25–0.5 s here).
    let waited = retried_at.duration_since(failed_at);
    assert!(
        waited >= Duration::from_millis(1800),
        "retried {waited:?} after the 503 with Retry-After: 2"
    );
    assert_eq!(
        phone.registering_count(),
        3,
        "challenge, answer (503), retry (200): {:#?}",
        phone.seen()
    );
    let outcome = finish(sipp);
    let registers = registers(&outcome, &phone, Transport::Udp);
    assert_eq!(registers.len(), 3, "{}", outcome.report());
    // SIPp's own clock: from the 503 it sent to the REGISTER it got.
    let responses: Vec<_> = outcome
        .traced_messages()
        .into_iter()
        .filter(|m| !m.received && m.start_line().starts_with("SIP/2.0 503"))
        .collect();
    let sent = responses
        .first()
        .and_then(|m| m.time_of_day)
        .expect("503 sent");
    let got = registers[2].time_of_day.expect("REGISTER time");
    assert!(
        got.saturating_sub(sent) >= Duration::from_millis(1900),
        "SIPp got the retry {:?} after its 503\n{}",
        got.saturating_sub(sent),
        outcome.report()
    );
}

#[test]
fn wrong_password_gives_up_after_one_answer() {
    let sipp = registrar("registrar-wrong-password.xml", SippTransport::Udp);
    let mut phone = Phone::start(
        sipp.local_address(),
        "not-the-password",
        Transport::Udp,
        600,
    );
    phone.register();
    let failed = phone.wait_for("failure", Duration::from_secs(10), |e| {
        matches!(e, Event::RegistrationFailed { .. })
    });
    let Event::RegistrationFailed {
        reason, retry_in, ..
    } = failed
    else {
        unreachable!()
    };
    assert_eq!(
        reason,
        RegistrationError::AuthenticationFailed {
            username: "alice".to_owned(),
            realm: "ims.test".to_owned()
        }
    );
    assert_eq!(retry_in, None, "a wrong password is not retried");
    assert_eq!(
        phone.registering_count(),
        2,
        "one REGISTER without, one with credentials"
    );
    // SIPp waits 2 s for a third REGISTER (which would fail its scenario); so do we.
    let quiet = phone.next_event_within(Duration::from_secs(2));
    assert!(
        quiet.is_none(),
        "unexpected event after giving up: {quiet:?}"
    );
    let outcome = finish(sipp);
    let registers = registers(&outcome, &phone, Transport::Udp);
    assert_eq!(registers.len(), 2, "{}", outcome.report());
}
