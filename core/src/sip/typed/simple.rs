//! Small headers: CSeq, Call-ID, numbers, Content-Type, option tags, Allow, Event,
//! Subscription-State, RSeq, RAck.

use super::params::{Params, scan_params};
use super::{TypedHeader, expect_end, token, unexpected, value_error};
use crate::sip::chars::{Scanner, as_str, is_digit, is_token, is_ws, parse_u32, trim_ws};
use crate::sip::error::{HeaderError, HeaderErrorKind};
use crate::sip::header::HeaderKind;
use crate::sip::method::Method;

fn number(scanner: &mut Scanner<'_>) -> Result<u32, HeaderError> {
    scanner.skip_ws();
    let start = scanner.pos();
    let digits = scanner.take_while(is_digit);
    if digits.is_empty() {
        return Err(unexpected(scanner));
    }
    parse_u32(digits).ok_or_else(|| value_error(HeaderErrorKind::InvalidNumber, start))
}

fn whole_number(value: &[u8]) -> Result<u32, HeaderError> {
    let mut scanner = Scanner::new(value);
    let n = number(&mut scanner)?;
    expect_end(&mut scanner)?;
    Ok(n)
}

/// `CSeq: 1 INVITE` (RFC 3261 §20.16). The number must fit 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number.
    pub seq: u32,
    /// The method.
    pub method: Method<'a>,
}

impl<'a> TypedHeader<'a> for CSeq<'a> {
    const KIND: HeaderKind = HeaderKind::CSeq;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::new(value);
        let seq = number(&mut scanner)?;
        if !scanner.peek().is_some_and(is_ws) {
            return Err(unexpected(&scanner));
        }
        // The usual `1 REGISTER`: one SP, then a known method up to the end.
        if let Some(method) = value
            .get(scanner.pos().wrapping_add(1)..)
            .filter(|_| scanner.peek() == Some(b' '))
            .and_then(Method::known)
        {
            return Ok(CSeq { seq, method });
        }
        let method = Method::from_token(token(&mut scanner)?);
        expect_end(&mut scanner)?;
        Ok(CSeq { seq, method })
    }
}

/// `Call-ID: word[@word]` (RFC 3261 §20.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallId<'a>(pub &'a str);

fn is_word(b: u8) -> bool {
    is_token(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

impl<'a> TypedHeader<'a> for CallId<'a> {
    const KIND: HeaderKind = HeaderKind::CallId;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::new(value);
        let word = scanner.take_while(is_word);
        if word.is_empty() {
            return Err(unexpected(&scanner));
        }
        if scanner.eat(b'@') && scanner.take_while(is_word).is_empty() {
            return Err(unexpected(&scanner));
        }
        if !scanner.at_end() {
            return Err(unexpected(&scanner));
        }
        as_str(value)
            .map(CallId)
            .ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, 0))
    }
}

macro_rules! number_header {
    ($( $(#[$doc:meta])* $name:ident => $kind:ident; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name(pub u32);

            impl<'a> TypedHeader<'a> for $name {
                const KIND: HeaderKind = HeaderKind::$kind;
                fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
                    whole_number(value).map($name)
                }
            }
        )*
    };
}

number_header! {
    /// `Max-Forwards` (RFC 3261 §20.22).
    MaxForwards => MaxForwards;
    /// `Content-Length` in bytes (RFC 3261 §20.14).
    ContentLength => ContentLength;
    /// `Expires` in seconds (RFC 3261 §20.19).
    Expires => Expires;
    /// `Min-Expires` in seconds (RFC 3261 §20.23).
    MinExpires => MinExpires;
    /// `RSeq` (RFC 3262 §7.1).
    RSeq => RSeq;
}

/// `Content-Type: type/subtype;params` (RFC 3261 §20.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType<'a> {
    /// The media type, e.g. `application`.
    pub media_type: &'a str,
    /// The subtype, e.g. `sdp`.
    pub subtype: &'a str,
    /// The parameters (e.g. `charset`, `boundary`).
    pub params: Params<'a>,
}

impl ContentType<'_> {
    /// True when type and subtype match, ignoring case.
    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type)
            && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

impl<'a> TypedHeader<'a> for ContentType<'a> {
    const KIND: HeaderKind = HeaderKind::ContentType;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::for_value(value);
        let media_type = token(&mut scanner)?;
        scanner.skip_ws();
        if !scanner.eat(b'/') {
            return Err(unexpected(&scanner));
        }
        let subtype = token(&mut scanner)?;
        let params = scan_params(&mut scanner)?;
        expect_end(&mut scanner)?;
        Ok(ContentType {
            media_type,
            subtype,
            params,
        })
    }
}

/// One option tag of Supported, Require, Proxy-Require or Unsupported (RFC 3261 §20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionTag<'a>(pub &'a str);

