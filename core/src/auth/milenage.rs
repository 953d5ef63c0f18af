//! Milenage (3GPP TS 35.206): the example algorithm set for the AKA functions f1, f1*,
//! f2, f3, f4, f5 and f5*, on AES-128.
//!
//! With TEMP = E_K(RAND ⊕ OPc), each output block is
//! OUTi = E_K(rot(TEMP ⊕ OPc, ri) ⊕ ci) ⊕ OPc (TS 35.206 §4.1), except OUT1, which
//! mixes in SQN and AMF: OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc with
//! IN1 = SQN || AMF || SQN || AMF. The constants are the spec's defaults:
//! r1..r5 = 64, 0, 32, 64, 96 bits and c1..c5 = 0, 1, 2, 4, 8.
//!
//! [`Milenage`] keeps the expanded AES key and OPc; both are zeroed when it is dropped
//! and neither shows in `Debug`. Outputs handed out ([`F2345`]) and TEMP are zeroed on
//! drop too; the block-sized temporaries inside one computation live on the stack only
//! for its duration and are not wiped one by one (that doubled the cost of f2345, and the
//! compiler may keep copies in registers and spill slots that no wipe reaches anyway).

use std::fmt;

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use zeroize::Zeroize;

/// The Milenage functions for one subscriber: K (as an expanded AES-128 key) and OPc.
#[derive(Clone)]
pub struct Milenage {
    /// E_K; the `aes` crate zeroes its round keys on drop (feature `zeroize`).
    cipher: Aes128,
    opc: [u8; 16],
}

/// The outputs of f2, f3, f4 and f5 for one RAND (TS 35.206 §4.1). `Debug` shows none of
/// them, and they are zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct F2345 {
    /// f2: the response RES (XRES on the network side).
    pub res: [u8; 8],
    /// f3: the cipher key CK.
    pub ck: [u8; 16],
    /// f4: the integrity key IK.
    pub ik: [u8; 16],
    /// f5: the anonymity key AK that conceals SQN in AUTN.
    pub ak: [u8; 6],
}

impl fmt::Debug for F2345 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("F2345 { res: <redacted>, ck: <redacted>, ik: <redacted>, ak: <redacted> }")
    }
}

impl Drop for F2345 {
    fn drop(&mut self) {
        self.res.zeroize();
        self.ck.zeroize();
        self.ik.zeroize();
        self.ak.zeroize();
    }
}

impl Milenage {
    /// Milenage from K and the operator variant key OP: OPc = E_K(OP) ⊕ OP
    /// (TS 35.206 §4.1).
    pub fn with_op(k: &[u8; 16], op: &[u8; 16]) -> Milenage {
        let cipher = Aes128::new(&Array::from(*k));
        let mut opc = encrypt(&cipher, op);
        xor_into(&mut opc, op);
        Milenage { cipher, opc }
    }

    /// Milenage from K and an OPc computed beforehand (as a USIM or HSS stores it).
    pub fn with_opc(k: &[u8; 16], opc: &[u8; 16]) -> Milenage {
        Milenage {
            cipher: Aes128::new(&Array::from(*k)),
            opc: *opc,
        }
    }

    /// OPc, e.g. to store it instead of OP.
    pub fn opc(&self) -> [u8; 16] {
        self.opc
    }

