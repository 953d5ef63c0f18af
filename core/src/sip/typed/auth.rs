//! Authentication headers: WWW-/Proxy-Authenticate challenges and Authorization /
//! Proxy-Authorization credentials (RFC 3261 §22, RFC 7616, RFC 3310 `auts`).

use super::{TypedHeader, expect_end, note, unexpected, value_error};
use crate::sip::chars::{Scanner, as_str, is_token, is_ws};
use crate::sip::error::{HeaderError, HeaderErrorKind};
use crate::sip::header::HeaderKind;

/// One auth-param: a name and its value (a quoted value without quotes, escapes kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthParam<'a> {
    /// Parameter name as received.
    pub name: &'a str,
    /// Parameter value.
    pub value: &'a str,
    /// True when the value was quoted.
    pub quoted: bool,
}

/// The comma-separated auth-params after the scheme, validated once and looked up lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthParams<'a> {
    /// Checked as UTF-8 once, when the header was parsed; lookups slice it.
    raw: &'a str,
}

impl<'a> AuthParams<'a> {
    /// Every parameter in order.
    pub fn iter(&self) -> impl Iterator<Item = AuthParam<'a>> + 'a {
        let mut scanner = Scanner::for_text(self.raw);
        std::iter::from_fn(move || next_auth_param(&mut scanner).ok().flatten())
    }

    /// The value of the parameter `name` (ignoring case).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value)
    }

    /// The parameters as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw.as_bytes()
    }
}

fn next_auth_param<'a>(scanner: &mut Scanner<'a>) -> Result<Option<AuthParam<'a>>, HeaderError> {
    scanner.skip_ws();
    if scanner.at_end() {
        return Ok(None);
    }
    let name_start = scanner.pos();
    let name_len = scanner.take_while(is_token).len();
    if name_len == 0 {
        return Err(unexpected(scanner));
    }
    scanner.skip_ws();
    if !scanner.eat(b'=') {
        return Err(unexpected(scanner));
    }
    scanner.skip_ws();
    let offset = scanner.pos();
    let (value_start, value_len, quoted) = if scanner.peek() == Some(b'"') {
        let content = scanner
            .quoted_string()
            .ok_or_else(|| value_error(HeaderErrorKind::UnterminatedQuote, offset))?;
        (offset.saturating_add(1), content.len(), true)
    } else {
        let token = scanner.take_while(is_token);
        if token.is_empty() {
            return Err(unexpected(scanner));
        }
        (offset, token.len(), false)
    };
    scanner.skip_ws();
    if !scanner.at_end() && !scanner.eat(b',') {
        return Err(unexpected(scanner));
    }
    // Pieces of text checked once (a scanner from `for_value`/`for_text`), else checked
    // here; a name is a token (ASCII) and the value ends at an ASCII byte.
    let text = |start: usize, len: usize| {
        scanner
            .text(start, start.saturating_add(len))
            .ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, offset))
    };
    Ok(Some(AuthParam {
        name: text(name_start, name_len)?,
        value: text(value_start, value_len)?,
        quoted,
    }))
}

/// `scheme params`: shared by challenges and credentials.
fn parse_scheme_and_params(value: &[u8]) -> Result<(&str, AuthParams<'_>), HeaderError> {
    parse_scheme_and_params_noting(value, []).map(|(scheme, params, [])| (scheme, params))
}

