//! Character classes of the SIP grammar (RFC 3261 §25.1) and a panic-free byte scanner.

const TOKEN: u8 = 1;
const WS: u8 = 2;
const DIGIT: u8 = 4;
const HEX: u8 = 8;
const UNRESERVED: u8 = 16;
const SCHEME: u8 = 32;
const HOST: u8 = 64;
const PARAM_VALUE: u8 = 128;

const fn class_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        let mut class = 0u8;
        let alpha = b.is_ascii_alphabetic();
        let digit = b.is_ascii_digit();
        if alpha || digit {
            class |= TOKEN | UNRESERVED | SCHEME | HOST;
        }
        if digit {
            class |= DIGIT;
        }
        if b.is_ascii_hexdigit() {
            class |= HEX;
        }
        if matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        ) {
            class |= TOKEN;
        }
        if matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        ) {
            class |= UNRESERVED;
        }
        if matches!(b, b'+' | b'-' | b'.') {
            class |= SCHEME;
        }
        if matches!(b, b'-' | b'.') {
            class |= HOST;
        }
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            class |= WS;
        }
        if class & TOKEN != 0 || matches!(b, b':' | b'[' | b']') {
            class |= PARAM_VALUE;
        }
        table[i] = class;
        i += 1;
    }
    table
}

static CLASS: [u8; 256] = class_table();

#[inline(always)]
fn class(b: u8) -> u8 {
    // A u8 index is always within a 256-entry table.
    CLASS.get(usize::from(b)).copied().unwrap_or(0)
}

/// `token` character (RFC 3261 §25.1).
#[inline(always)]
pub(crate) fn is_token(b: u8) -> bool {
    class(b) & TOKEN != 0
}

/// A byte of a parameter value that is not quoted: a `token` character or one of the
/// host characters `:`, `[`, `]` (IPv6 references, RFC 5118 `received`).
#[inline(always)]
pub(crate) fn is_param_value(b: u8) -> bool {
    class(b) & PARAM_VALUE != 0
}

/// Linear white space, including the CR and LF of a folded line.
#[inline(always)]
pub(crate) fn is_ws(b: u8) -> bool {
    class(b) & WS != 0
}

/// `DIGIT`.
#[inline(always)]
pub(crate) fn is_digit(b: u8) -> bool {
    class(b) & DIGIT != 0
}

/// `HEXDIG` (either case).
#[inline(always)]
pub(crate) fn is_hex(b: u8) -> bool {
    class(b) & HEX != 0
}

/// `unreserved` (alphanum / mark).
#[inline(always)]
pub(crate) fn is_unreserved(b: u8) -> bool {
    class(b) & UNRESERVED != 0
}

/// A character that may follow the first letter of a URI scheme.
#[inline(always)]
pub(crate) fn is_scheme(b: u8) -> bool {
    class(b) & SCHEME != 0
}

/// A character of a host name or IPv4 address.
#[inline(always)]
pub(crate) fn is_host(b: u8) -> bool {
    class(b) & HOST != 0
}

