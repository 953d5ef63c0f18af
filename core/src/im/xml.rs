//! Small XML pieces shared by the IMDN and resource-lists formats: escaping for the
//! writers, and text collection (borrowed when it can be) for the parsers.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::BytesRef;
use quick_xml::events::attributes::Attribute;

/// The XML declaration every document we write starts with.
pub(crate) const DECLARATION: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n";

/// True for a character XML 1.0 cannot carry (§2.2 `Char`): C0 controls other than tab,
/// line feed and carriage return. (Rust `char`s are never surrogates.)
fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Appends `text` as element content: `&`, `<` and `>` escaped, characters XML cannot
/// carry replaced by U+FFFD.
pub(crate) fn push_text(out: &mut Vec<u8>, text: &str) {
    push_escaped(out, text, false);
}

/// Appends `text` as a double-quoted attribute value: as [`push_text`], plus `"` and the
/// white space an attribute would otherwise normalise away (tab, CR, LF) as references.
pub(crate) fn push_attribute(out: &mut Vec<u8>, text: &str) {
    push_escaped(out, text, true);
}

fn push_escaped(out: &mut Vec<u8>, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' if attribute => out.extend_from_slice(b"&quot;"),
            '\t' if attribute => out.extend_from_slice(b"&#9;"),
            '\n' if attribute => out.extend_from_slice(b"&#10;"),
            '\r' => out.extend_from_slice(b"&#13;"),
            c if is_forbidden(c) => out.extend_from_slice("\u{fffd}".as_bytes()),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
}

/// The character a reference stands for: a character reference or one of the five
/// predefined entities. Anything else (an undeclared entity) is `None`.
pub(crate) fn resolve_reference(reference: &BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return Some(c);
    }
    match reference.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// An attribute's value with references resolved and white space normalised.
pub(crate) fn attribute_value(attribute: &Attribute<'_>) -> Option<String> {
    attribute
        .normalized_value(XmlVersion::Implicit1_0)
        .ok()
        .map(Cow::into_owned)
}

/// Text gathered from the events inside one element, borrowed from the document while it
/// is one piece, capped at a length.
#[derive(Debug, Default)]
pub(crate) struct Text<'a> {
    value: Option<Cow<'a, str>>,
}

/// The text passed its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLong;

impl<'a> Text<'a> {
    /// Adds a piece; fails once the whole would pass `limit` bytes.
    pub(crate) fn push(&mut self, piece: Cow<'a, str>, limit: usize) -> Result<(), TooLong> {
        let current = self.value.as_ref().map_or(0, |v| v.len());
        if current.saturating_add(piece.len()) > limit {
            return Err(TooLong);
        }
        match &mut self.value {
            None => self.value = Some(piece),
            Some(value) => value.to_mut().push_str(&piece),
        }
        Ok(())
    }

    /// Adds one character.
    pub(crate) fn push_char(&mut self, c: char, limit: usize) -> Result<(), TooLong> {
        let mut buffer = [0; 4];
        self.push(Cow::Owned(c.encode_utf8(&mut buffer).to_owned()), limit)
    }

    /// The text with surrounding XML white space removed; `None` when nothing is left.
    pub(crate) fn finish(self) -> Option<Cow<'a, str>> {
        let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
        let value = self.value?;
        let start = value.len() - value.trim_start_matches(is_space).len();
        let end = value.trim_end_matches(is_space).len();
        if start >= end {
            return None;
        }
        Some(match value {
            Cow::Borrowed(s) => Cow::Borrowed(s.get(start..end).unwrap_or_default()),
            Cow::Owned(s) if start == 0 && end == s.len() => Cow::Owned(s),
            Cow::Owned(s) => Cow::Owned(s.get(start..end).unwrap_or_default().to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str, attribute: bool) -> String {
        let mut out = Vec::new();
        push_escaped(&mut out, text, attribute);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escaped("a<b>&\"c\"", false), "a&lt;b&gt;&amp;\"c\"");
        assert_eq!(escaped("a\"\tb\n", true), "a&quot;&#9;b&#10;");
        assert_eq!(escaped("x\u{1}y", false), "x\u{fffd}y");
        assert_eq!(escaped("Grüße 你好", true), "Grüße 你好");
    }

    #[test]
    fn text_stays_borrowed_while_one_piece() {
        let mut text = Text::default();
        assert_eq!(text.push(Cow::Borrowed("  Bill Doe \n"), 64), Ok(()));
        assert!(matches!(text.finish(), Some(Cow::Borrowed("Bill Doe"))));
        let mut text = Text::default();
        assert_eq!(text.push(Cow::Borrowed("Tom "), 64), Ok(()));
        assert_eq!(text.push_char('&', 64), Ok(()));
        assert_eq!(text.push(Cow::Borrowed(" Jerry"), 64), Ok(()));
        assert_eq!(text.finish().as_deref(), Some("Tom & Jerry"));
        let mut text = Text::default();
        assert_eq!(text.push(Cow::Borrowed("12345"), 4), Err(TooLong));
        assert_eq!(Text::default().finish(), None);
    }
}
