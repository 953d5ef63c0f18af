//! Addresses of record, normalised once so that the store compares them as plain text.
//!
//! RFC 3261 §19.1.4 compares the scheme and host of SIP URIs ignoring case and the user
//! part exactly, with a `%HH` escape equal to the character it stands for. [`Aor::parse`]
//! brings every AOR to one spelling, so equal AORs are equal strings in SQLite:
//!
//! - `sip:` / `sips:` (two different AORs, never equal to each other): the scheme and the
//!   host name in lower case, IPv4 and IPv6 addresses in their canonical form (`[..]` for
//!   IPv6), the port kept when written; the user part exact, except that an escape of an
//!   unreserved character is undone and other escapes take upper-case hex digits; the
//!   password, the URI parameters and the `?headers` are dropped (an AOR has none, and the
//!   store keeps no secrets).
//! - `tel:` (RFC 3966 §4): the scheme in lower case, the number without its visual
//!   separators (`-`, `.`, `(`, `)`), the parameters as written.
//! - Any other scheme is refused.

use std::fmt;
use std::str::FromStr;

use crate::sip::{Host, Scheme, Uri, UriError};

/// Why a text is not an address of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AorError {
    /// The text is not a URI.
    #[error("not a URI: {0}")]
    Uri(#[from] UriError),
    /// The URI's scheme is not `sip`, `sips` or `tel`.
    #[error("an address of record is a sip:, sips: or tel: URI")]
    UnsupportedScheme,
}

/// An address of record (RFC 3261 §10): a `sip:`, `sips:` or `tel:` URI in the normal
/// form described in the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aor(String);

impl Aor {
    /// Parses and normalises an AOR; surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<Aor, AorError> {
        let uri = Uri::parse(text.trim())?;
        let mut normal = String::with_capacity(text.len());
        match uri.scheme() {
            Scheme::Sip | Scheme::Sips => {
                normal.push_str(if uri.scheme() == Scheme::Sip {
                    "sip:"
                } else {
                    "sips:"
                });
                if let Some(user) = uri.user() {
                    push_user(&mut normal, user);
                    normal.push('@');
                }
                match uri.host() {
                    Some(Host::Domain(name)) => normal.push_str(&name.to_ascii_lowercase()),
                    Some(host) => normal.push_str(&host.to_string()),
                    None => return Err(AorError::Uri(UriError::InvalidHost)),
                }
                if let Some(port) = uri.port() {
                    normal.push(':');
                    normal.push_str(&port.to_string());
                }
            }
            Scheme::Tel => {
                normal.push_str("tel:");
                let number = uri.user().unwrap_or("");
                normal.extend(
                    number
                        .chars()
                        .filter(|c| !matches!(c, '-' | '.' | '(' | ')')),
                );
                normal.push_str(uri.params_str());
            }
            _ => return Err(AorError::UnsupportedScheme),
        }
        Ok(Aor(normal))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps text read back from the store, which was normalised when it was written.
    pub(crate) fn from_stored(text: String) -> Aor {
        Aor(text)
    }
}

/// True for the unreserved characters of RFC 3261 §25.1 (alphanum / mark).
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// Appends a user part with escapes of unreserved characters undone and the other escapes
/// in upper case. The URI parser has checked that every `%` starts a valid escape.
fn push_user(out: &mut String, user: &str) {
    let mut rest = user;
    while let Some(at) = rest.find('%') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let hex = rest
            .get(at.saturating_add(1)..at.saturating_add(3))
            .unwrap_or("");
        match u8::from_str_radix(hex, 16) {
            Ok(byte) if is_unreserved(byte) => out.push(char::from(byte)),
            Ok(_) => {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            // Not reached for a parsed URI; keep the text as it was.
            Err(_) => {
                out.push('%');
                out.push_str(hex);
            }
        }
        rest = rest.get(at.saturating_add(3)..).unwrap_or("");
    }
    out.push_str(rest);
}

impl fmt::Display for Aor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Aor {
    type Err = AorError;

    fn from_str(text: &str) -> Result<Aor, AorError> {
        Aor::parse(text)
    }
}

impl AsRef<str> for Aor {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(text: &str) -> String {
        Aor::parse(text)
            .map(|aor| aor.0)
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn scheme_and_host_lose_case_user_keeps_it() {
        assert_eq!(normal("SIP:Alice@IMS.Test"), "sip:Alice@ims.test");
        assert_ne!(normal("sip:Alice@ims.test"), normal("sip:alice@ims.test"));
        assert_eq!(
            normal("sips:bob@Example.COM:5061"),
            "sips:bob@example.com:5061"
        );
        assert_ne!(
            normal("sips:bob@example.com"),
            normal("sip:bob@example.com")
        );
    }

    #[test]
    fn parameters_headers_and_password_are_dropped() {
        assert_eq!(
            normal(" sip:alice:secret@ims.test;transport=tcp?subject=hi "),
            "sip:alice@ims.test"
        );
    }

    #[test]
    fn escapes_are_normalised() {
        assert_eq!(normal("sip:%61lice@ims.test"), "sip:alice@ims.test");
        assert_eq!(normal("sip:a%2cb@ims.test"), "sip:a%2Cb@ims.test");
    }

    #[test]
    fn addresses_take_their_canonical_form() {
        assert_eq!(normal("sip:a@[2001:DB8:0::1]"), "sip:a@[2001:db8::1]");
        assert_eq!(normal("sip:a@192.0.2.1:5060"), "sip:a@192.0.2.1:5060");
    }

    #[test]
    fn tel_numbers_lose_visual_separators() {
        assert_eq!(normal("TEL:+1-202-555-0100"), "tel:+12025550100");
        assert_eq!(
            normal("tel:7042;phone-context=ims.test"),
            "tel:7042;phone-context=ims.test"
        );
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert_eq!(
            Aor::parse("mailto:alice@ims.test"),
            Err(AorError::UnsupportedScheme)
        );
        assert!(Aor::parse("alice").is_err());
        assert!(Aor::parse("").is_err());
    }
}
