//! Datagram and stream parse of arbitrary bytes, then validation and a writer round trip:
//! a message that parsed must parse again, with the same headers, after being written.
#![no_main]

use ims_core::sip::{Limits, MessageWriter, Parsed, RawHeader, SipMessage, WriteOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::DEFAULT;
    let mut slots = [RawHeader::EMPTY; 64];
    if let Ok(message) = SipMessage::parse_datagram(data, &mut slots, &limits) {
        let _ = message.validate();
        let mut written = Vec::new();
        MessageWriter::copy(&mut written, &message, WriteOptions::default());
        // The copy may add a Content-Length header the original lacked: one slot more.
        let mut again_slots = [RawHeader::EMPTY; 65];
        let again = SipMessage::parse_datagram(&written, &mut again_slots, &limits)
            .expect("a written message parses");
        assert_eq!(message.body(), again.body());
        assert_eq!(message.start_line(), again.start_line());
    }
    if let Ok(Parsed::Complete { length, .. }) = SipMessage::parse(data, &mut slots, &limits) {
        assert!(length <= data.len());
    }
});
