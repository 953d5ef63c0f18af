//! AKA authentication vectors on the HSS side (TS 33.102 §6.3.2, Annex C) with Milenage,
//! and the resynchronisation of SQN from AUTS (§6.3.5).
//!
//! SQN = SEQ || IND with a 5-bit IND (C.1.1, C.3.2). Each vector takes the next SEQ, and
//! IND = SEQ mod 32, so consecutive vectors land in different slots of the USIM's
//! array and may be used in any order.

use ims_core::auth::Milenage;
use zeroize::Zeroize;

/// IND bits in SQN.
pub const IND_BITS: u32 = 5;
/// SQN is 48 bits.
pub const MAX_SQN: u64 = (1 << 48) - 1;
/// The AMF used for MAC-S (TS 33.102 §6.3.3).
const RESYNC_AMF: [u8; 2] = [0, 0];

/// One authentication vector. `Debug` hides XRES, CK and IK; they are zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Vector {
    /// RAND || AUTN, the SIP-Authenticate value (TS 29.229 §6.3.10).
    pub authenticate: [u8; 32],
    /// XRES, the SIP-Authorization value.
    pub xres: [u8; 8],
    /// CK.
    pub ck: [u8; 16],
    /// IK.
    pub ik: [u8; 16],
    /// The SQN in AUTN.
    pub sqn: u64,
}

impl std::fmt::Debug for Vector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vector {{ sqn: {:#x}, xres/ck/ik: *** }}", self.sqn)
    }
}

impl Drop for Vector {
    fn drop(&mut self) {
        self.xres.zeroize();
        self.ck.zeroize();
        self.ik.zeroize();
    }
}

/// The SQN after `sqn`: the next SEQ, with IND = SEQ mod 32 (wrapping within 48 bits).
pub fn next_sqn(sqn: u64) -> u64 {
    let seq = ((sqn & MAX_SQN) >> IND_BITS).wrapping_add(1) & (MAX_SQN >> IND_BITS);
    seq << IND_BITS | (seq & ((1 << IND_BITS) - 1))
}

/// The vector for `rand` and `sqn`: AUTN = (SQN ⊕ AK) || AMF || MAC-A (TS 33.102 §6.3.2).
pub fn generate(milenage: &Milenage, amf: [u8; 2], rand: &[u8; 16], sqn: u64) -> Vector {
    let sqn_bytes = sqn_octets(sqn);
    let outputs = milenage.f2345(rand);
    let mac = milenage.f1(rand, &sqn_bytes, &amf);
    let mut authenticate = [0u8; 32];
    let (rand_part, autn) = authenticate.split_at_mut(16);
    rand_part.copy_from_slice(rand);
    for ((out, s), a) in autn.iter_mut().zip(&sqn_bytes).zip(&outputs.ak) {
        *out = s ^ a;
    }
    for (out, byte) in autn.iter_mut().skip(6).zip(amf.iter().chain(&mac)) {
        *out = *byte;
    }
    Vector {
        authenticate,
        xres: outputs.res,
        ck: outputs.ck,
        ik: outputs.ik,
        sqn,
    }
}

/// Why AUTS was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResyncError {
    /// RAND || AUTS is not 16 + 14 octets.
    #[error("RAND || AUTS must be 30 octets, not {length}")]
    BadLength {
        /// Octets given.
        length: usize,
    },
    /// MAC-S does not verify: not this subscriber's USIM, or a forged AUTS.
    #[error("MAC-S does not verify")]
    MacFailure,
}

/// Reads SQN_MS from RAND || AUTS (the SIP-Authorization of a resynchronising MAR):
/// SQN_MS = AUTS[0..6] ⊕ f5*(RAND), valid when AUTS[6..14] = f1*(RAND, SQN_MS, 0000)
/// (TS 33.102 §6.3.5).
pub fn resync(milenage: &Milenage, rand_auts: &[u8]) -> Result<u64, ResyncError> {
    let bad = ResyncError::BadLength {
        length: rand_auts.len(),
    };
    let octets: &[u8; 30] = rand_auts.try_into().map_err(|_| bad)?;
    let (rand, auts) = octets.split_at(16);
    let rand: [u8; 16] = rand.try_into().map_err(|_| bad)?;
    let (concealed, mac_s) = auts.split_at(6);
    let ak_star = milenage.f5_star(&rand);
    let mut sqn_ms = [0u8; 6];
    for ((out, c), a) in sqn_ms.iter_mut().zip(concealed).zip(&ak_star) {
        *out = c ^ a;
    }
    let expected = milenage.f1_star(&rand, &sqn_ms, &RESYNC_AMF);
    let difference = expected
        .iter()
        .zip(mac_s)
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    if difference != 0 {
        return Err(ResyncError::MacFailure);
    }
    Ok(sqn_ms
        .iter()
        .fold(0u64, |value, byte| value << 8 | u64::from(*byte)))
}

