//! IMS AKA Digest (RFC 3310 AKAv1-MD5, RFC 4169 AKAv2-MD5) with Milenage keys: the AKA
//! records of vectors/digest.json end to end from the TS 35.208 set 1 keys, SQN freshness
//! and resynchronisation (TS 33.102 §6.3, Annex C), MAC failure, malformed nonces, the
//! stored SQN state and redaction.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ims_core::auth::Milenage;
use ims_core::auth::aka::{
    self, AkaAnswer, AkaError, AkaKeys, AkaVersion, HexProblem, NonceProblem, SqnPolicy,
    SqnRejection, SqnState,
};
use ims_core::auth::digest::{
    self, Algorithm, DigestChallenge, DigestError, DigestRequest, Secret, write_authorization_with,
};
use ims_core::sip::typed::{Challenge, Credentials};
use proptest::prelude::*;
use serde_json::Value;

const DIGEST_VECTORS: &str = include_str!("vectors/digest.json");
const MILENAGE_VECTORS: &str = include_str!("vectors/milenage.json");

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex<const N: usize>(text: &str) -> [u8; N] {
    hex_bytes(text).try_into().expect("length")
}

fn sqn_of(text: &str) -> u64 {
    hex_bytes(text)
        .iter()
        .fold(0, |value, byte| value << 8 | u64::from(*byte))
}

/// TS 35.208 test set `n` (1-based).
fn set(n: usize) -> Value {
    let sets: Vec<Value> = serde_json::from_str(MILENAGE_VECTORS).expect("milenage.json");
    sets[n - 1].clone()
}

fn keys_from_op(set: &Value) -> AkaKeys {
    AkaKeys::from_hex(
        text(set, "k"),
        Some(text(set, "op")),
        None,
        text(set, "amf"),
    )
    .expect("keys")
}

fn keys_from_opc(set: &Value) -> AkaKeys {
    AkaKeys::from_hex(
        text(set, "k"),
        None,
        Some(text(set, "opc")),
        text(set, "amf"),
    )
    .expect("keys")
}

fn aka_records() -> Vec<Value> {
    let cases: Vec<Value> = serde_json::from_str(DIGEST_VECTORS).expect("digest.json");
    cases
        .into_iter()
        .filter(|case| text(case, "algorithm").starts_with("AKA"))
        .collect()
}

fn respond(answer: AkaAnswer) -> (Secret, u64, [u8; 16], [u8; 16]) {
    match answer {
        AkaAnswer::Respond {
            password,
            sqn,
            ck,
            ik,
        } => (password, sqn, ck, ik),
        other => panic!("expected Respond, got {other:?}"),
    }
}

fn resync(answer: AkaAnswer) -> String {
    match answer {
        AkaAnswer::Resync { auts } => auts,
        other => panic!("expected Resync, got {other:?}"),
    }
}

/// What the network (HSS) does with AUTS, computed here from Milenage directly: SQN_MS =
/// first 6 octets ⊕ f5*(RAND); MAC-S must equal f1*(RAND, SQN_MS, AMF 0000)
/// (TS 33.102 §6.3.5).
fn network_reads_auts(milenage: &Milenage, rand: &[u8; 16], auts: &str) -> u64 {
    let octets = STANDARD.decode(auts).expect("AUTS is base64");
    assert_eq!(octets.len(), 14, "AUTS is 14 octets");
    let ak_star = milenage.f5_star(rand);
    let sqn_ms: [u8; 6] = std::array::from_fn(|i| octets[i] ^ ak_star[i]);
    assert_eq!(
        milenage.f1_star(rand, &sqn_ms, &[0, 0]),
        octets[6..],
        "MAC-S verifies"
    );
    sqn_ms
        .iter()
        .fold(0, |value, byte| value << 8 | u64::from(*byte))
}

fn challenge_for(case: &Value) -> DigestChallenge {
    let value = format!(
        r#"Digest realm="{}", nonce="{}", algorithm={}, qop="{}""#,
        text(case, "realm"),
        text(case, "nonce"),
        text(case, "algorithm"),
        text(case, "qop"),
    );
    let parsed = Challenge::parse(value.as_bytes()).expect("challenge parses");
    DigestChallenge::from_challenge(&parsed, false).expect("AKA challenge accepted")
}

