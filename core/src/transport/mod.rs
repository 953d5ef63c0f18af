//! Transport: what the engine asks the driver to send, stream reassembly for TCP, and the
//! RFC 3261 §18 rules for where responses go.

mod stream;

pub use stream::{StreamBuffer, StreamItem};

use std::net::{IpAddr, SocketAddr};

use crate::sip::Host;
use crate::sip::typed::Via;

/// A SIP transport protocol.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP datagrams (unreliable: transactions retransmit).
    Udp,
    /// TCP streams (reliable; messages framed by Content-Length).
    Tcp,
}

impl Transport {
    /// The Via transport token (`UDP`, `TCP`).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// The `transport=` URI parameter value (`udp`, `tcp`).
    pub fn param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }

    /// Whether the transport delivers reliably (no retransmissions, RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// Reads a Via or URI transport token, ignoring case.
    pub fn from_token(token: &str) -> Option<Transport> {
        if token.eq_ignore_ascii_case("udp") {
            Some(Transport::Udp)
        } else if token.eq_ignore_ascii_case("tcp") {
            Some(Transport::Tcp)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.param())
    }
}

/// Bytes for the driver to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// UDP datagram or TCP stream write (the driver opens or reuses a connection to
    /// `remote`).
    pub transport: Transport,
    /// The local address to send from (the socket the engine was told about).
    pub local: SocketAddr,
    /// Where to.
    pub remote: SocketAddr,
    /// One whole message (or a keep-alive).
    pub bytes: Vec<u8>,
}

/// Where a response to a request received over UDP goes (RFC 3261 §18.2.2, RFC 3581 §4):
/// the `maddr` if present; else the source address and port when the request asked for
/// `rport`; else the source address (the `received` value) with the sent-by port.
pub fn response_destination(via: &Via<'_>, source: SocketAddr) -> SocketAddr {
    if let Some(ip) = via.maddr().and_then(|m| m.parse::<IpAddr>().ok()) {
        return SocketAddr::new(ip, via.sent_by.port.unwrap_or(5060));
    }
    if via.rport().is_some() {
        return source;
    }
    SocketAddr::new(source.ip(), via.sent_by.port.unwrap_or(5060))
}

/// Appends the request's top Via value with `received` (when the sent-by host is not the
/// source address, RFC 3261 §18.2.1) and the `rport` value (RFC 3581 §4) filled in.
pub fn write_top_via(out: &mut Vec<u8>, raw: &[u8], via: &Via<'_>, source: SocketAddr) {
    let wants_rport = matches!(via.rport(), Some(None));
    let host_is_source = match via.sent_by.host {
        Host::Ipv4(ip) => IpAddr::V4(ip) == source.ip(),
        Host::Ipv6(ip) => IpAddr::V6(ip) == source.ip(),
        Host::Domain(_) => false,
    };
    let mut rest = raw;
    if wants_rport && let Some(at) = find_bare_param(raw, b"rport") {
        let (head, tail) = raw.split_at(at);
        out.extend_from_slice(head);
        out.extend_from_slice(b"=");
        out.extend_from_slice(source.port().to_string().as_bytes());
        rest = tail;
    }
    out.extend_from_slice(rest);
    if !host_is_source && via.received().is_none() {
        out.extend_from_slice(b";received=");
        out.extend_from_slice(source.ip().to_string().as_bytes());
    }
}

/// The offset just past a value-less `;name` parameter in a Via value, if any.
fn find_bare_param(raw: &[u8], name: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = memchr::memchr(b';', raw.get(from..)?) {
        let start = from + pos + 1;
        let mut i = start;
        while raw.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        let end = i + name.len();
        if raw
            .get(i..end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
        {
            let mut j = end;
            while raw.get(j).is_some_and(|b| *b == b' ' || *b == b'\t') {
                j += 1;
            }
            if matches!(raw.get(j), None | Some(b';') | Some(b',')) {
                return Some(end);
            }
        }
        from = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::typed::TypedHeader;

    fn via(value: &str) -> Via<'_> {
        Via::parse(value.as_bytes()).unwrap()
    }

    #[test]
    fn rport_request_gets_source_port_and_received() {
        let raw = "SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKa";
        let source: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        let mut out = Vec::new();
        write_top_via(&mut out, raw.as_bytes(), &via(raw), source);
        assert_eq!(
            out,
            b"SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bKa;received=192.0.2.7"
        );
        assert_eq!(response_destination(&via(raw), source), source);
    }

    #[test]
    fn matching_host_without_rport_is_left_alone_and_uses_sent_by_port() {
        let raw = "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb";
        let source: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let mut out = Vec::new();
        write_top_via(&mut out, raw.as_bytes(), &via(raw), source);
        assert_eq!(out, raw.as_bytes());
        assert_eq!(
            response_destination(&via(raw), source),
            "127.0.0.1:5070".parse().unwrap()
        );
    }

    #[test]
    fn maddr_wins_and_default_port_is_5060() {
        let raw = "SIP/2.0/UDP ua.example;maddr=127.0.0.9;branch=z9hG4bKc";
        let source: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        assert_eq!(
            response_destination(&via(raw), source),
            "127.0.0.9:5060".parse().unwrap()
        );
    }

    #[test]
    fn rport_name_inside_another_param_is_not_taken() {
        assert_eq!(
            find_bare_param(b"SIP/2.0/UDP h;rportx;branch=1", b"rport"),
            None
        );
        assert_eq!(find_bare_param(b"SIP/2.0/UDP h;rport=5;x", b"rport"), None);
        assert_eq!(
            find_bare_param(b"SIP/2.0/UDP h; rport ;x", b"rport"),
            Some(20)
        );
    }
}
