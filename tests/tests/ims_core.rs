//! ims-core's engine against the local IMS core (scripts/ims-core: Kamailio as P-, I- and
//! S-CSCF with imshss as the HSS): AKAv1 and AKAv2 registration through P -> I -> S and
//! de-registration, AUTS resynchronisation end to end, a wrong K, a Digest user, MESSAGE
//! alice -> bob through the chain (LIR at the I-CSCF), a client fan-out group message, and
//! the reg-event subscription at the S-CSCF, a refresh (re-challenged by the S-CSCF).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ims_core::auth::AkaKeys;
use ims_core::auth::SqnState;
use ims_core::engine::{Command, EngineConfig, Event};
use ims_core::transport::Transport;
use ims_core::ua::RegistrationError;
use ims_core::ua::{AccountConfig, GroupMode, GroupTarget, ImsConfig, OutgoingMessage};
use ims_tests::{ImsCore, Phone, registered};

/// One IMS core at a time: four Kamailio-based cores at once on a 2-core machine make the
/// S-CSCF slow enough to lose the race between its 401 and storing the vector (a Digest
/// answer then finds no vector and is challenged again).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// alice of scripts/ims-core: TS 35.208 test set 1 (K, OPc), AMF 0000.
fn alice(core: &ImsCore) -> AccountConfig {
    alice_with(
        core,
        "465b5ce8b199b49faa5f0a2ee238a6bc",
        SqnState::default(),
    )
}

/// alice with another K, or a USIM that has already seen some SQNs.
fn alice_with(core: &ImsCore, k: &str, sqn: SqnState) -> AccountConfig {
    aka_account(core, "alice", k, "cd63cb71954a9f4e48a5994e37a02baf", sqn)
}

/// bob of scripts/ims-core: TS 35.208 test set 3 (K, OPc), AMF 0000.
fn bob(core: &ImsCore) -> AccountConfig {
    aka_account(
        core,
        "bob",
        "fec86ba6eb707ed08905757b1bb44b8f",
        "1006020f0a478bf6b699f15c062e42b3",
        SqnState::default(),
    )
}

/// `user`@ims.test (IMPI the same) with IMS AKA keys (AMF 0000), over UDP to the P-CSCF.
fn aka_account(core: &ImsCore, user: &str, k: &str, opc: &str, sqn: SqnState) -> AccountConfig {
    let mut account = AccountConfig::new(
        &format!("sip:{user}@ims.test"),
        "",
        core.pcscf(),
        Transport::Udp,
    );
    account.auth_username = Some(format!("{user}@ims.test"));
    account.expires = 600;
    account.ims = Some(Box::new(ImsConfig {
        aka: Some(AkaKeys::from_hex(k, None, Some(opc), "0000").expect("AKA keys")),
        sqn,
        ..ImsConfig::default()
    }));
    account
}

/// carol of scripts/ims-core: a Digest password, no AKA keys.
fn carol(core: &ImsCore) -> AccountConfig {
    let mut account = AccountConfig::new(
        "sip:carol@ims.test",
        "carol-secret",
        core.pcscf(),
        Transport::Udp,
    );
    account.auth_username = Some("carol@ims.test".to_owned());
    // An IMS account: its first REGISTER names the private identity (TS 24.229), which
    // the S-CSCF needs for the MAR.
    account.ims = Some(Box::new(ImsConfig::default()));
    account
}

/// Registers `account` through the core and checks the 200: P-Associated-URI lists `impu`
/// (the HSS's profile) and the Service-Route names the S-CSCF.
#[track_caller]
fn register_with_profile(core: &ImsCore, account: AccountConfig, impu: &str) -> Phone {
    let mut phone = Phone::start_with(EngineConfig::default(), account);
    phone.register();
    let event = phone.wait_for("registration", Duration::from_secs(15), registered);
    let Event::Registered {
        associated_uris,
        service_route,
        ..
    } = &event
    else {
        panic!("{event:?}")
    };
    assert!(
        associated_uris.iter().any(|uri| uri == impu),
        "P-Associated-URI from the HSS's profile: {event:?}"
    );
    assert_service_route(core, service_route);
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
    phone
}

