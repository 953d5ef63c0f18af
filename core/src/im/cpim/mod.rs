//! `message/cpim` (RFC 3862): the envelope of an instant message, with the IMDN headers
//! of RFC 5438 §6.
//!
//! A CPIM body is three blocks: message headers (`From`, `To`, `DateTime`, `NS`,
//! namespaced extensions), a blank line, the MIME headers of the content
//! (`Content-Type`, ...), a blank line, and the content. Message header names are case
//! sensitive (RFC 3862 §3.1); a prefix (`imdn.Message-ID`) means what its `NS` header
//! binds it to, whatever the prefix is spelled. MIME header names ignore case.
//!
//! [`write`] and [`write_head`] build a body; [`parse`] reads one into a [`CpimMessage`]
//! that borrows it.

mod message;
mod parse;
mod write;

pub use message::{
    Address, CONTENT_TYPE, CpimError, CpimHeader, CpimMessage, DEFAULT_NAMESPACE, Disposition,
    IMDN_NAMESPACE, MAX_HEADERS, MAX_MESSAGE_ID, MAX_SIZE,
};
pub use parse::parse;
pub use write::{CpimHead, write, write_head};
