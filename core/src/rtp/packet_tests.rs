// Tests may index and do plain arithmetic; the parser lints guard the parser itself.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::*;
use proptest::prelude::*;

/// A G.711 packet from RFC 3550 §5.1's layout: V=2, M=1, PT=0, seq 0x1234, ts, ssrc.
const SIMPLE: [u8; 16] = [
    0x80, 0x80, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xFF, 0xFE, 0xFD, 0xFC,
];

#[test]
fn parses_fixed_header_fields() {
    let packet = RtpPacket::parse(&SIMPLE).unwrap();
    assert!(packet.marker());
    assert_eq!(packet.payload_type(), 0);
    assert_eq!(packet.sequence(), 0x1234);
    assert_eq!(packet.timestamp(), 0xDEAD_BEEF);
    assert_eq!(packet.ssrc(), 0x0102_0304);
    assert_eq!(packet.csrc_count(), 0);
    assert_eq!(packet.extension(), None);
    assert!(!packet.has_padding());
    assert_eq!(packet.payload(), &[0xFF, 0xFE, 0xFD, 0xFC]);
}

#[test]
fn parses_csrc_extension_and_padding() {
    let csrc = [0, 0, 0, 7, 0, 0, 0, 9];
    let header = RtpHeader {
        marker: false,
        payload_type: 8,
        sequence: 65_535,
        timestamp: 160,
        ssrc: 42,
        csrc: &csrc,
        extension: Some(RtpExtension {
            profile: 0xBEDE,
            data: &[1, 2, 3, 4, 5, 6, 7, 8],
        }),
    };
    let mut out = Vec::new();
    header.write(b"hello", 3, &mut out).unwrap();
    assert_eq!(out.len(), 12 + 8 + 4 + 8 + 5 + 3);
    let packet = RtpPacket::parse(&out).unwrap();
    assert_eq!(packet.payload_type(), 8);
    assert_eq!(packet.sequence(), 65_535);
    assert_eq!(packet.csrcs().collect::<Vec<_>>(), vec![7, 9]);
    let extension = packet.extension().unwrap();
    assert_eq!(extension.profile, 0xBEDE);
    assert_eq!(extension.data, &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(packet.padding_length(), 3);
    assert_eq!(packet.payload(), b"hello");
    assert_eq!(packet.header(), header);
}

#[test]
fn write_to_slice_allocates_nothing_and_checks_room() {
    let header = RtpHeader {
        payload_type: 0,
        sequence: 1,
        ..RtpHeader::default()
    };
    let mut buffer = [0u8; 20];
    assert_eq!(header.write_to_slice(&[9; 8], 0, &mut buffer), Ok(20));
    assert_eq!(
        header.write_to_slice(&[9; 9], 0, &mut buffer),
        Err(RtpError::BufferTooSmall {
            needed: 21,
            available: 20
        })
    );
}

#[test]
fn writer_rejects_bad_fields() {
    let mut out = Vec::new();
    let bad_type = RtpHeader {
        payload_type: 128,
        ..RtpHeader::default()
    };
    assert_eq!(
        bad_type.write(&[], 0, &mut out),
        Err(RtpError::InvalidPayloadType { payload_type: 128 })
    );
    let csrc = [0u8; 64];
    let too_many = RtpHeader {
        csrc: &csrc,
        ..RtpHeader::default()
    };
    assert_eq!(
        too_many.write(&[], 0, &mut out),
        Err(RtpError::TooManyCsrcs { count: 16 })
    );
    let odd_extension = RtpHeader {
        extension: Some(RtpExtension {
            profile: 1,
            data: &[1, 2, 3],
        }),
        ..RtpHeader::default()
    };
    assert_eq!(
        odd_extension.write(&[], 0, &mut out),
        Err(RtpError::InvalidExtensionLength { length: 3 })
    );
    assert!(out.is_empty());
}

#[test]
fn rejects_wrong_version() {
    let mut bytes = SIMPLE;
    bytes[0] = 0x40;
    assert_eq!(
        RtpPacket::parse(&bytes),
        Err(RtpError::UnsupportedVersion { version: 1 })
    );
}

#[test]
fn rejects_bad_padding() {
    let mut zero = SIMPLE;
    zero[0] |= 0x20;
    zero[15] = 0;
    assert_eq!(
        RtpPacket::parse(&zero),
        Err(RtpError::InvalidPadding {
            padding: 0,
            available: 4
        })
    );
    let mut long = SIMPLE;
    long[0] |= 0x20;
    long[15] = 5;
    assert_eq!(
        RtpPacket::parse(&long),
        Err(RtpError::InvalidPadding {
            padding: 5,
            available: 4
        })
    );
    long[15] = 4;
    assert_eq!(RtpPacket::parse(&long).unwrap().payload(), &[] as &[u8]);
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let mut out = Vec::new();
    RtpHeader {
        csrc: &[0, 0, 0, 1],
        extension: Some(RtpExtension {
            profile: 7,
            data: &[0; 8],
        }),
        ..RtpHeader::default()
    }
    .write(&[], 0, &mut out)
    .unwrap();
    for length in 0..out.len() {
        assert!(
            matches!(
                RtpPacket::parse(&out[..length]),
                Err(RtpError::Truncated { .. })
            ),
            "length {length}"
        );
    }
    assert!(RtpPacket::parse(&out).is_ok());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(packet) = RtpPacket::parse(&bytes) {
            let used = packet.payload().len() + usize::from(packet.padding_length());
            prop_assert!(used <= bytes.len());
            let _ = packet.csrcs().count();
        }
    }

    #[test]
    fn write_then_parse_round_trips(
        marker in any::<bool>(),
        payload_type in 0u8..128,
        sequence in any::<u16>(),
        timestamp in any::<u32>(),
        ssrc in any::<u32>(),
        csrc_count in 0usize..16,
        extension_words in proptest::option::of(0usize..4),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        padding in 0u8..8,
    ) {
        let csrc: Vec<u8> = (0..csrc_count * 4).map(|index| index as u8).collect();
        let extension_data = vec![0xAB; extension_words.unwrap_or(0) * 4];
        let header = RtpHeader {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrc: &csrc,
            extension: extension_words.map(|_| RtpExtension { profile: 0x1000, data: &extension_data }),
        };
        let mut out = Vec::new();
        header.write(&payload, padding, &mut out).unwrap();
        let packet = RtpPacket::parse(&out).unwrap();
        prop_assert_eq!(packet.header(), header);
        prop_assert_eq!(packet.payload(), &payload[..]);
        prop_assert_eq!(packet.padding_length(), padding);
    }
}