/// digest.json akav1-md5-milenage-set1 / akav2-md5-milenage-set1: from the TS 35.208 set 1
/// keys, `answer` gives the record's RES/CK/IK and password (RFC 3310 §3.3: RES as raw
/// octets; RFC 4169 §3: base64 of HMAC-MD5(RES||IK||CK, "http-digest-akav2-password")),
/// and the Digest written with it has the record's HA1 and response.
#[test]
fn digest_json_aka_records_from_set1_keys() {
    let records = aka_records();
    assert_eq!(records.len(), 2);
    let set1 = set(1);
    for case in &records {
        let id = text(case, "id");
        let algorithm = Algorithm::from_token(text(case, "algorithm")).expect("AKA token");
        assert!(algorithm.is_aka(), "{id}");
        let version = AkaVersion::from_algorithm(algorithm).expect("AKA version");
        assert_eq!(version.algorithm(), algorithm);
        assert_eq!(text(case, "rand"), text(&set1, "rand"), "{id}: set 1 RAND");

        for keys in [keys_from_op(&set1), keys_from_opc(&set1)] {
            // The network side builds the very nonce of the record.
            assert_eq!(
                keys.challenge_nonce(&hex(text(case, "rand")), sqn_of(text(&set1, "sqn"))),
                text(case, "nonce"),
                "{id}"
            );
            let mut state = SqnState::default();
            let answer = aka::answer(&keys, version, text(case, "nonce"), &mut state)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(answer.auts(), None);
            let (password, sqn, ck, ik) = respond(answer.clone());
            assert_eq!(sqn, sqn_of(text(&set1, "sqn")), "{id}: SQN");
            assert_eq!(state.highest(), sqn, "{id}: SQN recorded");
            assert_eq!(ck, hex::<16>(text(case, "ck")), "{id}: CK");
            assert_eq!(ik, hex::<16>(text(case, "ik")), "{id}: IK");
            match version {
                AkaVersion::V1 => {
                    assert_eq!(password.expose(), hex_bytes(text(case, "password_hex")));
                    assert_eq!(password.expose(), hex_bytes(text(case, "res")), "{id}");
                }
                AkaVersion::V2 => {
                    assert_eq!(password.expose(), text(case, "password").as_bytes());
                    assert_eq!(
                        STANDARD.decode(password.expose()).expect("base64"),
                        hex_bytes(text(case, "password_prf_hex")),
                        "{id}: PRF"
                    );
                }
            }

            let challenge = challenge_for(case);
            assert_eq!(challenge.algorithm, algorithm);
            let ha1 = digest::ha1(
                algorithm,
                text(case, "username"),
                text(case, "realm"),
                &password,
                "",
                "",
            );
            assert_eq!(ha1.expose(), text(case, "ha1"), "{id}: HA1");
            let request = DigestRequest {
                method: text(case, "method"),
                uri: text(case, "uri"),
                body: b"",
            };
            let mut out = Vec::new();
            write_authorization_with(
                &mut out,
                &challenge,
                text(case, "username"),
                &answer.password(),
                &request,
                text(case, "cnonce"),
                1,
                answer.auts(),
            )
            .expect("written");
            let credentials = Credentials::parse(&out).expect("credentials parse");
            assert_eq!(credentials.response(), Some(text(case, "response")), "{id}");
            assert_eq!(credentials.algorithm(), Some(text(case, "algorithm")));
            assert_eq!(credentials.nonce(), Some(text(case, "nonce")));
            assert!(credentials.params.get("auts").is_none());
        }
    }
}

/// Every TS 35.208 set as a challenge: AKAv1 answers with RES (f2), CK (f3), IK (f4).
#[test]
fn every_milenage_set_answers_with_its_res() {
    for n in 1..=6 {
        let set = set(n);
        let keys = keys_from_op(&set);
        let nonce = keys.challenge_nonce(&hex(text(&set, "rand")), sqn_of(text(&set, "sqn")));
        let mut state = SqnState::default();
        let (password, sqn, ck, ik) =
            respond(aka::answer(&keys, AkaVersion::V1, &nonce, &mut state).expect("answer"));
        assert_eq!(password.expose(), hex_bytes(text(&set, "f2")), "set {n}");
        assert_eq!(ck, hex::<16>(text(&set, "f3")), "set {n}");
        assert_eq!(ik, hex::<16>(text(&set, "f4")), "set {n}");
        assert_eq!(sqn, sqn_of(text(&set, "sqn")), "set {n}");
    }
}

