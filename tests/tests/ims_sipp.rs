//! Our engine and tokio driver against SIPp acting as the S-CSCF of an IMS core
//! (`scripts/peers/sipp/scscf-*.xml`) on loopback: IMS AKA registration (AKAv1-MD5 and
//! AKAv2-MD5, TS 24.229 §5.1.1.2), SQN resynchronisation, a network that fails
//! authentication, and network-initiated de-registration through the reg event package
//! (RFC 3680, TS 24.229 §5.1.1.7).
//!
//! The test plays the HSS: it builds each challenge from TS 35.208 test set 1 (nonce =
//! base64(RAND || AUTN)) and computes the answers it expects (response, AUTS), and hands
//! both to SIPp as keys. SIPp checks our REGISTERs and SUBSCRIBE with regexps and compares
//! the Authorization fields with the expected values exactly; any difference makes it exit
//! non-zero. Each test also checks the engine's events, and the requests in SIPp's trace.

use std::time::Duration;

use ims_core::auth::aka::{self, AkaVersion};
use ims_core::auth::digest::{self, Algorithm, Secret};
use ims_core::auth::{AkaKeys, SqnState};
use ims_core::engine::{EngineConfig, Event, RegistrationPolicy};
use ims_core::ims::reginfo::RegInfo;
use ims_core::transaction::TimerConfig;
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, ImsConfig, RegistrationError};
use ims_tests::{PHONE_AOR, Phone, RunningSipp, Sipp, SippOutcome, SippUser, TracedMessage};

/// The private identity (IMPI); deliberately not the AOR's user part.
const IMPI: &str = "alice.private@ims.test";
const REALM: &str = "ims.test";
const REGISTRAR_URI: &str = "sip:ims.test";
const EXPIRES: u32 = 600_000;
const ACCESS_NETWORK_INFO: &str = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001000019B";

/// TS 35.208 test set 1 (core/tests/vectors/milenage.json): K, OP, AMF, RAND and the
/// outputs for that RAND.
const SET1_K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const SET1_OP: &str = "cdc202d5123e20f62b6d676ac72cb318";
const SET1_AMF: &str = "b9b9";
const SET1_RAND: &str = "23553cbe9637a89d218ae64dae47bf35";
const SET1_RES: &str = "a54211d5e3ba50bf";
const SET1_AK: &str = "aa689c648370";
/// TS 35.208 test set 3: another subscriber's K and OP (a network that does not know ours).
const SET3_K: &str = "fec86ba6eb707ed08905757b1bb44b8f";
const SET3_OP: &str = "dbc59adcb6f9a0ef735477b7fadf8374";

/// Further RANDs for second challenges (any 16 octets do).
const RAND_2: &str = "9f7c8d021accf4db213ccff0c7f71a6a";

fn hex<const N: usize>(text: &str) -> [u8; N] {
    assert_eq!(text.len(), 2 * N, "{text}");
    let mut out = [0u8; N];
    for (index, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * index..2 * index + 2], 16).expect("hex");
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), written here so that the expected nonce
/// and AUTS do not come from the engine's own encoder.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sqn_bytes(sqn: u64) -> [u8; 6] {
    let be = sqn.to_be_bytes();
    [be[2], be[3], be[4], be[5], be[6], be[7]]
}

/// Our subscriber: TS 35.208 set 1.
fn our_keys() -> AkaKeys {
    AkaKeys::from_hex(SET1_K, Some(SET1_OP), None, SET1_AMF).expect("set 1 keys")
}

/// The nonce an S-CSCF sends for `rand` and `sqn` (RFC 3310 §3.2: base64(RAND || AUTN),
/// AUTN = SQN xor AK || AMF || MAC-A, TS 33.102 §6.3.2), built here from the Milenage
/// functions and checked against [`AkaKeys::challenge_nonce`].
fn challenge(keys: &AkaKeys, rand: &[u8; 16], sqn: u64) -> String {
    let milenage = keys.milenage();
    let ak = milenage.f2345(rand).ak;
    let sqn_octets = sqn_bytes(sqn);
    let mac_a = milenage.f1(rand, &sqn_octets, &keys.amf());
    let mut octets = rand.to_vec();
    octets.extend(sqn_octets.iter().zip(&ak).map(|(s, a)| s ^ a));
    octets.extend_from_slice(&keys.amf());
    octets.extend_from_slice(&mac_a);
    let nonce = base64(&octets);
    assert_eq!(nonce, keys.challenge_nonce(rand, sqn));
    nonce
}

