//! Subscribers: listed in a TOML file, or generated from a pattern so that thousands of
//! virtual users can be provisioned without a file.
//!
//! # File
//! ```toml
//! [[subscriber]]
//! impi = "alice@ims.test"
//! impu = ["sip:alice@ims.test", "tel:+15550100"]   # optional; default sip:<impi>
//! k = "465b5ce8b199b49faa5f0a2ee238a6bc"           # AKA: K and one of op / opc
//! op = "cdc202d5123e20f62b6d676ac72cb318"
//! amf = "0000"                                      # optional, default 0000
//! algorithm = "AKAv2-MD5"   # optional, default AKAv1-MD5: the scheme the HSS picks
//! sqn = 32                                          # optional: SQN of the last vector issued
//!
//! [[subscriber]]
//! impi = "carol@ims.test"
//! password = "secret"       # Digest: HA1 = MD5(impi ":" realm ":" password)
//! realm = "ims.test"        # optional, default: the domain of the IMPI
//! ```
//!
//! The same as CSV ([`Subscribers::load_csv`]): a header row of these keys, one
//! subscriber per row.
//!
//! # Pattern
//! `vu{0..9999}@ims.test` stands for the IMPIs `vu0@ims.test` .. `vu9999@ims.test`, each
//! with the IMPU `sip:vuN@ims.test` and AKA credentials derived from the index N:
//!
//! - K = [`PATTERN_K_BASE`] with N (as a big-endian u32) XORed into its last four octets;
//! - OP = [`PATTERN_OP`] for all (one operator), so OPc = E_K(OP) ⊕ OP per subscriber;
//! - AMF = 0000, and SQN starts at 0.
//!
//! [`pattern_keys`] computes them; a load generator uses the same function. Pattern
//! subscribers are created on first use, so a pattern of any size costs nothing up front.

use std::collections::HashMap;
use std::fmt;

use ims_core::auth::Milenage;
use ims_core::auth::aka::{AkaVersion, decode_hex};
use md5::{Digest, Md5};
use serde::Deserialize;
use thiserror::Error;
use zeroize::Zeroize;

/// K of pattern subscriber 0 (the K of TS 35.208 test set 1).
pub const PATTERN_K_BASE: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
/// OP of every pattern subscriber (the OP of TS 35.208 test set 1).
pub const PATTERN_OP: [u8; 16] = [
    0xcd, 0xc2, 0x02, 0xd5, 0x12, 0x3e, 0x20, 0xf6, 0x2b, 0x6d, 0x67, 0x6a, 0xc7, 0x2c, 0xb3, 0x18,
];
/// The most subscribers a file may list.
pub const MAX_LISTED: usize = 1_000_000;

/// K and OP of pattern subscriber `index` (see the module docs).
pub fn pattern_keys(index: u32) -> ([u8; 16], [u8; 16]) {
    let mut k = PATTERN_K_BASE;
    for (byte, mask) in k.iter_mut().skip(12).zip(index.to_be_bytes()) {
        *byte ^= mask;
    }
    (k, PATTERN_OP)
}

/// How a subscriber authenticates.
#[derive(Clone)]
pub enum Credential {
    /// IMS AKA with Milenage.
    Aka {
        /// K and OPc.
        milenage: Box<Milenage>,
        /// The AMF put in AUTN.
        amf: [u8; 2],
        /// The scheme this subscriber is challenged with when the S-CSCF leaves the
        /// choice to the HSS (an S-CSCF that names a scheme in the MAR gets that one).
        version: AkaVersion,
    },
    /// SIP Digest: H(A1) as 32 lower-case hex digits, and the realm it was made for.
    Digest {
        /// MD5(IMPI ":" realm ":" password) in hex.
        ha1: String,
        /// The realm.
        realm: String,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Aka { amf, version, .. } => {
                write!(
                    f,
                    "Aka {{ k: ***, opc: ***, amf: {:02x}{:02x}, {} }}",
                    amf[0],
                    amf[1],
                    version.algorithm().as_str()
                )
            }
            Credential::Digest { realm, .. } => write!(f, "Digest {{ ha1: ***, realm: {realm} }}"),
        }
    }
}

impl Drop for Credential {
    fn drop(&mut self) {
        if let Credential::Digest { ha1, .. } = self {
            ha1.zeroize();
        }
    }
}

