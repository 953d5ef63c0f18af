//! `Via` (RFC 3261 §20.42, RFC 3581 rport, RFC 5118 IPv6).

use super::params::{Param, Params, scan_params_noting};
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
    /// `branch` and `received` values, and `rport` (present, with or without a value),
    /// as found by the parse's one walk of the parameters.
    branch: Option<&'a str>,
    received: Option<&'a str>,
    rport: Option<Option<&'a str>>,
}

/// The parameters [`Via`] notes while parsing.
const USUAL: [&str; 3] = ["branch", "received", "rport"];

impl<'a> Via<'a> {
    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.branch
    }

    /// True when the branch carries the RFC 3261 magic cookie `z9hG4bK` and more.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > 7 && b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.received
    }

    /// `rport` (RFC 3581): `None` when absent, `Some(None)` when present without value.
    pub fn rport(&self) -> Option<Option<u16>> {
        Some(self.rport?.and_then(|v| v.parse().ok()))
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
        // Nearly every Via starts `SIP/2.0/`; the grammar walk reads any other spelling.
        let (protocol, version) = if value.starts_with(b"SIP/2.0/") {
            scanner.advance_to(8);
            ("SIP", "2.0")
        } else {
            let protocol = token(&mut scanner)?;
            slash(&mut scanner)?;
            let version = token(&mut scanner)?;
            slash(&mut scanner)?;
            (protocol, version)
        };
        let transport = token(&mut scanner)?;
        let sent_by = parse_sent_by(&mut scanner)?;
        let (params, [branch, received, rport]) = scan_params_noting(&mut scanner, USUAL)?;
        expect_end(&mut scanner)?;
        Ok(Via {
            protocol,
            version,
            transport,
            sent_by,
            params,
            branch: branch.and_then(|p| p.value),
            received: received.and_then(|p| p.value),
            rport: rport.map(|p: Param<'a>| p.value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the accessors answered before the parse noted the parameters: a walk of the
    /// whole list for the first parameter of each name.
    fn walked<'a>(via: &Via<'a>) -> (Option<&'a str>, Option<&'a str>, Option<Option<u16>>) {
        (
            via.params.value("branch").flatten(),
            via.params.value("received").flatten(),
            via.params
                .value("rport")
                .map(|v| v.and_then(|v| v.parse().ok())),
        )
    }

    #[test]
    fn noted_parameters_equal_a_walk_of_the_list() {
        let cases: [&[u8]; 9] = [
            b"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=5062;received=10.0.0.9",
            b"SIP/2.0/UDP host;rport",
            b"SIP/2.0/TCP [2001:db8::1]:5061 ; BRANCH = z9hG4bKx ; Received=\"10.0.0.1\"",
            b"SIP/2.0/UDP h;branch=first;branch=second;rport=1;rport=2",
            b"SIP/2.0/UDP h;branch;received;rport=notaport",
            b"SIP/2.0/UDP h;ttl=3;maddr=224.0.0.1",
            b"SIP/2.0/UDP h",
            b"SIP/2.0/UDP h;branchx=1;xbranch=2;rportx",
            b"SIP/2.0/UDP h;rport=99999;received=[2001:db8::9]",
        ];
        for value in cases {
            let via = Via::parse(value).expect("a valid Via");
            assert_eq!(
                (via.branch(), via.received(), via.rport()),
                walked(&via),
                "{}",
                String::from_utf8_lossy(value)
            );
        }
        let via = Via::parse(cases[3]).expect("valid");
        assert_eq!(via.branch(), Some("first"));
        assert_eq!(via.rport(), Some(Some(1)));
        let via = Via::parse(cases[2]).expect("valid");
        assert_eq!(via.branch(), Some("z9hG4bKx"));
        assert_eq!(via.received(), Some("10.0.0.1"));
        assert_eq!(via.rport(), None);
        let via = Via::parse(cases[4]).expect("valid");
        assert_eq!((via.branch(), via.rport()), (None, Some(None)));
    }
}
