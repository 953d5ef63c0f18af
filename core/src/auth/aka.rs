//! IMS AKA over HTTP Digest: AKAv1-MD5 (RFC 3310) and AKAv2-MD5 (RFC 4169), with the
//! network authentication and sequence-number checks of 3GPP TS 33.102 §6.3 and Annex C.
//!
//! The nonce of an AKA challenge is base64(RAND || AUTN [|| server data]) with
//! AUTN = (SQN ⊕ AK) || AMF || MAC-A (RFC 3310 §3.2). [`answer`] runs the USIM side:
//! it checks MAC-A with f1, checks that SQN is fresh against the subscriber's
//! [`SqnState`], and returns either the Digest password to answer with or the AUTS that
//! makes the network resynchronise. The Digest itself is then written by
//! [`write_authorization_with`](super::digest::write_authorization_with) with algorithm
//! `AKAv1-MD5` or `AKAv2-MD5`.
//!
//! # Sequence numbers (TS 33.102 Annex C)
//!
//! SQN (48 bits) = SEQ || IND with a 5-bit IND (C.1.1, C.3.2: a = 32 slots). [`SqnState`]
//! keeps, per IND slot, the highest SEQ accepted (C.2.2); a received SQN is fresh when
//! its SEQ is above the one in its slot. Before that, as C.2.1 requires, SEQ may be at
//! most Δ above the highest SEQ accepted anywhere; Δ = 2^28 as in the profile of C.3.
//! The age limit L of C.2.3 (SEQ_MS − SEQ < L) is optional in the spec and meant for
//! time-based SEQ generation (C.1.2); IMS cores (Open IMS Core's HSS, Kamailio-based
//! HSSs, open5gs) count SEQ per vector, so it is off by default and can be set with
//! [`SqnPolicy::age_limit`].
//!
//! An empty [`SqnState`] (nothing accepted yet: a new account, or one whose stored state
//! was lost) skips the Δ and L checks. A real USIM starts with zeros and would force one
//! resynchronisation on a network whose SQN is far ahead; a softphone without stored
//! state has no better knowledge than the network, so it accepts the first vector whose
//! MAC is right and checks every later one. The slot check (SEQ > 0) still applies.
//!
//! On a stale SQN the answer is AUTS = (SQN_MS ⊕ AK*) || MAC-S with SQN_MS the highest
//! SQN accepted (C.2.2) and MAC-S = f1*(RAND, SQN_MS, AMF = 0x0000) (TS 33.102 §6.3.3).
//! RFC 3310 §3.4: the request carrying `auts` is answered with an empty password.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::{KeyInit, Mac};
use md5::Md5;
use zeroize::{Zeroize, Zeroizing};

use super::digest::{Algorithm, Secret};
use super::milenage::{Milenage, Temp};

/// Which IMS AKA Digest variant a challenge asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AkaVersion {
    /// `AKAv1-MD5` (RFC 3310): the Digest password is RES.
    V1,
    /// `AKAv2-MD5` (RFC 4169): the Digest password is derived from RES, IK and CK.
    V2,
}

impl AkaVersion {
    /// The AKA version a Digest algorithm names; `None` for a plain Digest algorithm.
    pub fn from_algorithm(algorithm: Algorithm) -> Option<AkaVersion> {
        match algorithm {
            Algorithm::AkaV1Md5 => Some(AkaVersion::V1),
            Algorithm::AkaV2Md5 => Some(AkaVersion::V2),
            _ => None,
        }
    }

    /// The Digest algorithm of this version.
    pub fn algorithm(self) -> Algorithm {
        match self {
            AkaVersion::V1 => Algorithm::AkaV1Md5,
            AkaVersion::V2 => Algorithm::AkaV2Md5,
        }
    }
}

/// What is wrong with a hex value from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexProblem {
    /// Not the number of hex digits the field holds.
    #[error("expected {expected} hex digits, found {found}")]
    WrongLength {
        /// Digits the field holds (twice its octets).
        expected: usize,
        /// Digits given.
        found: usize,
    },
    /// A character that is not a hex digit.
    #[error("not a hex digit at offset {offset}")]
    NotHex {
        /// Offset of the character, in bytes.
        offset: usize,
    },
}

