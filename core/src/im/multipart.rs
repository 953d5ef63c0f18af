//! `multipart/mixed` bodies (RFC 2046 §5.1): several parts, each with its own MIME headers,
//! between boundary delimiter lines.
//!
//! The writer takes the boundary from the caller (the engine draws it from its RNG). The
//! parser borrows the body, skips preamble and epilogue, takes CRLF or bare LF line ends
//! and transport padding after a boundary, and does not descend into nested multiparts.

use memchr::memmem;

use crate::sip::typed::{ContentType, TypedHeader, unquote};

/// The media type written by [`write_content_type`].
pub const CONTENT_TYPE: &str = "multipart/mixed";
/// Most parts accepted in one body.
pub const MAX_PARTS: usize = 16;
/// Most header lines in one part.
pub const MAX_PART_HEADERS: usize = 16;
/// Largest body accepted, bytes (the largest SIP message we accept).
pub const MAX_SIZE: usize = 64 * 1024;
/// Longest boundary (RFC 2046 §5.1.1).
pub const MAX_BOUNDARY: usize = 70;

/// Why a multipart body was refused, or could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The Content-Type is not `multipart/*`, or does not parse.
    #[error("Content-Type is not a multipart type")]
    NotMultipart,
    /// The Content-Type has no `boundary` parameter.
    #[error("multipart Content-Type has no boundary parameter")]
    MissingBoundary,
    /// The boundary is empty, longer than 70 characters, or uses characters RFC 2046
    /// §5.1.1 does not allow (the writer checks all of `bchars`; the parser only length
    /// and line breaks).
    #[error("invalid multipart boundary")]
    InvalidBoundary,
    /// Past [`MAX_SIZE`], [`MAX_PARTS`] or [`MAX_PART_HEADERS`].
    #[error("multipart body exceeds the limit on {what}")]
    TooLarge {
        /// Which limit.
        what: &'static str,
    },
    /// No delimiter line: the body has no part.
    #[error("multipart body has no boundary delimiter")]
    NoParts,
    /// The body ends before the close delimiter (`--boundary--`).
    #[error("multipart body lacks its close delimiter")]
    Unterminated,
    /// A part's header block is not UTF-8 or has a line that is not `name: value`.
    #[error("multipart part {part} has a malformed header at byte {offset}")]
    MalformedHeader {
        /// The part's index.
        part: usize,
        /// Byte offset in the body.
        offset: usize,
    },
    /// A part given to the writer contains the delimiter, or a header with a line break.
    #[error("cannot write multipart part {part}: {what}")]
    InvalidPart {
        /// The part's index.
        part: usize,
        /// What is wrong.
        what: &'static str,
    },
}

/// A part to write.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingPart<'a> {
    /// The part's `Content-Type`.
    pub content_type: &'a str,
    /// Further headers (`Content-ID`, `Content-Disposition`, ...).
    pub headers: &'a [(&'a str, &'a str)],
    /// The part's content.
    pub body: &'a [u8],
}

/// RFC 2046 §5.1.1 `bchars`.
fn is_boundary_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'\''
                | b'('
                | b')'
                | b'+'
                | b'_'
                | b','
                | b'-'
                | b'.'
                | b'/'
                | b':'
                | b'='
                | b'?'
                | b' '
        )
}

fn check_boundary(boundary: &str) -> Result<(), MultipartError> {
    if boundary.is_empty()
        || boundary.len() > MAX_BOUNDARY
        || boundary.ends_with(' ')
        || !boundary.bytes().all(is_boundary_char)
    {
        return Err(MultipartError::InvalidBoundary);
    }
    Ok(())
}

/// Appends the Content-Type value for `boundary`: `multipart/mixed;boundary=...`, the
/// boundary quoted when it is not a token.
pub fn write_content_type(out: &mut Vec<u8>, boundary: &str) -> Result<(), MultipartError> {
    check_boundary(boundary)?;
    out.extend_from_slice(CONTENT_TYPE.as_bytes());
    out.extend_from_slice(b";boundary=");
    let token = boundary
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'\'' | b'+' | b'_' | b'-' | b'.'));
    if !token {
        out.push(b'"');
    }
    out.extend_from_slice(boundary.as_bytes());
    if !token {
        out.push(b'"');
    }
    Ok(())
}

