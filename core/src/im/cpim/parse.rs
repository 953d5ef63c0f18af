//! Reading a CPIM body: two header blocks and the content, all borrowed.

use std::borrow::Cow;

use memchr::memchr;

use super::message::{
    Address, CpimError, CpimHeader, CpimMessage, DEFAULT_NAMESPACE, Disposition, IMDN_NAMESPACE,
    MAX_HEADERS, MAX_SIZE, is_token_char, resolve,
};

/// Parses a CPIM body (the SIP body whose Content-Type is `message/cpim`).
pub fn parse(body: &[u8]) -> Result<CpimMessage<'_>, CpimError> {
    if body.len() > MAX_SIZE {
        return Err(CpimError::TooLarge { what: "size" });
    }
    let (message_block, content_start) = header_block(body, 0, "message headers")?;
    let (content_block, body_start) = header_block(body, content_start, "content headers")?;

    let mut headers = Vec::new();
    for (offset, line) in lines(message_block, 0) {
        if headers.len() >= MAX_HEADERS {
            return Err(CpimError::TooLarge { what: "headers" });
        }
        headers.push(message_header(line, offset)?);
    }
    for i in 0..headers.len() {
        let prefix = headers.get(i).and_then(|h| h.prefix);
        let namespace = resolve(&headers, prefix);
        if let Some(header) = headers.get_mut(i) {
            header.namespace = namespace;
        }
    }

    let mut message = CpimMessage {
        headers: Vec::new(),
        from: None,
        to: Vec::new(),
        datetime: None,
        message_id: None,
        disposition: Disposition::NONE,
        content_headers: content_headers(content_block, content_start)?,
        body: body.get(body_start..).unwrap_or_default(),
    };
    for header in &headers {
        match (header.namespace, header.name) {
            (Some(DEFAULT_NAMESPACE), "From") => {
                if message.from.is_some() {
                    return Err(CpimError::Duplicate { header: "From" });
                }
                message.from = Some(parse_address(header.value, "From")?);
            }
            (Some(DEFAULT_NAMESPACE), "To") => {
                if message.to.len() >= MAX_HEADERS {
                    return Err(CpimError::TooLarge { what: "headers" });
                }
                message.to.push(parse_address(header.value, "To")?);
            }
            (Some(DEFAULT_NAMESPACE), "DateTime") => {
                set_once(&mut message.datetime, header.value, "DateTime")?;
            }
            (Some(IMDN_NAMESPACE), "Message-ID") => {
                set_once(&mut message.message_id, header.value, "imdn.Message-ID")?;
            }
            (Some(IMDN_NAMESPACE), "Disposition-Notification") => {
                message.disposition = Disposition::parse(header.value);
            }
            _ => {}
        }
    }
    message.headers = headers;
    Ok(message)
}

fn set_once<'a>(
    slot: &mut Option<&'a str>,
    value: &'a str,
    header: &'static str,
) -> Result<(), CpimError> {
    if slot.is_some() {
        return Err(CpimError::Duplicate { header });
    }
    *slot = Some(value);
    Ok(())
}

/// The header block starting at `start` (UTF-8, without its blank line) and where what
/// follows the blank line begins.
fn header_block<'a>(
    body: &'a [u8],
    start: usize,
    section: &'static str,
) -> Result<(&'a str, usize), CpimError> {
    let mut pos = start;
    loop {
        let rest = body.get(pos..).unwrap_or_default();
        let Some(newline) = memchr(b'\n', rest) else {
            return Err(CpimError::Truncated { section });
        };
        let line = rest.get(..newline).unwrap_or_default();
        let next = pos.saturating_add(newline).saturating_add(1);
        if line.is_empty() || line == b"\r" {
            let block = body.get(start..pos).unwrap_or_default();
            let block = std::str::from_utf8(block).map_err(|e| CpimError::InvalidUtf8 {
                offset: start.saturating_add(e.valid_up_to()),
            })?;
            return Ok((block, next));
        }
        pos = next;
    }
}

/// The lines of a header block with their offsets in the body, line ends removed.
fn lines(block: &str, base: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = base;
    block.split_terminator('\n').map(move |line| {
        let at = offset;
        offset = offset.saturating_add(line.len()).saturating_add(1);
        (at, line.strip_suffix('\r').unwrap_or(line))
    })
}

