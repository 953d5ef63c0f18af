//! Milenage (TS 35.206) against the TS 35.208 §4.3 test sets in vectors/milenage.json:
//! every set, every output, from OP and from OPc.

use ims_core::auth::Milenage;
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/milenage.json");

fn hex<const N: usize>(set: &Value, key: &str) -> [u8; N] {
    let text = set[key]
        .as_str()
        .unwrap_or_else(|| panic!("set {}: no {key}", set["set"]));
    assert_eq!(text.len(), 2 * N, "set {}: {key} length", set["set"]);
    std::array::from_fn(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
}

fn sets() -> Vec<Value> {
    serde_json::from_str(VECTORS).expect("milenage.json")
}

fn check_all_outputs(milenage: &Milenage, set: &Value, how: &str) {
    let id = format!("set {} ({how})", set["set"]);
    let rand = hex::<16>(set, "rand");
    let sqn = hex::<6>(set, "sqn");
    let amf = hex::<2>(set, "amf");
    assert_eq!(milenage.opc(), hex::<16>(set, "opc"), "{id}: OPc");
    assert_eq!(
        milenage.f1(&rand, &sqn, &amf),
        hex::<8>(set, "f1"),
        "{id}: f1"
    );
    assert_eq!(
        milenage.f1_star(&rand, &sqn, &amf),
        hex::<8>(set, "f1star"),
        "{id}: f1*"
    );
    let outputs = milenage.f2345(&rand);
    assert_eq!(outputs.res, hex::<8>(set, "f2"), "{id}: f2");
    assert_eq!(outputs.ck, hex::<16>(set, "f3"), "{id}: f3");
    assert_eq!(outputs.ik, hex::<16>(set, "f4"), "{id}: f4");
    assert_eq!(outputs.ak, hex::<6>(set, "f5"), "{id}: f5");
    assert_eq!(
        milenage.f5_star(&rand),
        hex::<6>(set, "f5star"),
        "{id}: f5*"
    );
}

/// TS 35.208 §4.3.1–4.3.6, starting from OP: OPc and f1, f1*, f2, f3, f4, f5, f5*.
#[test]
fn every_test_set_from_op() {
    let sets = sets();
    assert_eq!(sets.len(), 6);
    for set in &sets {
        let milenage = Milenage::with_op(&hex(set, "k"), &hex(set, "op"));
        check_all_outputs(&milenage, set, "OP");
    }
}

/// The same sets starting from the OPc the spec lists.
#[test]
fn every_test_set_from_opc() {
    for set in &sets() {
        let milenage = Milenage::with_opc(&hex(set, "k"), &hex(set, "opc"));
        check_all_outputs(&milenage, set, "OPc");
    }
}

/// f1 depends on SQN and AMF; f2..f5 do not; a different K changes everything.
#[test]
fn inputs_reach_the_outputs_they_should() {
    let set = &sets()[0];
    let milenage = Milenage::with_opc(&hex(set, "k"), &hex(set, "opc"));
    let rand = hex::<16>(set, "rand");
    let sqn = hex::<6>(set, "sqn");
    let amf = hex::<2>(set, "amf");
    let mac = milenage.f1(&rand, &sqn, &amf);
    let mut other_sqn = sqn;
    other_sqn[5] ^= 1;
    assert_ne!(milenage.f1(&rand, &other_sqn, &amf), mac);
    assert_ne!(milenage.f1(&rand, &sqn, &[0, 0]), mac);
    assert_ne!(
        milenage.f1_star(&rand, &sqn, &[0, 0]),
        milenage.f1_star(&rand, &sqn, &amf)
    );

    let mut other_k = hex::<16>(set, "k");
    other_k[0] ^= 0x80;
    let other = Milenage::with_opc(&other_k, &hex(set, "opc"));
    assert_ne!(other.f1(&rand, &sqn, &amf), mac);
    assert_ne!(other.f2345(&rand), milenage.f2345(&rand));
    // A clone computes the same.
    assert_eq!(milenage.clone().f2345(&rand), milenage.f2345(&rand));
}

/// Neither K, OPc nor any output shows in Debug.
#[test]
fn debug_shows_no_key_or_output_bytes() {
    let set = &sets()[0];
    let milenage = Milenage::with_op(&hex(set, "k"), &hex(set, "op"));
    let outputs = milenage.f2345(&hex(set, "rand"));
    for shown in [
        format!("{milenage:?}"),
        format!("{milenage:#?}"),
        format!("{outputs:?}"),
    ] {
        assert!(shown.contains("<redacted>"), "{shown}");
        for key in ["k", "op", "opc", "f2", "f3", "f4", "f5"] {
            let value = set[key].as_str().expect("hex");
            assert!(!shown.to_lowercase().contains(value), "{key} in {shown}");
        }
        // Nor as byte lists, as a derived Debug would print them.
        assert!(!shown.contains('['), "{shown}");
    }
}