/// Appends a multipart body: each part after a delimiter line, then the close delimiter.
/// Fails, appending nothing, when a part's content contains `--boundary` or a header has
/// a line break.
pub fn write(
    out: &mut Vec<u8>,
    boundary: &str,
    parts: &[OutgoingPart<'_>],
) -> Result<(), MultipartError> {
    check_boundary(boundary)?;
    if parts.is_empty() {
        return Err(MultipartError::NoParts);
    }
    if parts.len() > MAX_PARTS {
        return Err(MultipartError::TooLarge { what: "parts" });
    }
    let mut delimiter = Vec::with_capacity(boundary.len().saturating_add(2));
    delimiter.extend_from_slice(b"--");
    delimiter.extend_from_slice(boundary.as_bytes());
    let finder = memmem::Finder::new(&delimiter);
    let line_safe = |s: &str| !s.is_empty() && !s.bytes().any(|b| b == b'\r' || b == b'\n');
    for (part, outgoing) in parts.iter().enumerate() {
        if finder.find(outgoing.body).is_some() {
            return Err(MultipartError::InvalidPart {
                part,
                what: "its content contains the boundary",
            });
        }
        let headers_ok = line_safe(outgoing.content_type)
            && outgoing.headers.len() < MAX_PART_HEADERS
            && outgoing.headers.iter().all(|(name, value)| {
                line_safe(name) && !name.contains([':', ' ']) && !value.contains(['\r', '\n'])
            });
        if !headers_ok {
            return Err(MultipartError::InvalidPart {
                part,
                what: "a header is empty or has a line break",
            });
        }
    }
    for outgoing in parts {
        out.extend_from_slice(&delimiter);
        out.extend_from_slice(b"\r\nContent-Type: ");
        out.extend_from_slice(outgoing.content_type.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in outgoing.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(outgoing.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(&delimiter);
    out.extend_from_slice(b"--\r\n");
    Ok(())
}

/// One parsed part; both slices borrow the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part<'a> {
    /// The header block as received, without the blank line that ends it.
    pub raw_headers: &'a str,
    /// The content: from after the blank line to before the line break that precedes the
    /// next delimiter.
    pub body: &'a [u8],
}

impl<'a> Part<'a> {
    /// The headers in order as `(name, value)`; a folded value keeps its line breaks.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let mut rest = self.raw_headers;
        std::iter::from_fn(move || {
            while !rest.is_empty() {
                // A field runs to the first line break not followed by folding white space.
                let mut end = 0usize;
                loop {
                    match rest.get(end..).and_then(|r| r.find('\n')) {
                        Some(i) => {
                            end = end.saturating_add(i).saturating_add(1);
                            let folded =
                                rest.get(end..).is_some_and(|r| r.starts_with([' ', '\t']));
                            if !folded {
                                break;
                            }
                        }
                        None => {
                            end = rest.len();
                            break;
                        }
                    }
                }
                let field = rest.get(..end).unwrap_or_default();
                rest = rest.get(end..).unwrap_or_default();
                if let Some((name, value)) = field.split_once(':') {
                    return Some((name.trim(), value.trim_matches([' ', '\t', '\r', '\n'])));
                }
            }
            None
        })
    }

    /// The first header named `name`, ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The part's `Content-Type`; RFC 2046 §5.1 makes a part without one `text/plain`.
    pub fn content_type(&self) -> &'a str {
        self.header("Content-Type").unwrap_or("text/plain")
    }
}

/// The boundary of a `multipart/*` Content-Type value (quoted or not).
pub fn boundary(content_type: &[u8]) -> Result<Vec<u8>, MultipartError> {
    let parsed = ContentType::parse(content_type).map_err(|_| MultipartError::NotMultipart)?;
    if !parsed.media_type.eq_ignore_ascii_case("multipart") {
        return Err(MultipartError::NotMultipart);
    }
    let param = parsed
        .params
        .get("boundary")
        .ok_or(MultipartError::MissingBoundary)?;
    let value = param.value.ok_or(MultipartError::MissingBoundary)?;
    let boundary = if param.quoted {
        unquote(value.as_bytes()).into_owned()
    } else {
        value.as_bytes().to_vec()
    };
    if boundary.is_empty()
        || boundary.len() > MAX_BOUNDARY
        || boundary.iter().any(|&b| b == b'\r' || b == b'\n')
    {
        return Err(MultipartError::InvalidBoundary);
    }
    Ok(boundary)
}

/// Splits a multipart body into its parts, given the message's Content-Type value.
pub fn parse<'a>(content_type: &[u8], body: &'a [u8]) -> Result<Vec<Part<'a>>, MultipartError> {
    if body.len() > MAX_SIZE {
        return Err(MultipartError::TooLarge { what: "size" });
    }
    let boundary = boundary(content_type)?;
    let mut delimiter = Vec::with_capacity(boundary.len().saturating_add(2));
    delimiter.extend_from_slice(b"--");
    delimiter.extend_from_slice(&boundary);
    let finder = memmem::Finder::new(&delimiter);

    let mut parts = Vec::new();
    // Where the current part's content starts, once the first delimiter is seen.
    let mut part_start: Option<usize> = None;
    let mut search = 0usize;
    loop {
        let Some(found) = finder
            .find(body.get(search..).unwrap_or_default())
            .map(|i| i.saturating_add(search))
        else {
            return Err(if part_start.is_some() {
                MultipartError::Unterminated
            } else {
                MultipartError::NoParts
            });
        };
        let after = found.saturating_add(delimiter.len());
        search = after;
        // A delimiter starts a line (the preceding line break belongs to it).
        let at_line_start = found == 0 || body.get(found.saturating_sub(1)) == Some(&b'\n');
        if !at_line_start {
            continue;
        }
        let rest = body.get(after..).unwrap_or_default();
        let close = rest.starts_with(b"--");
        // Transport padding, then the line break (absent only at the end of the body).
        let padded = if close {
            rest.get(2..).unwrap_or_default()
        } else {
            rest
        };
        let padding = padded
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let tail = padded.get(padding..).unwrap_or_default();
        let line_break = if tail.starts_with(b"\r\n") {
            2
        } else if tail.starts_with(b"\n") {
            1
        } else if tail.is_empty() || close {
            0
        } else {
            // `--boundaryX`: not a delimiter.
            continue;
        };
        if close && part_start.is_none() {
            return Err(MultipartError::NoParts);
        }
        if let Some(start) = part_start {
            if parts.len() >= MAX_PARTS {
                return Err(MultipartError::TooLarge { what: "parts" });
            }
            let mut end = found.saturating_sub(1).max(start);
            if end > start && body.get(end.saturating_sub(1)) == Some(&b'\r') {
                end = end.saturating_sub(1);
            }
            if found == start {
                end = start;
            }
            parts.push(split_part(body, start, end, parts.len())?);
        }
        if close {
            return Ok(parts);
        }
        let next = body.len() - tail.len() + line_break;
        part_start = Some(next);
        search = next;
    }
}

