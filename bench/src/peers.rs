//! The parsers `--bench` measures: ims-core and the peer crates, behind one signature.

use std::hint::black_box;

use clap::ValueEnum;
use ims_core::sip::{Limits, Parsed, RawHeader, SipMessage, typed};

/// A peer crate to measure beside ims-core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Peer {
    /// rsip 0.4: `rsip::SipMessage::try_from(&[u8])`.
    Rsip,
    /// rsipstack 0.7: `rsipstack::sip::SipMessage::try_from(&[u8])`, its own parser
    /// (`rsipstack::sip::parser::parse_message`), not rsip's.
    Rsipstack,
}

impl Peer {
    /// The crate name, as used in the report and the JSON keys.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Rsip => "rsip",
            Peer::Rsipstack => "rsipstack",
        }
    }

    /// Parses `bytes` once; the error text when the peer rejects them.
    pub fn parse(self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Peer::Rsip => rsip::SipMessage::try_from(bytes)
                .map(|message| drop(black_box(message)))
                .map_err(|error| one_line(&error.to_string())),
            Peer::Rsipstack => rsipstack::sip::SipMessage::try_from(bytes)
                .map(|message| drop(black_box(message)))
                .map_err(|error| one_line(&error.to_string())),
        }
    }
}

/// The first line of a peer's error, cut to 160 characters (rsip quotes the whole
/// message in some errors).
fn one_line(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default();
    match line.char_indices().nth(160) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None => line.to_owned(),
    }
}

/// Reusable state for parsing with ims-core: the header slots and the limits.
pub struct Ours {
    slots: [RawHeader; crate::messages::SLOTS],
    limits: Limits,
}

impl Default for Ours {
    fn default() -> Self {
        Ours::new()
    }
}

impl Ours {
    /// Fresh slots and the default limits.
    pub fn new() -> Self {
        Ours {
            slots: [RawHeader::EMPTY; crate::messages::SLOTS],
            limits: Limits::DEFAULT,
        }
    }

    /// Parses `bytes` as one stream message; returns the header count (0 on error).
    #[inline]
    pub fn parse(&mut self, bytes: &[u8]) -> usize {
        match SipMessage::parse(black_box(bytes), &mut self.slots, &self.limits) {
            Ok(Parsed::Complete { message, .. }) => message.header_count(),
            _ => 0,
        }
    }

    /// Parses `bytes`, then reads the top Via's branch and the CSeq number through the
    /// typed views, as a transaction layer would.
    #[inline]
    pub fn parse_typed(&mut self, bytes: &[u8]) -> usize {
        let Ok(Parsed::Complete { message, .. }) =
            SipMessage::parse(black_box(bytes), &mut self.slots, &self.limits)
        else {
            return 0;
        };
        let branch = match message.header::<typed::Via>() {
            Some(Ok(via)) => via.branch().map_or(0, str::len),
            _ => 0,
        };
        let seq = match message.header::<typed::CSeq>() {
            Some(Ok(cseq)) => cseq.seq as usize,
            _ => 0,
        };
        message.header_count() + branch + seq
    }
}
