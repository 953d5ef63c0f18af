//! Cx sequences as the CSCFs run them, with ims-core's USIM side (`aka::answer`) playing
//! the UE: registration state through UAR/SAR/LIR, SQN advancing per vector, AUTS
//! resynchronisation, AKAv2, pattern subscribers.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ims_core::auth::aka::{self, AkaAnswer, AkaKeys, AkaVersion, SqnState};
use ims_hss::avp::AvpIter;
use ims_hss::cx::Akav2Authorization;
use ims_hss::subscriber::pattern_keys;
use ims_hss::{Hss, RandSource};
use support::*;

fn uar(impi: &str, impu: &str, kind: u32) -> Vec<u8> {
    cx_request(
        300,
        &[
            base(1, impi.as_bytes()),
            tgpp(601, impu.as_bytes()),
            tgpp(600, b"ims.test"),
            tgpp(623, &kind.to_be_bytes()),
        ],
    )
}

fn sar(impi: &str, impu: &str, kind: u32) -> Vec<u8> {
    cx_request(
        301,
        &[
            base(1, impi.as_bytes()),
            tgpp(601, impu.as_bytes()),
            tgpp(602, b"sip:scscf.ims.test:16060"),
            tgpp(614, &kind.to_be_bytes()),
            tgpp(624, &0u32.to_be_bytes()),
        ],
    )
}

fn lir(impu: &str) -> Vec<u8> {
    cx_request(302, &[tgpp(601, impu.as_bytes())])
}

fn mar(impi: &str, impu: &str, scheme: &str, count: u32, authorization: Option<&[u8]>) -> Vec<u8> {
    let mut item = tgpp(608, scheme.as_bytes());
    if let Some(authorization) = authorization {
        item.extend(tgpp(610, authorization));
    }
    cx_request(
        303,
        &[
            base(1, impi.as_bytes()),
            tgpp(601, impu.as_bytes()),
            tgpp(607, &count.to_be_bytes()),
            tgpp(612, &item),
            tgpp(602, b"sip:scscf.ims.test:16060"),
        ],
    )
}

/// Scheme, SIP-Authenticate, SIP-Authorization, CK and IK of one SIP-Auth-Data-Item.
type Item = (String, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

/// The items of an MAA.
fn items(answer: &Answer) -> Vec<Item> {
    answer
        .avps()
        .into_iter()
        .filter(|a| a.code == 612)
        .map(|item| {
            let inner: Vec<_> = AvpIter::new(item.data).map(|a| a.unwrap()).collect();
            let get = |code| {
                inner
                    .iter()
                    .find(|a| a.code == code)
                    .map(|a| a.data.to_vec())
                    .unwrap_or_default()
            };
            (
                String::from_utf8(get(608)).unwrap(),
                get(609),
                get(610),
                get(625),
                get(626),
            )
        })
        .collect()
}

fn alice_keys() -> AkaKeys {
    AkaKeys::from_hex(SET1_K, None, Some(SET1_OPC), "0000").unwrap()
}

#[test]
fn registration_lifecycle_through_uar_sar_lir() {
    let mut hss = hss();
    let (alice, impu) = ("alice@ims.test", "sip:alice@ims.test");
    let first = Answer::new(reply(&mut hss, &uar(alice, impu, 0)));
    assert_eq!(first.experimental_code(), Some(2001));
    assert_eq!(first.text(602).as_deref(), Some("sip:scscf"));
    let mar_answer = Answer::new(reply(
        &mut hss,
        &mar(alice, impu, "Digest-AKAv1-MD5", 1, None),
    ));
    assert_eq!(mar_answer.result_code(), Some(2001));
    // The MAR stored the S-CSCF's name: the next UAR names it, still a first registration.
    let pending = Answer::new(reply(&mut hss, &uar(alice, impu, 0)));
    assert_eq!(pending.experimental_code(), Some(2001));
    assert_eq!(
        pending.text(602).as_deref(),
        Some("sip:scscf.ims.test:16060")
    );
    let saa = Answer::new(reply(&mut hss, &sar(alice, impu, 1)));
    assert_eq!(saa.result_code(), Some(2001));
    assert!(
        saa.text(606)
            .unwrap()
            .contains("<Identity>tel:+15550100</Identity>")
    );
    let again = Answer::new(reply(&mut hss, &uar(alice, impu, 0)));
    assert_eq!(again.experimental_code(), Some(2002));
    let lia = Answer::new(reply(&mut hss, &lir("tel:+15550100")));
    assert_eq!(lia.result_code(), Some(2001));
    assert_eq!(lia.text(602).as_deref(), Some("sip:scscf.ims.test:16060"));
    let dereg = Answer::new(reply(&mut hss, &uar(alice, impu, 1)));
    assert_eq!(dereg.result_code(), Some(2001));
    // USER_DEREGISTRATION: no profile, state cleared.
    let saa = Answer::new(reply(&mut hss, &sar(alice, impu, 5)));
    assert_eq!(saa.result_code(), Some(2001));
    assert_eq!(saa.find(606), None);
    let lia = Answer::new(reply(&mut hss, &lir(impu)));
    assert_eq!(lia.experimental_code(), Some(2003));
    let dereg = Answer::new(reply(&mut hss, &uar(alice, impu, 1)));
    assert_eq!(dereg.experimental_code(), Some(5003));
    // UNREGISTERED_USER (a terminating request for a not-registered user).
    let saa = Answer::new(reply(&mut hss, &sar(alice, impu, 3)));
    assert!(saa.find(606).is_some());
    let lia = Answer::new(reply(&mut hss, &lir(impu)));
    assert_eq!(lia.result_code(), Some(2001));
    let unknown = Answer::new(reply(&mut hss, &lir("sip:nobody@ims.test")));
    assert_eq!(unknown.experimental_code(), Some(5001));
    assert_eq!(hss.counters.uar, 5);
    assert_eq!(hss.counters.lir, 4);
}

#[test]
fn ue_accepts_each_vector_and_sqn_advances() {
    let mut hss = hss();
    hss.rand = RandSource::seeded([3; 32]);
    let keys = alice_keys();
    let mut usim = SqnState::default();
    let mut last_sqn = 0;
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            3,
            None,
        ),
    ));
    let vectors = items(&answer);
    assert_eq!(vectors.len(), 3);
    for (scheme, authenticate, xres, ck, ik) in vectors {
        assert_eq!(scheme, "Digest-AKAv1-MD5");
        match answer_for(&keys, &authenticate, &mut usim) {
            AkaAnswer::Respond {
                password,
                sqn,
                ck: ue_ck,
                ik: ue_ik,
            } => {
                assert!(sqn > last_sqn, "SQN advances per vector");
                last_sqn = sqn;
                assert_eq!(password.expose(), &xres[..], "AKAv1 password is RES = XRES");
                assert_eq!((&ue_ck[..], &ue_ik[..]), (&ck[..], &ik[..]));
            }
            other => panic!("vector refused: {other:?}"),
        }
    }
    // A later MAR continues from the SQN reached.
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            1,
            None,
        ),
    ));
    let (_, authenticate, ..) = items(&answer).remove(0);
    match answer_for(&keys, &authenticate, &mut usim) {
        AkaAnswer::Respond { sqn, .. } => assert!(sqn > last_sqn),
        other => panic!("vector refused: {other:?}"),
    }
    assert_eq!(hss.counters.vectors, 4);
}

