//! `name-addr` / `addr-spec` headers: From, To, Contact, Route, Record-Route, Path,
//! Service-Route, P-Associated-URI, P-Asserted-/P-Preferred-Identity, X-Group.

use std::borrow::Cow;

use super::params::{Params, scan_params_noting};
use super::{TypedHeader, expect_end, unexpected, unquote, value_error};
use crate::sip::chars::{Scanner, is_token, is_ws, trim_ws};
use crate::sip::error::{HeaderError, HeaderErrorKind};
use crate::sip::header::HeaderKind;
use crate::sip::uri::Uri;

/// A display name: quoted (escapes kept in the raw form) or a run of tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisplayName<'a> {
    raw: &'a [u8],
    quoted: bool,
}

impl<'a> DisplayName<'a> {
    /// The display name as received: a quoted name without its quotes, escapes kept.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True when the name was a quoted-string.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// The name with quoted-pair escapes undone (allocates only when there are escapes).
    pub fn unescaped(&self) -> Cow<'a, [u8]> {
        if self.quoted {
            unquote(self.raw)
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// The unescaped name as text, when it is UTF-8.
    pub fn to_text(&self) -> Option<Cow<'a, str>> {
        match self.unescaped() {
            Cow::Borrowed(bytes) => crate::sip::chars::as_str(bytes).map(Cow::Borrowed),
            Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
        }
    }
}

/// An address with optional display name and header parameters
/// (`"Alice" <sip:alice@ims.test>;tag=1`, or the bare `sip:alice@ims.test;tag=1`).
///
/// In the bare form the parameters belong to the header, not the URI (RFC 3261 §20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name, if any.
    pub display_name: Option<DisplayName<'a>>,
    /// The URI.
    pub uri: Uri<'a>,
    /// True when the URI was in angle brackets.
    pub bracketed: bool,
    /// The header parameters after the address.
    pub params: Params<'a>,
    /// The values of `tag` and `expires`, as found by the parse's one walk of the
    /// parameters (`None` when absent or without a value).
    usual: [Option<&'a str>; 2],
}

/// The parameters [`NameAddr`] notes while parsing, in the order of `NameAddr::usual`.
const USUAL: [&str; 2] = ["tag", "expires"];

impl<'a> NameAddr<'a> {
    /// Parses one `name-addr` or `addr-spec` with its header parameters.
    pub fn parse(value: &'a [u8]) -> Result<NameAddr<'a>, HeaderError> {
        let mut scanner = Scanner::for_value(value);
        let address = parse_address(&mut scanner)?;
        expect_end(&mut scanner)?;
        Ok(address)
    }

    /// The `tag` parameter (From/To).
    pub fn tag(&self) -> Option<&'a str> {
        self.usual[0]
    }

    /// The `expires` parameter's value as written (Contact).
    fn expires_value(&self) -> Option<&'a str> {
        self.usual[1]
    }
}

fn parse_uri_text<'a>(text: Option<&'a str>, offset: usize) -> Result<Uri<'a>, HeaderError> {
    let text = text.ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, offset))?;
    Uri::parse(text).map_err(|_| value_error(HeaderErrorKind::InvalidUri, offset))
}

pub(crate) fn parse_address<'a>(scanner: &mut Scanner<'a>) -> Result<NameAddr<'a>, HeaderError> {
    scanner.skip_ws();
    let display_name = match scanner.peek() {
        None => return Err(value_error(HeaderErrorKind::Empty, scanner.pos())),
        Some(b'"') => {
            let offset = scanner.pos();
            let raw = scanner
                .quoted_string()
                .ok_or_else(|| value_error(HeaderErrorKind::UnterminatedQuote, offset))?;
            scanner.skip_ws();
            if scanner.peek() != Some(b'<') {
                return Err(unexpected(scanner));
            }
            Some(DisplayName { raw, quoted: true })
        }
        Some(b'<') => None,
        Some(_) => {
            // Tokens separated by white space and then `<` make a display name;
            // otherwise this is an addr-spec.
            let mut probe = scanner.clone();
            let start = probe.pos();
            let mut tokens_end = start;
            loop {
                let token = probe.take_while(is_token);
                if token.is_empty() {
                    break;
                }
                tokens_end = probe.pos();
                probe.skip_ws();
            }
            if tokens_end > start && probe.peek() == Some(b'<') {
                let raw = probe.slice(start, tokens_end);
                *scanner = probe;
                Some(DisplayName { raw, quoted: false })
            } else {
                return parse_addr_spec(scanner);
            }
        }
    };
    // `<` URI `>`: no white space inside the brackets.
    scanner.eat(b'<');
    let uri_start = scanner.pos();
    scanner.take_while(|b| b != b'>' && !is_ws(b));
    let uri_text = scanner.text(uri_start, scanner.pos());
    if !scanner.eat(b'>') {
        return Err(match scanner.peek() {
            None => value_error(HeaderErrorKind::UnterminatedAngle, uri_start),
            Some(_) => unexpected(scanner),
        });
    }
    let uri = parse_uri_text(uri_text, uri_start)?;
    let (params, usual) = scan_params_noting(scanner, USUAL)?;
    let usual = usual.map(|param| param.and_then(|param| param.value));
    Ok(NameAddr {
        display_name,
        uri,
        bracketed: true,
        params,
        usual,
    })
}

