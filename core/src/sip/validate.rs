//! The checks that decide whether a parsed message may be acted on (RFC 3261 §8.2, §16.3),
//! and the status a request that fails them deserves.

use super::error::HeaderError;
use super::header::HeaderKind;
use super::message::{SipMessage, Version};
use super::typed::{
    CSeq, CallId, Contact, ContentType, From, MaxForwards, RecordRoute, Route, To, TypedHeader, Via,
};
use super::uri::Uri;

/// Why a message must not be acted on as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// The SIP version is not 2.0 (answer 505).
    #[error("SIP version {major}.{minor} is not supported")]
    UnsupportedVersion {
        /// Major number received.
        major: u32,
        /// Minor number received.
        minor: u32,
    },
    /// A mandatory header is missing.
    #[error("missing {header} header")]
    MissingHeader {
        /// Its name.
        header: &'static str,
    },
    /// A header that must appear once appears more often.
    #[error("more than one {header} header")]
    DuplicateHeader {
        /// Its name.
        header: &'static str,
    },
    /// A header does not fit its grammar.
    #[error(transparent)]
    MalformedHeader(#[from] HeaderError),
    /// The Request-URI is not a valid URI.
    #[error("malformed Request-URI")]
    MalformedRequestUri,
    /// The Request-URI carries `?headers`, which a Request-URI must not (RFC 3261 §19.1.5).
    #[error("Request-URI carries headers")]
    RequestUriHeaders,
    /// The CSeq method differs from the request method.
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch,
}

/// A message that failed validation: the reason and, for requests, the status to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Invalid {
    /// What is wrong.
    pub reason: InvalidReason,
    /// The response a UAS owes a request with this fault (400 or 505).
    pub status: u16,
}

fn invalid(reason: InvalidReason) -> Invalid {
    let status = match reason {
        InvalidReason::UnsupportedVersion { .. } => 505,
        _ => 400,
    };
    Invalid { reason, status }
}

impl<'a> SipMessage<'a> {
    /// Checks what a UA must check before acting on a message: version 2.0; exactly one
    /// From, To, Call-ID and CSeq; at least one Via; at most one Max-Forwards; those and
    /// Contact, Route, Record-Route and Content-Type well-formed; for requests a valid
    /// Request-URI without headers and a CSeq method equal to the request method.
    pub fn validate(&self) -> Result<(), Invalid> {
        let version = self.version();
        if version != Version::SIP_2_0 {
            return Err(invalid(InvalidReason::UnsupportedVersion {
                major: version.major,
                minor: version.minor,
            }));
        }
        for kind in [
            HeaderKind::From,
            HeaderKind::To,
            HeaderKind::CallId,
            HeaderKind::CSeq,
        ] {
            self.exactly_one(kind)?;
        }
        if self.raw_all(HeaderKind::MaxForwards).nth(1).is_some() {
            return Err(invalid(InvalidReason::DuplicateHeader {
                header: "Max-Forwards",
            }));
        }
        if self.raw(HeaderKind::Via).is_none() {
            return Err(invalid(InvalidReason::MissingHeader { header: "Via" }));
        }
        self.all_valid::<Via>()?;
        self.all_valid::<From>()?;
        self.all_valid::<To>()?;
        self.all_valid::<CallId>()?;
        self.all_valid::<MaxForwards>()?;
        self.all_valid::<Contact>()?;
        self.all_valid::<Route>()?;
        self.all_valid::<RecordRoute>()?;
        self.all_valid::<ContentType>()?;
        let cseq = match self.header::<CSeq>() {
            Some(Ok(cseq)) => cseq,
            Some(Err(error)) => return Err(invalid(error.into())),
            None => return Err(invalid(InvalidReason::MissingHeader { header: "CSeq" })),
        };
        if let (Some(method), Some(uri)) = (self.method(), self.request_uri()) {
            let uri = Uri::parse(uri).map_err(|_| invalid(InvalidReason::MalformedRequestUri))?;
            if uri.headers_str().is_some() {
                return Err(invalid(InvalidReason::RequestUriHeaders));
            }
            if cseq.method != method {
                return Err(invalid(InvalidReason::CSeqMethodMismatch));
            }
        }
        Ok(())
    }

    fn exactly_one(&self, kind: HeaderKind) -> Result<(), Invalid> {
        let header = kind.canonical().unwrap_or("header");
        let mut values = self.raw_all(kind);
        if values.next().is_none() {
            return Err(invalid(InvalidReason::MissingHeader { header }));
        }
        if values.next().is_some() {
            return Err(invalid(InvalidReason::DuplicateHeader { header }));
        }
        Ok(())
    }

    fn all_valid<T: TypedHeader<'a> + 'a>(&self) -> Result<(), Invalid> {
        for value in self.header_values::<T>() {
            value.map_err(|error| invalid(error.into()))?;
        }
        Ok(())
    }
}
