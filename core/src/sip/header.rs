//! Header names (case-insensitive, compact forms mapped to full names) and the raw header
//! slots a parse fills.

use std::fmt;

macro_rules! known_headers {
    ($( $variant:ident => $name:literal, $compact:expr, $list:literal; )*) => {
        /// A header name known to ims-rs, or [`HeaderName::Other`] for any other token.
        ///
        /// Parsing maps compact forms (`v`, `i`, `m`, ...) to their full names; comparison
        /// of `Other` names ignores ASCII case and allocates nothing.
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum HeaderName<'a> {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
            /// Any other header; the name as it appeared on the wire.
            Other(&'a str),
        }

        /// The known header names without the borrowed `Other` name: what a header slot
        /// stores.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum HeaderKind {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
            /// A header ims-rs has no name for.
            Other,
        }


        impl HeaderKind {
            /// The canonical (full) name; `None` for [`HeaderKind::Other`].
            pub const fn canonical(self) -> Option<&'static str> {
                match self {
                    $( HeaderKind::$variant => Some($name), )*
                    HeaderKind::Other => None,
                }
            }

            /// The compact form (RFC 3261 §7.3.3 and later RFCs), if the header has one.
            pub const fn compact(self) -> Option<u8> {
                match self {
                    $( HeaderKind::$variant => $compact, )*
                    HeaderKind::Other => None,
                }
            }

            /// True when the header's grammar is a comma-separated list, so that several
            /// values may share one header line (RFC 3261 §7.3.1).
            pub const fn is_list(self) -> bool {
                match self {
                    $( HeaderKind::$variant => $list, )*
                    HeaderKind::Other => false,
                }
            }
        }

        impl<'a> HeaderName<'a> {
            /// The kind of this name (`Other` for unknown names).
            pub const fn kind(&self) -> HeaderKind {
                match self {
                    $( HeaderName::$variant => HeaderKind::$variant, )*
                    HeaderName::Other(_) => HeaderKind::Other,
                }
            }

            /// The name as written: the canonical full name, or the unknown name as received.
            pub fn as_str(&self) -> &'a str {
                match self {
                    $( HeaderName::$variant => $name, )*
                    HeaderName::Other(name) => name,
                }
            }
        }

        /// Every known header with its canonical name, in declaration order.
        const KNOWN: &[(HeaderKind, &str)] = &[ $( (HeaderKind::$variant, $name), )* ];

        impl HeaderKind {
            /// The canonical name followed by `": "`, as a writer puts it on a header line,
            /// zero-padded to 32 bytes, with its length: the writer copies the fixed 32
            /// bytes (two vector moves, no `memcpy` call) and cuts the buffer back to the
            /// length. `None` for [`HeaderKind::Other`].
            pub(crate) const fn canonical_colon_padded(self) -> Option<(&'static [u8; 32], usize)> {
                match self {
                    $( HeaderKind::$variant => {
                        const PADDED: [u8; 32] = pad_name(concat!($name, ": "));
                        Some((&PADDED, concat!($name, ": ").len()))
                    } )*
                    HeaderKind::Other => None,
                }
            }

            /// The [`HeaderName`] of a known kind; `name` is used for `Other`.
            pub fn with_name(self, name: &str) -> HeaderName<'_> {
                match self {
                    $( HeaderKind::$variant => HeaderName::$variant, )*
                    HeaderKind::Other => HeaderName::Other(name),
                }
            }
        }
    };
}

