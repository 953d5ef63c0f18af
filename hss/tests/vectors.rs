//! The TS 35.208 Milenage test sets (copied in core/tests/vectors/milenage.json) through
//! the HSS's vector generation and AUTS check.

use ims_core::auth::Milenage;
use ims_core::auth::aka::decode_hex;
use ims_hss::vector::{ResyncError, generate, resync};
use serde_json::Value;

const SETS: &str = include_str!("../../core/tests/vectors/milenage.json");

fn field<const N: usize>(set: &Value, name: &str) -> [u8; N] {
    let text = set[name].as_str().unwrap_or_else(|| panic!("field {name}"));
    decode_hex("vector", text).unwrap()
}

fn sqn_value(bytes: [u8; 6]) -> u64 {
    bytes.iter().fold(0, |v, b| v << 8 | u64::from(*b))
}

#[test]
fn every_set_gives_the_spec_autn_xres_ck_ik() {
    let sets: Vec<Value> = serde_json::from_str(SETS).unwrap();
    assert!(sets.len() >= 6, "TS 35.208 has six sets");
    for set in &sets {
        let name = set["spec"].as_str().unwrap();
        let milenage = Milenage::with_op(&field(set, "k"), &field(set, "op"));
        assert_eq!(milenage.opc(), field::<16>(set, "opc"), "{name}: OPc");
        let rand: [u8; 16] = field(set, "rand");
        let sqn: [u8; 6] = field(set, "sqn");
        let amf: [u8; 2] = field(set, "amf");
        let ak: [u8; 6] = field(set, "f5");
        let vector = generate(&milenage, amf, &rand, sqn_value(sqn));
        let mut autn = Vec::new();
        autn.extend(sqn.iter().zip(&ak).map(|(s, a)| s ^ a));
        autn.extend_from_slice(&amf);
        autn.extend_from_slice(&field::<8>(set, "f1"));
        assert_eq!(vector.authenticate[..16], rand, "{name}: RAND");
        assert_eq!(vector.authenticate[16..], autn[..], "{name}: AUTN");
        assert_eq!(vector.xres, field::<8>(set, "f2"), "{name}: XRES");
        assert_eq!(vector.ck, field::<16>(set, "f3"), "{name}: CK");
        assert_eq!(vector.ik, field::<16>(set, "f4"), "{name}: IK");
    }
}

/// AUTS = (SQN_MS ⊕ AK*) || MAC-S with AK* the set's f5* and MAC-S = f1*(RAND, SQN_MS,
/// AMF 0000) (TS 33.102 §6.3.3): `resync` reads SQN_MS back. The set's own f1* is made
/// with the set's AMF, so as MAC-S it must fail wherever that AMF is not 0000.
#[test]
fn every_set_resynchronises_from_auts() {
    let sets: Vec<Value> = serde_json::from_str(SETS).unwrap();
    for set in &sets {
        let name = set["spec"].as_str().unwrap();
        let milenage = Milenage::with_opc(&field(set, "k"), &field(set, "opc"));
        let rand: [u8; 16] = field(set, "rand");
        let sqn_ms: [u8; 6] = field(set, "sqn");
        let ak_star: [u8; 6] = field(set, "f5star");
        let mac_s = milenage.f1_star(&rand, &sqn_ms, &[0, 0]);
        let mut rand_auts = rand.to_vec();
        rand_auts.extend(sqn_ms.iter().zip(&ak_star).map(|(s, a)| s ^ a));
        rand_auts.extend_from_slice(&mac_s);
        assert_eq!(
            resync(&milenage, &rand_auts),
            Ok(sqn_value(sqn_ms)),
            "{name}"
        );
        // The set's own f1* is computed with the set's AMF, so it is not MAC-S unless the
        // AMF is zero: an AUTS carrying it must fail.
        let amf: [u8; 2] = field(set, "amf");
        if amf != [0, 0] {
            let mut forged = rand_auts.clone();
            forged[22..].copy_from_slice(&field::<8>(set, "f1star"));
            assert_eq!(
                resync(&milenage, &forged),
                Err(ResyncError::MacFailure),
                "{name}"
            );
        }
    }
}
