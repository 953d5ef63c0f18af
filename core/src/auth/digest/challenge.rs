//! [`DigestChallenge`]: a `WWW-Authenticate` / `Proxy-Authenticate` Digest challenge,
//! copied once from the parsed header and kept across requests.

use super::{Algorithm, DigestError, Qop};
use crate::sip::typed::Challenge;

/// An owned copy of a `WWW-Authenticate` / `Proxy-Authenticate` Digest challenge, kept
/// across requests. String values are unescaped (`\"` becomes `"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// `realm`
    pub realm: String,
    /// `nonce`
    pub nonce: String,
    /// `opaque`, returned unchanged in the credentials.
    pub opaque: Option<String>,
    /// `algorithm`; MD5 when absent.
    pub algorithm: Algorithm,
    /// The qop chosen: `auth` if offered, else `auth-int` if offered, else none (RFC 2069
    /// form, also when the challenge's qop value is empty).
    pub qop: Option<Qop>,
    /// `stale=true`: the nonce expired but the credentials were right (RFC 2617 §3.2.1).
    pub stale: bool,
    /// True for `Proxy-Authenticate`, answered with `Proxy-Authorization` (RFC 3261 §22.3).
    pub proxy: bool,
}

impl DigestChallenge {
    /// Copies a parsed challenge. Errors: not the Digest scheme, no realm or nonce, an
    /// algorithm we do not implement, qop offered but neither `auth` nor `auth-int`.
    pub fn from_challenge(challenge: &Challenge<'_>, proxy: bool) -> Result<Self, DigestError> {
        if !challenge.is_digest() {
            return Err(DigestError::NotDigest {
                scheme: challenge.scheme.to_owned(),
            });
        }
        // The challenge's parse noted these in its one walk of the parameters (the first
        // of a repeated name counts, as in `AuthParams::get`).
        let (realm, nonce, opaque, algorithm, qop) = (
            challenge.realm(),
            challenge.nonce(),
            challenge.opaque(),
            challenge.algorithm(),
            challenge.qop(),
        );
        let realm = realm.ok_or(DigestError::MissingParameter { parameter: "realm" })?;
        let nonce = nonce.ok_or(DigestError::MissingParameter { parameter: "nonce" })?;
        let algorithm = match algorithm {
            None => Algorithm::Md5,
            Some(token) => {
                Algorithm::from_token(token).ok_or_else(|| DigestError::UnsupportedAlgorithm {
                    algorithm: unescape(token),
                })?
            }
        };
        Ok(DigestChallenge {
            realm: unescape(realm),
            nonce: unescape(nonce),
            opaque: opaque.map(unescape),
            algorithm,
            qop: qop.map(choose_qop).transpose()?.flatten(),
            stale: challenge.stale(),
            proxy,
        })
    }

    /// The header the credentials go in: `Authorization` or `Proxy-Authorization`.
    pub fn credentials_header(&self) -> &'static str {
        if self.proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        }
    }
}

/// The qop to use from the options offered: `auth`, else `auth-int`, else none when the
/// list is empty; an error when only other options are offered.
fn choose_qop(offered: &str) -> Result<Option<Qop>, DigestError> {
    let options = || {
        offered
            .split(',')
            .map(str::trim)
            .filter(|option| !option.is_empty())
    };
    if options().any(|option| option.eq_ignore_ascii_case("auth")) {
        Ok(Some(Qop::Auth))
    } else if options().any(|option| option.eq_ignore_ascii_case("auth-int")) {
        Ok(Some(Qop::AuthInt))
    } else if options().next().is_none() {
        Ok(None)
    } else {
        Err(DigestError::UnsupportedQop {
            offered: offered.to_owned(),
        })
    }
}

/// Removes quoted-pair escapes from a value as the header parser hands it over.
fn unescape(value: &str) -> String {
    if !value.contains('\\') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_removes_quoted_pairs() {
        assert_eq!(unescape(r#"a\"b\\c"#), r#"a"b\c"#);
        assert_eq!(unescape("plain"), "plain");
    }
}
