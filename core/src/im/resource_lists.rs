//! `application/resource-lists+xml` (RFC 4826 §3): the member list a group message carries
//! in client fan-out mode, with the RFC 5365 copy-control attribute
//! (`cp:copyControl="to"`) that marks how each member was addressed.
//!
//! The parser is namespace-aware (elements count only in the resource-lists namespace,
//! `copyControl` only in the copy-control namespace), keeps nested lists apart, counts
//! `<entry-ref>` and `<external>` references without resolving them, and caps size,
//! depth, lists, entries and text lengths.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::xml::{self, Text};

/// The media type of a resource-lists document.
pub const CONTENT_TYPE: &str = "application/resource-lists+xml";
/// The resource-lists namespace (RFC 4826 §3.2).
pub const NAMESPACE: &str = "urn:ietf:params:xml:ns:resource-lists";
/// The copy-control namespace (RFC 5364 §4, used by RFC 5365 §4.1).
pub const COPY_CONTROL_NAMESPACE: &str = "urn:ietf:params:xml:ns:copycontrol";
/// Most `<entry>` elements accepted, over all lists.
pub const MAX_ENTRIES: usize = 1000;
/// Most `<list>` elements accepted.
pub const MAX_LISTS: usize = 64;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 16;
/// Largest document accepted, bytes.
pub const MAX_SIZE: usize = 256 * 1024;
/// Longest URI or display name accepted, bytes.
pub const MAX_TEXT: usize = 4096;

/// Why a resource-lists document was refused, or could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceListsError {
    /// Not well-formed XML (or an undeclared entity).
    #[error("resource-lists is not well-formed XML at byte {position}")]
    Xml {
        /// Byte offset.
        position: u64,
    },
    /// The root element is not `<resource-lists>` in the resource-lists namespace.
    #[error("the root element is not <resource-lists>")]
    NotResourceLists,
    /// An `<entry>` has no `uri` attribute.
    #[error("<entry> lacks its uri attribute")]
    MissingUri,
    /// Past one of the limits.
    #[error("resource-lists exceeds the limit on {what}")]
    TooLarge {
        /// Which limit.
        what: &'static str,
    },
    /// An entry given to the writer has an empty URI or one with control characters.
    #[error("cannot write entry {index}: invalid URI")]
    InvalidUri {
        /// The entry's index.
        index: usize,
    },
}

/// How a recipient was addressed (RFC 5364 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyControl {
    /// `to`: a primary recipient.
    To,
    /// `cc`: a recipient of a copy.
    Cc,
    /// `bcc`: a hidden recipient.
    Bcc,
}

impl CopyControl {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            CopyControl::To => "to",
            CopyControl::Cc => "cc",
            CopyControl::Bcc => "bcc",
        }
    }

    fn parse(value: &str) -> Option<CopyControl> {
        match value.trim() {
            "to" => Some(CopyControl::To),
            "cc" => Some(CopyControl::Cc),
            "bcc" => Some(CopyControl::Bcc),
            _ => None,
        }
    }
}

/// One `<entry>`: a member's URI and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The `uri` attribute.
    pub uri: Cow<'a, str>,
    /// The `<display-name>`, if any.
    pub display_name: Option<Cow<'a, str>>,
    /// The `copyControl` attribute, if any (an unknown value reads as `None`).
    pub copy_control: Option<CopyControl>,
}

impl<'a> Entry<'a> {
    /// An entry to write.
    pub fn new(uri: &'a str, display_name: Option<&'a str>) -> Entry<'a> {
        Entry {
            uri: Cow::Borrowed(uri),
            display_name: display_name.map(Cow::Borrowed),
            copy_control: None,
        }
    }
}

/// One `<list>` and the entries directly inside it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct List<'a> {
    /// The `name` attribute.
    pub name: Option<Cow<'a, str>>,
    /// The list's `<display-name>`.
    pub display_name: Option<Cow<'a, str>>,
    /// Index in [`ResourceLists::lists`] of the enclosing list; `None` at the top level.
    pub parent: Option<usize>,
    /// The `<entry>` elements directly in this list, in order.
    pub entries: Vec<Entry<'a>>,
}

/// A parsed document: every `<list>` in document order, nested ones included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceLists<'a> {
    /// The lists.
    pub lists: Vec<List<'a>>,
    /// How many `<entry-ref>` and `<external>` references were seen (not resolved).
    pub references: usize,
}

impl<'a> ResourceLists<'a> {
    /// Every entry of every list, in document order of the lists.
    pub fn entries(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.lists.iter().flat_map(|l| l.entries.iter())
    }
}