/// The Digest response without qop (RFC 2617 §3.2.2.1, RFC 2069 form) to a REGISTER to
/// [`REGISTRAR_URI`] with `password`.
fn digest_response(algorithm: Algorithm, nonce: &str, password: &Secret) -> String {
    let ha1 = digest::ha1(algorithm, IMPI, REALM, password, nonce, "");
    let ha2 = digest::ha2(algorithm, "REGISTER", REGISTRAR_URI, None, b"");
    digest::response(algorithm, &ha1, nonce, 0, "", None, &ha2)
        .as_str()
        .to_owned()
}

/// The response a right answer to an AKA challenge for `rand` carries: the password is RES
/// (AKAv1, RFC 3310 §3.3) or base64 of the RFC 4169 PRF over RES || IK || CK (AKAv2).
fn aka_response(version: AkaVersion, rand: &[u8; 16], nonce: &str) -> String {
    let vector = our_keys().milenage().f2345(rand);
    let password = aka::password(version, &vector.res, &vector.ik, &vector.ck);
    digest_response(version.algorithm(), nonce, &password)
}

/// AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S = f1*(SQN_MS, RAND, AMF 0000), base64
/// (TS 33.102 §6.3.3, RFC 3310 §3.4).
fn expected_auts(rand: &[u8; 16], sqn_ms: u64) -> String {
    let milenage = our_keys().milenage();
    let sqn = sqn_bytes(sqn_ms);
    let ak_star = milenage.f5_star(rand);
    let mac_s = milenage.f1_star(rand, &sqn, &[0, 0]);
    let mut octets: Vec<u8> = sqn.iter().zip(&ak_star).map(|(s, a)| s ^ a).collect();
    octets.extend_from_slice(&mac_s);
    base64(&octets)
}

/// An IMS account for [`PHONE_AOR`] with our AKA keys, registering at `sipp`.
fn ims_account(sipp: &RunningSipp, sqn: SqnState, reg_event: bool) -> AccountConfig {
    // No Digest password: only AKA can answer.
    let mut account = AccountConfig::new(PHONE_AOR, "", sipp.local_address(), Transport::Udp);
    account.auth_username = Some(IMPI.to_owned());
    account.expires = EXPIRES;
    account.ims = Some(Box::new(ImsConfig {
        aka: Some(our_keys()),
        sqn,
        reg_event,
        access_network_info: Some(ACCESS_NETWORK_INFO.to_owned()),
        ..ImsConfig::default()
    }));
    account
}

/// A phone with short timers (as `Phone::start`): a dead peer is noticed within seconds.
fn phone(account: AccountConfig) -> Phone {
    let config = EngineConfig {
        timers: TimerConfig {
            t1: Duration::from_millis(100),
            ..TimerConfig::default()
        },
        registration: RegistrationPolicy {
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(2),
            ..RegistrationPolicy::default()
        },
        ..EngineConfig::default()
    };
    Phone::start_with(config, account)
}

/// Starts `scenario` as the S-CSCF on a free loopback port with `keys`, for `calls`
/// Call-IDs.
fn scscf(scenario: &str, calls: u32, keys: &[(&str, &str)]) -> RunningSipp {
    let user = SippUser::new("alice", "unused", REALM);
    let mut sipp = Sipp::new(scenario, &user)
        .calls(calls)
        .timeout(Duration::from_secs(20));
    for (name, value) in keys {
        sipp = sipp.key(name, value);
    }
    sipp.serve().expect("start the SIPp S-CSCF")
}

/// Waits for SIPp to end and asserts it exited 0 with `calls` successful calls and no
/// failed one.
fn finish(mut sipp: RunningSipp, calls: u64) -> SippOutcome {
    let outcome = sipp.wait().expect("collect SIPp");
    drop(sipp); // the report below has SIPp's files; a panic now would print them twice
    outcome.assert_success();
    assert_eq!(
        outcome.call_counts(),
        Some(ims_tests::CallCounts {
            successful: calls,
            failed: 0
        }),
        "{} statistics\n{}",
        outcome.name,
        outcome.report()
    );
    outcome
}

/// The distinct requests SIPp received (retransmissions folded), in order.
fn distinct_requests(outcome: &SippOutcome) -> Vec<TracedMessage> {
    let mut distinct: Vec<TracedMessage> = Vec::new();
    for request in outcome.received_requests() {
        if !distinct.iter().any(|seen| seen.text == request.text) {
            distinct.push(request);
        }
    }
    distinct
}