fn sqn_octets(sqn: u64) -> [u8; 6] {
    let bytes = (sqn & MAX_SQN).to_be_bytes();
    let mut out = [0u8; 6];
    out.copy_from_slice(&bytes[2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ims_core::auth::aka::{AkaAnswer, AkaKeys, AkaVersion, SqnState, answer};

    fn hex<const N: usize>(text: &str) -> [u8; N] {
        ims_core::auth::aka::decode_hex("test", text).unwrap()
    }

    /// TS 35.208 test set 1: AUTN's parts come out as the spec's f1/f5 and the outputs as
    /// f2/f3/f4.
    #[test]
    fn set_1_vector_has_the_spec_outputs() {
        let milenage = Milenage::with_opc(
            &hex("465b5ce8b199b49faa5f0a2ee238a6bc"),
            &hex("cd63cb71954a9f4e48a5994e37a02baf"),
        );
        let rand = hex::<16>("23553cbe9637a89d218ae64dae47bf35");
        let vector = generate(&milenage, hex("b9b9"), &rand, 0xff9b_b4d0_b607);
        let sqn = hex::<6>("ff9bb4d0b607");
        let ak = hex::<6>("aa689c648370");
        let concealed: Vec<u8> = sqn.iter().zip(&ak).map(|(s, a)| s ^ a).collect();
        assert_eq!(vector.authenticate[..16], rand);
        assert_eq!(vector.authenticate[16..22], concealed[..]);
        assert_eq!(vector.authenticate[22..24], [0xb9, 0xb9]);
        assert_eq!(vector.authenticate[24..], hex::<8>("4a9ffac354dfafb3"));
        assert_eq!(vector.xres, hex::<8>("a54211d5e3ba50bf"));
        assert_eq!(vector.ck, hex::<16>("b40ba9a3c58b2a05bbf0d987b21bf8cb"));
        assert_eq!(vector.ik, hex::<16>("f769bcd751044604127672711c6d3441"));
    }

    #[test]
    fn next_sqn_steps_seq_and_cycles_ind() {
        assert_eq!(next_sqn(0), 1 << 5 | 1);
        assert_eq!(next_sqn(next_sqn(0)), 2 << 5 | 2);
        assert_eq!(next_sqn(31 << 5 | 31), 32 << 5);
        assert_eq!(next_sqn(MAX_SQN), 0);
    }

    /// The USIM side of ims-core accepts our vectors, and after a stale one sends an AUTS
    /// that `resync` reads back as the USIM's SQN.
    #[test]
    fn ue_accepts_vectors_and_resync_reads_its_auts() {
        let keys = AkaKeys::from_hex(
            "465b5ce8b199b49faa5f0a2ee238a6bc",
            None,
            Some("cd63cb71954a9f4e48a5994e37a02baf"),
            "0000",
        )
        .unwrap();
        let milenage = keys.milenage();
        let mut usim = SqnState::default();
        let sqn = next_sqn(next_sqn(0));
        let rand = [7u8; 16];
        let vector = generate(&milenage, [0, 0], &rand, sqn);
        let nonce = base64_of(&vector.authenticate);
        match answer(&keys, AkaVersion::V1, &nonce, &mut usim).unwrap() {
            AkaAnswer::Respond { sqn: accepted, .. } => assert_eq!(accepted, sqn),
            other => panic!("expected the vector to be accepted, got {other:?}"),
        }
        // The same SQN again is stale: the USIM answers with AUTS.
        let stale = generate(&milenage, [0, 0], &[9u8; 16], sqn);
        let auts = match answer(
            &keys,
            AkaVersion::V1,
            &base64_of(&stale.authenticate),
            &mut usim,
        )
        .unwrap()
        {
            AkaAnswer::Resync { auts, .. } => auts,
            other => panic!("expected a resync, got {other:?}"),
        };
        let mut rand_auts = vec![9u8; 16];
        rand_auts.extend(base64_decode(&auts));
        assert_eq!(resync(&milenage, &rand_auts), Ok(sqn));
        rand_auts[29] ^= 1;
        assert_eq!(resync(&milenage, &rand_auts), Err(ResyncError::MacFailure));
        assert_eq!(
            resync(&milenage, &rand_auts[..29]),
            Err(ResyncError::BadLength { length: 29 })
        );
    }

    fn base64_of(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn base64_decode(text: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
    }
}
