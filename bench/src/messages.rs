//! Splits a file into SIP messages: one message, or a raw stream of several (TCP style,
//! framed by Content-Length, CRLF keep-alives skipped).

use std::ops::Range;

use ims_core::sip::{Limits, ParseError, ParseErrorKind, Parsed, RawHeader, SipMessage, StartLine};

/// Header slots for one parse; the default limit is 256 headers.
pub const SLOTS: usize = 256;

/// What the start line said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A request and its method.
    Request(String),
    /// A response and its status code.
    Response(u16),
}

/// One message found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its bytes within the file (leading CRLFs excluded).
    pub range: Range<usize>,
    /// Request or response.
    pub kind: Kind,
    /// How many header lines it has.
    pub headers: usize,
}

/// The messages of one file, in order, and the error that stopped the split, if any.
#[derive(Debug, Default)]
pub struct Split {
    /// Messages that parsed.
    pub messages: Vec<Found>,
    /// The error that ended the file early; its offset counts from the start of the file.
    pub error: Option<ParseError>,
}

fn only_crlf(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b'\r' || b == b'\n')
}

fn found(message: &SipMessage<'_>, range: Range<usize>) -> Found {
    let kind = match message.start_line() {
        StartLine::Request { method, .. } => Kind::Request(method.as_str().to_owned()),
        StartLine::Response { status, .. } => Kind::Response(*status),
    };
    Found {
        range,
        kind,
        headers: message.header_count(),
    }
}

/// Moves an error's offset from the start of `rest` to the start of the file.
fn at(mut error: ParseError, base: usize) -> ParseError {
    error.offset = error.offset.saturating_add(base);
    error
}

/// Splits `bytes` into messages with the stream parser.
///
/// A file that holds a single message without Content-Length is read as one datagram
/// (the body runs to the end). After an error the rest of the file is not read: a stream
/// cannot be re-synchronised.
pub fn split(bytes: &[u8], limits: &Limits) -> Split {
    let mut slots = [RawHeader::EMPTY; SLOTS];
    let mut out = Split::default();
    let mut base = 0usize;
    loop {
        let rest = bytes.get(base..).unwrap_or(&[]);
        if only_crlf(rest) && !out.messages.is_empty() {
            return out;
        }
        let leading = rest
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        match SipMessage::parse(rest, &mut slots, limits) {
            Ok(Parsed::Complete { message, length }) => {
                let start = base + leading;
                out.messages.push(found(&message, start..base + length));
                base += length;
            }
            Err(error)
                if out.messages.is_empty()
                    && error.kind == ParseErrorKind::MissingContentLength =>
            {
                // One message per file, written without Content-Length: a datagram.
                return datagram(bytes, base, leading, limits, out);
            }
            Err(error) => {
                out.error = Some(at(error, base));
                return out;
            }
            // Not whole: the datagram parser names what is missing and where.
            Ok(Parsed::Incomplete) => return datagram(bytes, base, leading, limits, out),
        }
    }
}

fn datagram(bytes: &[u8], base: usize, leading: usize, limits: &Limits, mut out: Split) -> Split {
    let mut slots = [RawHeader::EMPTY; SLOTS];
    let rest = bytes.get(base..).unwrap_or(&[]);
    match SipMessage::parse_datagram(rest, &mut slots, limits) {
        Ok(message) => {
            // `as_bytes` starts at the first skipped CRLF, like `rest`.
            let end = base + message.as_bytes().len();
            out.messages.push(found(&message, base + leading..end));
        }
        Err(error) => out.error = Some(at(error, base)),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:bob@ims.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn splits_a_stream_with_keep_alives() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(b"\r\n");
        let split = split(&stream, &Limits::DEFAULT);
        assert_eq!(split.error, None);
        assert_eq!(split.messages.len(), 2);
        assert_eq!(split.messages[0].range, 4..4 + OPTIONS.len());
        assert_eq!(&stream[split.messages[1].range.clone()], OPTIONS);
        assert_eq!(split.messages[1].kind, Kind::Request("OPTIONS".into()));
        assert_eq!(split.messages[1].headers, 2);
    }

    #[test]
    fn a_single_message_without_content_length_is_a_datagram() {
        let bytes = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
        let split = split(bytes, &Limits::DEFAULT);
        assert_eq!(split.error, None);
        assert_eq!(split.messages[0].kind, Kind::Response(180));
        assert_eq!(split.messages[0].range, 0..bytes.len());
    }

    #[test]
    fn errors_carry_file_offsets() {
        let mut stream = OPTIONS.to_vec();
        stream.extend_from_slice(b"OPTIONS sip:bob@ims.test SIP/2.0\r\nbad header\r\n\r\n");
        let split = split(&stream, &Limits::DEFAULT);
        assert_eq!(split.messages.len(), 1);
        let error = split.error.expect("the second message is broken");
        assert_eq!(error.offset, OPTIONS.len() + 34);
    }

    #[test]
    fn a_truncated_body_is_an_error() {
        let bytes = b"MESSAGE sip:bob@ims.test SIP/2.0\r\nContent-Length: 10\r\n\r\nhi";
        let split = split(bytes, &Limits::DEFAULT);
        assert!(split.messages.is_empty());
        assert!(split.error.is_some());
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let split = split(b"\r\n", &Limits::DEFAULT);
        assert!(split.messages.is_empty());
        assert!(split.error.is_some());
    }
}