/// A subscriber's identities and credential.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The private identity (IMPI), e.g. `alice@ims.test`.
    pub impi: String,
    /// The public identities (IMPUs), e.g. `sip:alice@ims.test`.
    pub impus: Vec<String>,
    /// The credential.
    pub credential: Credential,
}

/// The registration state of a subscriber's identities (TS 29.228 §6.1.1.1, Annex B).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Registration {
    /// Not registered; an S-CSCF name may be stored while authentication is pending.
    #[default]
    NotRegistered,
    /// Registered (SAR REGISTRATION / RE_REGISTRATION).
    Registered,
    /// Unregistered: an S-CSCF serves terminating requests (SAR UNREGISTERED_USER).
    Unregistered,
}

/// What the HSS remembers about a subscriber between requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// SQN of the last AKA vector issued (SEQ || IND, TS 33.102 Annex C).
    pub sqn: u64,
    /// The S-CSCF assigned (by MAR or SAR), if any.
    pub scscf: Option<String>,
    /// The registration state.
    pub registration: Registration,
}

/// Names one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriberId {
    /// The n-th listed subscriber.
    Listed(usize),
    /// The pattern subscriber with this index.
    Pattern(u32),
}

/// A pattern `prefix{first..last}@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    prefix: String,
    first: u32,
    last: u32,
    domain: String,
}

/// Why subscribers could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SubscriberError {
    /// The pattern is not `prefix{first..last}@domain`.
    #[error("pattern {pattern:?} is not of the form prefix{{first..last}}@domain")]
    BadPattern {
        /// The pattern given.
        pattern: String,
    },
    /// The TOML does not parse.
    #[error("subscriber file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A subscriber has no usable credential.
    #[error("subscriber {impi}: {problem}")]
    BadCredential {
        /// The IMPI.
        impi: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A key is not valid hex.
    #[error("subscriber {impi}: {source}")]
    BadKey {
        /// The IMPI.
        impi: String,
        /// The hex problem.
        source: ims_core::auth::AkaError,
    },
    /// Two subscribers share an identity.
    #[error("identity {identity} is listed twice")]
    Duplicate {
        /// The identity.
        identity: String,
    },
    /// More than [`MAX_LISTED`] subscribers.
    #[error("more than {MAX_LISTED} subscribers listed")]
    TooMany,
    /// A CSV file is not as [`Subscribers::load_csv`] expects.
    #[error("subscriber file, line {line}: {problem}")]
    Csv {
        /// The line (1 = the header row).
        line: u64,
        /// What is wrong.
        problem: String,
    },
}

impl Pattern {
    /// Reads `prefix{first..last}@domain`.
    pub fn parse(text: &str) -> Result<Pattern, SubscriberError> {
        let bad = || SubscriberError::BadPattern {
            pattern: text.to_owned(),
        };
        let (prefix, rest) = text.split_once('{').ok_or_else(bad)?;
        let (range, rest) = rest.split_once('}').ok_or_else(bad)?;
        let (first, last) = range.split_once("..").ok_or_else(bad)?;
        let domain = rest.strip_prefix('@').ok_or_else(bad)?;
        let first: u32 = first.trim().parse().map_err(|_| bad())?;
        let last: u32 = last.trim().parse().map_err(|_| bad())?;
        if first > last || domain.is_empty() || prefix.contains(['@', ':']) {
            return Err(bad());
        }
        Ok(Pattern {
            prefix: prefix.to_owned(),
            first,
            last,
            domain: domain.to_owned(),
        })
    }

    /// The index of the IMPI `user@domain` if it belongs to the pattern (`vu7`, not `vu07`).
    fn index_of(&self, impi: &str) -> Option<u32> {
        let (user, domain) = impi.split_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let digits = user.strip_prefix(self.prefix.as_str())?;
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || (digits.len() > 1 && digits.starts_with('0'))
        {
            return None;
        }
        let index: u32 = digits.parse().ok()?;
        (self.first..=self.last).contains(&index).then_some(index)
    }

    fn profile(&self, index: u32) -> Profile {
        let impi = format!("{}{index}@{}", self.prefix, self.domain);
        let (mut k, op) = pattern_keys(index);
        let milenage = Milenage::with_op(&k, &op);
        k.zeroize();
        Profile {
            impus: vec![format!("sip:{impi}")],
            impi,
            credential: Credential::Aka {
                milenage: Box::new(milenage),
                amf: [0, 0],
                version: AkaVersion::V1,
            },
        }
    }

    /// How many subscribers the pattern stands for.
    pub fn len(&self) -> u64 {
        u64::from(self.last - self.first) + 1
    }