/// De-registers and waits for it, without a failure on the way.
#[track_caller]
fn deregister(phone: &mut Phone) {
    phone.unregister();
    phone.wait_for("de-registration", Duration::from_secs(10), |e| {
        matches!(e, Event::Unregistered { .. })
    });
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
}

/// The Service-Route of a 200 to REGISTER names the S-CSCF of this core (its port), with
/// `lr`: originating requests go P-CSCF -> S-CSCF along it (TS 24.229 §5.1.1.2).
#[track_caller]
fn assert_service_route(core: &ImsCore, service_route: &[String]) {
    let port = format!(":{};", core.scscf().port());
    assert!(
        service_route
            .iter()
            .any(|route| route.contains(&port) && route.contains(";lr")),
        "Service-Route naming the S-CSCF (port {}): {service_route:?}",
        core.scscf().port()
    );
}

/// A phone for `account`, registered through the IMS core.
#[track_caller]
fn registered_phone(account: AccountConfig) -> Phone {
    let mut phone = Phone::start_with(EngineConfig::default(), account);
    phone.register();
    phone.wait_for("registration", Duration::from_secs(15), registered);
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
    phone
}

/// A text MESSAGE to `to` (or to a group) as the application would hand it over.
fn text(id: u64, to: &str, body: &str, group: Option<GroupTarget>) -> OutgoingMessage {
    OutgoingMessage {
        id,
        to: to.to_owned(),
        body: body.as_bytes().to_vec(),
        content_type: "text/plain;charset=UTF-8".to_owned(),
        call_id: None,
        cseq: None,
        group,
        headers: Vec::new(),
    }
}

/// Waits for a MESSAGE at `phone`, answers it 200 (as the application does once it is
/// stored) and returns it.
#[track_caller]
fn receive(phone: &mut Phone, what: &str) -> ims_core::ua::IncomingMessage {
    let event = phone.wait_for(what, Duration::from_secs(15), |e| {
        matches!(e, Event::MessageReceived(_))
    });
    let Event::MessageReceived(message) = event else {
        unreachable!("wait_for returned the event it matched")
    };
    phone.command(Command::Respond {
        transaction: message.transaction,
        status: 200,
        reason: None,
        headers: Vec::new(),
        body: Vec::new(),
    });
    *message
}

#[test]
fn engine_registers_with_akav1_through_the_ims_core() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut phone = register_with_profile(&core, alice(&core), "sip:alice@ims.test");
    // The HSS saw the whole registration: UAR at the I-CSCF, MAR and SAR at the S-CSCF.
    let log = core.hss_log();
    for command in ["\"UAR\"", "\"MAR\"", "\"SAR\""] {
        assert!(
            log.lines()
                .any(|line| line.contains(command) && line.contains("alice@ims.test")),
            "imshss logged no {command} for alice:\n{log}"
        );
    }
    deregister(&mut phone);
}

/// The USIM has seen SEQ 0x8001 in every IND slot, far ahead of the HSS's SQN: it answers
/// the first challenge with AUTS, the S-CSCF sends RAND || AUTS in a MAR, imshss checks
/// MAC-S, takes SQN_MS and sends a fresh vector, which the USIM accepts.
#[test]
fn stale_sqn_is_resynchronised_end_to_end() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let usim: SqnState = (0..32u64)
        .map(|ind| format!("{:012x}", 0x8001 << 5 | ind))
        .collect::<Vec<_>>()
        .join(",")
        .parse()
        .expect("SQN state");
    let account = alice_with(&core, "465b5ce8b199b49faa5f0a2ee238a6bc", usim);
    let mut phone = Phone::start_with(EngineConfig::default(), account);
    phone.register();
    phone.wait_for("registration", Duration::from_secs(20), registered);
    let log = core.hss_log();
    assert!(
        log.contains("SQN resynchronised from AUTS"),
        "imshss did no resynchronisation:\n{log}"
    );
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
}

