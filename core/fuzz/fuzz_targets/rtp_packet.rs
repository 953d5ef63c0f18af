//! The RTP reader on arbitrary datagrams: no panic, every accessor stays inside the
//! datagram, and what it read writes back to the same bytes (padding of zeros aside).
#![no_main]

use ims_core::rtp::{RtpHeader, RtpPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = RtpPacket::parse(data) else {
        return;
    };
    assert_eq!(packet.as_bytes(), data);
    let csrcs: Vec<u32> = packet.csrcs().collect();
    assert_eq!(csrcs.len(), packet.csrc_count());
    let extension = packet.extension();
    let header = packet.header();
    let extension_length = extension.map_or(0, |extension| extension.data.len() + 4);
    assert_eq!(header.length(), 12 + 4 * csrcs.len() + extension_length);
    let padding = packet.padding_length();
    assert_eq!(
        header.length() + packet.payload().len() + usize::from(padding),
        data.len()
    );
    // Write it again: the same header, payload and padding length give the same bytes,
    // except the padding's content (we write zeros), the version bits (always 2) and
    // the padding bit when the padding length is 0.
    let mut out = Vec::new();
    if header.write(packet.payload(), padding, &mut out).is_ok() {
        assert_eq!(out.len(), data.len());
        let body = data.len() - usize::from(padding);
        assert_eq!(out[1..body], data[1..body]);
        let reread = RtpPacket::parse(&out).expect("our own packet parses");
        assert_eq!(reread.header(), header);
        assert_eq!(reread.payload(), packet.payload());
        assert_eq!(reread.padding_length(), padding);
    }
    // A slice write into a buffer of every length up to the packet's never panics.
    let mut slice = [0u8; 64];
    let _ = RtpHeader::write_to_slice(&header, packet.payload(), padding, &mut slice);
});
