//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760):
//! MD5, SHA-256 and SHA-512/256 with their `-sess` variants, qop `auth` and `auth-int`,
//! and the RFC 2069 form without qop; and the IMS AKA algorithms `AKAv1-MD5` (RFC 3310)
//! and `AKAv2-MD5` (RFC 4169), which are MD5 Digest with a password from the AKA run
//! (see [`super::aka`]) and may carry `auts`.
//!
//! [`DigestChallenge::from_challenge`] copies a `WWW-Authenticate` / `Proxy-Authenticate`
//! challenge once; [`write_authorization`] then appends the `Authorization` /
//! `Proxy-Authorization` value for each request, without building intermediate strings.
//! The lower-level [`ha1`], [`ha2`] and [`response`] give the hex digests themselves.
//!
//! Usernames are written as received (UTF-8 inside a quoted string); RFC 7616 `userhash`
//! and `username*` are not supported.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};
use zeroize::Zeroize;

mod challenge;

pub use challenge::DigestChallenge;

/// Secret bytes (a password, later an AKA RES): `Debug` and `Display` print `<redacted>`,
/// and the bytes are zeroed when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps the secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// The secret bytes; use them only to compute a digest, never to log.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<Vec<u8>> for Secret {
    fn from(value: Vec<u8>) -> Self {
        Secret(value)
    }
}

impl From<&[u8]> for Secret {
    fn from(value: &[u8]) -> Self {
        Secret::new(value)
    }
}

/// A Digest `algorithm` (RFC 7616 §3.3, RFC 8760 §2): the hash and whether HA1 is the
/// session form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5` (also the meaning of an absent `algorithm`).
    #[default]
    Md5,
    /// `MD5-sess`
    Md5Sess,
    /// `SHA-256`
    Sha256,
    /// `SHA-256-sess`
    Sha256Sess,
    /// `SHA-512-256`
    Sha512_256,
    /// `SHA-512-256-sess`
    Sha512_256Sess,
    /// `AKAv1-MD5` (RFC 3310): MD5 with RES as the password.
    AkaV1Md5,
    /// `AKAv2-MD5` (RFC 4169): MD5 with a password derived from RES, IK and CK.
    AkaV2Md5,
}

impl Algorithm {
    const ALL: [Algorithm; 8] = [
        Algorithm::Md5,
        Algorithm::Md5Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
        Algorithm::AkaV1Md5,
        Algorithm::AkaV2Md5,
    ];

    /// The algorithm named by `token`, ignoring case; `None` for one we do not implement.
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str().eq_ignore_ascii_case(token))
    }

    /// The token as written in credentials, e.g. `SHA-256-sess`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
            Algorithm::AkaV1Md5 => "AKAv1-MD5",
            Algorithm::AkaV2Md5 => "AKAv2-MD5",
        }
    }

    /// True for `AKAv1-MD5` and `AKAv2-MD5`, whose password comes from an AKA run
    /// ([`super::aka::answer`]) rather than from the account.
    pub fn is_aka(self) -> bool {
        matches!(self, Algorithm::AkaV1Md5 | Algorithm::AkaV2Md5)
    }

    /// True for the `-sess` variants: HA1 = H(H(user:realm:password):nonce:cnonce).
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A quality of protection (RFC 2617 §3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Qop {
    /// `auth`: method and URI are protected.
    Auth,
    /// `auth-int`: the body is protected too.
    AuthInt,
}

impl Qop {
    /// The token, `auth` or `auth-int`.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a challenge cannot be answered, or credentials cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The challenge's scheme is not `Digest`.
    #[error("challenge scheme {scheme:?} is not Digest")]
    NotDigest {
        /// The scheme received.
        scheme: String,
    },
    /// A parameter the challenge must carry is missing.
    #[error("Digest challenge has no {parameter}")]
    MissingParameter {
        /// `realm` or `nonce`.
        parameter: &'static str,
    },
    /// The challenge names an algorithm we do not implement (e.g. `SHA-1`).
    #[error("unsupported Digest algorithm {algorithm:?}")]
    UnsupportedAlgorithm {
        /// The algorithm received.
        algorithm: String,
    },
    /// The challenge offers qop options, none of them `auth` or `auth-int`.
    #[error("Digest challenge offers qop {offered:?}: neither auth nor auth-int")]
    UnsupportedQop {
        /// The qop options received.
        offered: String,
    },
    /// A value holds a byte a quoted string cannot carry (CR, LF or NUL, RFC 3261 §25.1).
    #[error("{field} holds CR, LF or NUL, which a quoted string cannot carry")]
    Unquotable {
        /// The credentials parameter, e.g. `username`.
        field: &'static str,
    },
    /// qop or a `-sess` algorithm needs a cnonce, and the one given is empty.
    #[error("a cnonce is needed with qop or a -sess algorithm")]
    MissingCnonce,
    /// The nonce count is 0; the first use of a nonce counts 1 (RFC 2617 §3.2.2).
    #[error("nonce count 0: the first use of a nonce counts 1")]
    ZeroNonceCount,
}

/// What the credentials protect: the request's method, Request-URI and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestRequest<'a> {
    /// The method, e.g. `REGISTER`.
    pub method: &'a str,
    /// The digest-uri: the Request-URI as written in the request line.
    pub uri: &'a str,
    /// The message body (hashed only for `auth-int`; empty for none).
    pub body: &'a [u8],
}