known_headers! {
    Accept => "Accept", None, true;
    AcceptContact => "Accept-Contact", Some(b'a'), true;
    AcceptEncoding => "Accept-Encoding", None, true;
    AcceptLanguage => "Accept-Language", None, true;
    AlertInfo => "Alert-Info", None, true;
    Allow => "Allow", None, true;
    AllowEvents => "Allow-Events", Some(b'u'), true;
    AuthenticationInfo => "Authentication-Info", None, false;
    Authorization => "Authorization", None, false;
    CallId => "Call-ID", Some(b'i'), false;
    CallInfo => "Call-Info", None, true;
    Contact => "Contact", Some(b'm'), true;
    ContentDisposition => "Content-Disposition", None, false;
    ContentEncoding => "Content-Encoding", Some(b'e'), true;
    ContentLanguage => "Content-Language", None, true;
    ContentLength => "Content-Length", Some(b'l'), false;
    ContentType => "Content-Type", Some(b'c'), false;
    CSeq => "CSeq", None, false;
    Date => "Date", None, false;
    ErrorInfo => "Error-Info", None, true;
    Event => "Event", Some(b'o'), false;
    Expires => "Expires", None, false;
    From => "From", Some(b'f'), false;
    Identity => "Identity", Some(b'y'), false;
    InReplyTo => "In-Reply-To", None, true;
    MaxForwards => "Max-Forwards", None, false;
    MimeVersion => "MIME-Version", None, false;
    MinExpires => "Min-Expires", None, false;
    MinSe => "Min-SE", None, false;
    Organization => "Organization", None, false;
    PAccessNetworkInfo => "P-Access-Network-Info", None, true;
    PAssertedIdentity => "P-Asserted-Identity", None, true;
    PAssociatedUri => "P-Associated-URI", None, true;
    PCalledPartyId => "P-Called-Party-ID", None, false;
    PChargingFunctionAddresses => "P-Charging-Function-Addresses", None, false;
    PChargingVector => "P-Charging-Vector", None, false;
    Path => "Path", None, true;
    PPreferredIdentity => "P-Preferred-Identity", None, true;
    Priority => "Priority", None, false;
    PrivacyHeader => "Privacy", None, false;
    ProxyAuthenticate => "Proxy-Authenticate", None, false;
    ProxyAuthorization => "Proxy-Authorization", None, false;
    ProxyRequire => "Proxy-Require", None, true;
    RAck => "RAck", None, false;
    Reason => "Reason", None, true;
    RecordRoute => "Record-Route", None, true;
    ReferredBy => "Referred-By", Some(b'b'), false;
    ReferTo => "Refer-To", Some(b'r'), false;
    RejectContact => "Reject-Contact", Some(b'j'), true;
    Replaces => "Replaces", None, false;
    ReplyTo => "Reply-To", None, false;
    RequestDisposition => "Request-Disposition", Some(b'd'), true;
    Require => "Require", None, true;
    RetryAfter => "Retry-After", None, false;
    Route => "Route", None, true;
    RSeq => "RSeq", None, false;
    SecurityClient => "Security-Client", None, true;
    SecurityServer => "Security-Server", None, true;
    SecurityVerify => "Security-Verify", None, true;
    Server => "Server", None, false;
    ServiceRoute => "Service-Route", None, true;
    SessionExpires => "Session-Expires", Some(b'x'), false;
    SipETag => "SIP-ETag", None, false;
    SipIfMatch => "SIP-If-Match", None, false;
    Subject => "Subject", Some(b's'), false;
    SubscriptionState => "Subscription-State", None, false;
    Supported => "Supported", Some(b'k'), true;
    Timestamp => "Timestamp", None, false;
    To => "To", Some(b't'), false;
    Unsupported => "Unsupported", None, true;
    UserAgent => "User-Agent", None, false;
    Via => "Via", Some(b'v'), true;
    Warning => "Warning", None, true;
    WwwAuthenticate => "WWW-Authenticate", None, false;
    XGroup => "X-Group", None, false;
}

impl HeaderKind {
    /// Looks a header name up, ignoring ASCII case; compact forms map to full names.
    ///
    /// Allocates nothing; unknown names give [`HeaderKind::Other`].
    pub fn lookup(name: &[u8]) -> HeaderKind {
        lookup_prefix(name, name.len())
    }
}

/// Looks up the name `bytes[..len]`; `bytes` may run on past the name (the parser passes
/// the rest of the message), which lets the comparison load whole words.
///
/// One multiplicative hash of the length and three of the name's bytes picks the only
/// candidate; a masked compare of at most four 8-byte words confirms it. Known names are
/// letters and `-`, so OR-ing 0x20 into the letter positions (and nothing else) matches
/// exactly the two cases of each letter and a literal `-`: a name that matches is a
/// token.
#[inline(always)]
pub(crate) fn lookup_prefix(bytes: &[u8], len: usize) -> HeaderKind {
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.get(len.wrapping_sub(1))) else {
        return HeaderKind::Other;
    };
    lookup_ends(bytes, len, first, last)
}

