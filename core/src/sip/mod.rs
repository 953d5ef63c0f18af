//! The SIP message model: zero-copy parse, typed header views, URIs and the writer.
//!
//! ```
//! use ims_core::sip::{Limits, Parsed, RawHeader, SipMessage, typed::Via};
//!
//! let bytes = b"OPTIONS sip:bob@ims.test SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n\
//!     Content-Length: 0\r\n\r\n";
//! let mut slots = [RawHeader::EMPTY; 32];
//! let Parsed::Complete { message, .. } = SipMessage::parse(bytes, &mut slots, &Limits::DEFAULT)?
//! else { unreachable!("the bytes are a whole message") };
//! let via: Via<'_> = message.header::<Via>().unwrap()?;
//! assert_eq!(via.branch(), Some("z9hG4bK1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chars;
mod error;
mod fast;
mod find;
mod framing;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod header;
mod limits;
mod message;
mod method;
mod parse;
pub mod typed;
mod uri;
mod validate;
mod write;

pub use error::{HeaderError, HeaderErrorKind, HeaderLabel, ParseError, ParseErrorKind};
pub use framing::{Frame, frame_stream};
pub use header::{Header, HeaderKind, HeaderName, RawHeader};
pub use limits::Limits;
pub use message::{Parsed, SipMessage, StartLine, Version};
pub use method::Method;
pub use uri::{Host, Scheme, Uri, UriError, unescape};
pub use validate::{Invalid, InvalidReason};
pub use write::{MessageWriter, WriteOptions};
