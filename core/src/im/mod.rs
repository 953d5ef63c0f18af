//! Message bodies of pager-mode IM and group chat: CPIM (RFC 3862) and delivery
//! notifications (RFC 5438).
//!
//! Pure functions: no I/O and no clock (times come in as arguments). Every parser caps
//! what it accepts and answers bad input with an error, never a panic.

pub mod cpim;
pub mod datetime;
pub mod imdn;
mod xml;