/// [`parse_scheme_and_params`], noting on the way the value of the first parameter named
/// by each of `names` (ignoring ASCII case, as [`AuthParams::get`] finds it), so a view
/// answers for its usual parameters without walking the list again.
fn parse_scheme_and_params_noting<'a, const N: usize>(
    value: &'a [u8],
    names: [&str; N],
) -> Result<(&'a str, AuthParams<'a>, [Option<&'a str>; N]), HeaderError> {
    let mut noted: [Option<&'a str>; N] = [None; N];
    let mut scanner = Scanner::new(value);
    scanner.skip_ws();
    let scheme = scanner.take_while(is_token);
    if scheme.is_empty() {
        return Err(unexpected(&scanner));
    }
    if !scanner.at_end() && !scanner.peek().is_some_and(is_ws) {
        return Err(unexpected(&scanner));
    }
    scanner.skip_ws();
    let raw = scanner.rest();
    // UTF-8 checked once for all the parameters (pieces are sliced from it); when it is not
    // UTF-8, each parameter is checked on its own so the error names the one at fault.
    let mut check = Scanner::for_value(raw);
    while let Some(param) = next_auth_param(&mut check).map_err(|mut e| {
        e.offset = e.offset.saturating_add(scanner.pos());
        e
    })? {
        note(&names, &mut noted, param.name.as_bytes(), param.value);
    }
    expect_end(&mut check)?;
    let scheme = as_str(scheme).ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, 0))?;
    // Every parameter was text, and what lies between them is ASCII, so this is `Some`.
    let raw = check
        .as_text()
        .ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, scanner.pos()))?;
    Ok((scheme, AuthParams { raw }, noted))
}

/// A challenge (`WWW-Authenticate` / `Proxy-Authenticate`), e.g.
/// `Digest realm="ims.test", nonce="...", qop="auth", algorithm=MD5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The scheme, e.g. `Digest`.
    pub scheme: &'a str,
    /// The parameters.
    pub params: AuthParams<'a>,
    /// The values of [`CHALLENGE_USUAL`]'s parameters, noted by the parse's one walk.
    usual: [Option<&'a str>; 7],
}

/// The parameters a [`Challenge`] notes while parsing, in the order of `Challenge::usual`.
const CHALLENGE_USUAL: [&str; 7] = [
    "realm",
    "nonce",
    "opaque",
    "algorithm",
    "qop",
    "stale",
    "domain",
];

impl<'a> Challenge<'a> {
    /// Parses `scheme params`.
    pub fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let (scheme, params, usual) = parse_scheme_and_params_noting(value, CHALLENGE_USUAL)?;
        Ok(Challenge {
            scheme,
            params,
            usual,
        })
    }
    /// True for the Digest scheme.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }
    /// `realm`
    pub fn realm(&self) -> Option<&'a str> {
        self.usual[0]
    }
    /// `nonce` (for AKA: base64 of RAND || AUTN || server data)
    pub fn nonce(&self) -> Option<&'a str> {
        self.usual[1]
    }
    /// `opaque`
    pub fn opaque(&self) -> Option<&'a str> {
        self.usual[2]
    }
    /// `algorithm`, e.g. `MD5`, `MD5-sess`, `SHA-256`, `AKAv1-MD5`
    pub fn algorithm(&self) -> Option<&'a str> {
        self.usual[3]
    }
    /// `qop` options, e.g. `auth,auth-int`
    pub fn qop(&self) -> Option<&'a str> {
        self.usual[4]
    }
    /// The qop options one by one.
    pub fn qop_options(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.qop()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
    }
    /// `stale=true`: the nonce expired, the credentials were right.
    pub fn stale(&self) -> bool {
        self.usual[5].is_some_and(|s| s.eq_ignore_ascii_case("true"))
    }
    /// `domain`
    pub fn domain(&self) -> Option<&'a str> {
        self.usual[6]
    }
}

/// Credentials (`Authorization` / `Proxy-Authorization`), e.g.
/// `Digest username="alice", realm="ims.test", nonce="...", uri="sip:ims.test", response="..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The scheme, e.g. `Digest`.
    pub scheme: &'a str,
    /// The parameters.
    pub params: AuthParams<'a>,
}

