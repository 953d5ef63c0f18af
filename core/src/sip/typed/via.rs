//! `Via` (RFC 3261 §20.42, RFC 3581 rport, RFC 5118 IPv6).

use super::params::{Params, scan_params};
use super::{TypedHeader, expect_end, token, unexpected, value_error};
use crate::sip::chars::{Scanner, is_digit, parse_u32};
use crate::sip::error::{HeaderError, HeaderErrorKind};
use crate::sip::header::HeaderKind;
use crate::sip::uri::{Host, parse_host};

/// The host and optional port a Via names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentBy<'a> {
    /// The host.
    pub host: Host<'a>,
    /// The host as written.
    pub host_str: &'a str,
    /// The port, when given.
    pub port: Option<u16>,
}

/// One `Via` entry: `SIP/2.0/UDP host:port;branch=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name, `SIP`.
    pub protocol: &'a str,
    /// Protocol version, `2.0`.
    pub version: &'a str,
    /// Transport token (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, or any other token).
    pub transport: &'a str,
    /// Where responses go.
    pub sent_by: SentBy<'a>,
    /// The parameters.
    pub params: Params<'a>,
}

impl<'a> Via<'a> {
    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.params.value("branch").flatten()
    }

    /// True when the branch carries the RFC 3261 magic cookie `z9hG4bK` and more.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > 7 && b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.params.value("received").flatten()
    }

    /// `rport` (RFC 3581): `None` when absent, `Some(None)` when present without value.
    pub fn rport(&self) -> Option<Option<u16>> {
        let value = self.params.value("rport")?;
        Some(value.and_then(|v| v.parse().ok()))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.value("maddr").flatten()
    }

    /// The `ttl` parameter (0..=255).
    pub fn ttl(&self) -> Option<u8> {
        self.params.value("ttl").flatten()?.parse().ok()
    }
}

fn slash(scanner: &mut Scanner<'_>) -> Result<(), HeaderError> {
    scanner.skip_ws();
    if scanner.eat(b'/') {
        Ok(())
    } else {
        Err(unexpected(scanner))
    }
}

/// Reads `host [":" port]` (shared by Via and Security-* headers).
pub(crate) fn parse_sent_by<'a>(scanner: &mut Scanner<'a>) -> Result<SentBy<'a>, HeaderError> {
    scanner.skip_ws();
    let start = scanner.pos();
    let host_end = if scanner.peek() == Some(b'[') {
        let inner = scanner.take_while(|b| b != b']');
        if !scanner.eat(b']') {
            return Err(value_error(HeaderErrorKind::InvalidHost, start));
        }
        start.saturating_add(inner.len()).saturating_add(1)
    } else {
        scanner.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        scanner.pos()
    };
    let host_str = scanner
        .text(start, host_end)
        .ok_or_else(|| value_error(HeaderErrorKind::InvalidHost, start))?;
    let host =
        parse_host(host_str).ok_or_else(|| value_error(HeaderErrorKind::InvalidHost, start))?;
    let mut probe = scanner.clone();
    probe.skip_ws();
    let port = if probe.eat(b':') {
        probe.skip_ws();
        let port_start = probe.pos();
        let digits = probe.take_while(is_digit);
        let port = parse_u32(digits)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| value_error(HeaderErrorKind::InvalidNumber, port_start))?;
        *scanner = probe;
        Some(port)
    } else {
        None
    };
    Ok(SentBy {
        host,
        host_str,
        port,
    })
}

impl<'a> TypedHeader<'a> for Via<'a> {
    const KIND: HeaderKind = HeaderKind::Via;

    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let mut scanner = Scanner::for_value(value);
        let protocol = token(&mut scanner)?;
        slash(&mut scanner)?;
        let version = token(&mut scanner)?;
        slash(&mut scanner)?;
        let transport = token(&mut scanner)?;
        let sent_by = parse_sent_by(&mut scanner)?;
        let params = scan_params(&mut scanner)?;
        expect_end(&mut scanner)?;
        Ok(Via {
            protocol,
            version,
            transport,
            sent_by,
            params,
        })
    }
}
