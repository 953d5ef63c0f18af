//! The writer: builds messages into a reusable buffer with no intermediate `String`, and
//! always writes a correct Content-Length.

use super::header::{HeaderKind, HeaderName};
use super::message::{SipMessage, StartLine};
use super::method::Method;
use super::typed::To;

/// How messages are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    /// Use compact header names (`v`, `f`, `t`, `i`, `m`, `l`, ...) where one exists.
    pub compact: bool,
}

/// Appends one message to a `Vec<u8>`: start line, headers, then [`finish`](Self::finish)
/// writes Content-Length and the body.
#[derive(Debug)]
pub struct MessageWriter<'b> {
    buffer: &'b mut Vec<u8>,
    start: usize,
    options: WriteOptions,
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_decimal(buffer: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i = i.saturating_sub(1);
        if let Some(slot) = digits.get_mut(i) {
            // n % 10 < 10, so the cast cannot truncate.
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buffer.extend_from_slice(digits.get(i..).unwrap_or(&[]));
}

impl<'b> MessageWriter<'b> {
    /// Starts a request: `METHOD uri SIP/2.0`.
    pub fn request(
        buffer: &'b mut Vec<u8>,
        method: Method<'_>,
        uri: &str,
        options: WriteOptions,
    ) -> Self {
        let start = buffer.len();
        buffer.extend_from_slice(method.as_str().as_bytes());
        buffer.push(b' ');
        buffer.extend_from_slice(uri.as_bytes());
        buffer.extend_from_slice(b" SIP/2.0\r\n");
        MessageWriter {
            buffer,
            start,
            options,
        }
    }

    /// Starts a response: `SIP/2.0 status reason`.
    pub fn response(
        buffer: &'b mut Vec<u8>,
        status: u16,
        reason: &str,
        options: WriteOptions,
    ) -> Self {
        let start = buffer.len();
        buffer.extend_from_slice(b"SIP/2.0 ");
        push_decimal(buffer, u64::from(status));
        buffer.push(b' ');
        buffer.extend_from_slice(reason.as_bytes());
        buffer.extend_from_slice(b"\r\n");
        MessageWriter {
            buffer,
            start,
            options,
        }
    }

    /// Starts a response to `request` (RFC 3261 §8.2.6.2): copies every Via in order,
    /// From, Call-ID, CSeq and To, adding `;tag=to_tag` to To when it has no tag yet.
    pub fn response_to(
        buffer: &'b mut Vec<u8>,
        request: &SipMessage<'_>,
        status: u16,
        reason: &str,
        to_tag: Option<&str>,
        options: WriteOptions,
    ) -> Self {
        let mut writer = Self::response(buffer, status, reason, options);
        for header in request.headers() {
            match header.name.kind() {
                HeaderKind::Via | HeaderKind::From | HeaderKind::CallId | HeaderKind::CSeq => {
                    writer.header(header.name, header.value);
                }
                HeaderKind::To => {
                    let has_tag =
                        matches!(request.header::<To>(), Some(Ok(to)) if to.tag().is_some());
                    writer.name(header.name);
                    writer.buffer.extend_from_slice(header.value);
                    if let (false, Some(tag)) = (has_tag, to_tag) {
                        writer.buffer.extend_from_slice(b";tag=");
                        writer.buffer.extend_from_slice(tag.as_bytes());
                    }
                    writer.buffer.extend_from_slice(b"\r\n");
                }
                _ => {}
            }
        }
        writer
    }

    /// Writes a copy of a parsed message: start line (version included) and headers as
    /// received, Content-Length recomputed. Returns the message length.
    pub fn copy(buffer: &'b mut Vec<u8>, message: &SipMessage<'_>, options: WriteOptions) -> usize {
        let start = buffer.len();
        let version = message.version();
        let push_version = |buffer: &mut Vec<u8>| {
            buffer.extend_from_slice(b"SIP/");
            push_decimal(buffer, u64::from(version.major));
            buffer.push(b'.');
            push_decimal(buffer, u64::from(version.minor));
        };
        match *message.start_line() {
            StartLine::Request { method, uri, .. } => {
                buffer.extend_from_slice(method.as_str().as_bytes());
                buffer.push(b' ');
                buffer.extend_from_slice(uri.as_bytes());
                buffer.push(b' ');
                push_version(buffer);
            }
            StartLine::Response { status, reason, .. } => {
                push_version(buffer);
                buffer.push(b' ');
                push_decimal(buffer, u64::from(status));
                buffer.push(b' ');
                buffer.extend_from_slice(reason);
            }
        }
        buffer.extend_from_slice(b"\r\n");
        let mut writer = MessageWriter {
            buffer,
            start,
            options,
        };
        for header in message.headers() {
            writer.header(header.name, header.value);
        }
        writer.finish(message.body())
    }

    fn name(&mut self, name: HeaderName<'_>) {
        let kind = name.kind();
        if self.options.compact
            && let Some(letter) = kind.compact()
        {
            self.buffer.extend_from_slice(&[letter, b':', b' ']);
            return;
        }
        match kind.canonical_colon_padded() {
            Some((padded, len)) => {
                // A fixed-size copy and a cut instead of a `memcpy` call per header.
                let end = self.buffer.len().saturating_add(len);
                self.buffer.extend_from_slice(padded);
                self.buffer.truncate(end);
            }
            None => {
                self.buffer.extend_from_slice(name.as_str().as_bytes());
                self.buffer.extend_from_slice(b": ");
            }
        }
    }

    /// Adds a header. A Content-Length given here is dropped: [`finish`](Self::finish)
    /// writes the right one.
    pub fn header(&mut self, name: HeaderName<'_>, value: &[u8]) -> &mut Self {
        if name.kind() == HeaderKind::ContentLength {
            return self;
        }
        self.name(name);
        self.buffer.extend_from_slice(value);
        self.buffer.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a header whose value is built in pieces by `value`, straight into the buffer.
    pub fn header_with(
        &mut self,
        name: HeaderName<'_>,
        value: impl FnOnce(&mut Vec<u8>),
    ) -> &mut Self {
        if name.kind() == HeaderKind::ContentLength {
            return self;
        }
        self.name(name);
        value(self.buffer);
        self.buffer.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a header with a decimal value (`Max-Forwards: 70`, `Expires: 600`).
    pub fn header_number(&mut self, name: HeaderName<'_>, value: u64) -> &mut Self {
        self.header_with(name, |buffer| push_decimal(buffer, value))
    }

    /// Copies every header of `kind` from `message`, in order (e.g. Record-Route into a
    /// dialog-creating response).
    pub fn copy_headers(&mut self, message: &SipMessage<'_>, kind: HeaderKind) -> &mut Self {
        for value in message.raw_all(kind) {
            self.header(kind.with_name(""), value);
        }
        self
    }

    /// Writes Content-Length, the empty line and the body; returns the message length.
    pub fn finish(mut self, body: &[u8]) -> usize {
        self.name(HeaderName::ContentLength);
        push_decimal(self.buffer, body.len() as u64);
        self.buffer.extend_from_slice(b"\r\n\r\n");
        self.buffer.extend_from_slice(body);
        self.buffer.len().saturating_sub(self.start)
    }
}