    /// f1: the network authentication code MAC-A (the MAC in AUTN).
    pub fn f1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        self.f1_from_temp(&self.temp(rand), sqn, amf)
    }

    /// f1*: the resynchronisation code MAC-S (the MAC in AUTS; TS 33.102 §6.3.3).
    pub fn f1_star(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        self.f1_star_from_temp(&self.temp(rand), sqn, amf)
    }

    /// f2, f3, f4 and f5 at once: RES, CK, IK and AK.
    pub fn f2345(&self, rand: &[u8; 16]) -> F2345 {
        self.f2345_from_temp(&self.temp(rand))
    }

    /// f5*: the anonymity key AK* that conceals SQN_MS in AUTS.
    pub fn f5_star(&self, rand: &[u8; 16]) -> [u8; 6] {
        self.f5_star_from_temp(&self.temp(rand))
    }

    /// TEMP = E_K(RAND ⊕ OPc); every function starts from it, so callers that need
    /// several outputs for one RAND compute it once.
    pub(crate) fn temp(&self, rand: &[u8; 16]) -> Temp {
        let mut block = *rand;
        xor_into(&mut block, &self.opc);
        Temp(encrypt(&self.cipher, &block))
    }

    /// f1 (MAC-A) from TEMP.
    pub(crate) fn f1_from_temp(&self, temp: &Temp, sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let [out1] = self.outputs([self.out1_input(temp, sqn, amf)]);
        first_bytes(&out1)
    }

    /// f1* (MAC-S) from TEMP.
    pub(crate) fn f1_star_from_temp(&self, temp: &Temp, sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let [out1] = self.outputs([self.out1_input(temp, sqn, amf)]);
        last_bytes(&out1)
    }

    /// f2..f5 from TEMP.
    pub(crate) fn f2345_from_temp(&self, temp: &Temp) -> F2345 {
        // The three blocks are independent: one call lets AES-NI pipeline them.
        let [out2, out3, out4] = self.outputs([
            self.out_input(temp, 0, 1),
            self.out_input(temp, 4, 2),
            self.out_input(temp, 8, 4),
        ]);
        F2345 {
            res: last_bytes(&out2),
            ck: out3,
            ik: out4,
            ak: first_bytes(&out2),
        }
    }

    /// f5* from TEMP.
    pub(crate) fn f5_star_from_temp(&self, temp: &Temp) -> [u8; 6] {
        let [out5] = self.outputs([self.out_input(temp, 12, 8)]);
        first_bytes(&out5)
    }

    /// The block E_K takes for OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, 64) ⊕ c1) ⊕ OPc, c1 = 0.
    fn out1_input(&self, temp: &Temp, sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 16] {
        let mut in1 = [0u8; 16];
        for half in in1.chunks_exact_mut(8) {
            let (sqn_part, amf_part) = half.split_at_mut(6);
            sqn_part.copy_from_slice(sqn);
            amf_part.copy_from_slice(amf);
        }
        xor_into(&mut in1, &self.opc);
        let mut block = rotate(&in1, 8);
        xor_into(&mut block, &temp.0);
        block
    }

    /// The block E_K takes for OUTi = E_K(rot(TEMP ⊕ OPc, r) ⊕ c) ⊕ OPc, with r in bytes
    /// and c in the last byte.
    fn out_input(&self, temp: &Temp, rotate_bytes: usize, constant: u8) -> [u8; 16] {
        let mut mixed = temp.0;
        xor_into(&mut mixed, &self.opc);
        let mut block = rotate(&mixed, rotate_bytes);
        if let Some(last) = block.last_mut() {
            *last ^= constant;
        }
        block
    }

    /// E_K(input) ⊕ OPc for each input block, encrypted in one call.
    fn outputs<const N: usize>(&self, inputs: [[u8; 16]; N]) -> [[u8; 16]; N] {
        let mut blocks = inputs.map(Array::from);
        self.cipher.encrypt_blocks(&mut blocks);
        blocks.map(|block| {
            let mut out: [u8; 16] = block.into();
            xor_into(&mut out, &self.opc);
            out
        })
    }
}

impl fmt::Debug for Milenage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Milenage { k: <redacted>, opc: <redacted> }")
    }
}

impl Drop for Milenage {
    fn drop(&mut self) {
        self.opc.zeroize();
    }
}

/// TEMP for one RAND, zeroed on drop.
pub(crate) struct Temp([u8; 16]);

impl Drop for Temp {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

fn encrypt(cipher: &Aes128, input: &[u8; 16]) -> [u8; 16] {
    let mut block = Array::from(*input);
    cipher.encrypt_block(&mut block);
    block.into()
}

fn xor_into<const N: usize>(target: &mut [u8; N], other: &[u8; N]) {
    for (t, o) in target.iter_mut().zip(other) {
        *t ^= o;
    }
}

/// Cyclic rotation towards the most significant end by `bytes` octets (the r of
/// TS 35.206 is always a multiple of 8 bits).
fn rotate(input: &[u8; 16], bytes: usize) -> [u8; 16] {
    let mut out = *input;
    out.rotate_left(bytes % 16);
    out
}

/// The first N octets of a block (N ≤ 16).
fn first_bytes<const N: usize>(block: &[u8; 16]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(block) {
        *o = *b;
    }
    out
}

/// The last N octets of a block (N ≤ 16).
fn last_bytes<const N: usize>(block: &[u8; 16]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out
        .iter_mut()
        .zip(block.iter().skip(16usize.saturating_sub(N)))
    {
        *o = *b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_moves_octets_towards_the_front() {
        let input: [u8; 16] = core::array::from_fn(|i| i as u8);
        let rotated = rotate(&input, 4);
        assert_eq!(rotated[0], 4);
        assert_eq!(rotated[12], 0);
        assert_eq!(rotate(&input, 0), input);
    }

    #[test]
    fn first_and_last_bytes() {
        let block: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(first_bytes::<6>(&block), [0, 1, 2, 3, 4, 5]);
        assert_eq!(last_bytes::<8>(&block), [8, 9, 10, 11, 12, 13, 14, 15]);
    }
}
