//! The live SIP trace: every message the driver saw, grouped into flows by Call-ID (as
//! sngrep does), bounded in memory, exportable as text or pcap.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use ims_core::driver::TraceRecord;
use ims_core::driver::trace::Direction;
use ims_core::sip::{Limits, RawHeader, SipMessage, StartLine};
use ims_core::transport::Transport;

/// One traced message, with the fields the list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Sequence number since start (survives trimming).
    pub seq: u64,
    /// The record.
    pub record: TraceRecord,
    /// `INVITE` / `200 OK` / `(unparsable)`.
    pub summary: String,
    /// The method of the request, or the CSeq method of a response.
    pub method: String,
    /// Status code of a response.
    pub status: Option<u16>,
    /// Call-ID (empty when absent).
    pub call_id: String,
    /// From URI.
    pub from: String,
    /// To URI.
    pub to: String,
}

/// Messages of one Call-ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The Call-ID.
    pub call_id: String,
    /// The first request's method.
    pub method: String,
    /// From of the first message.
    pub from: String,
    /// To of the first message.
    pub to: String,
    /// Sequence numbers of its messages, oldest first.
    pub entries: Vec<u64>,
    /// The last final status seen, if any.
    pub last_status: Option<u16>,
}

/// The bounded trace.
#[derive(Debug, Clone)]
pub struct TraceLog {
    entries: VecDeque<Entry>,
    flows: Vec<Flow>,
    by_call_id: HashMap<String, usize>,
    capacity: usize,
    next_seq: u64,
}