/// [`lookup_prefix`] for a caller that has the name's first and last bytes at hand
/// (`first == bytes[0]`, `last == bytes[len - 1]`, `len >= 1`).
#[inline(always)]
pub(crate) fn lookup_ends(bytes: &[u8], len: usize, first: u8, last: u8) -> HeaderKind {
    if len == 1 {
        return compact_kind(first | 0x20);
    }
    if len > MAX_KNOWN_LEN {
        return HeaderKind::Other;
    }
    let Some(&middle) = bytes.get(len / 2) else {
        return HeaderKind::Other;
    };
    let slot = NAME_TABLE
        .get(name_hash(len, first, middle, last))
        .copied()
        .unwrap_or(0);
    let Some(entry) = usize::from(slot)
        .checked_sub(1)
        .and_then(|index| NAME_ENTRIES.get(index))
    else {
        return HeaderKind::Other;
    };
    if usize::from(entry.len) != len {
        return HeaderKind::Other;
    }
    let last = usize::from(entry.words).wrapping_sub(1);
    for (i, (&lower, &letters)) in entry.lower.iter().zip(&entry.letters).enumerate() {
        let mut word = load_word(bytes, i * 8);
        if i == last {
            word &= entry.keep;
        }
        if word | letters != lower {
            return HeaderKind::Other;
        }
        if i == last {
            return entry.kind;
        }
    }
    HeaderKind::Other
}

/// [`lookup_ends`] for a name of `len` bytes (1..=16) at the start of `head`, the first
/// 16 bytes of a header line.
///
/// The name's two words, cut to `len` bytes with 0x20 OR-ed into each byte (lower case
/// for letters; `-` keeps its value), are hashed as a whole: the hash needs no byte
/// whose place the colon decides, only the cut. The slot's name is then compared
/// exactly, letters in either case, as in [`lookup_ends`], and so is its length: a
/// name padded with NULs can hash to the same slot.
#[inline(always)]
pub(crate) fn lookup_head(head: &[u8; 16], len: usize) -> HeaderKind {
    let [first, ..] = *head;
    if len == 1 {
        return compact_kind(first | 0x20);
    }
    let Some(cut) = HEAD_CUTS.get(len) else {
        return HeaderKind::Other;
    };
    let (low, high) = head.split_at(8);
    let word = |half: &[u8]| u64::from_le_bytes(<[u8; 8]>::try_from(half).unwrap_or([0; 8]));
    let low = word(low) & cut.keep[0];
    let high = word(high) & cut.keep[1];
    // An empty slot has length 0 and never matches.
    let Some(entry) = HEAD_TABLE.get(head_hash(low | cut.fold[0], high | cut.fold[1])) else {
        return HeaderKind::Other;
    };
    let [lower_low, lower_high] = entry.lower;
    let [letters_low, letters_high] = entry.letters;
    let differ = ((low | letters_low) ^ lower_low) | ((high | letters_high) ^ lower_high);
    if usize::from(entry.len) == len && differ == 0 {
        entry.kind
    } else {
        HeaderKind::Other
    }
}

/// The hash of [`lookup_head`]: a name's two folded, cut words to a slot. Perfect over
/// the known names of up to 16 bytes (checked when the crate compiles).
const fn head_hash(low: u64, high: u64) -> usize {
    ((low ^ high.rotate_left(32)).wrapping_mul(0xc0ca_e261_b668_c911) >> 56) as usize
}

/// How [`lookup_head`] cuts and folds a name of a given length (the index): `keep` keeps
/// its bytes of the two words, `fold` is 0x20 in each of them.
#[derive(Clone, Copy)]
#[repr(align(32))]
struct HeadCut {
    keep: [u64; 2],
    fold: [u64; 2],
}