/// Longest hex digest: SHA-256 and SHA-512/256 give 32 bytes.
const MAX_HEX: usize = 64;
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A digest as lowercase hex, held inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexDigest {
    buffer: [u8; MAX_HEX],
    len: u8,
}

impl HexDigest {
    fn from_bytes(bytes: &[u8]) -> Self {
        let mut buffer = [0u8; MAX_HEX];
        let mut len = 0u8;
        for (pair, byte) in buffer.chunks_exact_mut(2).zip(bytes) {
            if let [high, low] = pair {
                *high = HEX[usize::from(byte >> 4)];
                *low = HEX[usize::from(byte & 0x0f)];
                len = len.saturating_add(2);
            }
        }
        HexDigest { buffer, len }
    }

    /// The lowercase hex digits.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The lowercase hex digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexDigest({})", self.as_str())
    }
}

impl fmt::Display for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for HexDigest {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for HexDigest {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// HA1 as lowercase hex. It is password-equivalent: `Debug` prints `<redacted>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ha1(HexDigest);

impl Ha1 {
    /// The hex digits; use them only to compute a response, never to log.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Ha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ha1(<redacted>)")
    }
}

/// H(username:realm:password) in a challenge's hash (RFC 7616 §3.4.2): HA1 itself, or
/// for a `-sess` algorithm the part of it that stays the same from one request to the
/// next. Kept with a cached challenge so each later answer hashes two strings instead of
/// three. It is password-equivalent: `Debug` prints `<redacted>` and the digits are
/// zeroed when it is dropped.
#[derive(PartialEq, Eq)]
pub struct CredentialsHash(HexDigest);

impl CredentialsHash {
    /// Hashes the credentials for challenges with this `algorithm` (its hash function
    /// only; whether it is a `-sess` one matters when answering) in `realm`.
    pub fn new(algorithm: Algorithm, username: &str, realm: &str, password: &Secret) -> Self {
        CredentialsHash(hash_parts(
            algorithm,
            &[username.as_bytes(), realm.as_bytes(), password.expose()],
        ))
    }
}

impl Drop for CredentialsHash {
    fn drop(&mut self) {
        self.0.buffer.zeroize();
    }
}

impl fmt::Debug for CredentialsHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialsHash(<redacted>)")
    }
}

/// What an answer is computed from: the password, or the hash of the credentials.
#[derive(Clone, Copy)]
enum Key<'a> {
    Password(&'a Secret),
    Hashed(&'a CredentialsHash),
}

/// H(part1:part2:...) in the algorithm's hash, as hex.
fn hash_parts(algorithm: Algorithm, parts: &[&[u8]]) -> HexDigest {
    match algorithm {
        Algorithm::Md5 | Algorithm::Md5Sess | Algorithm::AkaV1Md5 | Algorithm::AkaV2Md5 => {
            hash_with::<Md5>(parts)
        }
        Algorithm::Sha256 | Algorithm::Sha256Sess => hash_with::<Sha256>(parts),
        Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => hash_with::<Sha512_256>(parts),
    }
}

fn hash_with<D: Digest>(parts: &[&[u8]]) -> HexDigest {
    let mut hasher = D::new();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            hasher.update(b":");
        }
        hasher.update(part);
    }
    HexDigest::from_bytes(&hasher.finalize())
}