/// The URI inside a From/To value (`"Bob" <sip:bob@x>;tag=1` → `sip:bob@x`).
fn uri_of(value: &str) -> String {
    match (value.find('<'), value.find('>')) {
        (Some(start), Some(end)) if start < end => value[start + 1..end].to_owned(),
        _ => value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

impl Entry {
    /// Reads the fields of a record.
    pub fn new(seq: u64, record: TraceRecord) -> Entry {
        let mut slots = [RawHeader::EMPTY; 128];
        let parsed = SipMessage::parse_datagram(&record.bytes, &mut slots, &Limits::DEFAULT);
        let (summary, method, status, call_id, from, to) = match &parsed {
            Ok(message) => {
                let header = |name: &str| message.raw_named(name).next().map(text);
                let cseq = header("CSeq").unwrap_or_default();
                let cseq_method = cseq
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let (summary, method, status) = match message.start_line() {
                    StartLine::Request { method, .. } => {
                        (method.as_str().to_owned(), method.as_str().to_owned(), None)
                    }
                    StartLine::Response { status, reason, .. } => (
                        format!("{status} {}", text(reason)),
                        cseq_method,
                        Some(*status),
                    ),
                };
                (
                    summary,
                    method,
                    status,
                    header("Call-ID").unwrap_or_default(),
                    uri_of(&header("From").unwrap_or_default()),
                    uri_of(&header("To").unwrap_or_default()),
                )
            }
            Err(_) => (
                "(unparsable)".to_owned(),
                String::new(),
                None,
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        Entry {
            seq,
            record,
            summary,
            method,
            status,
            call_id,
            from,
            to,
        }
    }
}

impl TraceLog {
    /// An empty trace keeping at most `capacity` messages (older ones are dropped).
    pub fn new(capacity: usize) -> TraceLog {
        TraceLog {
            entries: VecDeque::new(),
            flows: Vec::new(),
            by_call_id: HashMap::new(),
            capacity: capacity.max(1),
            next_seq: 0,
        }
    }

    /// Adds a record.
    pub fn push(&mut self, record: TraceRecord) {
        let entry = Entry::new(self.next_seq, record);
        self.next_seq += 1;
        let key = entry.call_id.clone();
        let index = match self.by_call_id.get(&key) {
            Some(&index) => index,
            None => {
                self.flows.push(Flow {
                    call_id: key.clone(),
                    method: entry.method.clone(),
                    from: entry.from.clone(),
                    to: entry.to.clone(),
                    entries: Vec::new(),
                    last_status: None,
                });
                self.by_call_id.insert(key, self.flows.len() - 1);
                self.flows.len() - 1
            }
        };
        if let Some(flow) = self.flows.get_mut(index) {
            flow.entries.push(entry.seq);
            if let Some(status) = entry.status.filter(|s| *s >= 200) {
                flow.last_status = Some(status);
            }
            if flow.method.is_empty() {
                flow.method.clone_from(&entry.method);
            }
        }
        self.entries.push_back(entry);
        if self.entries.len() > self.capacity {
            self.trim();
        }
    }

    /// Drops the oldest tenth, and flows left without messages.
    fn trim(&mut self) {
        let drop = (self.capacity / 10).max(1);
        self.entries.drain(..drop.min(self.entries.len()));
        let first = self.entries.front().map_or(u64::MAX, |e| e.seq);
        for flow in &mut self.flows {
            flow.entries.retain(|seq| *seq >= first);
        }
        self.flows.retain(|flow| !flow.entries.is_empty());
        self.by_call_id = self
            .flows
            .iter()
            .enumerate()
            .map(|(i, flow)| (flow.call_id.clone(), i))
            .collect();
    }

    /// Flows, oldest first.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }

    /// Number of messages kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was traced (or everything trimmed).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The message with sequence number `seq`, if still kept.
    pub fn entry(&self, seq: u64) -> Option<&Entry> {
        let first = self.entries.front()?.seq;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.entries.get(index)
    }

    /// Every kept message, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Writes the kept messages as text, sngrep-style headers before each.
    pub fn write_text(&self, out: &mut impl Write, offset: i32) -> std::io::Result<()> {
        for entry in &self.entries {
            let record = &entry.record;
            let (from, to) = match record.direction {
                Direction::Sent => (record.local, record.remote),
                Direction::Received => (record.remote, record.local),
            };
            writeln!(
                out,
                "{} {} {from} -> {to}",
                crate::text::clock_millis(record.at, offset),
                record.transport.to_string().to_uppercase(),
            )?;
            out.write_all(&record.bytes)?;
            if !record.bytes.ends_with(b"\n") {
                writeln!(out)?;
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// Writes the kept messages as a pcap capture (link type RAW, IPv4/IPv6 with UDP or
    /// TCP headers made up around each message, so Wireshark and sngrep decode SIP).
    pub fn write_pcap(&self, out: &mut impl Write) -> std::io::Result<()> {
        // Global header: magic, version 2.4, zone 0, sigfigs 0, snaplen, LINKTYPE_RAW (101).
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&262_144u32.to_le_bytes())?;
        out.write_all(&101u32.to_le_bytes())?;
        let mut tcp_seq: HashMap<(SocketAddr, SocketAddr), u32> = HashMap::new();
        for entry in &self.entries {
            let record = &entry.record;
            let (source, destination) = match record.direction {
                Direction::Sent => (record.local, record.remote),
                Direction::Received => (record.remote, record.local),
            };
            let seq = tcp_seq.entry((source, destination)).or_insert(1);
            let packet = packet(source, destination, record.transport, *seq, &record.bytes);
            *seq = seq.wrapping_add(u32::try_from(record.bytes.len()).unwrap_or(0));
            let Ok(length) = u32::try_from(packet.len()) else {
                continue;
            };
            let since = record.at.duration_since(UNIX_EPOCH).unwrap_or_default();
            out.write_all(
                &u32::try_from(since.as_secs())
                    .unwrap_or(u32::MAX)
                    .to_le_bytes(),
            )?;
            out.write_all(&since.subsec_micros().to_le_bytes())?;
            out.write_all(&length.to_le_bytes())?;
            out.write_all(&length.to_le_bytes())?;
            out.write_all(&packet)?;
        }
        Ok(())
    }
}

/// The one's-complement sum of 16-bit words (IPv4 header checksum).
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = match pair {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(u16::try_from(sum).unwrap_or(0))
}

/// An IP packet carrying `payload` from `source` to `destination` over UDP or TCP
/// (transport checksums left zero: "not computed" for UDP, ignored by Wireshark's
/// defaults for TCP).
fn packet(
    source: SocketAddr,
    destination: SocketAddr,
    transport: Transport,
    seq: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(payload.len() + 20);
    l4.extend_from_slice(&source.port().to_be_bytes());
    l4.extend_from_slice(&destination.port().to_be_bytes());
    let protocol = match transport {
        Transport::Tcp => {
            l4.extend_from_slice(&seq.to_be_bytes());
            l4.extend_from_slice(&1u32.to_be_bytes()); // ack
            l4.push(5 << 4); // data offset 5 words
            l4.push(0x18); // PSH, ACK
            l4.extend_from_slice(&65_535u16.to_be_bytes()); // window
            l4.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
            6
        }
        _ => {
            let length = u16::try_from(payload.len() + 8).unwrap_or(u16::MAX);
            l4.extend_from_slice(&length.to_be_bytes());
            l4.extend_from_slice(&[0, 0]);
            17
        }
    };
    l4.extend_from_slice(payload);
    let mut packet = Vec::with_capacity(l4.len() + 40);
    match (source.ip(), destination.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(l4.len() + 20).unwrap_or(u16::MAX);
            packet.extend_from_slice(&[0x45, 0]);
            packet.extend_from_slice(&total.to_be_bytes());
            packet.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
            packet.extend_from_slice(&s.octets());
            packet.extend_from_slice(&d.octets());
            let sum = checksum(&packet);
            if let Some(slot) = packet.get_mut(10..12) {
                slot.copy_from_slice(&sum.to_be_bytes());
            }
        }
        (s, d) => {
            let to_v6 = |ip: IpAddr| match ip {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            let length = u16::try_from(l4.len()).unwrap_or(u16::MAX);
            packet.extend_from_slice(&[0x60, 0, 0, 0]);
            packet.extend_from_slice(&length.to_be_bytes());
            packet.extend_from_slice(&[protocol, 64]);
            packet.extend_from_slice(&to_v6(s).octets());
            packet.extend_from_slice(&to_v6(d).octets());
        }
    }
    packet.extend_from_slice(&l4);
    packet
}

/// A trace record from its parts (tests and tools that replay captures).
pub fn record(
    at: SystemTime,
    direction: Direction,
    transport: Transport,
    local: SocketAddr,
    remote: SocketAddr,
    bytes: &[u8],
) -> TraceRecord {
    TraceRecord {
        at,
        direction,
        transport,
        local,
        remote,
        bytes: bytes.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &[u8] = b"REGISTER sip:ims.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@ims.test>;tag=1\r\nTo: <sip:alice@ims.test>\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
    const OK: &[u8] = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@ims.test>;tag=1\r\nTo: <sip:alice@ims.test>;tag=2\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn log_of(messages: &[(&[u8], Direction)]) -> TraceLog {
        let mut log = TraceLog::new(100);
        for (bytes, direction) in messages {
            log.push(record(
                UNIX_EPOCH,
                *direction,
                Transport::Udp,
                addr(5070),
                addr(5060),
                bytes,
            ));
        }
        log
    }

    #[test]
    fn messages_group_into_flows_by_call_id() {
        let log = log_of(&[
            (REGISTER, Direction::Sent),
            (OK, Direction::Received),
            (b"garbage", Direction::Received),
        ]);
        assert_eq!(log.flows().len(), 2);
        let flow = &log.flows()[0];
        assert_eq!(flow.method, "REGISTER");
        assert_eq!(flow.from, "sip:alice@ims.test");
        assert_eq!(flow.last_status, Some(200));
        assert_eq!(flow.entries, vec![0, 1]);
        assert_eq!(log.entry(1).map(|e| e.summary.as_str()), Some("200 OK"));
        assert_eq!(
            log.entry(2).map(|e| e.summary.as_str()),
            Some("(unparsable)")
        );
    }

    #[test]
    fn the_log_stays_bounded_and_drops_empty_flows() {
        let mut log = TraceLog::new(10);
        for n in 0..25u32 {
            let bytes = String::from_utf8_lossy(REGISTER).replace("reg-1", &format!("c-{n}"));
            log.push(record(
                UNIX_EPOCH,
                Direction::Sent,
                Transport::Udp,
                addr(1),
                addr(2),
                bytes.as_bytes(),
            ));
        }
        assert!(log.len() <= 10);
        assert_eq!(log.flows().len(), log.len());
        assert_eq!(log.flows().last().map(|f| f.call_id.as_str()), Some("c-24"));
        assert!(log.entry(0).is_none());
        assert_eq!(log.entry(24).map(|e| e.call_id.as_str()), Some("c-24"));
    }

    #[test]
    fn pcap_export_has_valid_headers_and_every_message() {
        let log = log_of(&[(REGISTER, Direction::Sent), (OK, Direction::Received)]);
        let mut out = Vec::new();
        log.write_pcap(&mut out).expect("written");
        assert_eq!(out[..4], 0xa1b2_c3d4u32.to_le_bytes());
        assert_eq!(out[20..24], 101u32.to_le_bytes());
        // First record: 16-byte record header, then IPv4 (20) + UDP (8) + message.
        let length = u32::from_le_bytes([out[32], out[33], out[34], out[35]]) as usize;
        assert_eq!(length, 20 + 8 + REGISTER.len());
        let ip = &out[40..60];
        assert_eq!(ip[9], 17, "UDP");
        assert_eq!(checksum(ip), 0, "IPv4 header checksum verifies");
        assert_eq!(&out[60 + 8..60 + 8 + REGISTER.len()], REGISTER);
        assert_eq!(out.len(), 24 + 2 * (16 + 28) + REGISTER.len() + OK.len());
        let mut text = Vec::new();
        log.write_text(&mut text, 0).expect("written");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.starts_with("00:00:00.000 UDP 127.0.0.1:5070 -> 127.0.0.1:5060\nREGISTER"));
        assert!(text.contains("UDP 127.0.0.1:5060 -> 127.0.0.1:5070\nSIP/2.0 200 OK"));
    }
}