/// A UE with the wrong K finds MAC-A wrong, answers with an empty response (TS 24.229
/// §5.1.1.5.3), is never registered, and gives up without a retry. Kamailio's S-CSCF
/// challenges again after the empty response; that AUTN fails too, and ims-core stops
/// there with NetworkAuthenticationFailed.
#[test]
fn wrong_k_is_detected_by_the_ue() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let account = alice_with(
        &core,
        "00112233445566778899aabbccddeeff",
        SqnState::default(),
    );
    let mut phone = Phone::start_with(EngineConfig::default(), account);
    phone.register();
    let event = phone.wait_for("failure", Duration::from_secs(15), |e| {
        matches!(e, Event::RegistrationFailed { .. })
    });
    let Event::RegistrationFailed {
        reason, retry_in, ..
    } = event
    else {
        unreachable!("wait_for returned the event it matched")
    };
    assert!(
        matches!(reason, RegistrationError::NetworkAuthenticationFailed),
        "{reason:?}"
    );
    assert_eq!(retry_in, None, "the UE stops after MAC failures");
    assert!(
        !phone.seen().iter().any(|seen| registered(&seen.event)),
        "{:#?}",
        phone.seen()
    );
    let log = core.hss_log();
    assert!(
        !log.lines()
            .any(|line| line.contains("\"SAR\"") && line.contains("alice@ims.test")),
        "the S-CSCF assigned alice although she never authenticated:\n{log}"
    );
}

/// carol has a Digest password: the HSS answers the MAR with SIP-Digest-Authenticate (HA1)
/// and the S-CSCF challenges with MD5.
#[test]
fn digest_subscriber_registers_through_the_ims_core() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut phone = Phone::start_with(EngineConfig::default(), carol(&core));
    phone.register();
    phone.wait_for("registration", Duration::from_secs(15), registered);
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
}

/// alice -> bob, both registered with AKAv1: P-CSCF -> S-CSCF (originating) -> I-CSCF (LIR
/// to find bob's S-CSCF) -> S-CSCF (terminating) -> P-CSCF (bob's Path) -> bob, and bob's
/// 200 all the way back.
#[test]
fn message_goes_through_the_ims_core_with_lir() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut alice = registered_phone(alice(&core));
    let mut bob = registered_phone(bob(&core));
    alice.command(Command::SendMessage {
        account: alice.account(),
        message: text(1, "sip:bob@ims.test", "hello through the core", None),
    });
    let message = receive(&mut bob, "alice's MESSAGE");
    assert_eq!(message.body, b"hello through the core");
    assert_eq!(message.from, "sip:alice@ims.test");
    assert_eq!(
        message.asserted_identity.as_deref(),
        Some("sip:alice@ims.test"),
        "the originating S-CSCF asserts the sender: {message:?}"
    );
    let accepted = alice.wait_for("bob's 200", Duration::from_secs(15), |e| {
        matches!(
            e,
            Event::MessageAccepted { id: 1, .. } | Event::MessageFailed { .. }
        )
    });
    assert!(
        matches!(accepted, Event::MessageAccepted { status: 200, .. }),
        "{accepted:?}"
    );
    let log = core.hss_log();
    assert!(
        log.lines()
            .any(|line| line.contains("\"LIR\"") && line.contains("sip:bob@ims.test")),
        "imshss logged no LIR for bob:\n{log}"
    );
}

/// A group message in client fan-out mode through the chain: alice sends one MESSAGE per
/// member (bob with AKAv1, carol with Digest), each with the same X-Group and a body that
/// lists the members; each copy takes the originating/LIR/terminating path on its own.
#[test]
fn fan_out_group_message_goes_through_the_ims_core() {
    fan_out_through_the_ims_core(Transport::Udp);
}

/// The same with alice registered over TCP: her copies (a text part and the member list,
/// which with a large group outgrows UDP) go over her TCP flow to the P-CSCF, which finds
/// her by that flow, and reach bob and carol over UDP.
#[test]
fn fan_out_over_tcp_goes_through_the_ims_core() {
    fan_out_through_the_ims_core(Transport::Tcp);
}

