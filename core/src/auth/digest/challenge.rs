//! [`DigestChallenge`]: a `WWW-Authenticate` / `Proxy-Authenticate` Digest challenge,
//! copied once from the parsed header and kept across requests.

use super::{Algorithm, DigestError, Qop};
use crate::sip::typed::Challenge;

/// An owned copy of a `WWW-Authenticate` / `Proxy-Authenticate` Digest challenge, kept
/// across requests. String values are unescaped (`\"` becomes `"`). `realm`, `nonce` and
/// `opaque` share one heap block (one allocation per challenge, one cache line to fetch
/// when the answer is written): read them with [`realm`](Self::realm),
/// [`nonce`](Self::nonce) and [`opaque`](Self::opaque).
#[derive(Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// realm, nonce and opaque, one after the other.
    text: Box<str>,
    /// Where the realm ends and the nonce starts in `text`.
    realm_end: usize,
    /// Where the nonce ends and the opaque starts.
    nonce_end: usize,
    has_opaque: bool,
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
    /// A challenge with this realm and nonce (as they are, not escaped), no opaque,
    /// algorithm MD5, no qop, not stale, for `WWW-Authenticate`; set the public fields for
    /// others.
    pub fn new(realm: &str, nonce: &str) -> DigestChallenge {
        DigestChallenge::with_text(&[realm, nonce], None, |out, value| out.push_str(value))
    }

    /// The same challenge with `opaque` (as it is, not escaped) instead of its own.
    pub fn with_opaque(self, opaque: Option<&str>) -> DigestChallenge {
        let mut challenge =
            DigestChallenge::with_text(&[self.realm(), self.nonce()], opaque, |out, value| {
                out.push_str(value)
            });
        challenge.algorithm = self.algorithm;
        challenge.qop = self.qop;
        challenge.stale = self.stale;
        challenge.proxy = self.proxy;
        challenge
    }

    /// `realm`.
    pub fn realm(&self) -> &str {
        self.parts().0
    }

    /// `nonce`.
    pub fn nonce(&self) -> &str {
        self.parts().1
    }

    /// `opaque`, returned unchanged in the credentials.
    pub fn opaque(&self) -> Option<&str> {
        self.parts().2
    }

    /// `realm`, `nonce` and `opaque` at once.
    pub fn parts(&self) -> (&str, &str, Option<&str>) {
        // The ends were taken from the text as it was built, so they are in bounds and on
        // character boundaries.
        let (realm, rest) = self
            .text
            .split_at_checked(self.realm_end)
            .unwrap_or_default();
        let nonce_len = self.nonce_end.saturating_sub(self.realm_end);
        let (nonce, opaque) = rest.split_at_checked(nonce_len).unwrap_or_default();
        (realm, nonce, self.has_opaque.then_some(opaque))
    }

    /// Heap bytes held (realm, nonce and opaque together).
    pub fn heap_bytes(&self) -> usize {
        self.text.len()
    }

    /// Realm and nonce (`parts`), then `opaque`, appended by `append` into one block;
    /// the other fields at their defaults.
    fn with_text(
        parts: &[&str; 2],
        opaque: Option<&str>,
        append: impl Fn(&mut String, &str),
    ) -> DigestChallenge {
        let [realm, nonce] = *parts;
        let capacity = realm.len() + nonce.len() + opaque.map_or(0, str::len);
        let mut text = String::with_capacity(capacity);
        append(&mut text, realm);
        let realm_end = text.len();
        append(&mut text, nonce);
        let nonce_end = text.len();
        if let Some(opaque) = opaque {
            append(&mut text, opaque);
        }
        DigestChallenge {
            // Exact capacity unless escapes were removed: then one shrinking copy.
            text: text.into_boxed_str(),
            realm_end,
            nonce_end,
            has_opaque: opaque.is_some(),
            algorithm: Algorithm::Md5,
            qop: None,
            stale: false,
            proxy: false,
        }
    }

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
        let qop = qop.map(choose_qop).transpose()?.flatten();
        let mut copy = DigestChallenge::with_text(&[realm, nonce], opaque, unescape_into);
        copy.algorithm = algorithm;
        copy.qop = qop;
        copy.stale = challenge.stale();
        copy.proxy = proxy;
        Ok(copy)
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

impl std::fmt::Debug for DigestChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestChallenge")
            .field("realm", &self.realm())
            .field("nonce", &self.nonce())
            .field("opaque", &self.opaque())
            .field("algorithm", &self.algorithm)
            .field("qop", &self.qop)
            .field("stale", &self.stale)
            .field("proxy", &self.proxy)
            .finish()
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
    let mut out = String::with_capacity(value.len());
    unescape_into(&mut out, value);
    out
}

/// Appends `value` without its quoted-pair escapes.
fn unescape_into(out: &mut String, value: &str) {
    if !value.contains('\\') {
        out.push_str(value);
        return;
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_removes_quoted_pairs() {
        assert_eq!(unescape(r#"a\"b\\c"#), r#"a"b\c"#);
        assert_eq!(unescape("plain"), "plain");
    }

    #[test]
    fn realm_nonce_and_opaque_share_one_block_and_read_back() {
        let challenge = DigestChallenge::new("ims.test", "abc");
        assert_eq!(
            (challenge.realm(), challenge.nonce(), challenge.opaque()),
            ("ims.test", "abc", None)
        );
        assert_eq!(challenge.heap_bytes(), 11);
        let challenge = challenge.with_opaque(Some("o1"));
        assert_eq!(
            (challenge.realm(), challenge.nonce(), challenge.opaque()),
            ("ims.test", "abc", Some("o1"))
        );
        let empty = DigestChallenge::new("", "").with_opaque(Some(""));
        assert_eq!(
            (empty.realm(), empty.nonce(), empty.opaque()),
            ("", "", Some(""))
        );
        assert_ne!(
            empty,
            DigestChallenge::new("", ""),
            "an empty opaque is an opaque"
        );
        // Where one value ends and the next starts is part of the value.
        assert_ne!(
            DigestChallenge::new("ab", "c"),
            DigestChallenge::new("a", "bc")
        );
    }

    #[test]
    fn parsed_values_are_unescaped_into_the_block() {
        let value = br#"Digest realm="a\"b", nonce="n\\1", opaque="\o", qop="auth", stale=true, algorithm=SHA-256"#;
        let parsed = Challenge::parse(value).unwrap();
        let challenge = DigestChallenge::from_challenge(&parsed, true).unwrap();
        assert_eq!(challenge.realm(), r#"a"b"#);
        assert_eq!(challenge.nonce(), r#"n\1"#);
        assert_eq!(challenge.opaque(), Some("o"));
        assert_eq!(challenge.algorithm, Algorithm::Sha256);
        assert_eq!(challenge.qop, Some(Qop::Auth));
        assert!(challenge.stale && challenge.proxy);
        assert_eq!(challenge.heap_bytes(), 7);
        let debug = format!("{challenge:?}");
        assert!(debug.contains(r#"realm: "a\"b""#), "{debug}");
    }
}