static HEAD_CUTS: [HeadCut; 17] = {
    let mut cuts = [HeadCut {
        keep: [0; 2],
        fold: [0; 2],
    }; 17];
    let mut len = 0;
    while len <= 16 {
        let keep = [byte_mask(len), byte_mask(len.saturating_sub(8))];
        cuts[len] = HeadCut {
            keep,
            fold: [
                keep[0] & 0x2020_2020_2020_2020,
                keep[1] & 0x2020_2020_2020_2020,
            ],
        };
        len += 1;
    }
    cuts
};

/// A known name of up to 16 bytes, for [`lookup_head`], in its hash slot.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct HeadEntry {
    kind: HeaderKind,
    /// 0 in a slot no name hashes to.
    len: u8,
    /// The name's two words in lower case, zero past its end.
    lower: [u64; 2],
    /// 0x20 in each letter position.
    letters: [u64; 2],
}

/// The slots of [`lookup_head`]; `None` when two known names share one.
const fn head_table() -> Option<[HeadEntry; 256]> {
    let mut table = [HeadEntry {
        kind: HeaderKind::Other,
        len: 0,
        lower: [0; 2],
        letters: [0; 2],
    }; 256];
    let mut i = 0;
    while i < NAME_ENTRIES.len() {
        let entry = NAME_ENTRIES[i];
        i += 1;
        if entry.len > 16 {
            continue;
        }
        // Known names are letters and `-` (checked by `name_table`), whose bytes all
        // have 0x20 set: the lower-case words are their folded words.
        let slot = head_hash(entry.lower[0], entry.lower[1]);
        if table[slot].len != 0 {
            return None;
        }
        table[slot] = HeadEntry {
            kind: entry.kind,
            len: entry.len,
            lower: [entry.lower[0], entry.lower[1]],
            letters: [entry.letters[0], entry.letters[1]],
        };
    }
    Some(table)
}

// The hash of `lookup_head` is perfect for the known names: a collision stops the
// build here.
static HEAD_TABLE: [HeadEntry; 256] = match head_table() {
    Some(table) => table,
    None => panic!("two known names share a lookup_head slot"),
};

/// Eight bytes from `at`, little-endian, zero-padded past the end of `bytes`.
#[inline(always)]
fn load_word(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at.saturating_add(8)) {
        Some(word) => u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or([0; 8])),
        None => bytes
            .get(at..)
            .unwrap_or(&[])
            .iter()
            .rev()
            .fold(0u64, |word, &b| (word << 8) | u64::from(b)),
    }
}

/// `name` zero-padded to 32 bytes (at compile time; a longer name fails the build).
const fn pad_name(name: &str) -> [u8; 32] {
    let name = name.as_bytes();
    let mut padded = [0u8; 32];
    let mut i = 0;
    while i < name.len() {
        padded[i] = name[i];
        i += 1;
    }
    padded
}

/// The longest known name (P-Charging-Function-Addresses); four words.
const MAX_KNOWN_LEN: usize = 32;

/// A known name prepared for the masked compare.
#[derive(Clone, Copy)]
struct NameEntry {
    kind: HeaderKind,
    len: u8,
    /// Words the name spans (1..=4).
    words: u8,
    /// Keeps the bytes of the last word that belong to the name.
    keep: u64,
    /// The name in lower case, little-endian words, zero past its end.
    lower: [u64; 4],
    /// 0x20 in each letter position.
    letters: [u64; 4],
}

const fn name_hash(len: usize, first: u8, middle: u8, last: u8) -> usize {
    let key = (first | 0x20) as u32
        | ((last | 0x20) as u32) << 8
        | ((middle | 0x20) as u32) << 16
        | ((len as u32) & 0xff) << 24;
    (key.wrapping_mul(0xf5a7_4e61) >> 24) as usize
}

/// A word that keeps its first `bytes` bytes (all eight from 8 on).
const fn byte_mask(bytes: usize) -> u64 {
    if bytes >= 8 {
        u64::MAX
    } else {
        (1u64 << (bytes * 8)) - 1
    }
}