/// A replayed nonce is refused with AUTS; the network recovers SQN_MS from it and checks
/// MAC-S (RFC 3310 §3.4, TS 33.102 §6.3.3/§6.3.5). The state is not changed by a resync.
#[test]
fn replayed_nonce_gives_resync_the_network_can_verify() {
    let set1 = set(1);
    let keys = keys_from_opc(&set1);
    let rand = hex::<16>(text(&set1, "rand"));
    let sqn = sqn_of(text(&set1, "sqn"));
    let nonce = keys.challenge_nonce(&rand, sqn);
    let mut state = SqnState::default();
    respond(aka::answer(&keys, AkaVersion::V1, &nonce, &mut state).expect("first"));
    let before = state.clone();

    for version in [AkaVersion::V1, AkaVersion::V2] {
        let answer = aka::answer(&keys, version, &nonce, &mut state).expect("replay");
        assert_eq!(
            answer.password().expose(),
            b"",
            "resync uses an empty password"
        );
        let auts = resync(answer);
        assert_eq!(state, before, "a resync accepts nothing");
        assert_eq!(network_reads_auts(&keys.milenage(), &rand, &auts), sqn);
        assert_eq!(keys.verify_auts(&rand, &auts), Ok(sqn));
        // AUTS is bound to its RAND.
        let mut other_rand = rand;
        other_rand[0] ^= 1;
        assert_eq!(
            keys.verify_auts(&other_rand, &auts),
            Err(AkaError::MacFailure)
        );
    }
    assert_eq!(
        keys.verify_auts(&rand, "not base64!"),
        Err(AkaError::BadAuts)
    );
    assert_eq!(keys.verify_auts(&rand, "AAAA"), Err(AkaError::BadAuts));
}