/// HA1 (RFC 7616 §3.4.2): H(username:realm:password), or for a `-sess` algorithm
/// H(H(username:realm:password):nonce:cnonce). `nonce` and `cnonce` matter only for `-sess`.
pub fn ha1(
    algorithm: Algorithm,
    username: &str,
    realm: &str,
    password: &Secret,
    nonce: &str,
    cnonce: &str,
) -> Ha1 {
    let inner = CredentialsHash::new(algorithm, username, realm, password);
    ha1_from(algorithm, &inner, nonce, cnonce)
}

/// HA1 from the hashed credentials: those themselves, or H(them:nonce:cnonce) for `-sess`.
fn ha1_from(algorithm: Algorithm, inner: &CredentialsHash, nonce: &str, cnonce: &str) -> Ha1 {
    if algorithm.is_session() {
        Ha1(hash_parts(
            algorithm,
            &[inner.0.as_bytes(), nonce.as_bytes(), cnonce.as_bytes()],
        ))
    } else {
        Ha1(inner.0)
    }
}

/// HA2 (RFC 7616 §3.4.3): H(method:uri), or for `auth-int` H(method:uri:H(body)); an empty
/// body hashes as the empty string.
pub fn ha2(
    algorithm: Algorithm,
    method: &str,
    uri: &str,
    qop: Option<Qop>,
    body: &[u8],
) -> HexDigest {
    match qop {
        Some(Qop::AuthInt) => {
            let body_hash = hash_parts(algorithm, &[body]);
            hash_parts(
                algorithm,
                &[method.as_bytes(), uri.as_bytes(), body_hash.as_bytes()],
            )
        }
        Some(Qop::Auth) | None => hash_parts(algorithm, &[method.as_bytes(), uri.as_bytes()]),
    }
}

/// The hash function an algorithm uses (HA2 does not depend on `-sess` or AKA).
fn hash_family(algorithm: Algorithm) -> u8 {
    match algorithm {
        Algorithm::Md5 | Algorithm::Md5Sess | Algorithm::AkaV1Md5 | Algorithm::AkaV2Md5 => 0,
        Algorithm::Sha256 | Algorithm::Sha256Sess => 1,
        Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => 2,
    }
}

/// The last HA2 computed, with what it was computed from: answers to the same method and
/// Request-URI with the same hash and qop reuse it instead of hashing again. A client's
/// REGISTERs all have one method and usually one Request-URI (the registrar), so one memo
/// serves every account of an engine and every refresh. HA2 = H(method:uri) (or with
/// `auth-int` H(method:uri:H(body))) holds nothing secret. Only bodiless requests are
/// memoised; a body is hashed every time.
#[derive(Debug, Default)]
pub struct Ha2Memo {
    /// Hash family, qop and the digest; `None` until the first answer.
    last: Option<(u8, Option<Qop>, HexDigest)>,
    /// The method and the URI of `last`, one after the other.
    request: String,
    /// Where the method ends in `request`.
    method_len: usize,
}

impl Ha2Memo {
    /// HA2 for `request` answered with `algorithm` and `qop`: from the memo when it holds
    /// the same inputs, else computed (and kept when the request has no body).
    pub fn ha2(
        &mut self,
        algorithm: Algorithm,
        qop: Option<Qop>,
        request: &DigestRequest<'_>,
    ) -> HexDigest {
        if !request.body.is_empty() {
            return ha2(algorithm, request.method, request.uri, qop, request.body);
        }
        let family = hash_family(algorithm);
        if let Some((f, q, digest)) = self.last
            && f == family
            && q == qop
            && self.method_len == request.method.len()
            && self.request.get(..self.method_len) == Some(request.method)
            && self.request.get(self.method_len..) == Some(request.uri)
        {
            return digest;
        }
        let digest = ha2(algorithm, request.method, request.uri, qop, request.body);
        self.request.clear();
        self.request.push_str(request.method);
        self.request.push_str(request.uri);
        self.method_len = request.method.len();
        self.last = Some((family, qop, digest));
        digest
    }
}