/// What is wrong with an AKA nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NonceProblem {
    /// Longer than any nonce we accept ([`MAX_NONCE_CHARS`]).
    #[error("{chars} characters, more than an AKA nonce may have")]
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// Not base64.
    #[error("not base64")]
    NotBase64,
    /// Fewer than the 32 octets of RAND || AUTN.
    #[error("{octets} octets, fewer than the 32 of RAND || AUTN")]
    TooShort {
        /// Octets decoded.
        octets: usize,
    },
}

/// Why AKA keys cannot be read or a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AkaError {
    /// The nonce is not base64(RAND || AUTN [|| server data]) (RFC 3310 §3.2).
    #[error("AKA nonce: {problem}")]
    BadNonce {
        /// What is wrong with it.
        problem: NonceProblem,
    },
    /// AUTN's MAC-A is not f1 of our K: the challenge does not come from the
    /// subscriber's home network, or K/OP/OPc are wrong (TS 33.102 §6.3.3). Never retry
    /// the same challenge.
    #[error("AKA: the network's MAC-A does not match (wrong K/OP/OPc, or not our network)")]
    MacFailure,
    /// A key, AMF or other value given as hex is malformed.
    #[error("{field}: {problem}")]
    BadKey {
        /// `K`, `OP`, `OPc`, `AMF`, or the name the caller gave.
        field: &'static str,
        /// What is wrong.
        problem: HexProblem,
    },
    /// Neither or both of OP and OPc were given.
    #[error("give exactly one of OP and OPc")]
    NeedOpOrOpc,
    /// An `auts` value is not base64 of 14 octets (network side, [`AkaKeys::verify_auts`]).
    #[error("AUTS is not base64 of 14 octets")]
    BadAuts,
    /// A stored [`SqnState`] does not parse.
    #[error("stored SQN state is malformed at offset {offset}")]
    BadSqnState {
        /// Offset of the first bad byte.
        offset: usize,
    },
}

/// The longest nonce [`answer`] decodes, in characters.
pub const MAX_NONCE_CHARS: usize = 1024;
/// Bits of IND at the low end of SQN (TS 33.102 C.3.2).
pub const IND_BITS: u32 = 5;
/// Slots in the SEQ array: 2^IND_BITS.
pub const IND_SLOTS: usize = 1 << IND_BITS;
/// The largest SQN: 48 bits.
pub const MAX_SQN: u64 = (1 << 48) - 1;
/// Δ of TS 33.102 C.2.1 in SEQ units, as in the profile of C.3.
pub const DEFAULT_DELTA: u64 = 1 << 28;

/// Decodes exactly `N` octets given as hex (surrounding whitespace ignored); `field`
/// names the value in the error. The digits never appear in an error.
pub fn decode_hex<const N: usize>(field: &'static str, text: &str) -> Result<[u8; N], AkaError> {
    let digits = text.trim().as_bytes();
    if digits.len() != 2 * N {
        return Err(AkaError::BadKey {
            field,
            problem: HexProblem::WrongLength {
                expected: 2 * N,
                found: digits.len(),
            },
        });
    }
    let mut out = [0u8; N];
    for (index, (byte, pair)) in out.iter_mut().zip(digits.chunks_exact(2)).enumerate() {
        let digit = |offset: usize| {
            let value = pair.get(offset).and_then(|c| char::from(*c).to_digit(16));
            value.ok_or(AkaError::BadKey {
                field,
                problem: HexProblem::NotHex {
                    offset: 2 * index + offset,
                },
            })
        };
        let (high, low) = match (digit(0), digit(1)) {
            (Ok(high), Ok(low)) => (high, low),
            (Err(error), _) | (_, Err(error)) => {
                out.zeroize();
                return Err(error);
            }
        };
        // Each digit is below 16, so the value fits in a byte.
        *byte = u8::try_from(high << 4 | low).unwrap_or(0);
    }
    Ok(out)
}

/// A subscriber's AKA credentials: K, OP or OPc, and AMF, as the account config gives
/// them. `Debug` shows only AMF; the keys are zeroed on drop (inside [`Milenage`]).
#[derive(Clone)]
pub struct AkaKeys {
    milenage: Milenage,
    amf: [u8; 2],
}

