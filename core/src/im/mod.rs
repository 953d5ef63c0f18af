//! Message bodies of pager-mode IM and group chat: CPIM (RFC 3862), delivery notifications
//! (RFC 5438), resource lists (RFC 4826 with the RFC 5365 copy control), multipart/mixed
//! (RFC 2046 §5.1) and this project's `X-Group` header.
//!
//! Pure functions: no I/O and no clock (times come in as arguments). Every parser caps
//! what it accepts and answers bad input with an error, never a panic.

pub mod cpim;
pub mod datetime;
pub mod group;
pub mod imdn;
pub mod multipart;
pub mod resource_lists;
mod xml;