fn option_tag(value: &[u8]) -> Result<OptionTag<'_>, HeaderError> {
    let mut scanner = Scanner::new(value);
    let tag = token(&mut scanner)?;
    expect_end(&mut scanner)?;
    Ok(OptionTag(tag))
}

macro_rules! option_tag_header {
    ($( $(#[$doc:meta])* $name:ident => $kind:ident; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name<'a>(pub OptionTag<'a>);

            impl<'a> TypedHeader<'a> for $name<'a> {
                const KIND: HeaderKind = HeaderKind::$kind;
                fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
                    option_tag(value).map($name)
                }
            }
        )*
    };
}

option_tag_header! {
    /// One tag of `Supported`.
    Supported => Supported;
    /// One tag of `Require`.
    Require => Require;
    /// One tag of `Proxy-Require`.
    ProxyRequire => ProxyRequire;
    /// One tag of `Unsupported`.
    Unsupported => Unsupported;
}

/// One method of `Allow` (RFC 3261 §20.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allow<'a>(pub Method<'a>);

impl<'a> TypedHeader<'a> for Allow<'a> {
    const KIND: HeaderKind = HeaderKind::Allow;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::new(value);
        let method = token(&mut scanner)?;
        expect_end(&mut scanner)?;
        Ok(Allow(Method::from_token(method)))
    }
}

/// `Event: package[.template];id=...` (RFC 6665 §8.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event package, e.g. `reg`, `presence`.
    pub package: &'a str,
    /// The parameters.
    pub params: Params<'a>,
}

impl<'a> Event<'a> {
    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params.value("id").flatten()
    }
}

impl<'a> TypedHeader<'a> for Event<'a> {
    const KIND: HeaderKind = HeaderKind::Event;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::for_value(value);
        let package = token(&mut scanner)?;
        let params = scan_params(&mut scanner)?;
        expect_end(&mut scanner)?;
        Ok(Event { package, params })
    }
}

/// `Subscription-State: active;expires=600` (RFC 6665 §8.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    /// `active`, `pending`, `terminated` or an extension.
    pub state: &'a str,
    /// The parameters.
    pub params: Params<'a>,
}

impl<'a> SubscriptionState<'a> {
    /// The `expires` parameter in seconds.
    pub fn expires(&self) -> Option<u32> {
        parse_u32(self.params.value("expires")??.as_bytes())
    }

    /// The `reason` parameter.
    pub fn reason(&self) -> Option<&'a str> {
        self.params.value("reason").flatten()
    }

    /// The `retry-after` parameter in seconds.
    pub fn retry_after(&self) -> Option<u32> {
        parse_u32(self.params.value("retry-after")??.as_bytes())
    }
}

impl<'a> TypedHeader<'a> for SubscriptionState<'a> {
    const KIND: HeaderKind = HeaderKind::SubscriptionState;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::for_value(value);
        let state = token(&mut scanner)?;
        let params = scan_params(&mut scanner)?;
        expect_end(&mut scanner)?;
        Ok(SubscriptionState { state, params })
    }
}

/// `RAck: rseq cseq method` (RFC 3262 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RAck<'a> {
    /// The RSeq of the acknowledged provisional response.
    pub rseq: u32,
    /// Its CSeq number.
    pub cseq: u32,
    /// Its CSeq method.
    pub method: Method<'a>,
}

impl<'a> TypedHeader<'a> for RAck<'a> {
    const KIND: HeaderKind = HeaderKind::RAck;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::new(trim_ws(value));
        let rseq = number(&mut scanner)?;
        let cseq = number(&mut scanner)?;
        let method = Method::from_token(token(&mut scanner)?);
        expect_end(&mut scanner)?;
        Ok(RAck { rseq, cseq, method })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grammar walk alone: number, white space, a method token, the end.
    fn walked(value: &[u8]) -> Option<(u32, Method<'_>)> {
        let mut scanner = Scanner::new(value);
        let seq = number(&mut scanner).ok()?;
        if !scanner.peek().is_some_and(is_ws) {
            return None;
        }
        let method = Method::from_token(token(&mut scanner).ok()?);
        expect_end(&mut scanner).ok()?;
        Some((seq, method))
    }

    #[test]
    fn cseq_shortcut_agrees_with_the_grammar_walk() {
        let cases: [&[u8]; 12] = [
            b"1 REGISTER",
            b"2  INVITE",
            b"3 REGISTER ",
            b"4 register",
            b"5 FOO",
            b"6 REGISTERX",
            b"7 REG ISTER",
            b"8\tMESSAGE",
            b"9 ",
            b"10",
            b"4294967295 ACK",
            b"4294967296 ACK",
        ];
        for value in cases {
            assert_eq!(
                CSeq::parse(value).ok().map(|c| (c.seq, c.method)),
                walked(value),
                "{}",
                String::from_utf8_lossy(value)
            );
        }
        assert_eq!(
            CSeq::parse(b"1 REGISTER").ok().map(|c| c.method),
            Some(Method::Register)
        );
    }
}