const fn name_entries() -> [NameEntry; KNOWN.len()] {
    let mut entries = [NameEntry {
        kind: HeaderKind::Other,
        len: 0,
        words: 0,
        keep: 0,
        lower: [0; 4],
        letters: [0; 4],
    }; KNOWN.len()];
    let mut i = 0;
    while i < KNOWN.len() {
        let (kind, name) = KNOWN[i];
        let name = name.as_bytes();
        let mut entry = NameEntry {
            kind,
            len: name.len() as u8,
            words: name.len().div_ceil(8) as u8,
            keep: match name.len() % 8 {
                0 => u64::MAX,
                rest => (1u64 << (rest * 8)) - 1,
            },
            lower: [0; 4],
            letters: [0; 4],
        };
        let mut j = 0;
        while j < name.len() {
            let b = name[j];
            let shift = (j % 8) * 8;
            entry.lower[j / 8] |= (b.to_ascii_lowercase() as u64) << shift;
            if b.is_ascii_alphabetic() {
                entry.letters[j / 8] |= 0x20 << shift;
            }
            j += 1;
        }
        entries[i] = entry;
        i += 1;
    }
    entries
}

static NAME_ENTRIES: [NameEntry; KNOWN.len()] = name_entries();

/// Hash slot -> index into `NAME_ENTRIES` plus one (0: no known name hashes there).
/// `None` when two names collide or a name is not made of letters and `-`.
const fn name_table() -> Option<[u8; 256]> {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < KNOWN.len() {
        let name = KNOWN[i].1.as_bytes();
        let len = name.len();
        if len < 2 || len > MAX_KNOWN_LEN {
            return None;
        }
        let mut j = 0;
        while j < len {
            if !(name[j].is_ascii_alphabetic() || name[j] == b'-') {
                return None;
            }
            j += 1;
        }
        let slot = name_hash(len, name[0], name[len / 2], name[len - 1]);
        if table[slot] != 0 {
            return None;
        }
        table[slot] = (i + 1) as u8;
        i += 1;
    }
    Some(table)
}

static NAME_TABLE: [u8; 256] = match name_table() {
    Some(table) => table,
    None => [0; 256],
};

// The hash is perfect for the known names: checked when the crate compiles.
const _: () = assert!(name_table().is_some() && KNOWN.len() < 255);

fn compact_kind(letter: u8) -> HeaderKind {
    match letter {
        b'a' => HeaderKind::AcceptContact,
        b'b' => HeaderKind::ReferredBy,
        b'c' => HeaderKind::ContentType,
        b'd' => HeaderKind::RequestDisposition,
        b'e' => HeaderKind::ContentEncoding,
        b'f' => HeaderKind::From,
        b'i' => HeaderKind::CallId,
        b'j' => HeaderKind::RejectContact,
        b'k' => HeaderKind::Supported,
        b'l' => HeaderKind::ContentLength,
        b'm' => HeaderKind::Contact,
        b'o' => HeaderKind::Event,
        b'r' => HeaderKind::ReferTo,
        b's' => HeaderKind::Subject,
        b't' => HeaderKind::To,
        b'u' => HeaderKind::AllowEvents,
        b'v' => HeaderKind::Via,
        b'x' => HeaderKind::SessionExpires,
        b'y' => HeaderKind::Identity,
        _ => HeaderKind::Other,
    }
}

impl<'a> HeaderName<'a> {
    /// Parses a header name as received; compact forms map to full names.
    pub fn from_wire(name: &'a str) -> HeaderName<'a> {
        HeaderKind::lookup(name.as_bytes()).with_name(name)
    }
}

impl PartialEq for HeaderName<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            _ => self.kind() == other.kind(),
        }
    }
}

impl Eq for HeaderName<'_> {}

impl fmt::Display for HeaderName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header as stored by a parse: its kind and where its name and value lie in the
/// buffer. Holds offsets, not references, so one slot array serves buffer after buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHeader {
    pub(crate) kind: HeaderKind,
    pub(crate) name_start: u32,
    pub(crate) name_len: u32,
    pub(crate) value_start: u32,
    pub(crate) value_len: u32,
}