/// The Authorization of a resync carries `auts="..."` and the response over an empty
/// password (RFC 3310 §3.4).
#[test]
fn resync_authorization_carries_auts() {
    let set1 = set(1);
    let keys = keys_from_op(&set1);
    let case = &aka_records()[0];
    let mut state: SqnState = "ff9bb4d0b607".parse().expect("state");
    let answer =
        aka::answer(&keys, AkaVersion::V1, text(case, "nonce"), &mut state).expect("answer");
    let auts = answer.auts().expect("resync").to_owned();
    let challenge = challenge_for(case);
    let request = DigestRequest {
        method: "REGISTER",
        uri: text(case, "uri"),
        body: b"",
    };
    let mut out = Vec::new();
    write_authorization_with(
        &mut out,
        &challenge,
        text(case, "username"),
        &answer.password(),
        &request,
        "c0ffee01",
        1,
        answer.auts(),
    )
    .expect("written");
    let value = String::from_utf8(out.clone()).expect("UTF-8");
    assert!(value.ends_with(&format!(r#", auts="{auts}""#)), "{value}");
    let credentials = Credentials::parse(&out).expect("parses");
    assert_eq!(credentials.params.get("auts"), Some(auts.as_str()));
    let empty = Secret::new(Vec::new());
    let ha1 = digest::ha1(
        Algorithm::AkaV1Md5,
        text(case, "username"),
        text(case, "realm"),
        &empty,
        "",
        "",
    );
    let ha2 = digest::ha2(
        Algorithm::AkaV1Md5,
        "REGISTER",
        text(case, "uri"),
        challenge.qop,
        b"",
    );
    let expected = digest::response(
        Algorithm::AkaV1Md5,
        &ha1,
        text(case, "nonce"),
        1,
        "c0ffee01",
        challenge.qop,
        &ha2,
    );
    assert_eq!(credentials.response(), Some(expected.as_str()));

    // auts is checked like every quoted value.
    let mut out = Vec::new();
    assert_eq!(
        write_authorization_with(
            &mut out,
            &challenge,
            "u",
            &empty,
            &request,
            "c",
            1,
            Some("a\r\nb")
        ),
        Err(DigestError::Unquotable { field: "auts" })
    );
    assert!(out.is_empty());
}

/// TS 33.102 C.2.2: each IND slot keeps its own highest SEQ, so vectors used out of
/// order across slots are accepted, while an old SEQ in a used slot is not.
#[test]
fn sqn_array_accepts_out_of_order_slots_and_refuses_old_ones() {
    let set3 = set(3);
    let keys = keys_from_op(&set3);
    let rand = hex::<16>(text(&set3, "rand"));
    let sqn = |seq: u64, ind: u64| seq << 5 | ind;
    let run = |state: &mut SqnState, sqn: u64| {
        aka::answer(
            &keys,
            AkaVersion::V2,
            &keys.challenge_nonce(&rand, sqn),
            state,
        )
        .expect("answer")
    };
    let mut state = SqnState::default();
    respond(run(&mut state, sqn(100, 3)));
    respond(run(&mut state, sqn(99, 4))); // other slot, lower SEQ: fresh there
    respond(run(&mut state, sqn(101, 3)));
    assert_eq!(state.highest(), sqn(101, 3));
    let auts = resync(run(&mut state, sqn(100, 3))); // old in slot 3
    assert_eq!(
        network_reads_auts(&keys.milenage(), &rand, &auts),
        sqn(101, 3)
    );
    resync(run(&mut state, sqn(99, 4))); // replay in slot 4
    respond(run(&mut state, sqn(100, 4)));
    assert_eq!(state.highest(), sqn(101, 3));

    // Δ = 2^28 (C.2.1): a jump of more than Δ in SEQ is refused, exactly Δ is not.
    let highest_seq = 101;
    let far = sqn(highest_seq + (1 << 28) + 1, 5);
    let auts = resync(run(&mut state, far));
    assert_eq!(
        network_reads_auts(&keys.milenage(), &rand, &auts),
        sqn(101, 3)
    );
    assert_eq!(
        state.check(far, &SqnPolicy::default()),
        Err(SqnRejection::TooFarAhead)
    );
    respond(run(&mut state, sqn(highest_seq + (1 << 28), 5)));
}

/// The optional age limit L (C.2.3) refuses a SEQ far below the highest, even in an
/// unused slot; without L it is accepted.
#[test]
fn age_limit_applies_only_when_set() {
    let set4 = set(4);
    let keys = keys_from_opc(&set4);
    let rand = hex::<16>(text(&set4, "rand"));
    let mut state = SqnState::default();
    state.accept(1000 << 5);
    let old = 10 << 5 | 9;
    let nonce = keys.challenge_nonce(&rand, old);
    let policy = SqnPolicy {
        age_limit: Some(32),
        ..SqnPolicy::default()
    };
    assert_eq!(state.check(old, &policy), Err(SqnRejection::TooOld));
    let mut with_limit = state.clone();
    resync(
        aka::answer_with_policy(&keys, AkaVersion::V1, &nonce, &mut with_limit, &policy)
            .expect("answer"),
    );
    assert_eq!(with_limit, state);
    respond(aka::answer(&keys, AkaVersion::V1, &nonce, &mut state).expect("answer"));
    assert_eq!(
        state.highest(),
        1000 << 5,
        "highest unchanged by an older slot"
    );
}

/// An empty state takes the first SQN whose SEQ is above 0 (module docs), but SEQ 0 is
/// never fresh: the AUTS then carries SQN_MS = 0.
#[test]
fn empty_state_takes_any_seq_above_zero() {
    let set5 = set(5);
    let keys = keys_from_op(&set5);
    let rand = hex::<16>(text(&set5, "rand"));
    let mut state = SqnState::default();
    assert!(state.is_empty());
    let auts = resync(
        aka::answer(
            &keys,
            AkaVersion::V1,
            &keys.challenge_nonce(&rand, 7),
            &mut state,
        )
        .expect("answer"),
    );
    assert_eq!(network_reads_auts(&keys.milenage(), &rand, &auts), 0);
    let top = (1u64 << 48) - 1;
    let (_, sqn, _, _) = respond(
        aka::answer(
            &keys,
            AkaVersion::V1,
            &keys.challenge_nonce(&rand, top),
            &mut state,
        )
        .expect("answer"),
    );
    assert_eq!(sqn, top);
    assert!(!state.is_empty());
}

/// A wrong K, OP or OPc fails MAC-A; the state is untouched.
#[test]
fn wrong_keys_give_mac_failure() {
    let set1 = set(1);
    let case = &aka_records()[1];
    let nonce = text(case, "nonce");
    let wrong_k =
        AkaKeys::from_hex(text(&set(3), "k"), Some(text(&set1, "op")), None, "b9b9").expect("keys");
    let wrong_op = AkaKeys::from_hex(
        text(&set1, "k"),
        Some(text(&set1, "opc")), // OPc given as OP
        None,
        "b9b9",
    )
    .expect("keys");
    for keys in [wrong_k, wrong_op] {
        for version in [AkaVersion::V1, AkaVersion::V2] {
            let mut state = SqnState::default();
            assert_eq!(
                aka::answer(&keys, version, nonce, &mut state),
                Err(AkaError::MacFailure)
            );
            assert!(state.is_empty());
        }
    }
    // A flipped MAC or AMF bit in AUTN fails too.
    let keys = keys_from_op(&set1);
    let mut octets = STANDARD.decode(nonce).expect("base64");
    for index in [16 + 6, 31] {
        octets[index] ^= 1;
        let mut state = SqnState::default();
        assert_eq!(
            aka::answer(&keys, AkaVersion::V1, &STANDARD.encode(&octets), &mut state),
            Err(AkaError::MacFailure),
            "octet {index}"
        );
        octets[index] ^= 1;
    }
}

/// Malformed nonces are errors, never panics; server data after AUTN is allowed
/// (RFC 3310 §3.2), and so is a nonce without its `=` padding.
#[test]
fn malformed_nonces_are_bad_nonce() {
    let set1 = set(1);
    let keys = keys_from_op(&set1);
    let bad = |problem| Err(AkaError::BadNonce { problem });
    let mut state = SqnState::default();
    let mut run = |nonce: &str| aka::answer(&keys, AkaVersion::V1, nonce, &mut state);
    assert_eq!(run(""), bad(NonceProblem::TooShort { octets: 0 }));
    assert_eq!(run("not base64!"), bad(NonceProblem::NotBase64));
    assert_eq!(run("I1U8vpY3qJ0h\u{e9}"), bad(NonceProblem::NotBase64));
    assert_eq!(
        run(&STANDARD.encode([7u8; 31])),
        bad(NonceProblem::TooShort { octets: 31 })
    );
    assert_eq!(
        run(&"A".repeat(2000)),
        bad(NonceProblem::TooLong { chars: 2000 })
    );

    let records = aka_records();
    let record = STANDARD.decode(text(&records[0], "nonce")).expect("base64");
    let mut with_data = record.clone();
    with_data.extend_from_slice(b"server-specific data");
    respond(run(&STANDARD.encode(&with_data)).expect("server data ignored"));
    let mut state = SqnState::default();
    let unpadded = text(&records[0], "nonce").trim_end_matches('=');
    respond(aka::answer(&keys, AkaVersion::V1, unpadded, &mut state).expect("no padding"));
}

/// The stored form round-trips and malformed ones are refused with an offset.
#[test]
fn sqn_state_round_trips_through_its_stored_form() {
    let mut state = SqnState::default();
    assert_eq!(state.to_string(), "");
    assert_eq!("".parse::<SqnState>(), Ok(SqnState::default()));
    state.accept(0xff9b_b4d0_b607);
    state.accept(0x21);
    state.accept(0x20); // SEQ 1, slot 0
    let stored = state.to_string();
    assert_eq!(stored, "000000000020,000000000021,ff9bb4d0b607");
    let back: SqnState = stored.parse().expect("parses");
    assert_eq!(back, state);
    assert_eq!(back.highest(), 0xff9b_b4d0_b607);

    for (bad, offset) in [
        ("xyz", 0),
        ("000000000021,000000000021", 13), // slot 1 twice
        ("000000000022,000000000021", 13), // slots out of order
        ("000000000001", 0),               // SEQ 0
        ("0000000021", 0),
        ("000000000021,", 13),
        (" 000000000021", 0),
        ("0000000000210", 0),
    ] {
        assert_eq!(
            bad.parse::<SqnState>(),
            Err(AkaError::BadSqnState { offset }),
            "{bad:?}"
        );
    }
}

#[test]
fn key_errors_name_the_field_and_never_echo_the_key() {
    let k = "465b5ce8b199b49faa5f0a2ee238a6bc";
    let op = "cdc202d5123e20f62b6d676ac72cb318";
    assert_eq!(
        AkaKeys::from_hex(k, Some(op), Some(op), "b9b9").map(|_| ()),
        Err(AkaError::NeedOpOrOpc)
    );
    assert_eq!(
        AkaKeys::from_hex(k, None, None, "b9b9").map(|_| ()),
        Err(AkaError::NeedOpOrOpc)
    );
    let short = &k[..30];
    let error = AkaKeys::from_hex(short, Some(op), None, "b9b9").expect_err("short K");
    assert_eq!(
        error,
        AkaError::BadKey {
            field: "K",
            problem: HexProblem::WrongLength {
                expected: 32,
                found: 30
            }
        }
    );
    assert_eq!(error.to_string(), "K: expected 32 hex digits, found 30");
    let bad_opc = format!("{}zz", &op[..30]);
    let error = AkaKeys::from_hex(k, None, Some(&bad_opc), "b9b9").expect_err("bad OPc");
    assert_eq!(
        error,
        AkaError::BadKey {
            field: "OPc",
            problem: HexProblem::NotHex { offset: 30 }
        }
    );
    assert!(!error.to_string().contains(&op[..30]), "{error}");
    assert!(matches!(
        AkaKeys::from_hex(k, Some(op), None, "b9"),
        Err(AkaError::BadKey { field: "AMF", .. })
    ));
    // Upper case and surrounding blanks are fine.
    let keys = AkaKeys::from_hex(&k.to_uppercase(), Some(&format!(" {op}\n")), None, "B9B9")
        .expect("keys");
    assert_eq!(keys.amf(), [0xb9, 0xb9]);
    assert_eq!(
        keys.milenage().opc(),
        hex::<16>("cd63cb71954a9f4e48a5994e37a02baf")
    );
}

#[test]
fn debug_never_shows_key_bytes() {
    let set1 = set(1);
    let keys = keys_from_op(&set1);
    let mut state = SqnState::default();
    let answer = aka::answer(
        &keys,
        AkaVersion::V2,
        text(&aka_records()[1], "nonce"),
        &mut state,
    )
    .expect("answer");
    let shown = [
        format!("{keys:?}"),
        format!("{keys:#?}"),
        format!("{:?}", keys.milenage()),
        format!("{answer:?}"),
        format!("{answer:#?}"),
    ];
    for shown in &shown {
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains('['), "{shown}");
        for secret in ["k", "op", "opc", "f2", "f3", "f4"] {
            assert!(
                !shown.to_lowercase().contains(text(&set1, secret)),
                "{secret} in {shown}"
            );
        }
        assert!(
            !shown.contains(text(&aka_records()[1], "password")),
            "{shown}"
        );
    }
    assert!(shown[0].contains("amf: b9b9"), "{}", shown[0]);
}

proptest! {
    /// Any nonce string gives an answer or an error, never a panic.
    #[test]
    fn arbitrary_nonce_strings_never_panic(nonce in ".{0,80}") {
        let keys = keys_from_opc(&set(1));
        let mut state = SqnState::default();
        let _ = aka::answer(&keys, AkaVersion::V1, &nonce, &mut state);
        let _ = aka::answer(&keys, AkaVersion::V2, &nonce, &mut state);
    }

    /// Base64 of arbitrary octets: fewer than 32 is BadNonce, otherwise (without the
    /// keys) MAC-A fails; the state never changes.
    #[test]
    fn arbitrary_nonce_octets_never_pass(octets in proptest::collection::vec(any::<u8>(), 0..64)) {
        let keys = keys_from_opc(&set(1));
        let mut state = SqnState::default();
        let result = aka::answer(&keys, AkaVersion::V1, &STANDARD.encode(&octets), &mut state);
        if octets.len() < 32 {
            prop_assert_eq!(
                result,
                Err(AkaError::BadNonce { problem: NonceProblem::TooShort { octets: octets.len() } })
            );
        } else {
            prop_assert_eq!(result, Err(AkaError::MacFailure));
        }
        prop_assert!(state.is_empty());
    }

    /// Any set of accepted SQNs round-trips through the stored form.
    #[test]
    fn sqn_state_round_trips(sqns in proptest::collection::vec(0u64..(1 << 48), 0..40)) {
        let mut state = SqnState::default();
        for sqn in &sqns {
            state.accept(*sqn);
        }
        let stored = state.to_string();
        prop_assert_eq!(stored.parse::<SqnState>(), Ok(state.clone()));
        let highest = sqns.iter().copied().filter(|sqn| sqn >> 5 > 0).max().unwrap_or(0);
        prop_assert_eq!(state.highest(), highest);
    }
}