/// `Header-name ":" *( ";" Parameter ) SP Header-value` (RFC 3862 §3.6).
fn message_header(line: &str, offset: usize) -> Result<CpimHeader<'_>, CpimError> {
    let unexpected = |at: usize| CpimError::UnexpectedByte {
        offset: offset.saturating_add(at),
        found: line.as_bytes().get(at).copied().unwrap_or(b'\n'),
    };
    let name_end = line
        .bytes()
        .position(|b| !is_token_char(b))
        .unwrap_or(line.len());
    if name_end == 0 || line.as_bytes().get(name_end) != Some(&b':') {
        return Err(unexpected(name_end));
    }
    let full_name = line.get(..name_end).unwrap_or_default();
    let (prefix, name) = match full_name.split_once('.') {
        Some((prefix, name)) if !prefix.is_empty() && !name.is_empty() && !name.contains('.') => {
            (Some(prefix), name)
        }
        Some(_) => return Err(unexpected(0)),
        None => (None, full_name),
    };
    let after = line.get(name_end.saturating_add(1)..).unwrap_or_default();
    let mut params_end = 0;
    if after.starts_with(';') {
        let mut quoted = false;
        params_end = after.len();
        for (i, b) in after.bytes().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b' ' | b'\t' if !quoted => {
                    params_end = i;
                    break;
                }
                _ => {}
            }
        }
    }
    let params = after.get(..params_end).unwrap_or_default();
    let rest = after
        .get(params_end..)
        .unwrap_or_default()
        .trim_start_matches([' ', '\t']);
    let value_start = line.len().saturating_sub(rest.len());
    let value = rest.trim_end_matches([' ', '\t']);
    if let Some(at) = value.bytes().position(|b| b < 0x20 && b != b'\t') {
        return Err(unexpected(value_start.saturating_add(at)));
    }
    Ok(CpimHeader {
        prefix,
        name,
        namespace: None,
        params,
        value,
    })
}

/// MIME headers of the content: `name: value`, continuation lines folded into the value.
fn content_headers(block: &str, base: usize) -> Result<Vec<(&str, &str)>, CpimError> {
    let mut headers: Vec<(&str, &str)> = Vec::new();
    // (name, value start in block, value end in block) of the header being read.
    let mut current: Option<(&str, usize, usize)> = None;
    for (offset, line) in lines(block, 0) {
        let end = offset.saturating_add(line.len());
        if line.starts_with([' ', '\t']) {
            let Some((_, _, value_end)) = current.as_mut() else {
                return Err(CpimError::UnexpectedByte {
                    offset: base.saturating_add(offset),
                    found: line.as_bytes().first().copied().unwrap_or(b' '),
                });
            };
            *value_end = end;
            continue;
        }
        if let Some(header) = current.take() {
            headers.push(finish_content_header(block, header));
        }
        let colon = line
            .find(':')
            .filter(|&c| c > 0)
            .ok_or(CpimError::UnexpectedByte {
                offset: base.saturating_add(offset),
                found: line.as_bytes().first().copied().unwrap_or(b'\n'),
            })?;
        let name = line.get(..colon).unwrap_or_default();
        if let Some(bad) = name.bytes().position(|b| !b.is_ascii_graphic()) {
            return Err(CpimError::UnexpectedByte {
                offset: base.saturating_add(offset).saturating_add(bad),
                found: name.as_bytes().get(bad).copied().unwrap_or(b' '),
            });
        }
        if headers.len() >= MAX_HEADERS {
            return Err(CpimError::TooLarge { what: "headers" });
        }
        current = Some((name, offset.saturating_add(colon).saturating_add(1), end));
    }
    if let Some(header) = current {
        headers.push(finish_content_header(block, header));
    }
    Ok(headers)
}

fn finish_content_header<'a>(
    block: &'a str,
    (name, start, end): (&'a str, usize, usize),
) -> (&'a str, &'a str) {
    let value = block.get(start..end).unwrap_or_default();
    (name, value.trim_matches([' ', '\t', '\r', '\n']))
}

/// `[ Formal-name ] "<" URI ">"` (RFC 3862 §4.1).
fn parse_address<'a>(value: &'a str, header: &'static str) -> Result<Address<'a>, CpimError> {
    let invalid = CpimError::InvalidAddress { header };
    let (display_name, rest) = if let Some(quoted) = value.strip_prefix('"') {
        let mut escaped = false;
        let close = quoted
            .char_indices()
            .find(|&(_, c)| {
                let end = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                end
            })
            .map(|(i, _)| i)
            .ok_or(invalid)?;
        let raw = quoted.get(..close).unwrap_or_default();
        let rest = quoted
            .get(close.saturating_add(1)..)
            .unwrap_or_default()
            .trim_start();
        (Some(unescape(raw)), rest)
    } else {
        let lt = value.find('<').ok_or(invalid)?;
        let name = value.get(..lt).unwrap_or_default().trim();
        if name.contains('"') {
            return Err(invalid);
        }
        let rest = value.get(lt..).unwrap_or_default();
        ((!name.is_empty()).then_some(Cow::Borrowed(name)), rest)
    };
    let inner = rest.strip_prefix('<').ok_or(invalid)?;
    let close = inner.find('>').ok_or(invalid)?;
    let uri = inner.get(..close).unwrap_or_default();
    let after = inner.get(close.saturating_add(1)..).unwrap_or_default();
    if uri.is_empty() || uri.contains(['<', ' ', '\t']) || !after.trim().is_empty() {
        return Err(invalid);
    }
    Ok(Address { display_name, uri })
}

/// Undoes RFC 3862 §3.6 `Escape`s: `\"`, `\\`, `\'`, `\b`, `\t`, `\n`, `\r`, `\uXXXX`.
/// An unknown escape stands for the character after the backslash; a bad `\u` for U+FFFD.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let c = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                out.push(c);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Cow::Owned(out)
}