/// The bare form: the URI runs to the first `;` or white space and may not carry
/// `?headers` (RFC 3261 §20.10).
fn parse_addr_spec<'a>(scanner: &mut Scanner<'a>) -> Result<NameAddr<'a>, HeaderError> {
    let uri_start = scanner.pos();
    if scanner
        .take_while(|b| b != b';' && b != b',' && !is_ws(b))
        .is_empty()
    {
        return Err(unexpected(scanner));
    }
    let uri = parse_uri_text(scanner.text(uri_start, scanner.pos()), uri_start)?;
    if uri.headers_str().is_some() {
        return Err(value_error(HeaderErrorKind::InvalidUri, uri_start));
    }
    let (params, usual) = scan_params_noting(scanner, USUAL)?;
    let usual = usual.map(|param| param.and_then(|param| param.value));
    Ok(NameAddr {
        display_name: None,
        uri,
        bracketed: false,
        params,
        usual,
    })
}

macro_rules! name_addr_header {
    ($( $(#[$doc:meta])* $name:ident => $kind:ident; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name<'a>(pub NameAddr<'a>);

            impl<'a> std::ops::Deref for $name<'a> {
                type Target = NameAddr<'a>;
                fn deref(&self) -> &NameAddr<'a> {
                    &self.0
                }
            }

            impl<'a> TypedHeader<'a> for $name<'a> {
                const KIND: HeaderKind = HeaderKind::$kind;
                fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
                    NameAddr::parse(value).map($name)
                }
            }
        )*
    };
}

name_addr_header! {
    /// `From` (RFC 3261 §20.20).
    From => From;
    /// `To` (RFC 3261 §20.39).
    To => To;
    /// One `Route` entry (RFC 3261 §20.34).
    Route => Route;
    /// One `Record-Route` entry (RFC 3261 §20.30).
    RecordRoute => RecordRoute;
    /// One `Path` entry (RFC 3327).
    Path => Path;
    /// One `Service-Route` entry (RFC 3608).
    ServiceRoute => ServiceRoute;
    /// One `P-Associated-URI` entry (RFC 7315 §4.1).
    PAssociatedUri => PAssociatedUri;
    /// One `P-Asserted-Identity` entry (RFC 3325).
    PAssertedIdentity => PAssertedIdentity;
    /// One `P-Preferred-Identity` entry (RFC 3325).
    PPreferredIdentity => PPreferredIdentity;
    /// `X-Group: "Name" <group-uri>`: marks a group chat message and names the group.
    XGroup => XGroup;
}

/// One `Contact` value: `*` or an address with parameters (RFC 3261 §20.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a borrowed view that lives on the stack while a header is read; boxing the               address would allocate per Contact value, which parsing must not"
)]
pub enum ContactValue<'a> {
    /// `Contact: *` (remove all bindings, with `Expires: 0`).
    Wildcard,
    /// An address.
    Address(NameAddr<'a>),
}

/// One `Contact` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contact<'a>(pub ContactValue<'a>);

impl<'a> Contact<'a> {
    /// The address, unless this is the wildcard.
    pub fn address(&self) -> Option<&NameAddr<'a>> {
        match &self.0 {
            ContactValue::Address(address) => Some(address),
            ContactValue::Wildcard => None,
        }
    }

    /// True for `*`.
    pub fn is_wildcard(&self) -> bool {
        matches!(self.0, ContactValue::Wildcard)
    }

    /// The `expires` parameter in seconds, when present and numeric.
    pub fn expires(&self) -> Option<u32> {
        let value = self.address()?.expires_value()?;
        crate::sip::chars::parse_u32(value.as_bytes())
    }

    /// The `q` parameter as thousandths (q=0.5 gives 500), when present and valid.
    pub fn q(&self) -> Option<u16> {
        let value = self.address()?.params.value("q")??;
        parse_qvalue(value)
    }

    /// The `+sip.instance` parameter without its quotes (RFC 5626), e.g. `<urn:uuid:...>`.
    pub fn instance(&self) -> Option<&'a str> {
        self.address()?.params.value("+sip.instance").flatten()
    }

    /// For a Contact value that is exactly `<` `uri` `>` and header parameters — a
    /// registrar echoing the Contact we sent — its `expires` (as [`Contact::expires`]),
    /// read without parsing the URI again. `None` for any other value, or one that does
    /// not parse: the caller then parses it in full. `uri` must be URI text the parser
    /// accepts (the Contact this stack wrote), so that the value parses exactly when its
    /// parameters do.
    pub(crate) fn echoed_expires(value: &'a [u8], uri: &str) -> Option<Option<u32>> {
        let params = value
            .strip_prefix(b"<")?
            .strip_prefix(uri.as_bytes())?
            .strip_prefix(b">")?;
        let mut scanner = Scanner::for_value(params);
        let (_, [expires]) = scan_params_noting(&mut scanner, ["expires"]).ok()?;
        expect_end(&mut scanner).ok()?;
        let value = expires.and_then(|param| param.value);
        Some(value.and_then(|value| crate::sip::chars::parse_u32(value.as_bytes())))
    }
}