/// A part's header block and content, the part spanning `start..end` of `body`.
fn split_part(
    body: &[u8],
    start: usize,
    end: usize,
    index: usize,
) -> Result<Part<'_>, MultipartError> {
    let content = body.get(start..end).unwrap_or_default();
    // The header block ends at the first empty line; a part may start with one (no
    // headers) or have none at all (headers only).
    let mut line_start = 0usize;
    let (headers_end, body_start) = loop {
        if line_start >= content.len() {
            break (content.len(), content.len());
        }
        let rest = content.get(line_start..).unwrap_or_default();
        if rest.starts_with(b"\r\n") {
            break (line_start, line_start.saturating_add(2));
        }
        if rest.starts_with(b"\n") {
            break (line_start, line_start.saturating_add(1));
        }
        line_start = match memchr::memchr(b'\n', rest) {
            Some(i) => line_start.saturating_add(i).saturating_add(1),
            None => content.len(),
        };
    };
    let malformed = |offset: usize| MultipartError::MalformedHeader {
        part: index,
        offset: start.saturating_add(offset),
    };
    let raw = content.get(..headers_end).unwrap_or_default();
    let raw_headers = std::str::from_utf8(raw).map_err(|e| malformed(e.valid_up_to()))?;
    let mut count = 0usize;
    let mut offset = 0usize;
    for line in raw_headers.split_inclusive('\n') {
        let folded = line.starts_with([' ', '\t']);
        let named = line.find(':').is_some_and(|c| {
            c > 0
                && line
                    .get(..c)
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_graphic()))
        });
        if (folded && offset == 0) || (!folded && !named) {
            return Err(malformed(offset));
        }
        if !folded {
            count = count.saturating_add(1);
            if count > MAX_PART_HEADERS {
                return Err(MultipartError::TooLarge {
                    what: "part headers",
                });
            }
        }
        offset = offset.saturating_add(line.len());
    }
    Ok(Part {
        raw_headers,
        body: content.get(body_start..).unwrap_or_default(),
    })
}
