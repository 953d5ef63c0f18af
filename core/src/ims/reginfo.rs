//! `application/reginfo+xml` (RFC 3680 §5.3): the registration state the network
//! sends in reg-event NOTIFYs. Parsed with quick-xml, with limits on size, depth and
//! element counts; unknown elements and attributes are skipped.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Most `<registration>` elements kept.
pub const MAX_REGISTRATIONS: usize = 64;
/// Most `<contact>` elements kept per registration.
pub const MAX_CONTACTS: usize = 64;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// Largest document accepted, bytes.
pub const MAX_SIZE: usize = 256 * 1024;

/// A whole reginfo document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegInfo {
    /// The document version (increments by one per NOTIFY).
    pub version: u32,
    /// `state="full"` (the complete state) or partial (changes only).
    pub full: bool,
    /// The registrations (one per AOR).
    pub registrations: Vec<Registration>,
}

/// One `<registration>`: an address of record and its contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The AOR (`aor` attribute).
    pub aor: String,
    /// The `id` attribute.
    pub id: String,
    /// `init`, `active` or `terminated`.
    pub state: String,
    /// The contacts.
    pub contacts: Vec<Contact>,
}

/// One `<contact>` of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The `id` attribute.
    pub id: String,
    /// `active` or `terminated`.
    pub state: String,
    /// What changed: `registered`, `created`, `refreshed`, `shortened`, `expired`,
    /// `deactivated`, `probation`, `unregistered`, `rejected`.
    pub event: Option<String>,
    /// `expires` attribute, seconds.
    pub expires: Option<u32>,
    /// `retry-after` attribute (with `probation`), seconds.
    pub retry_after: Option<u32>,
    /// The contact URI (`<uri>`).
    pub uri: String,
}

impl Contact {
    /// Whether the contact has ended.
    pub fn is_terminated(&self) -> bool {
        self.state == "terminated"
    }
}

/// Why a reginfo body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegInfoError {
    /// Not well-formed XML.
    #[error("reginfo is not well-formed XML at byte {position}")]
    Xml {
        /// Byte offset.
        position: u64,
    },
    /// The root element is not `<reginfo>`.
    #[error("the root element is not <reginfo>")]
    NotReginfo,
    /// A required attribute is missing or malformed.
    #[error("<{element}> lacks a valid {attribute} attribute")]
    Attribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// Past [`MAX_SIZE`], [`MAX_DEPTH`], [`MAX_REGISTRATIONS`] or [`MAX_CONTACTS`].
    #[error("reginfo exceeds the limit on {what}")]
    TooLarge {
        /// Which limit.
        what: &'static str,
    },
}

/// Parses a reginfo document.
pub fn parse(body: &[u8]) -> Result<RegInfo, RegInfoError> {
    if body.len() > MAX_SIZE {
        return Err(RegInfoError::TooLarge { what: "size" });
    }
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut buffer = Vec::new();
    let mut depth = 0usize;
    let mut info: Option<RegInfo> = None;
    let mut in_uri = false;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|_| RegInfoError::Xml { position })?;
        match event {
            Event::Start(element) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(RegInfoError::TooLarge { what: "depth" });
                }
                in_uri = open(&element, depth, &mut info)? == Some(Element::Uri);
            }
            Event::Empty(element) => {
                if depth + 1 > MAX_DEPTH {
                    return Err(RegInfoError::TooLarge { what: "depth" });
                }
                open(&element, depth + 1, &mut info)?;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                in_uri = false;
            }
            Event::Text(text) if in_uri => push_uri(&mut info, &text.xml10_content()),
            Event::CData(text) if in_uri => push_uri(&mut info, &text.xml10_content()),
            Event::GeneralRef(reference) if in_uri => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match reference.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = resolved {
                    push_uri(&mut info, c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    let mut info = info.ok_or(RegInfoError::NotReginfo)?;
    for registration in &mut info.registrations {
        for contact in &mut registration.contacts {
            let trimmed = contact.uri.trim();
            if trimmed.len() != contact.uri.len() {
                contact.uri = trimmed.to_owned();
            }
        }
    }
    Ok(info)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    Uri,
    Other,
}

/// Handles an opening tag at `depth` (1 = root).
fn open(
    element: &BytesStart<'_>,
    depth: usize,
    info: &mut Option<RegInfo>,
) -> Result<Option<Element>, RegInfoError> {
    let name = element.local_name();
    let name = name.as_ref();
    match (depth, name) {
        (1, "reginfo") => {
            let version = attribute(element, "version")
                .and_then(|v| v.parse().ok())
                .ok_or(RegInfoError::Attribute {
                    element: "reginfo",
                    attribute: "version",
                })?;
            let full = match attribute(element, "state").as_deref() {
                Some("full") => true,
                Some("partial") => false,
                _ => {
                    return Err(RegInfoError::Attribute {
                        element: "reginfo",
                        attribute: "state",
                    });
                }
            };
            *info = Some(RegInfo {
                version,
                full,
                registrations: Vec::new(),
            });
            Ok(Some(Element::Other))
        }
        (1, _) => Err(RegInfoError::NotReginfo),
        (2, "registration") => {
            let Some(info) = info.as_mut() else {
                return Ok(None);
            };
            if info.registrations.len() >= MAX_REGISTRATIONS {
                return Err(RegInfoError::TooLarge {
                    what: "registrations",
                });
            }
            let aor = attribute(element, "aor").ok_or(RegInfoError::Attribute {
                element: "registration",
                attribute: "aor",
            })?;
            info.registrations.push(Registration {
                aor,
                id: attribute(element, "id").unwrap_or_default(),
                state: attribute(element, "state").unwrap_or_default(),
                contacts: Vec::new(),
            });
            Ok(Some(Element::Other))
        }
        (3, "contact") => {
            let Some(registration) = info.as_mut().and_then(|i| i.registrations.last_mut()) else {
                return Ok(None);
            };
            if registration.contacts.len() >= MAX_CONTACTS {
                return Err(RegInfoError::TooLarge { what: "contacts" });
            }
            let number = |key: &str| attribute(element, key).and_then(|v| v.parse().ok());
            registration.contacts.push(Contact {
                id: attribute(element, "id").unwrap_or_default(),
                state: attribute(element, "state").unwrap_or_default(),
                event: attribute(element, "event"),
                expires: number("expires"),
                retry_after: number("retry-after"),
                uri: String::new(),
            });
            Ok(Some(Element::Other))
        }
        (4, "uri") => Ok(Some(Element::Uri)),
        _ => Ok(Some(Element::Other)),
    }
}

fn attribute(element: &BytesStart<'_>, key: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn push_uri(info: &mut Option<RegInfo>, text: &str) {
    if let Some(contact) = info
        .as_mut()
        .and_then(|i| i.registrations.last_mut())
        .and_then(|r| r.contacts.last_mut())
        && contact.uri.len() + text.len() <= 4096
    {
        contact.uri.push_str(text);
    }
}