/// The value of `name="..."` (or `name=token`) in an Authorization header.
fn auth_param<'a>(authorization: &'a str, name: &str) -> Option<&'a str> {
    let rest = authorization.strip_prefix("Digest ")?;
    rest.split(", ").find_map(|field| {
        let value = field.strip_prefix(name)?.strip_prefix('=')?;
        Some(value.trim_matches('"'))
    })
}

/// The events that tell the story of a registration, without the REGISTERs sent.
fn story(phone: &Phone) -> Vec<String> {
    phone
        .seen()
        .iter()
        .filter_map(|seen| match &seen.event {
            Event::Registering { .. } | Event::SqnUpdated { .. } => None,
            Event::Registered {
                expires,
                associated_uris,
                ..
            } => Some(format!("Registered {expires} {associated_uris:?}")),
            Event::RegistrationFailed {
                reason, retry_in, ..
            } => Some(format!("RegistrationFailed {reason:?} {retry_in:?}")),
            Event::RegEventSubscribed { expires, .. } => {
                Some(format!("RegEventSubscribed {expires}"))
            }
            Event::RegInfo { info, .. } => Some(reginfo_summary(info)),
            other => Some(format!("{other:?}")),
        })
        .collect()
}

fn reginfo_summary(info: &RegInfo) -> String {
    let registrations: Vec<String> = info
        .registrations
        .iter()
        .map(|registration| {
            let contacts: Vec<String> = registration
                .contacts
                .iter()
                .map(|c| format!("{} {} {:?}", c.uri, c.state, c.event))
                .collect();
            format!(
                "{} {} [{}]",
                registration.aor,
                registration.state,
                contacts.join(", ")
            )
        })
        .collect();
    format!(
        "RegInfo v{} {} {}",
        info.version,
        if info.full { "full" } else { "partial" },
        registrations.join("; ")
    )
}

fn registered_story() -> String {
    format!("Registered {EXPIRES} [\"sip:alice@ims.test\", \"tel:+15551234567\"]")
}