impl AkaKeys {
    /// Reads K (32 hex digits), exactly one of OP or OPc (32 hex digits) and AMF (4 hex
    /// digits).
    pub fn from_hex(
        k: &str,
        op: Option<&str>,
        opc: Option<&str>,
        amf: &str,
    ) -> Result<AkaKeys, AkaError> {
        let k = Zeroizing::new(decode_hex::<16>("K", k)?);
        let milenage = match (op, opc) {
            (Some(op), None) => Milenage::with_op(&k, &Zeroizing::new(decode_hex("OP", op)?)),
            (None, Some(opc)) => Milenage::with_opc(&k, &Zeroizing::new(decode_hex("OPc", opc)?)),
            _ => return Err(AkaError::NeedOpOrOpc),
        };
        let amf = decode_hex("AMF", amf)?;
        Ok(AkaKeys { milenage, amf })
    }

    /// Keys from a [`Milenage`] and the AMF.
    pub fn from_milenage(milenage: Milenage, amf: [u8; 2]) -> AkaKeys {
        AkaKeys { milenage, amf }
    }

    /// The Milenage functions of these keys.
    pub fn milenage(&self) -> Milenage {
        self.milenage.clone()
    }

    /// The configured AMF. [`answer`] checks MAC-A with the AMF the network put in AUTN;
    /// this one is what [`AkaKeys::challenge_nonce`] (the network side) puts there.
    pub fn amf(&self) -> [u8; 2] {
        self.amf
    }

    /// Network side: the nonce base64(RAND || AUTN) for `rand` and `sqn` (masked to 48
    /// bits) with the configured AMF, as an HSS/S-CSCF builds it (RFC 3310 §3.2).
    pub fn challenge_nonce(&self, rand: &[u8; 16], sqn: u64) -> String {
        let temp = self.milenage.temp(rand);
        let sqn = sqn_bytes(sqn & MAX_SQN);
        let vector = self.milenage.f2345_from_temp(&temp);
        let mac = self.milenage.f1_from_temp(&temp, &sqn, &self.amf);
        let mut nonce = [0u8; 32];
        let (rand_part, autn) = nonce.split_at_mut(16);
        rand_part.copy_from_slice(rand);
        for ((out, s), a) in autn.iter_mut().zip(&sqn).zip(&vector.ak) {
            *out = s ^ a;
        }
        for (out, byte) in autn.iter_mut().skip(6).zip(self.amf.iter().chain(&mac)) {
            *out = *byte;
        }
        STANDARD.encode(nonce)
    }

    /// Network side: checks an `auts` value sent for `rand` and returns the SQN_MS it
    /// carries (TS 33.102 §6.3.5): SQN_MS = first 6 octets ⊕ f5*, checked against
    /// MAC-S = f1*(RAND, SQN_MS, 0x0000).
    pub fn verify_auts(&self, rand: &[u8; 16], auts: &str) -> Result<u64, AkaError> {
        let decoded = LENIENT.decode(auts).map_err(|_| AkaError::BadAuts)?;
        let octets: [u8; 14] = decoded.try_into().map_err(|_| AkaError::BadAuts)?;
        let temp = self.milenage.temp(rand);
        let ak_star = self.milenage.f5_star_from_temp(&temp);
        let mut sqn_ms = [0u8; 6];
        for ((out, concealed), ak) in sqn_ms.iter_mut().zip(&octets).zip(&ak_star) {
            *out = concealed ^ ak;
        }
        let mac_s = self.milenage.f1_star_from_temp(&temp, &sqn_ms, &RESYNC_AMF);
        let received: [u8; 8] = first_n(octets.get(6..).unwrap_or(&[]));
        if equal_in_constant_time(&mac_s, &received) {
            Ok(sqn_value(&sqn_ms))
        } else {
            Err(AkaError::MacFailure)
        }
    }
}

impl fmt::Debug for AkaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AkaKeys {{ k: <redacted>, opc: <redacted>, amf: {:02x}{:02x} }}",
            self.amf[0], self.amf[1]
        )
    }
}

/// The Digest password of an AKA run (network side: pass XRES): AKAv1 uses RES as raw
/// octets (RFC 3310 §3.3); AKAv2 uses base64(PRF(RES || IK || CK,
/// "http-digest-akav2-password")) with PRF = HMAC-MD5 (RFC 4169 §3), as ASCII.
pub fn password(version: AkaVersion, res: &[u8], ik: &[u8; 16], ck: &[u8; 16]) -> Secret {
    match version {
        AkaVersion::V1 => Secret::new(res),
        AkaVersion::V2 => {
            let mut key = Zeroizing::new(Vec::with_capacity(res.len() + 32));
            key.extend_from_slice(res);
            key.extend_from_slice(ik);
            key.extend_from_slice(ck);
            // HMAC takes keys of any length, so this cannot fail; an empty password
            // (which the network rejects) is the fallback all the same.
            let Ok(mut prf) = hmac::Hmac::<Md5>::new_from_slice(&key) else {
                return Secret::new(Vec::new());
            };
            prf.update(b"http-digest-akav2-password");
            let mut output = prf.finalize().into_bytes();
            let encoded = STANDARD.encode(output.as_slice());
            output.as_mut_slice().zeroize();
            Secret::from(encoded)
        }
    }
}

