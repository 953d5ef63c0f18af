//! Reassembly of SIP messages from a TCP byte stream (RFC 3261 §18.3), with CRLF
//! keep-alives (RFC 5626 §4.4.1).

use crate::sip::{Frame, Limits, ParseError, frame_stream};

/// What the front of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamItem {
    /// A whole message: the first `length` bytes of [`StreamBuffer::pending`].
    Message {
        /// Its length.
        length: usize,
    },
    /// A keep-alive ping (`CRLF CRLF`): answer with a pong (`CRLF`).
    Ping,
    /// A keep-alive pong (`CRLF`).
    Pong,
}

/// Bytes received on one connection and not yet consumed.
#[derive(Debug, Default)]
pub struct StreamBuffer {
    bytes: Vec<u8>,
    consumed: usize,
}

impl StreamBuffer {
    /// Appends bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.consumed > 0 {
            self.bytes.drain(..self.consumed);
            self.consumed = 0;
        }
        self.bytes.extend_from_slice(bytes);
    }

    /// The unconsumed bytes.
    pub fn pending(&self) -> &[u8] {
        self.bytes.get(self.consumed..).unwrap_or(&[])
    }

    /// Looks at the front: a message, a keep-alive, or `None` when more bytes are needed.
    /// An error means the stream cannot be framed any more and the connection should be
    /// closed (RFC 3261 §18.3).
    pub fn peek(&self, limits: &Limits) -> Result<Option<StreamItem>, ParseError> {
        Ok(match frame_stream(self.pending(), limits)? {
            Frame::Incomplete => None,
            Frame::KeepAlive { length: 4 } => Some(StreamItem::Ping),
            Frame::KeepAlive { .. } => Some(StreamItem::Pong),
            Frame::Message { length } => Some(StreamItem::Message { length }),
        })
    }

    /// Drops the first `length` pending bytes.
    pub fn consume(&mut self, length: usize) {
        self.consumed = self.consumed.saturating_add(length).min(self.bytes.len());
        if self.consumed == self.bytes.len() {
            self.bytes.clear();
            self.consumed = 0;
        }
    }

    /// How many bytes the buffer holds (for memory accounting).
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\
Call-ID: c\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nMax-Forwards: 70\r\n\
Content-Length: 3\r\n\r\nabc";

    #[test]
    fn messages_split_anywhere_and_several_per_read_come_out_whole() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(b"\r\n");
        for split in 0..stream.len() {
            let mut buffer = StreamBuffer::default();
            let mut items = Vec::new();
            for chunk in [&stream[..split], &stream[split..]] {
                buffer.push(chunk);
                while let Some(item) = buffer.peek(&Limits::DEFAULT).unwrap() {
                    if let StreamItem::Message { length } = item {
                        assert_eq!(&buffer.pending()[..length], OPTIONS);
                    }
                    let length = match item {
                        StreamItem::Message { length } => length,
                        StreamItem::Ping => 4,
                        StreamItem::Pong => 2,
                    };
                    items.push(item);
                    buffer.consume(length);
                }
            }
            let expected = [
                StreamItem::Ping,
                StreamItem::Message {
                    length: OPTIONS.len(),
                },
                StreamItem::Message {
                    length: OPTIONS.len(),
                },
                StreamItem::Pong,
            ];
            // A split inside the leading CRLFCRLF can read as two pongs; that is the
            // RFC 5626 ambiguity and harmless.
            if split >= 4 {
                assert_eq!(items, expected, "split at {split}");
            }
            assert!(buffer.pending().is_empty());
        }
    }

    #[test]
    fn garbage_is_an_error() {
        let mut buffer = StreamBuffer::default();
        buffer.push(b"HELLO WORLD\r\n\r\n");
        assert!(buffer.peek(&Limits::DEFAULT).is_err());
    }
}