/// The value of one hex digit.
#[inline]
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(b.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(b.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

/// Trims linear white space (SP, HTAB, CR, LF) from both ends.
#[inline]
pub(crate) fn trim_ws(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if !is_ws(*first) {
            break;
        }
        bytes = rest;
    }
    while let [rest @ .., last] = bytes {
        if !is_ws(*last) {
            break;
        }
        bytes = rest;
    }
    bytes
}

/// Views bytes as `str`; `None` when they are not UTF-8, which callers turn into an error.
///
/// SIP text is nearly always ASCII, which [`is_ascii`] recognises eight bytes at a time;
/// the full UTF-8 validation, several times dearer on values this short, runs only for
/// the rest.
#[inline]
#[allow(unsafe_code)]
pub(crate) fn as_str(bytes: &[u8]) -> Option<&str> {
    if is_ascii(bytes) {
        // SAFETY: a sequence of ASCII bytes is valid UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

/// Whether every byte is below 0x80: the bytes ORed together eight at a time, the last
/// eight read again where they overlap, and no early exit, so the loop stays short and
/// branch-free for the 10-200 byte values of SIP headers. (std's `is_ascii` walks up to
/// 63 trailing bytes one at a time.)
#[inline]
pub(crate) fn is_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let (words, _) = bytes.as_chunks::<8>();
    let Some(last) = bytes.last_chunk::<8>() else {
        return bytes.iter().fold(0, |all, &b| all | b) < 0x80;
    };
    let all = words.iter().fold(u64::from_ne_bytes(*last), |all, word| {
        all | u64::from_ne_bytes(*word)
    });
    all & HIGH == 0
}

/// Parses an unsigned decimal number, rejecting empty input, non-digits and overflow.
#[inline]
pub(crate) fn parse_u32(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    let mut value: u32 = 0;
    for &b in bytes {
        if !is_digit(b) {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(u32::from(b.wrapping_sub(b'0')))?;
    }
    Some(value)
}

/// A cursor over bytes that never panics: every read is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct Scanner<'a> {
    bytes: &'a [u8],
    /// The same bytes as text, when they are known to be UTF-8.
    text: Option<&'a str>,
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `bytes`.
    #[inline]
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Scanner {
            bytes,
            text: None,
            pos: 0,
        }
    }

    /// A scanner over a header value that checks UTF-8 once, up front, so that
    /// [`Scanner::text`] can then hand out pieces without checking each again.
    #[inline]
    pub(crate) fn for_value(bytes: &'a [u8]) -> Self {
        Scanner {
            bytes,
            text: as_str(bytes),
            pos: 0,
        }
    }

    /// A scanner over text.
    #[inline]
    pub(crate) fn for_text(text: &'a str) -> Self {
        Scanner {
            bytes: text.as_bytes(),
            text: Some(text),
            pos: 0,
        }
    }

    /// The bytes between two offsets as text; `None` when they are not UTF-8 (or the
    /// offsets are out of range or split a character).
    #[inline]
    pub(crate) fn text(&self, from: usize, to: usize) -> Option<&'a str> {
        match self.text {
            Some(text) => text.get(from..to),
            None => as_str(self.bytes.get(from..to)?),
        }
    }

    /// All the bytes as text, when they were checked as UTF-8 ([`Scanner::for_value`]) or
    /// given as text.
    #[inline]
    pub(crate) fn as_text(&self) -> Option<&'a str> {
        self.text
    }

    /// The current offset.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The next byte, if any.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Moves forward to offset `pos` (never back, never past the end).
    #[inline]
    pub(crate) fn advance_to(&mut self, pos: usize) {
        self.pos = self.pos.max(pos.min(self.bytes.len()));
    }

    /// Moves one byte forward.
    #[inline]
    pub(crate) fn bump(&mut self) {
        if self.pos < self.bytes.len() {
            self.pos = self.pos.saturating_add(1);
        }
    }

    /// Consumes `b` if it is next.
    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// True when every byte was consumed.
    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Consumes bytes while `f` holds and returns them.
    #[inline]
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        let mut end = start;
        while let Some(&b) = self.bytes.get(end) {
            if !f(b) {
                break;
            }
            // `end < self.bytes.len()`, so this cannot wrap.
            end = end.wrapping_add(1);
        }
        self.pos = end;
        self.slice(start, end)
    }

    /// Skips linear white space (folding included).
    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        self.take_while(is_ws);
    }

    /// The unconsumed bytes.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }

    /// Bytes between two offsets (empty when out of range).
    #[inline]
    pub(crate) fn slice(&self, from: usize, to: usize) -> &'a [u8] {
        self.bytes.get(from..to).unwrap_or(&[])
    }

    /// Consumes a quoted-string (opening quote next) and returns its content, escapes kept.
    ///
    /// Returns `None` when the closing quote is missing.
    pub(crate) fn quoted_string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.pos;
        loop {
            // Jump to the next quote or backslash (a nonce is tens of bytes).
            let skip = super::find::find2(b'"', b'\\', self.rest())?;
            self.advance_to(self.pos.saturating_add(skip));
            match self.peek()? {
                b'"' => {
                    let content = self.slice(start, self.pos);
                    self.bump();
                    return Some(content);
                }
                _ => {
                    // A backslash: it and the byte it escapes.
                    self.bump();
                    self.peek()?;
                    self.bump();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length up to 40 with one high byte at each place (or none) against std, and
    /// `as_str` against `std::str::from_utf8` on the same bytes and on UTF-8 text.
    #[test]
    fn is_ascii_and_as_str_follow_std() {
        for len in 0..=40usize {
            for high in (0..len).map(Some).chain([None]) {
                let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                if let Some(at) = high {
                    bytes[at] = 0xc3;
                }
                assert_eq!(is_ascii(&bytes), bytes.is_ascii(), "{len} {high:?}");
                assert_eq!(
                    as_str(&bytes),
                    std::str::from_utf8(&bytes).ok(),
                    "{len} {high:?}"
                );
            }
        }
        let text = "sip:j\u{f6}rg@\u{e9}xample.com;x=\u{1f600}";
        assert_eq!(as_str(text.as_bytes()), Some(text));
        assert!(!is_ascii(text.as_bytes()));
        assert_eq!(as_str(&text.as_bytes()[..6]), None);
    }

    #[test]
    fn param_value_class_is_token_and_host_punctuation() {
        for b in 0..=255u8 {
            let expected = is_token(b) || matches!(b, b':' | b'[' | b']');
            assert_eq!(is_param_value(b), expected, "{b:#04x}");
        }
    }

    /// `take_while` stops where a byte-by-byte walk stops: every length up to 20 with the first non-matching byte at each place, from each
    /// starting offset.
    #[test]
    fn take_while_stops_at_the_first_byte_that_does_not_match() {
        for len in 0..=20usize {
            for stop in (0..len).map(Some).chain([None]) {
                let mut bytes = vec![b'a'; len];
                if let Some(at) = stop {
                    bytes[at] = b' ';
                }
                for from in 0..=len {
                    let mut scanner = Scanner::new(&bytes);
                    scanner.advance_to(from);
                    let taken = scanner.take_while(is_token);
                    let expected = bytes[from..].iter().take_while(|&&b| is_token(b)).count();
                    assert_eq!(taken.len(), expected, "{len} {stop:?} {from}");
                    assert_eq!(scanner.pos(), from + expected);
                }
            }
        }
    }
}