    /// Never true: a pattern has at least one subscriber.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// One `[[subscriber]]` table of the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    impi: String,
    #[serde(default)]
    impu: Vec<String>,
    k: Option<String>,
    op: Option<String>,
    opc: Option<String>,
    amf: Option<String>,
    /// `AKAv1-MD5` (the default) or `AKAv2-MD5`.
    algorithm: Option<String>,
    #[serde(default)]
    sqn: u64,
    password: Option<String>,
    ha1: Option<String>,
    realm: Option<String>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        for text in [&mut self.k, &mut self.op, &mut self.opc, &mut self.password]
            .into_iter()
            .flatten()
        {
            text.zeroize();
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    subscriber: Vec<Entry>,
}

impl Entry {
    fn profile(&self) -> Result<Profile, SubscriberError> {
        let impi = self.impi.clone();
        let bad = |problem| SubscriberError::BadCredential {
            impi: impi.clone(),
            problem,
        };
        let key = |source| SubscriberError::BadKey {
            impi: impi.clone(),
            source,
        };
        if impi.is_empty() || impi.contains(':') {
            return Err(bad("impi must be user@domain without a scheme"));
        }
        let credential = match (&self.k, &self.password, &self.ha1) {
            (Some(k), None, None) => {
                let mut k: [u8; 16] = decode_hex("K", k).map_err(key)?;
                let milenage = match (&self.op, &self.opc) {
                    (Some(op), None) => Milenage::with_op(&k, &decode_hex("OP", op).map_err(key)?),
                    (None, Some(opc)) => {
                        Milenage::with_opc(&k, &decode_hex("OPc", opc).map_err(key)?)
                    }
                    _ => return Err(bad("an AKA subscriber needs exactly one of op and opc")),
                };
                k.zeroize();
                let amf = match &self.amf {
                    Some(amf) => decode_hex("AMF", amf).map_err(key)?,
                    None => [0, 0],
                };
                let version = match self.algorithm.as_deref() {
                    None => AkaVersion::V1,
                    Some(name) if name.eq_ignore_ascii_case("AKAv1-MD5") => AkaVersion::V1,
                    Some(name) if name.eq_ignore_ascii_case("AKAv2-MD5") => AkaVersion::V2,
                    Some(_) => return Err(bad("algorithm must be AKAv1-MD5 or AKAv2-MD5")),
                };
                Credential::Aka {
                    milenage: Box::new(milenage),
                    amf,
                    version,
                }
            }
            (None, Some(password), None) => {
                let realm = self.realm_or_domain();
                Credential::Digest {
                    ha1: digest_ha1(&impi, &realm, password),
                    realm,
                }
            }
            (None, None, Some(ha1)) => {
                if ha1.len() != 32 || !ha1.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad("ha1 must be 32 hex digits"));
                }
                Credential::Digest {
                    ha1: ha1.to_ascii_lowercase(),
                    realm: self.realm_or_domain(),
                }
            }
            _ => return Err(bad("give exactly one of k (AKA), password or ha1 (Digest)")),
        };
        let impus = if self.impu.is_empty() {
            vec![format!("sip:{impi}")]
        } else {
            self.impu.clone()
        };
        Ok(Profile {
            impi,
            impus,
            credential,
        })
    }

    fn realm_or_domain(&self) -> String {
        self.realm.clone().unwrap_or_else(|| {
            self.impi
                .split_once('@')
                .map_or_else(|| self.impi.clone(), |(_, domain)| domain.to_owned())
        })
    }
}