/// The freshness rules applied to SQN (TS 33.102 Annex C).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqnPolicy {
    /// Δ (C.2.1): a SEQ more than this above the highest SEQ accepted is refused.
    pub delta: u64,
    /// L (C.2.3): if set, a SEQ this far or further below the highest SEQ accepted is
    /// refused even when its slot would take it.
    pub age_limit: Option<u64>,
}

impl Default for SqnPolicy {
    fn default() -> Self {
        SqnPolicy {
            delta: DEFAULT_DELTA,
            age_limit: None,
        }
    }
}

/// Why [`SqnState::check`] refused an SQN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqnRejection {
    /// SEQ is not above the SEQ accepted in its IND slot: a replay or an old vector
    /// (C.2.2).
    NotFresh,
    /// SEQ is more than Δ above the highest SEQ accepted (C.2.1).
    TooFarAhead,
    /// SEQ is L or more below the highest SEQ accepted (C.2.3).
    TooOld,
}

/// The SEQ accepted per IND slot (TS 33.102 C.2.2), kept per account across restarts.
///
/// Stored as text: the accepted SQNs of the used slots, as 12 hex digits each, separated
/// by commas in slot order (the SQN carries its slot in its low 5 bits); an empty string
/// for a new state. Parse it back with [`str::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqnState {
    seq: [u64; IND_SLOTS],
}

impl SqnState {
    /// SQN_MS: the highest SQN accepted in any slot (SEQ || IND), 0 if none.
    pub fn highest(&self) -> u64 {
        self.seq
            .iter()
            .zip(0u64..)
            .filter(|(seq, _)| **seq > 0)
            .map(|(seq, ind)| seq << IND_BITS | ind)
            .max()
            .unwrap_or(0)
    }

    /// True when no SQN has been accepted.
    pub fn is_empty(&self) -> bool {
        self.seq.iter().all(|seq| *seq == 0)
    }

    /// Whether `sqn` is fresh under `policy` (C.2.1, C.2.2, C.2.3); see the module docs
    /// for the empty state.
    pub fn check(&self, sqn: u64, policy: &SqnPolicy) -> Result<(), SqnRejection> {
        let (seq, ind) = split_sqn(sqn);
        if !self.is_empty() {
            let highest = self.highest() >> IND_BITS;
            if seq.saturating_sub(highest) > policy.delta {
                return Err(SqnRejection::TooFarAhead);
            }
            if policy
                .age_limit
                .is_some_and(|limit| highest.saturating_sub(seq) >= limit)
            {
                return Err(SqnRejection::TooOld);
            }
        }
        let slot = self.seq.get(ind).copied().unwrap_or(u64::MAX);
        if seq > slot {
            Ok(())
        } else {
            Err(SqnRejection::NotFresh)
        }
    }

    /// Records `sqn` as accepted: its slot now holds its SEQ (if higher).
    pub fn accept(&mut self, sqn: u64) {
        let (seq, ind) = split_sqn(sqn);
        if let Some(slot) = self.seq.get_mut(ind) {
            *slot = (*slot).max(seq);
        }
    }
}

impl fmt::Display for SqnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (seq, ind) in self.seq.iter().zip(0u64..) {
            if *seq == 0 {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{:012x}", seq << IND_BITS | ind)?;
        }
        Ok(())
    }
}

impl FromStr for SqnState {
    type Err = AkaError;

