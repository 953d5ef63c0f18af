//! Writing a CPIM body: strict, every value checked before a byte is appended.

use std::time::SystemTime;

use super::message::{
    Address, CpimError, Disposition, IMDN_NAMESPACE, MAX_MESSAGE_ID, is_token_char,
};
use crate::im::datetime;

/// Everything of an outgoing CPIM body but its content.
#[derive(Debug, Clone)]
pub struct CpimHead<'a> {
    /// The sender.
    pub from: Address<'a>,
    /// The recipient (a group URI for a group message).
    pub to: Address<'a>,
    /// When the message was sent, written as RFC 3339 UTC.
    pub datetime: SystemTime,
    /// `imdn.Message-ID` (RFC 5438 §6.3), a token unique to the sender.
    pub message_id: &'a str,
    /// Which notifications to ask for; [`Disposition::NONE`] writes no header.
    pub disposition: Disposition,
    /// The content's media type, e.g. `text/plain;charset=UTF-8`.
    pub content_type: &'a str,
    /// Further MIME headers of the content, e.g. `("Content-Disposition", "notification")`.
    pub content_headers: &'a [(&'a str, &'a str)],
}

/// Appends a whole CPIM body: [`write_head`], then `content`.
pub fn write(out: &mut Vec<u8>, head: &CpimHead<'_>, content: &[u8]) -> Result<(), CpimError> {
    write_head(out, head)?;
    out.extend_from_slice(content);
    Ok(())
}

/// Appends the message headers and the content headers, each block ended by a blank line,
/// so that the content follows directly. On error nothing is appended.
pub fn write_head(out: &mut Vec<u8>, head: &CpimHead<'_>) -> Result<(), CpimError> {
    check_uri(head.from.uri, "From")?;
    check_uri(head.to.uri, "To")?;
    if head.message_id.is_empty()
        || head.message_id.len() > MAX_MESSAGE_ID
        || !head.message_id.bytes().all(is_token_char)
    {
        return Err(CpimError::InvalidValue {
            field: "Message-ID",
        });
    }
    check_field(head.content_type, "Content-Type")?;
    for (name, value) in head.content_headers {
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(CpimError::InvalidValue {
                field: "content header name",
            });
        }
        check_field(value, "content header value")?;
    }

    out.extend_from_slice(b"From: ");
    push_address(out, &head.from);
    out.extend_from_slice(b"\r\nTo: ");
    push_address(out, &head.to);
    out.extend_from_slice(b"\r\nDateTime: ");
    datetime::write(out, head.datetime);
    out.extend_from_slice(b"\r\nNS: imdn <");
    out.extend_from_slice(IMDN_NAMESPACE.as_bytes());
    out.extend_from_slice(b">\r\nimdn.Message-ID: ");
    out.extend_from_slice(head.message_id.as_bytes());
    out.extend_from_slice(b"\r\n");
    if !head.disposition.is_empty() {
        out.extend_from_slice(b"imdn.Disposition-Notification: ");
        for (i, token) in head.disposition.tokens().enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(token.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(head.content_type.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in head.content_headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

fn check_uri(uri: &str, field: &'static str) -> Result<(), CpimError> {
    if uri.is_empty()
        || !uri
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
    {
        return Err(CpimError::InvalidValue { field });
    }
    Ok(())
}

fn check_field(value: &str, field: &'static str) -> Result<(), CpimError> {
    if value.is_empty() || value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(CpimError::InvalidValue { field });
    }
    Ok(())
}

/// Writes `"name" <uri>`, the name as an RFC 3862 §3.6 `String` with its escapes.
fn push_address(out: &mut Vec<u8>, address: &Address<'_>) {
    if let Some(name) = address.display_name.as_deref().filter(|n| !n.is_empty()) {
        out.push(b'"');
        for c in name.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                c if c.is_control() && (c as u32) < 0x100 => {
                    out.extend_from_slice(b"\\u00");
                    let byte = c as u32;
                    for nibble in [byte >> 4, byte & 0xf] {
                        out.push(
                            b"0123456789ABCDEF"
                                .get(nibble as usize)
                                .copied()
                                .unwrap_or(b'0'),
                        );
                    }
                }
                c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        out.extend_from_slice(b"\" ");
    }
    out.push(b'<');
    out.extend_from_slice(address.uri.as_bytes());
    out.push(b'>');
}