/// H(A1) = MD5(username ":" realm ":" password) in lower-case hex (RFC 2617 §3.2.2.2).
pub fn digest_ha1(username: &str, realm: &str, password: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(username.as_bytes());
    md5.update(b":");
    md5.update(realm.as_bytes());
    md5.update(b":");
    md5.update(password.as_bytes());
    let digest = md5.finalize();
    let mut hex = String::with_capacity(32);
    for byte in digest.iter() {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 15)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Every subscriber the HSS serves, and their state.
#[derive(Debug, Default)]
pub struct Subscribers {
    listed: Vec<Profile>,
    by_impi: HashMap<String, usize>,
    by_impu: HashMap<String, usize>,
    pattern: Option<Pattern>,
    states: HashMap<SubscriberId, State>,
}

impl Subscribers {
    /// No subscribers.
    pub fn new() -> Subscribers {
        Subscribers::default()
    }

    /// Adds the subscribers of a TOML file's text.
    pub fn load_toml(&mut self, text: &str) -> Result<(), SubscriberError> {
        let file: File = toml::from_str(text)?;
        if file.subscriber.len().saturating_add(self.listed.len()) > MAX_LISTED {
            return Err(SubscriberError::TooMany);
        }
        for entry in &file.subscriber {
            let profile = entry.profile()?;
            let sqn = entry.sqn;
            let id = self.add(profile)?;
            if sqn != 0 {
                self.state_mut(id).sqn = sqn;
            }
        }
        Ok(())
    }

    /// Adds the subscribers of a CSV file's text. The first row names the columns, with
    /// the keys of the TOML form (`impi`, `impu`, `k`, `op`, `opc`, `amf`, `sqn`,
    /// `algorithm`, `password`, `ha1`, `realm`) in any order; each further row is one
    /// subscriber, an empty cell being an absent key. Several IMPUs share the `impu` cell,
    /// separated by spaces or `;`. Rows starting with `#` are comments.
    ///
    /// ```text
    /// impi,impu,k,opc,algorithm
    /// alice@ims.test,sip:alice@ims.test;tel:+15550100,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,
    /// dave@ims.test,,9e5944aea94b81165c82fbf9f32db751,a64a507ae1a2a98bb88eb4210135dc87,AKAv2-MD5
    /// ```
    pub fn load_csv(&mut self, text: &str) -> Result<(), SubscriberError> {
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let at = |line: u64, problem: String| SubscriberError::Csv { line, problem };
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| at(1, e.to_string()))?
            .iter()
            .map(str::to_ascii_lowercase)
            .collect();
        const KEYS: [&str; 11] = [
            "impi",
            "impu",
            "k",
            "op",
            "opc",
            "amf",
            "sqn",
            "algorithm",
            "password",
            "ha1",
            "realm",
        ];
        if let Some(unknown) = columns.iter().find(|c| !KEYS.contains(&c.as_str())) {
            return Err(at(
                1,
                format!("unknown column {unknown:?} (columns: {})", KEYS.join(", ")),
            ));
        }
        if !columns.iter().any(|c| c == "impi") {
            return Err(at(1, "no impi column".to_owned()));
        }
        let mut record = csv::StringRecord::new();
        loop {
            let line = reader.position().line();
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(at(line, e.to_string())),
            }
            let line = record.position().map_or(line, csv::Position::line);
            if self.listed.len() >= MAX_LISTED {
                return Err(SubscriberError::TooMany);
            }
            let cell = |name: &str| {
                columns
                    .iter()
                    .position(|c| c == name)
                    .and_then(|i| record.get(i))
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            let sqn = match cell("sqn") {
                Some(text) => text
                    .parse()
                    .map_err(|_| at(line, format!("sqn {text:?} is not a number")))?,
                None => 0,
            };
            let entry = Entry {
                impi: cell("impi").ok_or_else(|| at(line, "empty impi".to_owned()))?,
                impu: cell("impu")
                    .map(|cell| {
                        cell.split([' ', ';'])
                            .filter(|i| !i.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                k: cell("k"),
                op: cell("op"),
                opc: cell("opc"),
                amf: cell("amf"),
                algorithm: cell("algorithm"),
                sqn,
                password: cell("password"),
                ha1: cell("ha1"),
                realm: cell("realm"),
            };
            let profile = entry.profile().map_err(|e| at(line, e.to_string()))?;
            let id = self.add(profile).map_err(|e| at(line, e.to_string()))?;
            if sqn != 0 {
                self.state_mut(id).sqn = sqn;
            }
        }
        Ok(())
    }

    /// Adds one subscriber.
    pub fn add(&mut self, profile: Profile) -> Result<SubscriberId, SubscriberError> {
        let index = self.listed.len();
        let duplicate = |identity: &str| SubscriberError::Duplicate {
            identity: identity.to_owned(),
        };
        if self.by_impi.contains_key(&profile.impi) {
            return Err(duplicate(&profile.impi));
        }
        if let Some(impu) = profile.impus.iter().find(|i| self.by_impu.contains_key(*i)) {
            return Err(duplicate(impu));
        }
        self.by_impi.insert(profile.impi.clone(), index);
        for impu in &profile.impus {
            self.by_impu.insert(impu.clone(), index);
        }
        self.listed.push(profile);
        Ok(SubscriberId::Listed(index))
    }

    /// Serves the subscribers of a pattern too (listed ones win on a clash).
    pub fn set_pattern(&mut self, pattern: Pattern) {
        self.pattern = Some(pattern);
    }

    /// How many subscribers are listed, and how many the pattern stands for.
    pub fn counts(&self) -> (usize, u64) {
        (
            self.listed.len(),
            self.pattern.as_ref().map_or(0, Pattern::len),
        )
    }

    /// The subscriber with this IMPI.
    pub fn by_impi(&self, impi: &str) -> Option<SubscriberId> {
        if let Some(index) = self.by_impi.get(impi) {
            return Some(SubscriberId::Listed(*index));
        }
        self.pattern
            .as_ref()
            .and_then(|p| p.index_of(impi))
            .map(SubscriberId::Pattern)
    }

    /// The subscriber with this IMPU.
    pub fn by_impu(&self, impu: &str) -> Option<SubscriberId> {
        if let Some(index) = self.by_impu.get(impu) {
            return Some(SubscriberId::Listed(*index));
        }
        let impi = impu.strip_prefix("sip:")?;
        self.pattern
            .as_ref()
            .and_then(|p| p.index_of(impi))
            .map(SubscriberId::Pattern)
    }

    /// The profile of a subscriber (derived anew for a pattern subscriber).
    pub fn profile(&self, id: SubscriberId) -> Option<Profile> {
        match id {
            SubscriberId::Listed(index) => self.listed.get(index).cloned(),
            SubscriberId::Pattern(index) => self.pattern.as_ref().map(|p| p.profile(index)),
        }
    }

    /// The state of a subscriber (a default one if it has none yet).
    pub fn state(&self, id: SubscriberId) -> State {
        self.states.get(&id).cloned().unwrap_or_default()
    }

    /// The state of a subscriber, to change.
    pub fn state_mut(&mut self, id: SubscriberId) -> &mut State {
        self.states.entry(id).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_matches_its_range_only() {
        let pattern = Pattern::parse("vu{0..9999}@ims.test").unwrap();
        assert_eq!(pattern.index_of("vu0@ims.test"), Some(0));
        assert_eq!(pattern.index_of("vu9999@ims.test"), Some(9999));
        assert_eq!(pattern.index_of("vu10000@ims.test"), None);
        assert_eq!(pattern.index_of("vu07@ims.test"), None);
        assert_eq!(pattern.index_of("vu@ims.test"), None);
        assert_eq!(pattern.index_of("vu1@other.test"), None);
        assert_eq!(pattern.index_of("xx1@ims.test"), None);
        assert_eq!(pattern.len(), 10_000);
        for bad in [
            "vu0..9@ims.test",
            "vu{9..0}@ims.test",
            "vu{0..9}",
            "vu{a..9}@x",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pattern_keys_follow_the_documented_rule() {
        let (k, op) = pattern_keys(0);
        assert_eq!(k, PATTERN_K_BASE);
        assert_eq!(op, PATTERN_OP);
        let (k, _) = pattern_keys(0x0102_0304);
        assert_eq!(k[..12], PATTERN_K_BASE[..12]);
        assert_eq!(
            k[12..],
            [0xe2 ^ 1, 0x38 ^ 2, 0xa6 ^ 3, 0xbc ^ 4],
            "the index is XORed big-endian into the last four octets"
        );
    }

    #[test]
    fn lookups_find_listed_and_pattern_subscribers() {
        let mut subscribers = Subscribers::new();
        subscribers
            .load_toml(
                r#"
                [[subscriber]]
                impi = "alice@ims.test"
                impu = ["sip:alice@ims.test", "tel:+15550100"]
                k = "465b5ce8b199b49faa5f0a2ee238a6bc"
                opc = "cd63cb71954a9f4e48a5994e37a02baf"
                sqn = 64

                [[subscriber]]
                impi = "carol@ims.test"
                password = "secret"
                "#,
            )
            .unwrap();
        subscribers.set_pattern(Pattern::parse("vu{0..99}@ims.test").unwrap());
        let alice = subscribers.by_impi("alice@ims.test").unwrap();
        assert_eq!(subscribers.by_impu("tel:+15550100"), Some(alice));
        assert_eq!(subscribers.state(alice).sqn, 64);
        assert_eq!(
            subscribers.by_impu("sip:vu5@ims.test"),
            Some(SubscriberId::Pattern(5))
        );
        assert_eq!(subscribers.by_impi("bob@ims.test"), None);
        let carol = subscribers.by_impi("carol@ims.test").unwrap();
        let profile = subscribers.profile(carol).unwrap();
        match &profile.credential {
            Credential::Digest { ha1, realm } => {
                assert_eq!(realm, "ims.test");
                assert_eq!(ha1, &digest_ha1("carol@ims.test", "ims.test", "secret"));
            }
            other => panic!("expected digest, got {other:?}"),
        }
        let shown = format!("{:?}", profile.credential);
        assert!(!shown.contains(&digest_ha1("carol@ims.test", "ims.test", "secret")));
        assert_eq!(subscribers.counts(), (2, 100));
    }

    #[test]
    fn rfc2617_ha1_example() {
        // RFC 2617 §3.5: Mufasa / testrealm@host.com / Circle Of Life.
        assert_eq!(
            digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life"),
            "939e7578ed9e3c518a452acee763bce9"
        );
    }

    #[test]
    fn csv_lists_aka_and_digest_subscribers() {
        let mut subscribers = Subscribers::new();
        subscribers
            .load_csv(concat!(
                "# written by hand\n",
                "IMPI, impu, k, opc, op, algorithm, sqn, password\n",
                "alice@ims.test,sip:alice@ims.test;tel:+15550100,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,,,64,\n",
                "dave@ims.test,,9e5944aea94b81165c82fbf9f32db751,,cdc202d5123e20f62b6d676ac72cb318,AKAv2-MD5,,\n",
                "\"carol@ims.test\",,,,,,,\"pass,word\"\n",
            ))
            .unwrap();
        let alice = subscribers.by_impi("alice@ims.test").unwrap();
        assert_eq!(subscribers.by_impu("tel:+15550100"), Some(alice));
        assert_eq!(subscribers.state_mut(alice).sqn, 64);
        let dave = subscribers.by_impi("dave@ims.test").unwrap();
        let profile = subscribers.profile(dave).unwrap();
        assert_eq!(profile.impus, ["sip:dave@ims.test"]);
        assert!(matches!(
            profile.credential,
            Credential::Aka {
                version: AkaVersion::V2,
                ..
            }
        ));
        let carol = subscribers.by_impi("carol@ims.test").unwrap();
        match &subscribers.profile(carol).unwrap().credential {
            Credential::Digest { ha1, realm } => {
                assert_eq!(realm, "ims.test");
                assert_eq!(*ha1, digest_ha1("carol@ims.test", "ims.test", "pass,word"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_csv_names_the_line() {
        for (text, line, says) in [
            ("impi,surname\na@x,b\n", 1, "unknown column \"surname\""),
            ("impu,k\nsip:a@x,00\n", 1, "no impi column"),
            ("impi,password\na@x,p\nb@x,\n", 3, "give exactly one of k"),
            ("impi,k,opc\na@x,zz,00\n", 2, "K"),
            ("impi,password,sqn\na@x,p,minus\n", 2, "sqn"),
            ("impi,password\na@x,p\na@x,q\n", 3, "listed twice"),
            ("impi,password\na@x,p,extra\n", 2, "fields"),
        ] {
            let error = Subscribers::new().load_csv(text).unwrap_err().to_string();
            assert!(
                error.contains(&format!("line {line}:"))
                    && error.contains(says)
                    && !error.contains("zz"),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn bad_files_are_refused() {
        let mut subscribers = Subscribers::new();
        for text in [
            "[[subscriber]]\nimpi = \"a@x\"\n",
            "[[subscriber]]\nimpi = \"a@x\"\nk = \"00\"\nop = \"00\"\n",
            "[[subscriber]]\nimpi = \"a@x\"\nk = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\n",
            "[[subscriber]]\nimpi = \"a@x\"\npassword = \"p\"\nha1 = \"00\"\n",
            "[[subscriber]]\nimpi = \"a@x\"\nha1 = \"zz\"\n",
            "[[subscriber]]\nimpi = \"a@x\"\npassword = \"p\"\nsurname = \"q\"\n",
            "[[subscriber]]\nimpi = \"a@x\"\nk = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nop = \"cdc202d5123e20f62b6d676ac72cb318\"\nalgorithm = \"MD5\"\n",
            "[[subscriber]]\nimpi = \"a@x\"\npassword = \"p\"\n[[subscriber]]\nimpi = \"a@x\"\npassword = \"p\"\n",
        ] {
            assert!(subscribers.load_toml(text).is_err(), "{text}");
        }
    }
}