impl RawHeader {
    /// An unused slot, for initialising the caller's array.
    pub const EMPTY: RawHeader = RawHeader {
        kind: HeaderKind::Other,
        name_start: 0,
        name_len: 0,
        value_start: 0,
        value_len: 0,
    };

    /// The header's kind.
    pub fn kind(&self) -> HeaderKind {
        self.kind
    }
}

/// Trims a raw header value (the bytes from the colon to the line's LF, as a parse stores
/// it) of linear white space at both ends, folds included: the offset of the value in
/// `raw` and the value. An empty value lies at the start of `raw`, right after the colon.
///
/// Most lines are `Name: value\r\n`, which the first test of each end settles.
#[inline]
pub(crate) fn trim_value(raw: &[u8]) -> (usize, &[u8]) {
    let mut value = raw;
    if let [b' ', rest @ ..] = value {
        value = rest;
    }
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = value {
        value = rest;
    }
    let skipped = raw.len().wrapping_sub(value.len());
    if let [rest @ .., b'\r'] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = value {
        value = rest;
    }
    if value.is_empty() {
        return (0, raw.get(..0).unwrap_or(value));
    }
    (skipped, value)
}

/// One header of a parsed message: its name and its value, both borrowed from the buffer.
///
/// The value has leading and trailing white space removed; a folded value keeps its inner
/// CRLF and white space (typed views treat them as white space).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The header name (compact forms already mapped to full names).
    pub name: HeaderName<'a>,
    /// The value bytes as received.
    pub value: &'a [u8],
}

