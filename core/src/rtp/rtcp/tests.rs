// Tests may index and do plain arithmetic; the parser lints guard the parser itself.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::*;
use crate::rtp::sequence::NtpTimestamp;
use proptest::prelude::*;

fn block(ssrc: u32, cumulative_lost: i32) -> ReportBlock {
    ReportBlock {
        ssrc,
        fraction_lost: 25,
        cumulative_lost,
        extended_highest_sequence: 0x0001_0005,
        jitter: 77,
        last_sender_report: 0x1234_5678,
        delay_since_last_sender_report: 65_536,
    }
}

fn compound() -> Vec<u8> {
    let mut out = Vec::new();
    let info = SenderInfo {
        ntp_timestamp: NtpTimestamp(0x8000_0000_4000_0000),
        rtp_timestamp: 160_000,
        packet_count: 1000,
        octet_count: 160_000,
    };
    write_sender_report(
        0xAAAA,
        &info,
        &[block(0xBBBB, 12), block(0xCCCC, -3)],
        &mut out,
    )
    .unwrap();
    let items = [
        SdesItem {
            item_type: SdesItemType::Cname,
            text: b"alice@ims.test",
        },
        SdesItem {
            item_type: SdesItemType::Tool,
            text: b"ims-rs",
        },
    ];
    let other = [SdesItem {
        item_type: SdesItemType::Name,
        text: b"B",
    }];
    write_source_description(&[(0xAAAA, &items), (0xDDDD, &other)], &mut out).unwrap();
    write_bye(&[0xAAAA, 0xDDDD], Some(b"call ended"), &mut out).unwrap();
    out
}

#[test]
fn compound_sr_sdes_bye_round_trips() {
    let bytes = compound();
    assert_eq!(bytes.len() % 4, 0);
    assert_eq!(RtcpCompound::validate(&bytes), Ok(3));
    let packets: Vec<_> = RtcpCompound::new(&bytes).map(Result::unwrap).collect();
    let RtcpPacket::SenderReport(report) = packets[0] else {
        panic!("expected SR, got {:?}", packets[0]);
    };
    assert_eq!(report.ssrc, 0xAAAA);
    assert_eq!(report.info.ntp_timestamp.middle_32(), 0x0000_4000);
    assert_eq!(report.info.packet_count, 1000);
    let blocks: Vec<_> = report.report_blocks().collect();
    assert_eq!(blocks, vec![block(0xBBBB, 12), block(0xCCCC, -3)]);
    assert!(report.extension().is_empty());

    let RtcpPacket::SourceDescription(description) = packets[1] else {
        panic!("expected SDES");
    };
    assert_eq!(description.chunk_count(), 2);
    let chunks: Vec<_> = description.chunks().collect();
    assert_eq!(chunks[0].ssrc, 0xAAAA);
    assert_eq!(chunks[0].cname(), Some(&b"alice@ims.test"[..]));
    let items: Vec<_> = chunks[0].items().collect();
    assert_eq!(items[1].item_type, SdesItemType::Tool);
    assert_eq!(items[1].text, b"ims-rs");
    assert_eq!(chunks[1].ssrc, 0xDDDD);
    assert_eq!(chunks[1].cname(), None);

    let RtcpPacket::Bye(bye) = packets[2] else {
        panic!("expected BYE");
    };
    assert_eq!(bye.sources().collect::<Vec<_>>(), vec![0xAAAA, 0xDDDD]);
    assert_eq!(bye.reason(), Some(&b"call ended"[..]));
}

#[test]
fn receiver_report_round_trips_and_empty_rr_is_eight_bytes() {
    let mut out = Vec::new();
    write_receiver_report(0x1111, &[], &mut out).unwrap();
    assert_eq!(out, [0x80, 201, 0, 1, 0, 0, 0x11, 0x11]);
    out.clear();
    write_receiver_report(0x1111, &[block(5, -0x80_0000)], &mut out).unwrap();
    let Some(Ok(RtcpPacket::ReceiverReport(report))) = RtcpCompound::new(&out).next() else {
        panic!("expected RR");
    };
    assert_eq!(report.ssrc, 0x1111);
    assert_eq!(report.report_blocks().next(), Some(block(5, -0x80_0000)));
}

#[test]
fn cumulative_loss_is_clamped_to_24_bits() {
    let mut out = Vec::new();
    write_receiver_report(1, &[block(5, 10_000_000)], &mut out).unwrap();
    let Some(Ok(RtcpPacket::ReceiverReport(report))) = RtcpCompound::new(&out).next() else {
        panic!("expected RR");
    };
    assert_eq!(
        report.report_blocks().next().unwrap().cumulative_lost,
        0x7F_FFFF
    );
}

