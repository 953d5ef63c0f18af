//! The RTCP compound reader on arbitrary datagrams: no panic, every view's accessors
//! stay inside the datagram, and the iterator ends.
#![no_main]

use ims_core::rtp::{RtcpCompound, RtcpPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let validated = RtcpCompound::validate(data);
    let mut packets = 0usize;
    let mut failed = false;
    for item in RtcpCompound::new(data) {
        assert!(!failed, "the iterator goes on after an error");
        assert!(packets <= data.len() / 4, "more packets than 32-bit words");
        let packet = match item {
            Ok(packet) => packet,
            Err(_) => {
                failed = true;
                continue;
            }
        };
        packets += 1;
        match packet {
            RtcpPacket::SenderReport(report) => {
                let _ = (report.ssrc, report.info, report.extension().len());
                for block in report.report_blocks() {
                    let _ = block;
                }
            }
            RtcpPacket::ReceiverReport(report) => {
                let _ = (report.ssrc, report.extension().len());
                assert!(report.report_blocks().len() <= 31);
                for block in report.report_blocks() {
                    let _ = block;
                }
            }
            RtcpPacket::SourceDescription(description) => {
                let mut chunks = 0;
                for chunk in description.chunks() {
                    chunks += 1;
                    let _ = chunk.cname();
                    for item in chunk.items() {
                        assert!(item.text.len() <= 255);
                    }
                }
                assert_eq!(chunks, description.chunk_count());
            }
            RtcpPacket::Bye(bye) => {
                let _ = (bye.sources().count(), bye.reason());
            }
            RtcpPacket::Other { body, .. } => assert!(body.len() <= data.len()),
            _ => {}
        }
    }
    if let Ok(count) = validated {
        assert!(!failed);
        assert_eq!(count, packets);
    }
});