#[test]
fn auts_resynchronises_and_the_next_vector_is_accepted() {
    let mut hss = hss();
    hss.rand = RandSource::seeded([4; 32]);
    let keys = alice_keys();
    // The USIM has seen SEQ 0x8001 in IND slot 1, where the HSS's first vector lands.
    let mut usim: SqnState = "000000100021".parse().unwrap();
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            1,
            None,
        ),
    ));
    let (_, authenticate, ..) = items(&answer).remove(0);
    let auts = match answer_for(&keys, &authenticate, &mut usim) {
        AkaAnswer::Resync { auts } => STANDARD.decode(auts).unwrap(),
        other => panic!("expected a resync, got {other:?}"),
    };
    // The S-CSCF sends RAND || AUTS in SIP-Authorization.
    let mut rand_auts = authenticate[..16].to_vec();
    rand_auts.extend_from_slice(&auts);
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            1,
            Some(&rand_auts),
        ),
    ));
    assert_eq!(answer.result_code(), Some(2001));
    let (_, authenticate, ..) = items(&answer).remove(0);
    match answer_for(&keys, &authenticate, &mut usim) {
        AkaAnswer::Respond { sqn, .. } => assert!(sqn > 0x0010_0020),
        other => panic!("vector after resync refused: {other:?}"),
    }
    assert_eq!(hss.counters.resyncs, 1);
    // A forged AUTS is refused with 5003 and the SQN is not moved.
    let before = hss
        .subscribers
        .state(hss.subscribers.by_impi("alice@ims.test").unwrap());
    rand_auts[29] ^= 0x55;
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            1,
            Some(&rand_auts),
        ),
    ));
    assert_eq!(answer.result_code(), Some(5003));
    let after = hss
        .subscribers
        .state(hss.subscribers.by_impi("alice@ims.test").unwrap());
    assert_eq!(before.sqn, after.sqn);
    // RAND || AUTS of the wrong size is an invalid value.
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            1,
            Some(&rand_auts[..20]),
        ),
    ));
    assert_eq!(answer.result_code(), Some(5004));
}

/// The one item of a MAR for alice asking for Digest-AKAv2-MD5.
fn alice_akav2_item(hss: &mut Hss) -> Item {
    let answer = Answer::new(reply(
        hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv2-MD5",
            1,
            None,
        ),
    ));
    items(&answer).remove(0)
}

/// alice's USIM (fresh SQN state) answering a SIP-Authenticate (RAND || AUTN).
fn usim_answer(version: AkaVersion, authenticate: &[u8]) -> AkaAnswer {
    let nonce = STANDARD.encode(authenticate);
    aka::answer(&alice_keys(), version, &nonce, &mut SqnState::default()).unwrap()
}