/// alice (registered over `transport`) sends "hello friends" to the group friends in
/// client fan-out mode; bob and carol each get their copy filed with the group and answer
/// 200.
fn fan_out_through_the_ims_core(transport: Transport) {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut account = alice(&core);
    account.transport = transport;
    let mut alice = registered_phone(account);
    let mut bob = registered_phone(bob(&core));
    let mut carol = registered_phone(carol(&core));
    let members = vec![
        "sip:bob@ims.test".to_owned(),
        "sip:carol@ims.test".to_owned(),
    ];
    let group = GroupTarget {
        name: "friends".to_owned(),
        uri: "sip:friends@ims.test".to_owned(),
        mode: GroupMode::FanOut {
            members: members.clone(),
        },
    };
    alice.command(Command::SendMessage {
        account: alice.account(),
        message: text(7, "", "hello friends", Some(group)),
    });
    for (phone, who) in [(&mut bob, "bob"), (&mut carol, "carol")] {
        let message = receive(phone, &format!("{who}'s copy"));
        assert_eq!(message.body, b"hello friends", "{who}: {message:?}");
        assert_eq!(
            message.group,
            Some(("friends".to_owned(), "sip:friends@ims.test".to_owned())),
            "{who}'s copy is filed with the group: {message:?}"
        );
        assert_eq!(message.to, format!("sip:{who}@ims.test"), "{message:?}");
        let mut listed = message.group_members.clone();
        listed.sort();
        assert!(
            members.iter().all(|member| listed.contains(member)),
            "{who}'s copy lists the members: {message:?}"
        );
    }
    let mut accepted = Vec::new();
    while accepted.len() < 2 {
        let event = alice.wait_for("a member's 200", Duration::from_secs(15), |e| {
            matches!(
                e,
                Event::MessageAccepted { id: 7, .. } | Event::MessageFailed { .. }
            )
        });
        let Event::MessageAccepted {
            member: Some(member),
            status: 200,
            ..
        } = event
        else {
            panic!("{event:?}")
        };
        accepted.push(member);
    }
    accepted.sort();
    assert_eq!(accepted, members);
    // Each copy was located on its own.
    let log = core.hss_log();
    for member in &members {
        assert!(
            log.lines()
                .any(|line| line.contains("\"LIR\"") && line.contains(member.as_str())),
            "imshss logged no LIR for {member}:\n{log}"
        );
    }
}

/// With `reg_event`, alice subscribes to her own registration state at the S-CSCF after
/// registering (through the P-CSCF along the Service-Route); the S-CSCF's NOTIFY carries
/// reginfo naming her active contact.
#[test]
fn reg_event_subscription_gets_reginfo_from_the_s_cscf() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut account = alice(&core);
    if let Some(ims) = account.ims.as_mut() {
        ims.reg_event = true;
    }
    let mut alice = registered_phone(account);
    let subscribed = alice.wait_for("the reg-event subscription", Duration::from_secs(15), |e| {
        matches!(
            e,
            Event::RegEventSubscribed { .. } | Event::RegEventFailed { .. }
        )
    });
    assert!(
        matches!(subscribed, Event::RegEventSubscribed { .. }),
        "{subscribed:?}"
    );
    let event = alice.wait_for("reginfo", Duration::from_secs(15), |e| {
        matches!(e, Event::RegInfo { .. })
    });
    let Event::RegInfo { info, .. } = event else {
        unreachable!("wait_for returned the event it matched")
    };
    assert!(info.full, "the first NOTIFY has the full state: {info:#?}");
    let ours = format!("{}", alice.local_address().port());
    assert!(
        info.registrations.iter().any(|registration| {
            registration.aor == "sip:alice@ims.test"
                && registration.state == "active"
                && registration
                    .contacts
                    .iter()
                    .any(|contact| contact.state == "active" && contact.uri.contains(ours.as_str()))
        }),
        "reginfo names alice's active registration with our contact (port {ours}): {info:#?}"
    );
    assert!(!alice.saw_failure(), "{:#?}", alice.seen());
}

