//! Hooks for the fuzz targets in `core/fuzz` (feature `fuzzing`; not part of the API),
//! also used by the parser's own tests.

use super::header::RawHeader;
use super::limits::Limits;
use super::parse::{Mode, Pass, parse_with};

/// Parses `bytes` in stream and datagram mode with each header pass (the AVX2 one where
/// the CPU has it, and the portable one) and panics when the two give different
/// results: the message, `Incomplete`, or the error with its offset.
pub fn assert_header_passes_agree(bytes: &[u8], limits: &Limits) {
    for mode in [Mode::Stream, Mode::Datagram] {
        let mut fast_slots = [RawHeader::EMPTY; 64];
        let mut portable_slots = [RawHeader::EMPTY; 64];
        let fast = parse_with(bytes, &mut fast_slots, limits, mode, Pass::Fast);
        let portable = parse_with(bytes, &mut portable_slots, limits, mode, Pass::Portable);
        // `Debug` shows the start line, every slot, the body and the length.
        assert_eq!(
            format!("{fast:?}"),
            format!("{portable:?}"),
            "{mode:?} {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}