/// Parses a qvalue (`0`, `0.5`, `1.000`) into thousandths.
pub(crate) fn parse_qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0u16;
    for (i, b) in fraction.bytes().enumerate() {
        let digit = u16::from(b.wrapping_sub(b'0'));
        let scale = match i {
            0 => 100,
            1 => 10,
            _ => 1,
        };
        thousandths = thousandths.saturating_add(digit.saturating_mul(scale));
    }
    let value = whole.saturating_add(thousandths);
    (value <= 1000).then_some(value)
}

impl<'a> TypedHeader<'a> for Contact<'a> {
    const KIND: HeaderKind = HeaderKind::Contact;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        if trim_ws(value) == b"*" {
            return Ok(Contact(ContactValue::Wildcard));
        }
        NameAddr::parse(value).map(|address| Contact(ContactValue::Address(address)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noted_tag_and_expires_equal_a_walk_of_the_list() {
        let cases: [&[u8]; 7] = [
            b"<sip:a@h>;tag=1;expires=60",
            b"\"A\" <sip:a@h;expires=5>;EXPIRES=30;Tag=x;tag=y",
            b"sip:a@h;tag=bare;expires=7",
            b"<sip:a@h>;tag;expires",
            b"<sip:a@h>;q=0.5;expires=notanumber",
            b"<sip:a@h>",
            b"<sip:a@h>;tagx=1;xexpires=2",
        ];
        for value in cases {
            let address = NameAddr::parse(value).expect("a valid name-addr");
            let contact = Contact::parse(value).expect("a valid Contact");
            let text = String::from_utf8_lossy(value);
            assert_eq!(
                address.tag(),
                address.params.value("tag").flatten(),
                "{text}"
            );
            assert_eq!(
                contact.expires(),
                address
                    .params
                    .value("expires")
                    .flatten()
                    .and_then(|v| crate::sip::chars::parse_u32(v.as_bytes())),
                "{text}"
            );
        }
        let address = NameAddr::parse(cases[1]).expect("valid");
        assert_eq!(address.tag(), Some("x"));
    }

    #[test]
    fn echoed_expires_agrees_with_the_full_parse() {
        let ours = "sip:u1@127.0.0.1:5062;transport=udp";
        let cases: [&[u8]; 12] = [
            b"<sip:u1@127.0.0.1:5062;transport=udp>;expires=600",
            b"<sip:u1@127.0.0.1:5062;transport=udp> ; Expires = 30 ;q=0.5",
            b"<sip:u1@127.0.0.1:5062;transport=udp>",
            b"<sip:u1@127.0.0.1:5062;transport=udp>;expires",
            b"<sip:u1@127.0.0.1:5062;transport=udp>;expires=x;expires=5",
            b"<sip:u1@127.0.0.1:5062;transport=udp>;expires=5 junk",
            b"<sip:u1@127.0.0.1:5062;transport=udp>;=5",
            b"<sip:u1@127.0.0.1:5062;transport=udp>;+sip.instance=\"<urn:x>\";expires=9",
            b"<sip:u1@127.0.0.1:5062;transport=udpx>;expires=600",
            b"\"me\" <sip:u1@127.0.0.1:5062;transport=udp>;expires=600",
            b"sip:u1@127.0.0.1:5062;expires=600",
            b"<sip:u1@127.0.0.1:5062;transport=udp>;expires=\"\xff\"",
        ];
        for value in cases {
            let text = String::from_utf8_lossy(value);
            let full = Contact::parse(value);
            match Contact::echoed_expires(value, ours) {
                // Taken: the value parses, its URI is ours, and expires is the same.
                Some(expires) => {
                    let contact = full.expect("an echo the fast path takes parses in full");
                    let address = contact.address().expect("an address");
                    assert_eq!(address.uri.as_str(), ours, "{text}");
                    assert_eq!(expires, contact.expires(), "{text}");
                }
                // Left to the full parse: not our URI in brackets, or not a valid value.
                None => assert!(
                    full.map_or(true, |c| c.address().is_none_or(|a| a.uri.as_str() != ours
                        || !a.bracketed
                        || a.display_name.is_some())),
                    "{text}"
                ),
            }
        }
        assert_eq!(Contact::echoed_expires(cases[0], ours), Some(Some(600)));
        assert_eq!(Contact::echoed_expires(cases[1], ours), Some(Some(30)));
        assert_eq!(Contact::echoed_expires(cases[2], ours), Some(None));
        assert_eq!(Contact::echoed_expires(cases[4], ours), Some(None));
        assert_eq!(Contact::echoed_expires(cases[5], ours), None);
        assert_eq!(Contact::echoed_expires(cases[8], ours), None);
        assert_eq!(Contact::parse(cases[1]).expect("valid").expires(), Some(30));
    }
}