#[test]
fn unknown_packet_types_pass_through() {
    let bytes = [0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
    let packet = RtcpCompound::new(&bytes).next().unwrap().unwrap();
    assert_eq!(
        packet,
        RtcpPacket::Other {
            packet_type: 205,
            count: 1,
            body: &[0, 0, 0, 1, 0, 0, 0, 2]
        }
    );
}

#[test]
fn validate_requires_a_report_first() {
    let mut out = Vec::new();
    write_bye(&[1], None, &mut out).unwrap();
    assert!(RtcpCompound::validate(&out).is_err());
}

#[test]
fn padding_is_removed_from_the_last_packet() {
    let mut out = Vec::new();
    write_bye(&[7], None, &mut out).unwrap();
    out[0] |= 0x20;
    out.extend_from_slice(&[0, 0, 0, 4]);
    out[3] = 2;
    let Some(Ok(RtcpPacket::Bye(bye))) = RtcpCompound::new(&out).next() else {
        panic!("expected BYE");
    };
    assert_eq!(bye.sources().collect::<Vec<_>>(), vec![7]);
    assert_eq!(bye.reason(), None);
}

#[test]
fn count_mismatches_and_overruns_are_errors() {
    // RR claiming two blocks with room for none.
    let bytes = [0x82, 201, 0, 1, 0, 0, 0, 1];
    assert!(matches!(
        RtcpCompound::new(&bytes).next(),
        Some(Err(RtcpError::CountMismatch { count: 2, .. }))
    ));
    // SDES item whose length runs past the packet.
    let bytes = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 200, b'a', 0];
    assert!(matches!(
        RtcpCompound::new(&bytes).next(),
        Some(Err(RtcpError::ItemOverrun { .. }))
    ));
    // BYE reason longer than the packet.
    let bytes = [0x81, 203, 0, 2, 0, 0, 0, 1, 9, b'x', 0, 0];
    assert!(matches!(
        RtcpCompound::new(&bytes).next(),
        Some(Err(RtcpError::ItemOverrun { .. }))
    ));
}

#[test]
fn writers_reject_oversized_input() {
    let mut out = Vec::new();
    let blocks = [ReportBlock::default(); 32];
    assert_eq!(
        write_receiver_report(1, &blocks, &mut out),
        Err(RtcpError::TooManyEntries { count: 32 })
    );
    let reason = [b'x'; 256];
    assert_eq!(
        write_bye(&[1], Some(&reason), &mut out),
        Err(RtcpError::TextTooLong { length: 256 })
    );
    let items = [SdesItem {
        item_type: SdesItemType::Note,
        text: &reason,
    }];
    assert_eq!(
        write_source_description(&[(1, &items)], &mut out),
        Err(RtcpError::TextTooLong { length: 256 })
    );
    assert!(out.is_empty());
}

#[test]
fn every_truncation_fails_cleanly() {
    let bytes = compound();
    for length in 0..bytes.len() {
        let results: Vec<_> = RtcpCompound::new(&bytes[..length]).collect();
        // Each prefix parses as whole packets followed by at most one error.
        let errors = results.iter().filter(|result| result.is_err()).count();
        assert!(errors <= 1);
        if errors == 1 {
            assert!(results.last().unwrap().is_err());
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        for packet in RtcpCompound::new(&bytes).flatten() {
            match packet {
                RtcpPacket::SenderReport(report) => { let _ = report.report_blocks().count(); }
                RtcpPacket::ReceiverReport(report) => { let _ = report.report_blocks().count(); }
                RtcpPacket::SourceDescription(description) => {
                    for chunk in description.chunks() { let _ = chunk.items().count(); }
                }
                RtcpPacket::Bye(bye) => { let _ = bye.sources().count(); }
                _ => {}
            }
        }
    }

    #[test]
    fn bytes_with_valid_headers_never_panic(
        count in 0u8..32,
        packet_type in 200u8..205,
        body in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let words = body.len().div_ceil(4);
        let mut bytes = vec![0x80 | count, packet_type, 0, words as u8];
        bytes.extend_from_slice(&body);
        bytes.resize(4 + words * 4, 0);
        let _ = RtcpCompound::new(&bytes).count();
        let _ = RtcpCompound::validate(&bytes);
    }
}