/// The request-digest (RFC 7616 §3.4.1): H(HA1:nonce:nc:cnonce:qop:HA2) with a qop, or
/// H(HA1:nonce:HA2) without one (RFC 2069 form; `nc` and `cnonce` are then unused).
pub fn response(
    algorithm: Algorithm,
    ha1: &Ha1,
    nonce: &str,
    nc: u32,
    cnonce: &str,
    qop: Option<Qop>,
    ha2: &HexDigest,
) -> HexDigest {
    match qop {
        Some(qop) => {
            let nc = nonce_count_hex(nc);
            hash_parts(
                algorithm,
                &[
                    ha1.0.as_bytes(),
                    nonce.as_bytes(),
                    &nc,
                    cnonce.as_bytes(),
                    qop.as_str().as_bytes(),
                    ha2.as_bytes(),
                ],
            )
        }
        None => hash_parts(
            algorithm,
            &[ha1.0.as_bytes(), nonce.as_bytes(), ha2.as_bytes()],
        ),
    }
}

/// `nc` on the wire: eight lowercase hex digits (RFC 2617 §3.2.2).
fn nonce_count_hex(nc: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    let hex = HexDigest::from_bytes(&nc.to_be_bytes());
    out.copy_from_slice(hex.as_bytes().get(..8).unwrap_or(b"00000000"));
    out
}

/// Appends the whole `Authorization` / `Proxy-Authorization` value answering `challenge`
/// for `request` to `out`:
/// `Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=MD5,
/// cnonce="..", opaque="..", qop=auth, nc=00000001` (RFC 3261 §22.4, §25.1).
///
/// `cnonce` comes from the caller's RNG and `nc` is the caller's count of uses of this
/// nonce (1 for the first). cnonce, qop and nc are written only with a qop; cnonce also for
/// a `-sess` algorithm, whose HA1 needs it. On error nothing is appended.
pub fn write_authorization(
    out: &mut Vec<u8>,
    challenge: &DigestChallenge,
    username: &str,
    password: &Secret,
    request: &DigestRequest<'_>,
    cnonce: &str,
    nc: u32,
) -> Result<(), DigestError> {
    write_authorization_with(
        out, challenge, username, password, request, cnonce, nc, None,
    )
}

/// [`write_authorization`] with an optional `auts="..."` parameter: the AKA
/// resynchronisation token (RFC 3310 §3.4), appended last. For AKA challenges the
/// password is the one [`super::aka::AkaAnswer::password`] gives (empty with `auts`).
#[allow(clippy::too_many_arguments)]
pub fn write_authorization_with(
    out: &mut Vec<u8>,
    challenge: &DigestChallenge,
    username: &str,
    password: &Secret,
    request: &DigestRequest<'_>,
    cnonce: &str,
    nc: u32,
    auts: Option<&str>,
) -> Result<(), DigestError> {
    write_credentials(
        out,
        challenge,
        username,
        Key::Password(password),
        request,
        cnonce,
        nc,
        auts,
        None,
    )
}

/// [`write_authorization_with`] from [`CredentialsHash::new`] of the same algorithm,
/// username, `challenge.realm()` and password instead of the password: the same bytes,
/// one hash fewer. Keep the hash with the challenge it was made for.
#[allow(clippy::too_many_arguments)]
pub fn write_authorization_hashed(
    out: &mut Vec<u8>,
    challenge: &DigestChallenge,
    username: &str,
    credentials: &CredentialsHash,
    request: &DigestRequest<'_>,
    cnonce: &str,
    nc: u32,
    auts: Option<&str>,
) -> Result<(), DigestError> {
    write_credentials(
        out,
        challenge,
        username,
        Key::Hashed(credentials),
        request,
        cnonce,
        nc,
        auts,
        None,
    )
}

/// [`write_authorization_hashed`] with HA2 from `memo` when it holds the HA2 of this
/// request's method and URI (see [`Ha2Memo`]): the same bytes, one hash fewer.
#[allow(clippy::too_many_arguments)]
pub fn write_authorization_memoised(
    out: &mut Vec<u8>,
    challenge: &DigestChallenge,
    username: &str,
    credentials: &CredentialsHash,
    memo: &mut Ha2Memo,
    request: &DigestRequest<'_>,
    cnonce: &str,
    nc: u32,
    auts: Option<&str>,
) -> Result<(), DigestError> {
    write_credentials(
        out,
        challenge,
        username,
        Key::Hashed(credentials),
        request,
        cnonce,
        nc,
        auts,
        Some(memo),
    )
}