impl<'a> Credentials<'a> {
    /// Parses `scheme params`.
    pub fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let (scheme, params) = parse_scheme_and_params(value)?;
        Ok(Credentials { scheme, params })
    }
    /// `username`
    pub fn username(&self) -> Option<&'a str> {
        self.params.get("username")
    }
    /// `realm`
    pub fn realm(&self) -> Option<&'a str> {
        self.params.get("realm")
    }
    /// `nonce`
    pub fn nonce(&self) -> Option<&'a str> {
        self.params.get("nonce")
    }
    /// `uri`
    pub fn uri(&self) -> Option<&'a str> {
        self.params.get("uri")
    }
    /// `response`
    pub fn response(&self) -> Option<&'a str> {
        self.params.get("response")
    }
    /// `algorithm`
    pub fn algorithm(&self) -> Option<&'a str> {
        self.params.get("algorithm")
    }
    /// `cnonce`
    pub fn cnonce(&self) -> Option<&'a str> {
        self.params.get("cnonce")
    }
    /// `opaque`
    pub fn opaque(&self) -> Option<&'a str> {
        self.params.get("opaque")
    }
    /// `qop`
    pub fn qop(&self) -> Option<&'a str> {
        self.params.get("qop")
    }
    /// `nc` as a number (eight hex digits on the wire).
    pub fn nc(&self) -> Option<u32> {
        u32::from_str_radix(self.params.get("nc")?, 16).ok()
    }
    /// `auts` (RFC 3310 §3.4: AKA resynchronisation)
    pub fn auts(&self) -> Option<&'a str> {
        self.params.get("auts")
    }
}

macro_rules! auth_header {
    ($( $(#[$doc:meta])* $name:ident($inner:ident) => $kind:ident; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name<'a>(pub $inner<'a>);

            impl<'a> std::ops::Deref for $name<'a> {
                type Target = $inner<'a>;
                fn deref(&self) -> &$inner<'a> {
                    &self.0
                }
            }

            impl<'a> TypedHeader<'a> for $name<'a> {
                const KIND: HeaderKind = HeaderKind::$kind;
                fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
                    $inner::parse(value).map($name)
                }
            }
        )*
    };
}

auth_header! {
    /// `WWW-Authenticate` (RFC 3261 §20.44).
    WwwAuthenticate(Challenge) => WwwAuthenticate;
    /// `Proxy-Authenticate` (RFC 3261 §20.27).
    ProxyAuthenticate(Challenge) => ProxyAuthenticate;
    /// `Authorization` (RFC 3261 §20.7).
    Authorization(Credentials) => Authorization;
    /// `Proxy-Authorization` (RFC 3261 §20.28).
    ProxyAuthorization(Credentials) => ProxyAuthorization;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noted_challenge_parameters_equal_a_walk_of_the_list() {
        let cases: [&[u8]; 6] = [
            br#"Digest realm="ims.test", nonce="abc", qop="auth,auth-int", algorithm=MD5, opaque="o""#,
            br#"Digest REALM="a", Nonce="n1", nonce="n2", realm="b", STALE=TRUE, domain="sip:x""#,
            br#"Digest realm="r\"q", nonce="n", algorithm=AKAv1-MD5, stale=false"#,
            b"Digest realm=r,nonce=n",
            b"Basic realm=\"x\"",
            br#"Digest realmx="a", xnonce="b", qops="c""#,
        ];
        for value in cases {
            let challenge = Challenge::parse(value).expect("a valid challenge");
            let text = String::from_utf8_lossy(value);
            let params = challenge.params;
            assert_eq!(challenge.realm(), params.get("realm"), "{text}");
            assert_eq!(challenge.nonce(), params.get("nonce"), "{text}");
            assert_eq!(challenge.opaque(), params.get("opaque"), "{text}");
            assert_eq!(challenge.algorithm(), params.get("algorithm"), "{text}");
            assert_eq!(challenge.qop(), params.get("qop"), "{text}");
            assert_eq!(challenge.domain(), params.get("domain"), "{text}");
            assert_eq!(
                challenge.stale(),
                params
                    .get("stale")
                    .is_some_and(|s| s.eq_ignore_ascii_case("true")),
                "{text}"
            );
        }
        let challenge = Challenge::parse(cases[1]).expect("valid");
        assert_eq!(
            (challenge.realm(), challenge.nonce()),
            (Some("a"), Some("n1"))
        );
        assert!(challenge.stale());
        assert_eq!(Challenge::parse(cases[5]).expect("valid").realm(), None);
    }
}
