//! IMS AKA benchmarks (issue #6, "Performance"), on TS 35.208 test set 1.
//!
//! - `milenage/f2345`: RES, CK, IK and AK for one RAND (five AES-128 blocks).
//! - `milenage/f1`: MAC-A for one RAND, SQN and AMF (two AES-128 blocks).
//! - `aka/answer_v1` and `aka/answer_v2`: what a client does for one AKAv1-MD5 /
//!   AKAv2-MD5 challenge: `aka::answer` (base64 nonce decode, f2345, f1, SQN check against a
//!   fresh `SqnState`, password; AKAv2 adds HMAC-MD5 and base64) and
//!   `write_authorization_with` (HA1, HA2, response, the whole Authorization value) into a
//!   reused buffer.
//! - `aka/resync`: the same for a replayed nonce, answered with AUTS (f5*, f1*).
//!
//! The clock is the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`, through
//! `iter_custom`), as in the engine bench: the machine is shared with other builds, and
//! time the thread spends preempted is not counted.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ims_bench::cpu::cpu_timed;
use ims_core::auth::aka::{self, AkaKeys, AkaVersion, SqnState};
use ims_core::auth::digest::{DigestChallenge, DigestRequest, Qop, write_authorization_with};

const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
const RAND: [u8; 16] = [
    0x23, 0x55, 0x3c, 0xbe, 0x96, 0x37, 0xa8, 0x9d, 0x21, 0x8a, 0xe6, 0x4d, 0xae, 0x47, 0xbf, 0x35,
];
const SQN: [u8; 6] = [0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07];
const AMF: [u8; 2] = [0xb9, 0xb9];
const NONCE: &str = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
const IMPI: &str = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
const REALM: &str = "ims.mnc001.mcc001.3gppnetwork.org";
const URI: &str = "sip:ims.mnc001.mcc001.3gppnetwork.org";

fn keys() -> AkaKeys {
    AkaKeys::from_hex(K, None, Some(OPC), "b9b9").expect("set 1 keys")
}

fn milenage(c: &mut Criterion) {
    let milenage = keys().milenage();
    let mut group = c.benchmark_group("milenage");
    group.bench_function("f2345", |b| {
        b.iter_custom(|n| cpu_timed(n, || milenage.f2345(black_box(&RAND))))
    });
    group.bench_function("f1", |b| {
        b.iter_custom(|n| {
            cpu_timed(n, || {
                milenage.f1(black_box(&RAND), black_box(&SQN), black_box(&AMF))
            })
        })
    });
    group.finish();
}

/// The challenge as the engine keeps it (copied once, outside the timed region).
fn challenge(version: AkaVersion) -> DigestChallenge {
    let mut challenge = DigestChallenge::new(REALM, NONCE);
    challenge.algorithm = version.algorithm();
    challenge.qop = Some(Qop::Auth);
    challenge
}

fn answer_and_write(
    keys: &AkaKeys,
    challenge: &DigestChallenge,
    state: &mut SqnState,
    out: &mut Vec<u8>,
) -> bool {
    let Some(version) = AkaVersion::from_algorithm(challenge.algorithm) else {
        return false;
    };
    let Ok(answer) = aka::answer(keys, version, black_box(challenge.nonce()), state) else {
        return false;
    };
    let request = DigestRequest {
        method: "REGISTER",
        uri: URI,
        body: b"",
    };
    out.clear();
    write_authorization_with(
        out,
        challenge,
        IMPI,
        &answer.password(),
        &request,
        "3d5e1f0a",
        1,
        answer.auts(),
    )
    .is_ok()
}

fn aka_answer(c: &mut Criterion) {
    let keys = keys();
    let mut out = Vec::with_capacity(512);
    let mut group = c.benchmark_group("aka");
    for (name, version, response) in [
        (
            "answer_v1",
            AkaVersion::V1,
            "d82143f32d10213e577b28a141039bef",
        ),
        (
            "answer_v2",
            AkaVersion::V2,
            "fdd65c212212cb0cc4bd23bc03bb8fc5",
        ),
    ] {
        let challenge = challenge(version);
        // Check once that this is the success path with the digest.json response.
        let mut state = SqnState::default();
        assert!(answer_and_write(&keys, &challenge, &mut state, &mut out));
        let written = String::from_utf8_lossy(&out).into_owned();
        assert!(written.contains(response) && !written.contains("auts="));
        group.bench_function(name, |b| {
            b.iter_custom(|n| {
                cpu_timed(n, || {
                    let mut state = SqnState::default();
                    answer_and_write(&keys, &challenge, &mut state, &mut out)
                })
            })
        });
    }
    let challenge = challenge(AkaVersion::V1);
    let mut used = SqnState::default();
    assert!(answer_and_write(&keys, &challenge, &mut used, &mut out));
    assert!(answer_and_write(&keys, &challenge, &mut used, &mut out));
    assert!(String::from_utf8_lossy(&out).contains("auts="));
    group.bench_function("resync", |b| {
        b.iter_custom(|n| {
            cpu_timed(n, || {
                answer_and_write(&keys, &challenge, &mut used, &mut out)
            })
        })
    });
    group.finish();
}

criterion_group!(benches, milenage, aka_answer);
criterion_main!(benches);