#[test]
fn akav2_is_answered_with_its_scheme() {
    let mut hss = hss();
    hss.rand = RandSource::seeded([5; 32]);
    let (scheme, authenticate, authorization, ck, ik) = alice_akav2_item(&mut hss);
    assert_eq!(scheme, "Digest-AKAv2-MD5");
    match usim_answer(AkaVersion::V2, &authenticate) {
        AkaAnswer::Respond {
            password,
            ck: ue_ck,
            ik: ue_ik,
            ..
        } => {
            // SIP-Authorization carries the RFC 4169 password (base64 of the PRF over
            // RES || IK || CK), which is what Kamailio's S-CSCF digests with.
            assert_eq!(authorization, password.expose());
            assert_eq!(authorization.len(), 24, "base64 of a 16-octet HMAC-MD5");
            assert_eq!((&ck[..], &ik[..]), (&ue_ck[..], &ue_ik[..]));
        }
        other => panic!("vector refused: {other:?}"),
    }
    // The HSS chooses (alice's own AKAv1) when the S-CSCF asks for "unknown".
    let answer = Answer::new(reply(
        &mut hss,
        &mar("alice@ims.test", "sip:alice@ims.test", "unknown", 1, None),
    ));
    assert_eq!(items(&answer)[0].0, "Digest-AKAv1-MD5");
}

#[test]
fn akav2_with_xres_in_sip_authorization() {
    let mut hss = hss_with(|config| config.akav2_authorization = Akav2Authorization::Xres);
    let (scheme, authenticate, authorization, ..) = alice_akav2_item(&mut hss);
    assert_eq!(scheme, "Digest-AKAv2-MD5");
    match usim_answer(AkaVersion::V1, &authenticate) {
        // AKAv1's password is RES itself: SIP-Authorization is XRES = RES.
        AkaAnswer::Respond { password, .. } => assert_eq!(authorization, password.expose()),
        other => panic!("vector refused: {other:?}"),
    }
}

#[test]
fn a_subscriber_with_akav2_gets_it_when_the_hss_chooses() {
    let mut hss = hss();
    for asked in ["unknown", "HSS-Selected", ""] {
        let answer = Answer::new(reply(
            &mut hss,
            &mar("dave@ims.test", "sip:dave@ims.test", asked, 1, None),
        ));
        assert_eq!(items(&answer)[0].0, "Digest-AKAv2-MD5", "asked {asked:?}");
    }
    // An S-CSCF that names a scheme gets that one.
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "dave@ims.test",
            "sip:dave@ims.test",
            "Digest-AKAv1-MD5",
            1,
            None,
        ),
    ));
    assert_eq!(items(&answer)[0].0, "Digest-AKAv1-MD5");
}

#[test]
fn number_of_vectors_is_capped() {
    let mut hss = hss();
    hss.rand = RandSource::seeded([6; 32]);
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            1000,
            None,
        ),
    ));
    assert_eq!(items(&answer).len(), 4, "the test HSS caps at 4");
    assert_eq!(answer.find(607).and_then(|a| a.u32()), Some(4));
}

#[test]
fn pattern_subscribers_authenticate_with_derived_keys() {
    let mut hss = hss();
    hss.rand = RandSource::seeded([8; 32]);
    let (k, op) = pattern_keys(42);
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let keys = AkaKeys::from_hex(&hex(&k), Some(&hex(&op)), None, "0000").unwrap();
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "vu42@ims.test",
            "sip:vu42@ims.test",
            "Digest-AKAv1-MD5",
            1,
            None,
        ),
    ));
    let (_, authenticate, xres, ..) = items(&answer).remove(0);
    match answer_for(&keys, &authenticate, &mut SqnState::default()) {
        AkaAnswer::Respond { password, .. } => assert_eq!(password.expose(), &xres[..]),
        other => panic!("vector refused: {other:?}"),
    }
    // Another index's keys fail MAC-A.
    let (k, op) = pattern_keys(43);
    let other = AkaKeys::from_hex(&hex(&k), Some(&hex(&op)), None, "0000").unwrap();
    let nonce = STANDARD.encode(&authenticate);
    assert!(aka::answer(&other, AkaVersion::V1, &nonce, &mut SqnState::default()).is_err());
    // Out of the pattern's range: unknown.
    let answer = Answer::new(reply(
        &mut hss,
        &uar("vu100@ims.test", "sip:vu100@ims.test", 0),
    ));
    assert_eq!(answer.experimental_code(), Some(5001));
}

fn answer_for(keys: &AkaKeys, authenticate: &[u8], usim: &mut SqnState) -> AkaAnswer {
    let nonce = STANDARD.encode(authenticate);
    aka::answer(keys, AkaVersion::V1, &nonce, usim).unwrap()
}

#[test]
fn empty_sip_authorization_is_no_resync() {
    let mut hss = hss();
    let answer = Answer::new(reply(
        &mut hss,
        &mar(
            "alice@ims.test",
            "sip:alice@ims.test",
            "Digest-AKAv1-MD5",
            1,
            Some(&[]),
        ),
    ));
    assert_eq!(answer.result_code(), Some(2001));
    assert_eq!(items(&answer).len(), 1);
    assert_eq!(hss.counters.resyncs, 0);
}
