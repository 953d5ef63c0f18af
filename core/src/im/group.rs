//! The `X-Group` header of this project's group chat: `X-Group: "Friends"
//! <sip:friends@ims.test>` marks a MESSAGE as a group message and names the group. The
//! display name is an RFC 3261 §25.1 `quoted-string`.

use std::borrow::Cow;

use crate::sip::typed::{TypedHeader, XGroup};
use crate::sip::{HeaderError, Uri};

/// Why an `X-Group` value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The value is not a `name-addr`.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The group's display name is not UTF-8.
    #[error("X-Group display name is not UTF-8")]
    NameNotUtf8,
}

/// A parsed `X-Group` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAddress<'a> {
    /// The group's name, escapes undone; `None` when the value has no display name.
    pub name: Option<Cow<'a, str>>,
    /// The group's URI, as written between `<` and `>`.
    pub uri: &'a str,
}

/// Appends the `X-Group` value `"name" <uri>`: `"` and `\` escaped as quoted-pairs, line
/// breaks and other control characters (which a SIP header cannot carry) as spaces.
/// Nothing can fail (`uri` is already parsed), so it fits
/// [`MessageWriter::header_with`](crate::sip::MessageWriter::header_with).
pub fn write_x_group(out: &mut Vec<u8>, name: &str, uri: &Uri<'_>) {
    out.push(b'"');
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                out.push(b'\\');
                out.push(c as u8);
            }
            '\t' => out.push(b'\t'),
            c if c.is_control() => out.push(b' '),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.extend_from_slice(b"\" <");
    out.extend_from_slice(uri.as_str().as_bytes());
    out.push(b'>');
}

/// Parses an `X-Group` value through the typed header [`XGroup`].
pub fn parse_x_group(value: &[u8]) -> Result<GroupAddress<'_>, GroupError> {
    let header = XGroup::parse_named(value)?;
    let name = match header.display_name {
        Some(display_name) => Some(display_name.to_text().ok_or(GroupError::NameNotUtf8)?),
        None => None,
    };
    Ok(GroupAddress {
        name,
        uri: header.uri.as_str(),
    })
}