#[allow(clippy::too_many_arguments)]
fn write_credentials(
    out: &mut Vec<u8>,
    challenge: &DigestChallenge,
    username: &str,
    key: Key<'_>,
    request: &DigestRequest<'_>,
    cnonce: &str,
    nc: u32,
    auts: Option<&str>,
    memo: Option<&mut Ha2Memo>,
) -> Result<(), DigestError> {
    let algorithm = challenge.algorithm;
    let qop = challenge.qop;
    let send_cnonce = qop.is_some() || algorithm.is_session();
    let (realm, nonce, opaque) = challenge.parts();
    check_quotable("username", username)?;
    check_quotable("realm", realm)?;
    check_quotable("nonce", nonce)?;
    check_quotable("uri", request.uri)?;
    if let Some(opaque) = opaque {
        check_quotable("opaque", opaque)?;
    }
    if let Some(auts) = auts {
        check_quotable("auts", auts)?;
    }
    if send_cnonce {
        if cnonce.is_empty() {
            return Err(DigestError::MissingCnonce);
        }
        check_quotable("cnonce", cnonce)?;
    }
    if qop.is_some() && nc == 0 {
        return Err(DigestError::ZeroNonceCount);
    }

    let ha1 = match key {
        Key::Password(password) => ha1(algorithm, username, realm, password, nonce, cnonce),
        Key::Hashed(inner) => ha1_from(algorithm, inner, nonce, cnonce),
    };
    let ha2 = match memo {
        Some(memo) => memo.ha2(algorithm, qop, request),
        None => ha2(algorithm, request.method, request.uri, qop, request.body),
    };
    let digest = response(algorithm, &ha1, nonce, nc, cnonce, qop, &ha2);

    out.reserve(
        160 + username.len()
            + realm.len()
            + nonce.len()
            + request.uri.len()
            + cnonce.len()
            + opaque.map_or(0, str::len)
            + auts.map_or(0, |auts| auts.len() + 9),
    );
    out.extend_from_slice(b"Digest username=");
    write_quoted(out, username);
    out.extend_from_slice(b", realm=");
    write_quoted(out, realm);
    out.extend_from_slice(b", nonce=");
    write_quoted(out, nonce);
    out.extend_from_slice(b", uri=");
    write_quoted(out, request.uri);
    out.extend_from_slice(b", response=\"");
    out.extend_from_slice(digest.as_bytes());
    out.extend_from_slice(b"\", algorithm=");
    out.extend_from_slice(algorithm.as_str().as_bytes());
    if send_cnonce {
        out.extend_from_slice(b", cnonce=");
        write_quoted(out, cnonce);
    }
    if let Some(opaque) = opaque {
        out.extend_from_slice(b", opaque=");
        write_quoted(out, opaque);
    }
    if let Some(qop) = qop {
        out.extend_from_slice(b", qop=");
        out.extend_from_slice(qop.as_str().as_bytes());
        out.extend_from_slice(b", nc=");
        out.extend_from_slice(&nonce_count_hex(nc));
    }
    if let Some(auts) = auts {
        out.extend_from_slice(b", auts=");
        write_quoted(out, auts);
    }
    Ok(())
}

fn check_quotable(field: &'static str, value: &str) -> Result<(), DigestError> {
    if contains_any(value.as_bytes(), &[b'\r', b'\n', 0]) {
        Err(DigestError::Unquotable { field })
    } else {
        Ok(())
    }
}

/// Whether `bytes` holds any of `needles`, eight bytes at a time (SWAR: a word XOR a
/// needle repeated has a zero byte exactly where the needle is). The values of an answer
/// (username, realm, nonce, URI, cnonce) are a few dozen bytes, where memchr's setup
/// costs more than this whole scan; long values go to memchr.
fn contains_any(bytes: &[u8], needles: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    if bytes.len() > 64 {
        return match *needles {
            [a, b] => memchr::memchr2(a, b, bytes).is_some(),
            [a, b, c] => memchr::memchr3(a, b, c, bytes).is_some(),
            _ => bytes.iter().any(|byte| needles.contains(byte)),
        };
    }
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let zero = needles.iter().fold(0, |found, &needle| {
            let masked = word ^ (ONES * u64::from(needle));
            found | (masked.wrapping_sub(ONES) & !masked & HIGHS)
        });
        if zero != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|byte| needles.contains(byte))
}