/// The SQN state of the last `SqnUpdated` the phone saw.
fn last_sqn(phone: &Phone) -> Option<String> {
    phone
        .seen()
        .iter()
        .rev()
        .find_map(|seen| match &seen.event {
            Event::SqnUpdated { state, .. } => Some(state.to_string()),
            _ => None,
        })
}

/// A refresh through the chain: the engine re-registers at half the granted 20 s with the
/// AKA context it cached (same nonce, nc=00000002). The S-CSCF does not reuse nonces
/// (ims_auth max_nonce_reuse 0), so it answers with a fresh challenge (a second MAR); the
/// UE answers that one, the S-CSCF assigns again (SAR) and the registration is refreshed
/// without a failure.
#[test]
fn refresh_goes_through_the_ims_core() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut account = alice(&core);
    account.expires = 20;
    let mut alice = registered_phone(account);
    let first_sqn = last_sqn(&alice).expect("the first challenge was accepted");
    let before = alice.registering_count();
    let refreshed = alice.wait_for("the refresh", Duration::from_secs(20), |e| {
        registered(e) || matches!(e, Event::RegistrationFailed { .. })
    });
    assert!(registered(&refreshed), "{refreshed:?}");
    assert!(!alice.saw_failure(), "{:#?}", alice.seen());
    // The refresh with the cached context, then the answer to the new challenge.
    assert_eq!(
        alice.registering_count() - before,
        2,
        "refresh and challenge answer: {:#?}",
        alice.seen()
    );
    let second_sqn = last_sqn(&alice).expect("SQN state");
    assert_ne!(first_sqn, second_sqn, "the new challenge has a fresh SQN");
    // The S-CSCF saw the cached context: the first nonce again with nc=00000002.
    let scscf = core.cscf_log("scscf");
    assert!(
        scscf
            .lines()
            .any(|line| line.contains("authenticate(): uri=") && line.contains("nc=00000002")),
        "no REGISTER with the cached context (nc=00000002) at the S-CSCF:\n{scscf}"
    );
    let log = core.hss_log();
    for (command, count) in [("\"MAR\"", 2), ("\"SAR\"", 2)] {
        let seen = log
            .lines()
            .filter(|line| line.contains(command) && line.contains("alice@ims.test"))
            .count();
        assert_eq!(seen, count, "{command} for alice:\n{log}");
    }
}

/// dave of scripts/ims-core: TS 35.208 test set 4 (K, OPc), AMF 0000, challenged with
/// AKAv2-MD5 because imshss chooses it for him (the S-CSCF leaves the choice to the HSS).
fn dave(core: &ImsCore) -> AccountConfig {
    aka_account(
        core,
        "dave",
        "9e5944aea94b81165c82fbf9f32db751",
        "a64a507ae1a2a98bb88eb4210135dc87",
        SqnState::default(),
    )
}

/// AKAv2-MD5 (RFC 4169) through P -> I -> S: the S-CSCF asks the HSS to choose (MAR
/// scheme "unknown"), imshss answers Digest-AKAv2-MD5 with the RFC 4169 password in
/// SIP-Authorization, the S-CSCF challenges with algorithm=AKAv2-MD5, and the UE's
/// answer (the PRF over RES || IK || CK as the Digest password) is accepted; an AKAv1
/// answer would not match. Then a de-registration.
#[test]
fn engine_registers_with_akav2_through_the_ims_core() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut phone = register_with_profile(&core, dave(&core), "sip:dave@ims.test");
    let log = core.hss_log();
    assert!(
        log.lines().any(|line| line.contains("AKA vectors issued")
            && line.contains("dave@ims.test")
            && line.contains("scheme=\"AKAv2-MD5\"")),
        "imshss issued no AKAv2 vectors for dave:\n{log}"
    );
    deregister(&mut phone);
}