    /// Parses the stored form (see [`SqnState`]): 12 hex digits per used slot, in
    /// increasing slot order, comma-separated; SEQ must not be 0.
    fn from_str(text: &str) -> Result<Self, AkaError> {
        let mut state = SqnState::default();
        if text.is_empty() {
            return Ok(state);
        }
        let mut offset = 0usize;
        let mut next_slot = 0usize;
        for item in text.split(',') {
            let bad = AkaError::BadSqnState { offset };
            let sqn = decode_hex::<6>("SQN", item).map_err(|_| bad.clone())?;
            if item.len() != 12 {
                return Err(bad);
            }
            let (seq, ind) = split_sqn(sqn_value(&sqn));
            if seq == 0 || ind < next_slot {
                return Err(bad);
            }
            if let Some(slot) = state.seq.get_mut(ind) {
                *slot = seq;
            }
            next_slot = ind.saturating_add(1);
            offset = offset.saturating_add(item.len() + 1);
        }
        Ok(state)
    }
}

/// What to send for an AKA challenge.
#[derive(Clone, PartialEq, Eq)]
pub enum AkaAnswer {
    /// Authenticate with this password (AKAv1: RES raw bytes; AKAv2: base64 of the
    /// RFC 4169 PRF); `sqn` has been recorded as accepted in the [`SqnState`]. CK and IK
    /// are the session keys (for IPsec, TS 33.203); the caller should zeroize them.
    Respond {
        /// The Digest password.
        password: Secret,
        /// The SQN accepted.
        sqn: u64,
        /// CK (f3).
        ck: [u8; 16],
        /// IK (f4).
        ik: [u8; 16],
    },
    /// SQN out of range: answer with `auts` (base64 of SQN_MS ⊕ AK* || MAC-S) so the
    /// network resynchronises (RFC 3310 §3.4), and an empty password.
    Resync {
        /// The `auts` parameter value.
        auts: String,
    },
}

impl AkaAnswer {
    /// The Digest password to write: the derived one, or empty for a resync
    /// (RFC 3310 §3.4).
    pub fn password(&self) -> Secret {
        match self {
            AkaAnswer::Respond { password, .. } => password.clone(),
            AkaAnswer::Resync { .. } => Secret::new(Vec::new()),
        }
    }

    /// The `auts` parameter to add, for a resync.
    pub fn auts(&self) -> Option<&str> {
        match self {
            AkaAnswer::Respond { .. } => None,
            AkaAnswer::Resync { auts } => Some(auts),
        }
    }
}

impl fmt::Debug for AkaAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AkaAnswer::Respond { sqn, .. } => write!(
                f,
                "Respond {{ password: <redacted>, sqn: {sqn:#014x}, ck: <redacted>, ik: <redacted> }}"
            ),
            AkaAnswer::Resync { auts } => write!(f, "Resync {{ auts: {auts:?} }}"),
        }
    }
}

/// Answers an AKA challenge as a USIM would, with the default [`SqnPolicy`].
///
/// Decodes the nonce (base64 of RAND(16) || AUTN(16) [|| server data]), checks MAC-A
/// ([`AkaError::MacFailure`] if it fails), checks SQN freshness against `state` (on
/// success updates `state`), and returns the answer.
pub fn answer(
    keys: &AkaKeys,
    version: AkaVersion,
    nonce: &str,
    state: &mut SqnState,
) -> Result<AkaAnswer, AkaError> {
    answer_with_policy(keys, version, nonce, state, &SqnPolicy::default())
}

/// [`answer`] with an explicit [`SqnPolicy`].
pub fn answer_with_policy(
    keys: &AkaKeys,
    version: AkaVersion,
    nonce: &str,
    state: &mut SqnState,
    policy: &SqnPolicy,
) -> Result<AkaAnswer, AkaError> {
    let (rand, autn) = split_nonce(nonce)?;
    let milenage = &keys.milenage;
    let temp = milenage.temp(&rand);
    let vector = milenage.f2345_from_temp(&temp);
    let [c0, c1, c2, c3, c4, c5, amf0, amf1, mac @ ..] = autn;
    let concealed = [c0, c1, c2, c3, c4, c5];
    let amf = [amf0, amf1];
    let mut sqn = [0u8; 6];
    for ((out, c), ak) in sqn.iter_mut().zip(&concealed).zip(&vector.ak) {
        *out = c ^ ak;
    }
    let expected_mac = milenage.f1_from_temp(&temp, &sqn, &amf);
    if !equal_in_constant_time(&expected_mac, &mac) {
        tracing::debug!("AKA: MAC-A mismatch");
        return Err(AkaError::MacFailure);
    }
    let sqn = sqn_value(&sqn);
    match state.check(sqn, policy) {
        Ok(()) => {
            state.accept(sqn);
            Ok(AkaAnswer::Respond {
                password: password(version, &vector.res, &vector.ik, &vector.ck),
                sqn,
                ck: vector.ck,
                ik: vector.ik,
            })
        }
        Err(rejection) => {
            let highest = state.highest();
            tracing::debug!(
                ?rejection,
                sqn,
                highest,
                "AKA: SQN out of range, resynchronising"
            );
            Ok(AkaAnswer::Resync {
                auts: auts(milenage, &temp, highest),
            })
        }
    }
}