/// Writes `"value"`, escaping `"` and `\` as quoted-pairs (RFC 3261 §25.1).
fn write_quoted(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    out.push(b'"');
    if !contains_any(bytes, b"\"\\") {
        out.extend_from_slice(bytes);
    } else {
        for &byte in bytes {
            if byte == b'"' || byte == b'\\' {
                out.push(b'\\');
            }
            out.push(byte);
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_of_each_hash() {
        // FIPS 180-4 / RFC 1321 "abc" digests.
        assert_eq!(
            hash_parts(Algorithm::Md5, &[b"abc"]),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hash_parts(Algorithm::Sha256, &[b"abc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hash_parts(Algorithm::Sha512_256, &[b"abc"]),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
        // Parts are joined with ':'.
        assert_eq!(
            hash_parts(Algorithm::Md5, &[b"a", b"b"]),
            hash_parts(Algorithm::Md5, &[b"a:b"])
        );
    }

    #[test]
    fn nonce_count_is_eight_lowercase_hex_digits() {
        assert_eq!(&nonce_count_hex(1), b"00000001");
        assert_eq!(&nonce_count_hex(0xab), b"000000ab");
        assert_eq!(&nonce_count_hex(u32::MAX), b"ffffffff");
    }

    #[test]
    fn algorithm_tokens_round_trip_ignoring_case() {
        for algorithm in Algorithm::ALL {
            assert_eq!(Algorithm::from_token(algorithm.as_str()), Some(algorithm));
            assert_eq!(
                Algorithm::from_token(&algorithm.as_str().to_ascii_lowercase()),
                Some(algorithm)
            );
        }
        assert_eq!(Algorithm::from_token("md5-SESS"), Some(Algorithm::Md5Sess));
        assert_eq!(
            Algorithm::from_token("akav1-md5"),
            Some(Algorithm::AkaV1Md5)
        );
        assert_eq!(
            Algorithm::from_token("AKAv2-MD5"),
            Some(Algorithm::AkaV2Md5)
        );
        assert!(Algorithm::AkaV2Md5.is_aka() && !Algorithm::Md5.is_aka());
        assert_eq!(Algorithm::from_token("AKAv1-SHA-256"), None);
        assert_eq!(Algorithm::from_token(""), None);
    }

    #[test]
    fn quoted_values_escape_quote_and_backslash() {
        let mut out = Vec::new();
        write_quoted(&mut out, r#"a"b\c"#);
        assert_eq!(out, br#""a\"b\\c""#);
    }

    #[test]
    fn hashed_credentials_give_the_same_answer_as_the_password() {
        let password = Secret::new("pw");
        for algorithm in Algorithm::ALL {
            for qop in [None, Some(Qop::Auth), Some(Qop::AuthInt)] {
                let mut challenge =
                    DigestChallenge::new("ims.test", "n0nce").with_opaque(Some("op"));
                challenge.algorithm = algorithm;
                challenge.qop = qop;
                let request = DigestRequest {
                    method: "REGISTER",
                    uri: "sip:ims.test",
                    body: b"",
                };
                let credentials = CredentialsHash::new(algorithm, "alice", "ims.test", &password);
                let (mut plain, mut hashed) = (Vec::new(), Vec::new());
                write_authorization_with(
                    &mut plain, &challenge, "alice", &password, &request, "c1", 3, None,
                )
                .unwrap();
                write_authorization_hashed(
                    &mut hashed,
                    &challenge,
                    "alice",
                    &credentials,
                    &request,
                    "c1",
                    3,
                    None,
                )
                .unwrap();
                assert_eq!(plain, hashed, "{algorithm} {qop:?}");
                // A different password gives a different answer.
                let other = CredentialsHash::new(algorithm, "alice", "ims.test", &"pw2".into());
                let mut wrong = Vec::new();
                write_authorization_hashed(
                    &mut wrong, &challenge, "alice", &other, &request, "c1", 3, None,
                )
                .unwrap();
                assert_ne!(plain, wrong, "{algorithm} {qop:?}");
            }
        }
        let hash = CredentialsHash::new(Algorithm::Md5, "alice", "ims.test", &password);
        assert_eq!(format!("{hash:?}"), "CredentialsHash(<redacted>)");
    }

    #[test]
    fn memoised_ha2_gives_the_same_answers_and_follows_its_inputs() {
        let password = Secret::new("pw");
        let mut memo = Ha2Memo::default();
        // Each answer in turn, with the memo holding the previous one's HA2: method, URI,
        // hash, qop and body each change in some step, and some steps repeat the last.
        // (algorithm, qop, method, URI, body)
        type Step = (
            Algorithm,
            Option<Qop>,
            &'static str,
            &'static str,
            &'static [u8],
        );
        let (md5, sha, auth, int) = (
            Algorithm::Md5,
            Algorithm::Sha256,
            Some(Qop::Auth),
            Some(Qop::AuthInt),
        );
        let steps: [Step; 10] = [
            (md5, auth, "REGISTER", "sip:ims.test", b""),
            (md5, auth, "REGISTER", "sip:ims.test", b""),
            (Algorithm::Md5Sess, auth, "REGISTER", "sip:ims.test", b""),
            (md5, int, "REGISTER", "sip:ims.test", b""),
            (md5, None, "REGISTER", "sip:ims.test", b""),
            (sha, None, "REGISTER", "sip:ims.test", b""),
            (sha, None, "REGISTE", "Rsip:ims.test", b""),
            (sha, None, "REGISTER", "sip:ims.test2", b""),
            (sha, int, "REGISTER", "sip:ims.test2", b"body"),
            (sha, int, "REGISTER", "sip:ims.test2", b""),
        ];
        for (algorithm, qop, method, uri, body) in steps {
            let mut challenge = DigestChallenge::new("ims.test", "n0nce");
            challenge.algorithm = algorithm;
            challenge.qop = qop;
            let request = DigestRequest { method, uri, body };
            let credentials = CredentialsHash::new(algorithm, "alice", "ims.test", &password);
            let (mut plain, mut memoised) = (Vec::new(), Vec::new());
            write_authorization(
                &mut plain, &challenge, "alice", &password, &request, "c1", 1,
            )
            .unwrap();
            write_authorization_memoised(
                &mut memoised,
                &challenge,
                "alice",
                &credentials,
                &mut memo,
                &request,
                "c1",
                1,
                None,
            )
            .unwrap();
            assert_eq!(memoised, plain, "{algorithm} {qop:?} {method} {uri}");
        }
    }

    #[test]
    fn contains_any_finds_each_needle_at_every_place() {
        let base: Vec<u8> = (0..80u8).map(|i| b'a' + i % 26).collect();
        for len in 0..base.len() {
            let clean = base.get(..len).unwrap();
            assert!(!contains_any(clean, &[b'\r', b'\n', 0]), "{len}");
            assert!(!contains_any(clean, b"\"\\"), "{len}");
            for at in 0..len {
                for needle in [b'\r', b'\n', 0, b'"', b'\\', 0x80, 0xff] {
                    let mut value = clean.to_vec();
                    value[at] = needle;
                    assert_eq!(
                        contains_any(&value, &[b'\r', b'\n', 0]),
                        memchr::memchr3(b'\r', b'\n', 0, &value).is_some(),
                        "{len} {at} {needle}"
                    );
                    assert_eq!(
                        contains_any(&value, b"\"\\"),
                        memchr::memchr2(b'"', b'\\', &value).is_some(),
                        "{len} {at} {needle}"
                    );
                }
            }
        }
        // Bytes next to a needle's value (borrows in the word arithmetic) find nothing.
        let near: Vec<u8> = [1u8, 0x0b, 0x0c, 0x0e, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80]
            .into_iter()
            .cycle()
            .take(40)
            .collect();
        assert!(!contains_any(&near, &[b'\r', b'\n', 0]));
        assert!(!contains_any(&near, b"\"\\"));
    }

    #[test]
    fn session_ha1_hashes_the_plain_ha1_with_nonce_and_cnonce() {
        let password = Secret::new("pw");
        let plain = ha1(Algorithm::Md5, "u", "r", &password, "n", "c");
        let session = ha1(Algorithm::Md5Sess, "u", "r", &password, "n", "c");
        let expected = hash_parts(Algorithm::Md5, &[plain.expose().as_bytes(), b"n", b"c"]);
        assert_eq!(session.expose(), expected.as_str());
        assert_ne!(session.expose(), plain.expose());
    }
}