/// Appends a document with one list: `list_name` as its display name, then one `<entry>`
/// per member. Declares the copy-control namespace only when an entry uses it. On error
/// nothing is appended.
pub fn write(
    out: &mut Vec<u8>,
    list_name: Option<&str>,
    entries: &[Entry<'_>],
) -> Result<(), ResourceListsError> {
    if entries.len() > MAX_ENTRIES {
        return Err(ResourceListsError::TooLarge { what: "entries" });
    }
    if let Some(index) = entries
        .iter()
        .position(|e| e.uri.is_empty() || e.uri.chars().any(char::is_control))
    {
        return Err(ResourceListsError::InvalidUri { index });
    }
    out.extend_from_slice(xml::DECLARATION);
    out.extend_from_slice(b"<resource-lists xmlns=\"");
    out.extend_from_slice(NAMESPACE.as_bytes());
    out.push(b'"');
    if entries.iter().any(|e| e.copy_control.is_some()) {
        out.extend_from_slice(b" xmlns:cp=\"");
        out.extend_from_slice(COPY_CONTROL_NAMESPACE.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b">\r\n <list>\r\n");
    if let Some(name) = list_name {
        out.extend_from_slice(b"  <display-name>");
        xml::push_text(out, name);
        out.extend_from_slice(b"</display-name>\r\n");
    }
    for entry in entries {
        out.extend_from_slice(b"  <entry uri=\"");
        xml::push_attribute(out, &entry.uri);
        out.push(b'"');
        if let Some(copy_control) = entry.copy_control {
            out.extend_from_slice(b" cp:copyControl=\"");
            out.extend_from_slice(copy_control.as_str().as_bytes());
            out.push(b'"');
        }
        match &entry.display_name {
            Some(name) => {
                out.extend_from_slice(b"><display-name>");
                xml::push_text(out, name);
                out.extend_from_slice(b"</display-name></entry>\r\n");
            }
            None => out.extend_from_slice(b"/>\r\n"),
        }
    }
    out.extend_from_slice(b" </list>\r\n</resource-lists>\r\n");
    Ok(())
}

/// What an open element is, for the text and children that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Root,
    /// A list, by index.
    List(usize),
    /// An entry of a list.
    Entry(usize),
    /// `<display-name>` of a list or entry (the element below it on the stack).
    DisplayName,
    /// Anything else: skipped with its content.
    Other,
}

/// What the parser has seen so far, beyond the document itself.
#[derive(Debug, Default)]
struct Progress {
    seen_root: bool,
    entries: usize,
}

/// Parses a resource-lists document.
pub fn parse(body: &[u8]) -> Result<ResourceLists<'_>, ResourceListsError> {
    if body.len() > MAX_SIZE {
        return Err(ResourceListsError::TooLarge { what: "size" });
    }
    let mut reader = NsReader::from_reader(body);
    let mut document = ResourceLists::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut text = Text::default();
    let mut progress = Progress::default();
    loop {
        let position = reader.buffer_position();
        let xml_error = ResourceListsError::Xml { position };
        let (namespace, event) = reader.read_resolved_event().map_err(|_| xml_error)?;
        let in_namespace = matches!(namespace, ResolveResult::Bound(ns) if ns.0 == NAMESPACE);
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(element) | Event::Empty(element) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ResourceListsError::TooLarge { what: "depth" });
                }
                let open = open_element(
                    &reader,
                    &element,
                    in_namespace,
                    &stack,
                    &mut document,
                    &mut progress,
                    position,
                )?;
                if open == Open::DisplayName {
                    text = Text::default();
                }
                stack.push(open);
                if empty {
                    close_element(&mut stack, &mut document, &mut text);
                }
            }
            Event::End(_) => close_element(&mut stack, &mut document, &mut text),
            Event::Text(content) if stack.last() == Some(&Open::DisplayName) => {
                text.push(content.xml10_content(), MAX_TEXT)
                    .map_err(|_| ResourceListsError::TooLarge { what: "text" })?;
            }
            Event::CData(content) if stack.last() == Some(&Open::DisplayName) => {
                text.push(content.xml10_content(), MAX_TEXT)
                    .map_err(|_| ResourceListsError::TooLarge { what: "text" })?;
            }
            Event::GeneralRef(reference) => {
                let c = xml::resolve_reference(&reference).ok_or(xml_error)?;
                if stack.last() == Some(&Open::DisplayName) {
                    text.push_char(c, MAX_TEXT)
                        .map_err(|_| ResourceListsError::TooLarge { what: "text" })?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !progress.seen_root {
        return Err(ResourceListsError::NotResourceLists);
    }
    if !stack.is_empty() {
        return Err(ResourceListsError::Xml {
            position: reader.buffer_position(),
        });
    }
    Ok(document)
}

/// Handles an opening tag: what it is, and its list or entry recorded.
fn open_element<'a>(
    reader: &NsReader<&'a [u8]>,
    element: &BytesStart<'a>,
    in_namespace: bool,
    stack: &[Open],
    document: &mut ResourceLists<'a>,
    progress: &mut Progress,
    position: u64,
) -> Result<Open, ResourceListsError> {
    let local = element.local_name();
    let name = if in_namespace { local.as_ref() } else { "" };
    let parent = stack.last().copied();
    match (parent, name) {
        (None, _) if progress.seen_root => Err(ResourceListsError::Xml { position }),
        (None, "resource-lists") => {
            progress.seen_root = true;
            Ok(Open::Root)
        }
        (None, _) => Err(ResourceListsError::NotResourceLists),
        (Some(Open::Root | Open::List(_)), "list") => {
            if document.lists.len() >= MAX_LISTS {
                return Err(ResourceListsError::TooLarge { what: "lists" });
            }
            let mut list = List {
                parent: match parent {
                    Some(Open::List(i)) => Some(i),
                    _ => None,
                },
                ..List::default()
            };
            for attribute in element.attributes() {
                let attribute = attribute.map_err(|_| ResourceListsError::Xml { position })?;
                let (namespace, key) = reader.resolver().resolve_attribute(attribute.key);
                if matches!(namespace, ResolveResult::Unbound) && key.as_ref() == "name" {
                    list.name = Some(Cow::Owned(attribute_text(&attribute, position)?));
                }
            }
            document.lists.push(list);
            Ok(Open::List(document.lists.len().saturating_sub(1)))
        }
        (Some(Open::List(index)), "entry") => {
            if progress.entries >= MAX_ENTRIES {
                return Err(ResourceListsError::TooLarge { what: "entries" });
            }
            progress.entries = progress.entries.saturating_add(1);
            let mut uri = None;
            let mut copy_control = None;
            for attribute in element.attributes() {
                let attribute = attribute.map_err(|_| ResourceListsError::Xml { position })?;
                let (namespace, key) = reader.resolver().resolve_attribute(attribute.key);
                match (namespace, key.as_ref()) {
                    (ResolveResult::Unbound, "uri") => {
                        uri = Some(attribute_text(&attribute, position)?);
                    }
                    (ResolveResult::Bound(ns), "copyControl") if ns.0 == COPY_CONTROL_NAMESPACE => {
                        copy_control = CopyControl::parse(&attribute_text(&attribute, position)?);
                    }
                    _ => {}
                }
            }
            let uri = uri
                .filter(|u| !u.trim().is_empty())
                .ok_or(ResourceListsError::MissingUri)?;
            if let Some(list) = document.lists.get_mut(index) {
                list.entries.push(Entry {
                    uri: Cow::Owned(uri.trim().to_owned()),
                    display_name: None,
                    copy_control,
                });
            }
            Ok(Open::Entry(index))
        }
        (Some(Open::List(_)), "entry-ref" | "external") => {
            document.references = document.references.saturating_add(1);
            Ok(Open::Other)
        }
        (Some(Open::List(_) | Open::Entry(_)), "display-name") => Ok(Open::DisplayName),
        _ => Ok(Open::Other),
    }
}

fn attribute_text(
    attribute: &quick_xml::events::attributes::Attribute<'_>,
    position: u64,
) -> Result<String, ResourceListsError> {
    let value = xml::attribute_value(attribute).ok_or(ResourceListsError::Xml { position })?;
    if value.len() > MAX_TEXT {
        return Err(ResourceListsError::TooLarge { what: "text" });
    }
    Ok(value)
}

/// Handles a closing tag: a finished display name goes to its list or entry.
fn close_element<'a>(stack: &mut Vec<Open>, document: &mut ResourceLists<'a>, text: &mut Text<'a>) {
    if stack.pop() != Some(Open::DisplayName) {
        return;
    }
    let value = std::mem::take(text).finish();
    let slot = match stack.last() {
        Some(Open::List(i)) => document.lists.get_mut(*i).map(|l| &mut l.display_name),
        Some(Open::Entry(i)) => document
            .lists
            .get_mut(*i)
            .and_then(|l| l.entries.last_mut())
            .map(|e| &mut e.display_name),
        _ => None,
    };
    if let Some(slot) = slot.filter(|s| s.is_none()) {
        *slot = value;
    }
}