/// AUTS = (SQN_MS ⊕ AK*) || MAC-S, base64 (TS 33.102 §6.3.3, RFC 3310 §3.4).
fn auts(milenage: &Milenage, temp: &Temp, sqn_ms: u64) -> String {
    let sqn_ms = sqn_bytes(sqn_ms);
    let ak_star = milenage.f5_star_from_temp(temp);
    let mac_s = milenage.f1_star_from_temp(temp, &sqn_ms, &RESYNC_AMF);
    let mut octets = [0u8; 14];
    for ((out, s), a) in octets.iter_mut().zip(&sqn_ms).zip(&ak_star) {
        *out = s ^ a;
    }
    for (out, byte) in octets.iter_mut().skip(6).zip(&mac_s) {
        *out = *byte;
    }
    STANDARD.encode(octets)
}

/// The AMF that MAC-S is computed with: all zeros (TS 33.102 §6.3.3).
const RESYNC_AMF: [u8; 2] = [0, 0];

/// Base64 as servers send it: padding optional, stray low bits tolerated.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Splits an AKA nonce, base64(RAND || AUTN [|| server data]) (RFC 3310 §3.2), into RAND
/// and AUTN; server data is ignored. Padding is optional.
pub fn split_nonce(nonce: &str) -> Result<([u8; 16], [u8; 16]), AkaError> {
    let bad = |problem| AkaError::BadNonce { problem };
    if nonce.len() > MAX_NONCE_CHARS {
        return Err(bad(NonceProblem::TooLong { chars: nonce.len() }));
    }
    let decoded = LENIENT
        .decode(nonce)
        .map_err(|_| bad(NonceProblem::NotBase64))?;
    match (decoded.get(..16), decoded.get(16..32)) {
        (Some(rand), Some(autn)) => Ok((first_n(rand), first_n(autn))),
        _ => Err(bad(NonceProblem::TooShort {
            octets: decoded.len(),
        })),
    }
}

/// SEQ and IND of an SQN.
fn split_sqn(sqn: u64) -> (u64, usize) {
    let sqn = sqn & MAX_SQN;
    // IND is below 32, so it fits in usize.
    (
        sqn >> IND_BITS,
        usize::try_from(sqn & (IND_SLOTS as u64 - 1)).unwrap_or(0),
    )
}

fn sqn_value(bytes: &[u8; 6]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |value, byte| value << 8 | u64::from(*byte))
}

fn sqn_bytes(sqn: u64) -> [u8; 6] {
    first_n(sqn.to_be_bytes().get(2..).unwrap_or(&[]))
}

/// The first N octets of `bytes`, zero-padded if shorter.
fn first_n<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// Compares two MACs without an early exit on the first differing octet.
fn equal_in_constant_time(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqn_splits_into_seq_and_ind() {
        assert_eq!(split_sqn(0x21), (1, 1));
        assert_eq!(split_sqn(0xff9b_b4d0_b607), (0xff9b_b4d0_b607 >> 5, 7));
        assert_eq!(sqn_value(&sqn_bytes(0x0102_0304_0506)), 0x0102_0304_0506);
    }

    #[test]
    fn hex_errors_name_length_and_offset() {
        assert_eq!(decode_hex::<2>("AMF", " b9B9 "), Ok([0xb9, 0xb9]));
        assert_eq!(
            decode_hex::<2>("AMF", "b9b"),
            Err(AkaError::BadKey {
                field: "AMF",
                problem: HexProblem::WrongLength {
                    expected: 4,
                    found: 3
                }
            })
        );
        assert_eq!(
            decode_hex::<2>("AMF", "b9xz"),
            Err(AkaError::BadKey {
                field: "AMF",
                problem: HexProblem::NotHex { offset: 2 }
            })
        );
        // Non-ASCII input never panics.
        assert!(decode_hex::<2>("AMF", "é9").is_err());
    }
}
