//! Stream framing of arbitrary bytes: a framed message always parses to the same length.
#![no_main]

use ims_core::sip::{Frame, Limits, Parsed, RawHeader, SipMessage, frame_stream};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::DEFAULT;
    if let Ok(Frame::Message { length }) = frame_stream(data, &limits) {
        assert!(length <= data.len());
        let mut slots = [RawHeader::EMPTY; 256];
        if let Ok(Parsed::Complete { length: parsed, .. }) =
            SipMessage::parse(&data[..length], &mut slots, &limits)
        {
            assert_eq!(parsed, length);
        }
    }
});
