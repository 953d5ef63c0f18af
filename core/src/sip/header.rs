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

        impl HeaderKind {
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
        if let [single] = name {
            return compact_kind(single.to_ascii_lowercase());
        }
        Self::lookup_full(name)
    }

    // Dispatch on length, then compare the few names of that length ignoring case.
    fn lookup_full(name: &[u8]) -> HeaderKind {
        let candidates: &[(HeaderKind, &[u8])] = match name.len() {
            2 => &[(HeaderKind::To, b"To")],
            3 => &[(HeaderKind::Via, b"Via")],
            4 => &[
                (HeaderKind::CSeq, b"CSeq"),
                (HeaderKind::Date, b"Date"),
                (HeaderKind::From, b"From"),
                (HeaderKind::Path, b"Path"),
                (HeaderKind::RAck, b"RAck"),
                (HeaderKind::RSeq, b"RSeq"),
            ],
            5 => &[
                (HeaderKind::Allow, b"Allow"),
                (HeaderKind::Event, b"Event"),
                (HeaderKind::Route, b"Route"),
            ],
            6 => &[
                (HeaderKind::Accept, b"Accept"),
                (HeaderKind::MinSe, b"Min-SE"),
                (HeaderKind::Reason, b"Reason"),
                (HeaderKind::Server, b"Server"),
            ],
            7 => &[
                (HeaderKind::CallId, b"Call-ID"),
                (HeaderKind::Contact, b"Contact"),
                (HeaderKind::Expires, b"Expires"),
                (HeaderKind::PrivacyHeader, b"Privacy"),
                (HeaderKind::Require, b"Require"),
                (HeaderKind::Subject, b"Subject"),
                (HeaderKind::Warning, b"Warning"),
                (HeaderKind::XGroup, b"X-Group"),
            ],
            8 => &[
                (HeaderKind::Identity, b"Identity"),
                (HeaderKind::Priority, b"Priority"),
                (HeaderKind::ReferTo, b"Refer-To"),
                (HeaderKind::Replaces, b"Replaces"),
                (HeaderKind::ReplyTo, b"Reply-To"),
                (HeaderKind::SipETag, b"SIP-ETag"),
            ],
            9 => &[
                (HeaderKind::CallInfo, b"Call-Info"),
                (HeaderKind::Supported, b"Supported"),
                (HeaderKind::Timestamp, b"Timestamp"),
            ],
            10 => &[
                (HeaderKind::AlertInfo, b"Alert-Info"),
                (HeaderKind::ErrorInfo, b"Error-Info"),
                (HeaderKind::UserAgent, b"User-Agent"),
            ],
            11 => &[
                (HeaderKind::InReplyTo, b"In-Reply-To"),
                (HeaderKind::MinExpires, b"Min-Expires"),
                (HeaderKind::ReferredBy, b"Referred-By"),
                (HeaderKind::RetryAfter, b"Retry-After"),
                (HeaderKind::Unsupported, b"Unsupported"),
            ],
            12 => &[
                (HeaderKind::AllowEvents, b"Allow-Events"),
                (HeaderKind::ContentType, b"Content-Type"),
                (HeaderKind::MaxForwards, b"Max-Forwards"),
                (HeaderKind::MimeVersion, b"MIME-Version"),
                (HeaderKind::Organization, b"Organization"),
                (HeaderKind::RecordRoute, b"Record-Route"),
                (HeaderKind::SipIfMatch, b"SIP-If-Match"),
            ],
            13 => &[
                (HeaderKind::Authorization, b"Authorization"),
                (HeaderKind::ProxyRequire, b"Proxy-Require"),
                (HeaderKind::ServiceRoute, b"Service-Route"),
            ],
            14 => &[
                (HeaderKind::AcceptContact, b"Accept-Contact"),
                (HeaderKind::ContentLength, b"Content-Length"),
                (HeaderKind::RejectContact, b"Reject-Contact"),
            ],
            15 => &[
                (HeaderKind::AcceptEncoding, b"Accept-Encoding"),
                (HeaderKind::AcceptLanguage, b"Accept-Language"),
                (HeaderKind::SecurityClient, b"Security-Client"),
                (HeaderKind::SecurityServer, b"Security-Server"),
                (HeaderKind::SecurityVerify, b"Security-Verify"),
                (HeaderKind::SessionExpires, b"Session-Expires"),
            ],
            16 => &[
                (HeaderKind::ContentEncoding, b"Content-Encoding"),
                (HeaderKind::ContentLanguage, b"Content-Language"),
                (HeaderKind::PAssociatedUri, b"P-Associated-URI"),
                (HeaderKind::WwwAuthenticate, b"WWW-Authenticate"),
            ],
            17 => &[
                (HeaderKind::PCalledPartyId, b"P-Called-Party-ID"),
                (HeaderKind::PChargingVector, b"P-Charging-Vector"),
            ],
            18 => &[
                (HeaderKind::ProxyAuthenticate, b"Proxy-Authenticate"),
                (HeaderKind::SubscriptionState, b"Subscription-State"),
            ],
            19 => &[
                (HeaderKind::AuthenticationInfo, b"Authentication-Info"),
                (HeaderKind::ContentDisposition, b"Content-Disposition"),
                (HeaderKind::PAssertedIdentity, b"P-Asserted-Identity"),
                (HeaderKind::ProxyAuthorization, b"Proxy-Authorization"),
                (HeaderKind::RequestDisposition, b"Request-Disposition"),
            ],
            20 => &[(HeaderKind::PPreferredIdentity, b"P-Preferred-Identity")],
            21 => &[(HeaderKind::PAccessNetworkInfo, b"P-Access-Network-Info")],
            29 => &[(
                HeaderKind::PChargingFunctionAddresses,
                b"P-Charging-Function-Addresses",
            )],
            _ => &[],
        };
        for (kind, known) in candidates {
            if known.eq_ignore_ascii_case(name) {
                return *kind;
            }
        }
        HeaderKind::Other
    }
}

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
        std::str::from_utf8(self.value).ok()
    }
}
