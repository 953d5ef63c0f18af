//! A live copy of every SIP message the driver sends and receives, for a trace view
//! (imsphone's sngrep-like screen) or a capture file.
//!
//! UDP datagrams are one message each. TCP bytes are cut into whole messages with the
//! parser's stream framing (keep-alives are left out); a stream that stops framing (bytes
//! the engine will refuse too) is reported as one record of what arrived and then the
//! connection's buffer is dropped, so the tap never holds more than one message's limit.
//! The tap never blocks the driver: when the receiver falls behind, records are dropped
//! and counted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::SystemTime;

use tokio::sync::mpsc;

use crate::sip::{Frame, Limits, frame_stream};
use crate::transport::Transport;

/// Which way a traced message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

/// One message as it crossed the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// Wall-clock time the driver saw it.
    pub at: SystemTime,
    /// Sent or received.
    pub direction: Direction,
    /// Over what.
    pub transport: Transport,
    /// Our address.
    pub local: SocketAddr,
    /// The other end.
    pub remote: SocketAddr,
    /// The message bytes (for TCP: one framed message).
    pub bytes: Vec<u8>,
}

/// The receiving end of a trace tap.
pub type TraceReceiver = mpsc::Receiver<TraceRecord>;

/// The driver's side of a trace tap.
#[derive(Debug)]
pub(crate) struct Tap {
    sender: mpsc::Sender<TraceRecord>,
    limits: Limits,
    streams: HashMap<(Direction, SocketAddr), Vec<u8>>,
    dropped: u64,
}

impl Tap {
    pub(crate) fn new(sender: mpsc::Sender<TraceRecord>, limits: Limits) -> Tap {
        Tap {
            sender,
            limits,
            streams: HashMap::new(),
            dropped: 0,
        }
    }

    /// Records a UDP datagram (one message).
    pub(crate) fn datagram(
        &mut self,
        direction: Direction,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) {
        self.emit(TraceRecord {
            at: SystemTime::now(),
            direction,
            transport: Transport::Udp,
            local,
            remote,
            bytes: bytes.to_vec(),
        });
    }

    /// Records stream bytes; whole messages come out as they complete.
    pub(crate) fn stream(
        &mut self,
        direction: Direction,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) {
        let buffer = self.streams.entry((direction, remote)).or_default();
        buffer.extend_from_slice(bytes);
        let mut records = Vec::new();
        let mut start = 0;
        loop {
            let rest = buffer.get(start..).unwrap_or_default();
            match frame_stream(rest, &self.limits) {
                Ok(Frame::KeepAlive { length }) => start += length,
                Ok(Frame::Message { length }) => {
                    records.push(rest.get(..length).unwrap_or_default().to_vec());
                    start += length;
                }
                Ok(Frame::Incomplete) => break,
                Err(_) => {
                    // Unframeable: show what is there once, and start afresh.
                    records.push(rest.to_vec());
                    start = buffer.len();
                    break;
                }
            }
        }
        buffer.drain(..start.min(buffer.len()));
        for bytes in records {
            self.emit(TraceRecord {
                at: SystemTime::now(),
                direction,
                transport: Transport::Tcp,
                local,
                remote,
                bytes,
            });
        }
    }

    /// Forgets a closed connection's partial bytes.
    pub(crate) fn closed(&mut self, remote: SocketAddr) {
        self.streams.remove(&(Direction::Sent, remote));
        self.streams.remove(&(Direction::Received, remote));
    }

    fn emit(&mut self, record: TraceRecord) {
        if self.sender.try_send(record).is_err() {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                tracing::debug!(
                    dropped = self.dropped,
                    "trace receiver behind; records dropped"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap() -> (Tap, TraceReceiver) {
        let (sender, receiver) = mpsc::channel(16);
        (Tap::new(sender, Limits::DEFAULT), receiver)
    }

    const OPTIONS: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\
Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 2\r\n\r\nhi";

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn stream_bytes_come_out_as_whole_messages_without_keep_alives() {
        let (mut tap, mut receiver) = tap();
        let mut bytes = b"\r\n\r\n".to_vec();
        bytes.extend_from_slice(OPTIONS);
        bytes.extend_from_slice(OPTIONS);
        let (first, second) = bytes.split_at(30);
        tap.stream(Direction::Received, addr(1), addr(2), first);
        assert!(receiver.try_recv().is_err(), "nothing whole yet");
        tap.stream(Direction::Received, addr(1), addr(2), second);
        for _ in 0..2 {
            let record = receiver.try_recv().expect("a message");
            assert_eq!(record.bytes, OPTIONS);
            assert_eq!(record.transport, Transport::Tcp);
            assert_eq!(record.remote, addr(2));
        }
        assert!(receiver.try_recv().is_err());
    }

    #[test]
    fn garbage_on_a_stream_is_shown_once_and_not_kept() {
        let (mut tap, mut receiver) = tap();
        tap.stream(
            Direction::Received,
            addr(1),
            addr(2),
            b"\x00\x01junk\r\n\r\n",
        );
        assert_eq!(
            receiver.try_recv().expect("shown").bytes,
            b"\x00\x01junk\r\n\r\n"
        );
        tap.stream(Direction::Received, addr(1), addr(2), OPTIONS);
        assert_eq!(receiver.try_recv().expect("framed afresh").bytes, OPTIONS);
    }

    #[test]
    fn a_full_receiver_drops_and_counts_instead_of_blocking() {
        let (sender, mut receiver) = mpsc::channel(1);
        let mut tap = Tap::new(sender, Limits::DEFAULT);
        for _ in 0..3 {
            tap.datagram(Direction::Sent, addr(1), addr(2), OPTIONS);
        }
        assert_eq!(tap.dropped, 2);
        assert!(receiver.try_recv().is_ok());
        assert!(receiver.try_recv().is_err());
    }
}