impl<'a> Header<'a> {
    /// The value as text, if it is UTF-8.
    pub fn value_str(&self) -> Option<&'a str> {
        super::chars::as_str(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_colon_is_the_name_then_colon_space() {
        for &(kind, name) in KNOWN {
            let (padded, len) = kind.canonical_colon_padded().unwrap();
            let expected = format!("{name}: ");
            assert_eq!(&padded[..len], expected.as_bytes(), "{name}");
            assert!(padded[len..].iter().all(|&b| b == 0), "{name}");
        }
        assert_eq!(HeaderKind::Other.canonical_colon_padded(), None);
    }

    /// The plain definition: compare against every known name, ignoring ASCII case.
    fn reference(name: &[u8]) -> HeaderKind {
        if let [single] = name {
            return compact_kind(single.to_ascii_lowercase());
        }
        KNOWN
            .iter()
            .find(|(_, known)| known.as_bytes().eq_ignore_ascii_case(name))
            .map_or(HeaderKind::Other, |(kind, _)| *kind)
    }

    #[test]
    fn every_known_name_in_any_case() {
        for &(kind, name) in KNOWN {
            assert_eq!(HeaderKind::lookup(name.as_bytes()), kind, "{name}");
            let upper = name.to_ascii_uppercase();
            let lower = name.to_ascii_lowercase();
            assert_eq!(HeaderKind::lookup(upper.as_bytes()), kind, "{upper}");
            assert_eq!(HeaderKind::lookup(lower.as_bytes()), kind, "{lower}");
            // With the rest of a line after it, as the parser passes it.
            let line = format!("{name}: value\r\n");
            assert_eq!(lookup_prefix(line.as_bytes(), name.len()), kind, "{line}");
            assert_eq!(kind.canonical(), Some(name));
        }
        for letter in b'a'..=b'z' {
            let kind = HeaderKind::lookup(&[letter]);
            assert_eq!(kind, HeaderKind::lookup(&[letter.to_ascii_uppercase()]));
            assert_eq!(kind.compact().is_some(), kind != HeaderKind::Other);
            if let Some(compact) = kind.compact() {
                assert_eq!(compact, letter);
            }
        }
    }

    /// `lookup_head` against the plain definition: every known name of up to 16 bytes in
    /// three cases with each of its bytes (and the byte after it) set to every value,
    /// followed by value bytes, and every name length cut from such a line.
    #[test]
    #[cfg_attr(miri, ignore = "about 250 k lookups, no unsafe")]
    fn lookup_head_follows_the_plain_definition() {
        for &(_, name) in KNOWN {
            for case in [
                name.to_string(),
                name.to_ascii_uppercase(),
                name.to_ascii_lowercase(),
            ] {
                let mut line = [b'x'; 16];
                let tail = b": <sip:a@b>;tag";
                let Some(name_and_tail) = line.get_mut(..case.len()) else {
                    continue;
                };
                name_and_tail.copy_from_slice(case.as_bytes());
                for (slot, &b) in line[case.len()..].iter_mut().zip(tail) {
                    *slot = b;
                }
                for at in 0..=case.len().min(15) {
                    for byte in 0..=u8::MAX {
                        let mut head = line;
                        head[at] = byte;
                        for len in 1..=16 {
                            let name = &head[..len];
                            assert_eq!(lookup_head(&head, len), reference(name), "{head:?} {len}");
                        }
                    }
                }
            }
        }
    }

    /// A known name followed by NULs, read as a longer name: the cut words of some of
    /// these hash to the known name's own slot (their folded NULs cancel in the hash;
    /// `CSeq` with eight, for one), so the slot's length must be compared as well.
    #[test]
    fn a_name_padded_with_nuls_is_not_the_name() {
        for &(_, name) in KNOWN {
            for len in name.len() + 1..=16 {
                let mut head = [0u8; 16];
                head[..name.len()].copy_from_slice(name.as_bytes());
                assert_eq!(
                    lookup_head(&head, len),
                    HeaderKind::Other,
                    "{name} + {} NULs",
                    len - name.len()
                );
            }
        }
    }

    /// `trim_value` against the rule written plainly, on every string of up to seven
    /// bytes over white space, CR, LF and two other bytes.
    #[test]
    #[cfg_attr(miri, ignore = "335 k strings, no unsafe")]
    fn trim_value_follows_the_plain_rule() {
        const ALPHABET: [u8; 6] = [b' ', b'\t', b'\r', b'\n', b'a', b':'];
        let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let mut raw = Vec::new();
        for len in 0..=7u32 {
            for mut index in 0..ALPHABET.len().pow(len) {
                raw.clear();
                for _ in 0..len {
                    raw.push(ALPHABET[index % ALPHABET.len()]);
                    index /= ALPHABET.len();
                }
                let expected = match raw.iter().position(|b| !is_ws(b)) {
                    Some(first) => {
                        let last = raw.iter().rposition(|b| !is_ws(b)).unwrap();
                        (first, &raw[first..=last])
                    }
                    None => (0, &raw[..0]),
                };
                let (skipped, value) = trim_value(&raw);
                assert_eq!((skipped, value), expected, "{raw:?}");
                // The value is the bytes at its offset (an empty one at the start).
                assert_eq!(value.as_ptr(), raw[skipped..].as_ptr(), "{raw:?}");
            }
        }
    }

    #[test]
    fn near_misses_are_other() {
        // Every known name with each byte replaced by bytes that fold to it under a
        // plain `| 0x20` (CR for `-`, `@` for `` ` ``...), and cut or extended by one.
        for &(_, name) in KNOWN {
            let name = name.as_bytes();
            for i in 0..name.len() {
                for replacement in [0x0d, 0x09, b'@', b'_', b'^', b'~', 0xc1, 0xe1, b'0'] {
                    let mut changed = name.to_vec();
                    changed[i] = replacement;
                    assert_eq!(HeaderKind::lookup(&changed), reference(&changed));
                    let mut line = changed.clone();
                    line.extend_from_slice(b": x\r\n");
                    assert_eq!(lookup_prefix(&line, changed.len()), reference(&changed));
                }
            }
            assert_eq!(
                HeaderKind::lookup(&name[..name.len() - 1]),
                reference(&name[..name.len() - 1])
            );
            let mut longer = name.to_vec();
            longer.push(b's');
            assert_eq!(HeaderKind::lookup(&longer), HeaderKind::Other);
        }
        for name in [
            &b""[..],
            b"X",
            b"-",
            b"Via:",
            b"ViaX",
            b"P-Charging-Function-Addresses-",
        ] {
            assert_eq!(HeaderKind::lookup(name), reference(name), "{name:?}");
        }
    }
}