/// The SQN states the engine reported, as their highest SQN.
fn sqn_updates(phone: &Phone) -> Vec<u64> {
    phone
        .seen()
        .iter()
        .filter_map(|seen| match &seen.event {
            Event::SqnUpdated { state, .. } => Some(state.highest()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_test_subscriber_is_ts_35_208_set_1() {
    let rand = hex::<16>(SET1_RAND);
    let vector = our_keys().milenage().f2345(&rand);
    assert_eq!(vector.res, hex::<8>(SET1_RES));
    assert_eq!(vector.ak, hex::<6>(SET1_AK));
    // RFC 4648 §10.
    assert_eq!(base64(b"fooba"), "Zm9vYmE=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(base64(b"foo"), "Zm9v");
}

fn registers_with_aka(version: AkaVersion) {
    let rand = hex::<16>(SET1_RAND);
    let sqn = 1 << 5 | 1; // SEQ 1, IND 1
    let nonce = challenge(&our_keys(), &rand, sqn);
    let response = aka_response(version, &rand, &nonce);
    let algorithm = version.algorithm().as_str();
    let sipp = scscf(
        "scscf-aka.xml",
        1,
        &[
            ("algorithm", algorithm),
            ("nonce", &nonce),
            ("response", &response),
        ],
    );
    let mut account = ims_account(&sipp, SqnState::default(), false);
    if let Some(ims) = account.ims.as_mut() {
        ims.security_client = Some("digest".to_owned());
    }
    let mut phone = phone(account);
    phone.register();
    phone.wait_for("registration", Duration::from_secs(10), |e| {
        matches!(e, Event::Registered { .. })
    });
    assert_eq!(story(&phone), [registered_story()], "{:#?}", phone.seen());
    assert_eq!(phone.registering_count(), 2, "{:#?}", phone.seen());
    assert_eq!(sqn_updates(&phone), [sqn], "{:#?}", phone.seen());
    let outcome = finish(sipp, 1);
    let registers = distinct_requests(&outcome);
    assert_eq!(registers.len(), 2, "{}", outcome.report());
    let answer = registers[1].header("Authorization").expect("Authorization");
    assert_eq!(auth_param(answer, "response"), Some(response.as_str()));
    assert_eq!(auth_param(answer, "algorithm"), Some(algorithm));
}

#[test]
fn registers_with_akav1_md5_at_the_scscf() {
    registers_with_aka(AkaVersion::V1);
}

#[test]
fn registers_with_akav2_md5_at_the_scscf() {
    registers_with_aka(AkaVersion::V2);
}

#[test]
fn resynchronises_a_stale_sqn_with_auts() {
    let rand = hex::<16>(SET1_RAND);
    let rand2 = hex::<16>(RAND_2);
    // The ISIM has accepted SEQ 1000 in slot 7; the network's vector has SEQ 990 there.
    let sqn_ms = 1000 << 5 | 7;
    let mut state = SqnState::default();
    state.accept(sqn_ms);
    let stale = 990 << 5 | 7;
    let nonce = challenge(&our_keys(), &rand, stale);
    // RFC 3310 §3.4: the resynchronising answer's response uses an empty password.
    let resync_response = digest_response(Algorithm::AkaV1Md5, &nonce, &Secret::new(Vec::new()));
    let auts = expected_auts(&rand, sqn_ms);
    // The HSS takes SQN_MS from AUTS and makes the next vector past it.
    let fresh = sqn_ms + 32;
    let nonce2 = challenge(&our_keys(), &rand2, fresh);
    let response2 = aka_response(AkaVersion::V1, &rand2, &nonce2);
    let sipp = scscf(
        "scscf-aka-resync.xml",
        1,
        &[
            ("nonce", &nonce),
            ("response", &resync_response),
            ("auts", &auts),
            ("nonce2", &nonce2),
            ("response2", &response2),
        ],
    );
    let mut phone = phone(ims_account(&sipp, state, false));
    phone.register();
    phone.wait_for("registration", Duration::from_secs(10), |e| {
        matches!(e, Event::Registered { .. })
    });
    assert_eq!(
        story(&phone),
        [registered_story()],
        "a resynchronisation is no failure: {:#?}",
        phone.seen()
    );
    assert_eq!(
        phone.registering_count(),
        3,
        "initial, auts, answer: {:#?}",
        phone.seen()
    );
    assert_eq!(
        sqn_updates(&phone),
        [fresh],
        "only the accepted SQN is stored: {:#?}",
        phone.seen()
    );
    let outcome = finish(sipp, 1);
    let registers = distinct_requests(&outcome);
    assert_eq!(registers.len(), 3, "{}", outcome.report());
    // The network side of the resynchronisation: AUTS verifies and names SQN_MS.
    let sent = registers[1].header("Authorization").expect("Authorization");
    let sent_auts = auth_param(sent, "auts").expect("auts");
    assert_eq!(our_keys().verify_auts(&rand, sent_auts), Ok(sqn_ms));
    let answer = registers[2].header("Authorization").expect("Authorization");
    assert_eq!(auth_param(answer, "auts"), None, "auts is sent once");
}

#[test]
fn stops_when_the_network_fails_authentication() {
    let rand = hex::<16>(SET1_RAND);
    let impostor = AkaKeys::from_hex(SET3_K, Some(SET3_OP), None, SET1_AMF).expect("set 3 keys");
    let nonce = challenge(&impostor, &rand, 1 << 5 | 1);
    assert!(
        matches!(
            aka::answer(
                &our_keys(),
                AkaVersion::V1,
                &nonce,
                &mut SqnState::default()
            ),
            Err(ims_core::auth::AkaError::MacFailure)
        ),
        "the impostor's AUTN must not verify with our keys"
    );
    // TS 24.229 §5.1.1.5.3 (TS 34.229-1 §9.1): the answer carries an empty response and
    // no auts.
    let sipp = scscf(
        "scscf-aka-mac-failure.xml",
        1,
        &[("nonce", &nonce), ("response", "")],
    );
    let mut phone = phone(ims_account(&sipp, SqnState::default(), false));
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
    assert_eq!(reason, RegistrationError::NetworkAuthenticationFailed);
    assert_eq!(retry_in, None, "a network that fails AKA is not retried");
    assert_eq!(phone.registering_count(), 2, "{:#?}", phone.seen());
    // SIPp waits 2 s for another REGISTER (which would fail its scenario); so do we.
    let quiet = phone.next_event_within(Duration::from_secs(2));
    assert!(
        quiet.is_none(),
        "unexpected event after giving up: {quiet:?}"
    );
    assert_eq!(sqn_updates(&phone), [0u64; 0], "no SQN accepted");
    let outcome = finish(sipp, 1);
    let registers = distinct_requests(&outcome);
    assert_eq!(registers.len(), 2, "{}", outcome.report());
}

#[test]
fn follows_network_deregistration_by_reg_event() {
    let rand = hex::<16>(SET1_RAND);
    let rand2 = hex::<16>(RAND_2);
    let sqn = 2 << 5 | 3;
    let nonce = challenge(&our_keys(), &rand, sqn);
    let response = aka_response(AkaVersion::V1, &rand, &nonce);
    // The next vector of the same subscriber: next SEQ in the same slot.
    let sqn2 = sqn + 32;
    let nonce2 = challenge(&our_keys(), &rand2, sqn2);
    let response2 = aka_response(AkaVersion::V1, &rand2, &nonce2);
    // The REGISTERs and the SUBSCRIBE are two Call-IDs: two SIPp calls.
    let sipp = scscf(
        "scscf-reg-event.xml",
        2,
        &[
            ("nonce", &nonce),
            ("response", &response),
            ("nonce2", &nonce2),
            ("response2", &response2),
        ],
    );
    let mut phone = phone(ims_account(&sipp, SqnState::default(), true));
    let contact = format!("sip:alice@{}", phone.local_address());
    phone.register();
    phone.wait_for("rejected", Duration::from_secs(15), |e| {
        matches!(
            e,
            Event::RegistrationFailed {
                reason: RegistrationError::NetworkDeregistered { event },
                ..
            } if event == "rejected"
        )
    });
    // SIPp waits 2 s for a REGISTER (which would fail its scenario); so do we.
    let quiet = phone.next_event_within(Duration::from_secs(2));
    assert!(
        quiet.is_none(),
        "unexpected event after rejected: {quiet:?}"
    );
    let both = |state: &str, event: &str| {
        format!(
            "sip:alice@ims.test {state} [{contact} {state} Some({event:?})]; \
             tel:+15551234567 active [{contact} active Some(\"created\")]"
        )
    };
    let terminated = |event: &str| {
        format!("sip:alice@ims.test terminated [{contact} terminated Some({event:?})]")
    };
    assert_eq!(
        story(&phone),
        [
            registered_story(),
            format!("RegEventSubscribed {EXPIRES}"),
            format!("RegInfo v0 full {}", both("active", "registered")),
            format!("RegInfo v1 partial {}", terminated("deactivated")),
            format!(
                "RegistrationFailed {:?} Some(0ns)",
                RegistrationError::NetworkDeregistered {
                    event: "deactivated".to_owned()
                }
            ),
            registered_story(),
            format!("RegInfo v2 partial {}", terminated("rejected")),
            format!(
                "RegistrationFailed {:?} None",
                RegistrationError::NetworkDeregistered {
                    event: "rejected".to_owned()
                }
            ),
        ],
        "{:#?}",
        phone.seen()
    );
    assert_eq!(
        phone.registering_count(),
        4,
        "two AKA registrations: {:#?}",
        phone.seen()
    );
    assert_eq!(sqn_updates(&phone), [sqn, sqn2], "{:#?}", phone.seen());
    let outcome = finish(sipp, 2);
    let requests = distinct_requests(&outcome);
    let methods: Vec<&str> = requests
        .iter()
        .map(|r| r.start_line().split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(
        methods,
        ["REGISTER", "REGISTER", "SUBSCRIBE", "REGISTER", "REGISTER"],
        "{}",
        outcome.report()
    );
    // The re-registration keeps the registration's Call-ID and From tag (RFC 3261
    // §10.2.4), with a higher CSeq.
    assert_eq!(requests[3].header("Call-ID"), requests[0].header("Call-ID"));
    assert_eq!(requests[3].header("From"), requests[0].header("From"));
    // The three NOTIFYs were each answered 200 by us, in the subscription's dialog.
    assert_eq!(
        outcome.received_responses(),
        ["SIP/2.0 200 OK"; 3],
        "{}",
        outcome.report()
    );
    let subscribe = &requests[2];
    let answers: Vec<TracedMessage> = outcome
        .traced_messages()
        .into_iter()
        .filter(|m| m.received && m.start_line().starts_with("SIP/2.0 "))
        .collect();
    for (answer, cseq) in answers.iter().zip(["1 NOTIFY", "2 NOTIFY", "3 NOTIFY"]) {
        let context = || format!("{}\n{}", answer.text, outcome.report());
        assert_eq!(answer.header("CSeq"), Some(cseq), "{}", context());
        assert_eq!(
            answer.header("Call-ID"),
            subscribe.header("Call-ID"),
            "{}",
            context()
        );
        assert_eq!(
            answer.header("To"),
            subscribe.header("From"),
            "{}",
            context()
        );
    }
}
