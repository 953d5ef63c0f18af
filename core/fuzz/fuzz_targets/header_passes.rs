//! The parser's two header passes (AVX2 where the CPU has it, and portable) on arbitrary
//! bytes and limits: they must give the same message, `Incomplete` or error.
#![no_main]

use ims_core::sip::Limits;
use ims_core::sip::fuzzing::assert_header_passes_agree;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert_header_passes_agree(data, &Limits::DEFAULT);
    // The first two bytes, when there are more, pick tighter limits for the rest.
    if let [headers, line, rest @ ..] = data {
        let limits = Limits {
            max_headers: usize::from(*headers % 40) + 1,
            max_header_line: usize::from(*line) * 4 + 8,
            ..Limits::DEFAULT
        };
        assert_header_passes_agree(rest, &limits);
    }
});
