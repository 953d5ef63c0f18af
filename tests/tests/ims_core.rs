//! ims-core's engine against the local IMS core (scripts/ims-core: Kamailio as P-, I- and
//! S-CSCF with imshss as the HSS): AKAv1 registration through P -> I -> S and
//! de-registration, AUTS resynchronisation end to end, a wrong K, and a Digest user.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ims_core::auth::AkaKeys;
use ims_core::auth::SqnState;
use ims_core::engine::{EngineConfig, Event};
use ims_core::transport::Transport;
use ims_core::ua::RegistrationError;
use ims_core::ua::{AccountConfig, ImsConfig};
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
    let mut account = AccountConfig::new("sip:alice@ims.test", "", core.pcscf(), Transport::Udp);
    account.auth_username = Some("alice@ims.test".to_owned());
    account.expires = 600;
    account.ims = Some(Box::new(ImsConfig {
        aka: Some(
            AkaKeys::from_hex(k, None, Some("cd63cb71954a9f4e48a5994e37a02baf"), "0000")
                .expect("alice's keys"),
        ),
        sqn,
        ..ImsConfig::default()
    }));
    account
}

#[test]
fn engine_registers_with_akav1_through_the_ims_core() {
    let _serial = one_at_a_time();
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut phone = Phone::start_with(EngineConfig::default(), alice(&core));
    phone.register();
    let event = phone.wait_for("registration", Duration::from_secs(15), registered);
    let Event::Registered {
        associated_uris, ..
    } = &event
    else {
        panic!("{event:?}")
    };
    assert!(
        associated_uris
            .iter()
            .any(|uri| uri == "sip:alice@ims.test"),
        "P-Associated-URI from the HSS's profile: {event:?}"
    );
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
    // The HSS saw the whole registration: UAR at the I-CSCF, MAR and SAR at the S-CSCF.
    let log = core.hss_log();
    for command in ["\"UAR\"", "\"MAR\"", "\"SAR\""] {
        assert!(
            log.lines()
                .any(|line| line.contains(command) && line.contains("alice@ims.test")),
            "imshss logged no {command} for alice:\n{log}"
        );
    }
    phone.unregister();
    phone.wait_for("de-registration", Duration::from_secs(10), |e| {
        matches!(e, Event::Unregistered { .. })
    });
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
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

/// A UE with the wrong K finds MAC-A wrong on every challenge, answers with an empty
/// response (TS 24.229 §5.1.1.5.3), is never registered, and gives up without a retry.
/// Kamailio's S-CSCF challenges again after each empty response, so ims-core ends with
/// ChallengeLoop rather than NetworkAuthenticationFailed (which it reports when the network
/// refuses instead).
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
        matches!(
            reason,
            RegistrationError::NetworkAuthenticationFailed | RegistrationError::ChallengeLoop
        ),
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
    let mut phone = Phone::start_with(EngineConfig::default(), account);
    phone.register();
    phone.wait_for("registration", Duration::from_secs(15), registered);
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
}
