//! Typed header views, parsed on demand from a header value.
//!
//! Each view borrows the value it came from; a view that validated its parameters keeps
//! them as a raw slice and looks names up lazily ([`Params`]).
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod auth;
mod ims;
mod name_addr;
mod params;
mod simple;
mod via;

pub use auth::{
    AuthParams, Authorization, Challenge, Credentials, ProxyAuthenticate, ProxyAuthorization,
    WwwAuthenticate,
};
pub use ims::{
    PAccessNetworkInfo, PChargingVector, SecurityClient, SecurityMechanism, SecurityServer,
    SecurityVerify,
};
pub use name_addr::{
    Contact, ContactValue, DisplayName, From, NameAddr, PAssertedIdentity, PAssociatedUri,
    PPreferredIdentity, Path, RecordRoute, Route, ServiceRoute, To, XGroup,
};
pub use params::{Param, Params};
pub use simple::{
    Allow, CSeq, CallId, ContentLength, ContentType, Event, Expires, MaxForwards, MinExpires,
    OptionTag, ProxyRequire, RAck, RSeq, Require, SubscriptionState, Supported, Unsupported,
};
pub use via::{SentBy, Via};

use super::chars::{Scanner, is_token, trim_ws};
use super::error::{HeaderError, HeaderErrorKind};
use super::find::{find2, find3};
use super::header::HeaderKind;

/// A header with a typed view: its name, and a parse of one value (one list element for
/// list headers).
pub trait TypedHeader<'a>: Sized {
    /// The header this view reads.
    const KIND: HeaderKind;

    /// Parses one value; the value has no surrounding white space.
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError>;

    /// Parses one value and names the header in the error (used by the message accessors).
    fn parse_named(value: &'a [u8]) -> Result<Self, HeaderError> {
        Self::parse(value).map_err(|mut error| {
            error.header = Self::KIND.canonical().unwrap_or("header");
            error
        })
    }
}

/// An error inside a value before the header name is attached.
pub(crate) fn value_error(kind: HeaderErrorKind, offset: usize) -> HeaderError {
    HeaderError {
        kind,
        header: "",
        offset,
    }
}

/// The error for the scanner's position: unexpected byte or unexpected end.
pub(crate) fn unexpected(scanner: &Scanner<'_>) -> HeaderError {
    match scanner.peek() {
        Some(found) => value_error(HeaderErrorKind::UnexpectedByte { found }, scanner.pos()),
        None => value_error(HeaderErrorKind::UnexpectedEnd, scanner.pos()),
    }
}

/// Reads a token after optional white space.
pub(crate) fn token<'a>(scanner: &mut Scanner<'a>) -> Result<&'a str, HeaderError> {
    scanner.skip_ws();
    let start = scanner.pos();
    if scanner.take_while(is_token).is_empty() {
        return Err(unexpected(scanner));
    }
    scanner
        .text(start, scanner.pos())
        .ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, scanner.pos()))
}

/// Files `value` under the first of `names` that equals `name` (ignoring ASCII case) and
/// holds nothing yet, so the first of a repeated parameter counts (as a lookup by name
/// finds it). For views that note their usual parameters in their one walk of the list.
pub(crate) fn note<T, const N: usize>(
    names: &[&str; N],
    noted: &mut [Option<T>; N],
    name: &[u8],
    value: T,
) {
    if let Some((_, slot)) = names
        .iter()
        .zip(noted.iter_mut())
        .find(|(wanted, slot)| slot.is_none() && name.eq_ignore_ascii_case(wanted.as_bytes()))
    {
        *slot = Some(value);
    }
}

/// Requires that the scanner, after white space, is at the end of the value.
pub(crate) fn expect_end(scanner: &mut Scanner<'_>) -> Result<(), HeaderError> {
    scanner.skip_ws();
    if scanner.at_end() {
        Ok(())
    } else {
        Err(unexpected(scanner))
    }
}

/// Splits a header value into its comma-separated elements, respecting quoted strings
/// and `<...>`; a non-list header yields its whole value. Elements are trimmed; empty
/// elements are yielded so that their typed parse reports them.
pub fn split_list(value: &[u8], is_list: bool) -> ListElements<'_> {
    ListElements {
        rest: Some(value),
        is_list,
    }
}

/// Iterator over the elements of a comma-separated header value.
#[derive(Debug, Clone)]
pub struct ListElements<'a> {
    rest: Option<&'a [u8]>,
    is_list: bool,
}

impl<'a> Iterator for ListElements<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest.take()?;
        if !self.is_list {
            return Some(rest);
        }
        // Jump from one byte that matters to the next: outside quotes and angle brackets
        // `,` `"` `<`; inside `<...>` `>` `"`; inside a quoted string `"` and `\`
        // (which hides the byte after it).
        let mut in_quotes = false;
        let mut in_angle = false;
        let mut at = 0usize;
        while let Some(tail) = rest.get(at..) {
            let found = if in_quotes {
                find2(b'"', b'\\', tail)
            } else if in_angle {
                find2(b'>', b'"', tail)
            } else {
                find3(b',', b'"', b'<', tail)
            };
            let Some(offset) = found else { break };
            let i = at.wrapping_add(offset);
            at = i.wrapping_add(1);
            match rest.get(i) {
                Some(b'\\') => at = at.wrapping_add(1),
                Some(b'"') => in_quotes = !in_quotes,
                Some(b'<') => in_angle = true,
                Some(b'>') => in_angle = false,
                Some(b',') => {
                    let element = trim_ws(rest.get(..i).unwrap_or(&[]));
                    self.rest = Some(trim_ws(rest.get(at..).unwrap_or(&[])));
                    return Some(element);
                }
                _ => break,
            }
        }
        Some(rest)
    }
}

/// Undoes quoted-pair escapes of a quoted-string's content (`\"` -> `"`), allocating only
/// when the content has an escape.
pub fn unquote(content: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !content.contains(&b'\\') {
        return std::borrow::Cow::Borrowed(content);
    }
    let mut out = Vec::with_capacity(content.len());
    let mut bytes = content.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' {
            if let Some(&next) = bytes.next() {
                out.push(next);
            }
        } else {
            out.push(b);
        }
    }
    std::borrow::Cow::Owned(out)
}
