//! The base protocol (CER/CEA, DWR/DWA, DPR/DPA) and answers to bad input, against bytes
//! written by hand from RFC 6733 §3, §4.1, §5 and §7.

mod support;

use ims_hss::Outcome;
use ims_hss::message::{FrameError, frame};
use support::*;

/// Origin-Host "hss" and Origin-Realm "ims.test".
#[rustfmt::skip]
const ORIGIN: [u8; 28] = [
    0, 0, 1, 8, 0x40, 0, 0, 11, b'h', b's', b's', 0,
    0, 0, 1, 0x28, 0x40, 0, 0, 16, b'i', b'm', b's', b'.', b't', b'e', b's', b't',
];
#[rustfmt::skip]
const APPLICATION: [u8; 32] = [
    0, 0, 1, 4, 0x40, 0, 0, 32,
    0, 0, 1, 10, 0x40, 0, 0, 12, 0, 0, 0x28, 0xaf,
    0, 0, 1, 2, 0x40, 0, 0, 12, 1, 0, 0, 0,
];
const SESSION: [u8; 12] = [0, 0, 1, 7, 0x40, 0, 0, 11, b's', b';', b'1', 0];
const SESSION_STATE: [u8; 12] = [0, 0, 1, 0x15, 0x40, 0, 0, 12, 0, 0, 0, 1];

fn result_code(code: u16) -> [u8; 12] {
    let [hi, lo] = code.to_be_bytes();
    [0, 0, 1, 12, 0x40, 0, 0, 12, 0, 0, hi, lo]
}

#[rustfmt::skip]
fn header(length: u8, flags: u8, command: [u8; 3], application: [u8; 4]) -> Vec<u8> {
    let mut out = vec![1, 0, 0, length, flags];
    out.extend_from_slice(&command);
    out.extend_from_slice(&application);
    out.extend_from_slice(&[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    out
}

fn cer(with_cx: bool) -> Vec<u8> {
    let mut avps = vec![
        base(264, b"icscf"),
        base(296, b"ims.test"),
        base(257, &[0, 1, 127, 0, 0, 1]),
        base(266, &0u32.to_be_bytes()),
        avp(269, 0, None, b"cdp"),
    ];
    if with_cx {
        avps.push(base(
            260,
            &[
                base(266, &10415u32.to_be_bytes()),
                base(258, &16_777_216u32.to_be_bytes()),
            ]
            .concat(),
        ));
    }
    message(0x80, 257, 0, &avps)
}

#[test]
fn cea_advertises_cx() {
    let mut hss = hss();
    #[rustfmt::skip]
    let tail: [u8; 80] = [
        // Host-IP-Address 127.0.0.1 (family 1), 14 octets + 2 of padding
        0, 0, 1, 1, 0x40, 0, 0, 14, 0, 1, 127, 0, 0, 1, 0, 0,
        // Vendor-Id 0
        0, 0, 1, 10, 0x40, 0, 0, 12, 0, 0, 0, 0,
        // Product-Name "imshss", no M bit
        0, 0, 1, 0x0d, 0, 0, 0, 14, b'i', b'm', b's', b'h', b's', b's', 0, 0,
        // Origin-State-Id 7
        0, 0, 1, 0x16, 0x40, 0, 0, 12, 0, 0, 0, 7,
        // Supported-Vendor-Id 10415
        0, 0, 1, 9, 0x40, 0, 0, 12, 0, 0, 0x28, 0xaf,
        // Auth-Application-Id 16777216
        0, 0, 1, 2, 0x40, 0, 0, 12, 1, 0, 0, 0,
    ];
    let expected = [
        &header(172, 0, [0, 1, 1], [0; 4])[..],
        &result_code(2001),
        &ORIGIN,
        &tail,
        &APPLICATION,
    ]
    .concat();
    assert_eq!(expected.len(), 172);
    assert_eq!(reply(&mut hss, &cer(true)), expected);
}

#[test]
fn cer_without_cx_gets_no_common_application_and_close() {
    let mut hss = hss();
    match hss.handle(&cer(false)) {
        Outcome::ReplyAndClose(bytes) => {
            assert_eq!(Answer::new(bytes).result_code(), Some(5010));
        }
        other => panic!("expected 5010 and close, got {other:?}"),
    }
    let without_product = message(0x80, 257, 0, &[base(264, b"icscf")]);
    match hss.handle(&without_product) {
        Outcome::ReplyAndClose(bytes) => {
            assert_eq!(Answer::new(bytes).result_code(), Some(5005));
        }
        other => panic!("expected 5005 and close, got {other:?}"),
    }
}

#[test]
fn dwa_and_dpa() {
    let mut hss = hss();
    let dwr = message(0x80, 280, 0, &[base(264, b"icscf"), base(296, b"ims.test")]);
    let origin_state = [0, 0, 1, 0x16, 0x40, 0, 0, 12, 0, 0, 0, 7];
    let expected = [
        &header(72, 0, [0, 1, 0x18], [0; 4])[..],
        &result_code(2001),
        &ORIGIN,
        &origin_state,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &dwr), expected);
    let dpr = message(
        0x80,
        282,
        0,
        &[
            base(264, b"icscf"),
            base(296, b"ims.test"),
            base(273, &0u32.to_be_bytes()),
        ],
    );
    let expected = [
        &header(60, 0, [0, 1, 0x1a], [0; 4])[..],
        &result_code(2001),
        &ORIGIN,
    ]
    .concat();
    assert_eq!(hss.handle(&dpr), Outcome::ReplyAndClose(expected));
}

#[test]
fn missing_session_id_is_5005_with_an_example_avp() {
    let mut hss = hss();
    let uar = message(
        0xc0,
        300,
        16_777_216,
        &[
            base(264, b"icscf"),
            base(296, b"ims.test"),
            base(1, b"alice@ims.test"),
            tgpp(601, b"sip:alice@ims.test"),
        ],
    );
    // Failed-AVP { Session-Id with empty data }.
    let failed = [0, 0, 1, 0x17, 0x40, 0, 0, 16, 0, 0, 1, 7, 0x40, 0, 0, 8];
    let expected = [
        &header(120, 0x40, [0, 1, 0x2c], [1, 0, 0, 0])[..],
        &APPLICATION,
        &result_code(5005),
        &SESSION_STATE,
        &ORIGIN,
        &failed,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &uar), expected);
}

#[test]
fn missing_user_name_is_5005() {
    let mut hss = hss();
    let uar = cx_request(300, &[tgpp(601, b"sip:alice@ims.test")]);
    let failed = [0, 0, 1, 0x17, 0x40, 0, 0, 16, 0, 0, 0, 1, 0x40, 0, 0, 8];
    let expected = [
        &header(132, 0x40, [0, 1, 0x2c], [1, 0, 0, 0])[..],
        &SESSION,
        &APPLICATION,
        &result_code(5005),
        &SESSION_STATE,
        &ORIGIN,
        &failed,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &uar), expected);
}

#[test]
fn unknown_mandatory_avp_is_5001_and_unknown_optional_is_ignored() {
    let mut hss = hss();
    let identities = [base(1, b"alice@ims.test"), tgpp(601, b"sip:alice@ims.test")];
    let with = |extra: Vec<u8>| {
        let mut avps = identities.to_vec();
        avps.push(extra);
        cx_request(300, &avps)
    };
    #[rustfmt::skip]
    let failed = [
        0, 0, 1, 0x17, 0x40, 0, 0, 20,
        0, 0, 0x27, 0x0f, 0x40, 0, 0, 10, b'z', b'z', 0, 0,
    ];
    let expected = [
        &header(136, 0x40, [0, 1, 0x2c], [1, 0, 0, 0])[..],
        &SESSION,
        &APPLICATION,
        &result_code(5001),
        &SESSION_STATE,
        &ORIGIN,
        &failed,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &with(base(9999, b"zz"))), expected);
    // Same AVP without the M bit: a normal UAA.
    let answer = Answer::new(reply(&mut hss, &with(avp(9999, 0, None, b"zz"))));
    assert_eq!(answer.experimental_code(), Some(2001));
    // Unknown vendor-specific mandatory AVP.
    let answer = Answer::new(reply(&mut hss, &with(avp(1, 0x40, Some(99), b"x"))));
    assert_eq!(answer.result_code(), Some(5001));
}

#[test]
fn invalid_avp_value_is_5004() {
    let mut hss = hss();
    let uar = cx_request(
        300,
        &[
            base(1, b"alice@ims.test"),
            tgpp(601, b"sip:alice@ims.test"),
            tgpp(623, &7u32.to_be_bytes()),
        ],
    );
    #[rustfmt::skip]
    let failed = [
        0, 0, 1, 0x17, 0x40, 0, 0, 24,
        0, 0, 2, 0x6f, 0xc0, 0, 0, 16, 0, 0, 0x28, 0xaf, 0, 0, 0, 7,
    ];
    let expected = [
        &header(140, 0x40, [0, 1, 0x2c], [1, 0, 0, 0])[..],
        &SESSION,
        &APPLICATION,
        &result_code(5004),
        &SESSION_STATE,
        &ORIGIN,
        &failed,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &uar), expected);
    // Not UTF-8 in a UTF8String.
    let uar = cx_request(300, &[base(1, &[0xff, 0xfe]), tgpp(601, b"sip:a")]);
    assert_eq!(Answer::new(reply(&mut hss, &uar)).result_code(), Some(5004));
    // An Unsigned32 of the wrong size is an invalid length.
    let uar = cx_request(
        300,
        &[
            base(1, b"alice@ims.test"),
            tgpp(601, b"sip:alice@ims.test"),
            tgpp(623, &[0, 0, 1]),
        ],
    );
    assert_eq!(Answer::new(reply(&mut hss, &uar)).result_code(), Some(5014));
}

#[test]
fn avp_running_past_the_end_is_5014() {
    let mut hss = hss();
    let mut uar = cx_request(300, &[]);
    // User-Name claiming 40 octets with 4 of data there.
    uar.extend_from_slice(&[0, 0, 0, 1, 0x40, 0, 0, 40, b'a', b'b', b'c', b'd']);
    uar[3] += 12;
    let failed = [
        0, 0, 1, 0x17, 0x40, 0, 0, 20, 0, 0, 0, 1, 0x40, 0, 0, 12, b'a', b'b', b'c', b'd',
    ];
    let expected = [
        &header(136, 0x40, [0, 1, 0x2c], [1, 0, 0, 0])[..],
        &SESSION,
        &APPLICATION,
        &result_code(5014),
        &SESSION_STATE,
        &ORIGIN,
        &failed,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &uar), expected);
}

#[test]
fn unsupported_command_and_application_set_the_e_bit() {
    let mut hss = hss();
    let unknown = message(0xc0, 999, 16_777_216, &[base(263, b"s;1")]);
    let expected = [
        &header(116, 0x60, [0, 3, 0xe7], [1, 0, 0, 0])[..],
        &SESSION,
        &APPLICATION,
        &result_code(3001),
        &SESSION_STATE,
        &ORIGIN,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &unknown), expected);
    let wrong_application = message(0xc0, 300, 4, &[base(263, b"s;1")]);
    let expected = [
        &header(72, 0x60, [0, 1, 0x2c], [0, 0, 0, 4])[..],
        &SESSION,
        &result_code(3007),
        &ORIGIN,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &wrong_application), expected);
}

#[test]
fn bad_framing_truncated_header_wrong_length_wrong_version() {
    let mut hss = hss();
    let uar = cx_request(300, &[base(1, b"alice@ims.test")]);
    // A truncated header frames as "need more" and, handed over anyway, closes.
    assert_eq!(frame(&uar[..3], 4096), Ok(None));
    assert_eq!(frame(&uar[..10], 4096), Ok(Some(uar.len())));
    assert_eq!(hss.handle(&uar[..10]), Outcome::Close);
    // A length that is not a multiple of four: 5015, the stream stays in step.
    let mut odd = uar[..22].to_vec();
    odd[3] = 22;
    odd[1] = 0;
    odd[2] = 0;
    let expected = [
        &header(104, 0x40, [0, 1, 0x2c], [1, 0, 0, 0])[..],
        &APPLICATION,
        &result_code(5015),
        &SESSION_STATE,
        &ORIGIN,
    ]
    .concat();
    assert_eq!(frame(&odd, 4096), Ok(Some(22)));
    assert_eq!(hss.handle(&odd), Outcome::Reply(expected.clone()));
    // Above the size cap: 5015, then close.
    let mut huge = uar.clone();
    huge[1] = 0x10;
    let error = frame(&huge, 4096).unwrap_err();
    assert!(matches!(error, FrameError::TooLong { max: 4096, .. }));
    let answer = match hss.handle_frame_error(&huge, error) {
        Outcome::ReplyAndClose(bytes) => Answer::new(bytes),
        other => panic!("expected an answer and close, got {other:?}"),
    };
    assert_eq!(answer.result_code(), Some(5015));
    // Wrong version: 5011, then close.
    let mut version = uar.clone();
    version[0] = 2;
    let error = frame(&version, 4096).unwrap_err();
    let answer = match hss.handle_frame_error(&version, error) {
        Outcome::ReplyAndClose(bytes) => Answer::new(bytes),
        other => panic!("expected an answer and close, got {other:?}"),
    };
    assert_eq!(answer.result_code(), Some(5011));
    // Below the header size with no whole header: close without an answer.
    let error = frame(&[1, 0, 0, 8, 0x80, 0, 1, 1], 4096).unwrap_err();
    assert_eq!(
        hss.handle_frame_error(&[1, 0, 0, 8, 0x80, 0, 1, 1], error),
        Outcome::Close
    );
}

#[test]
fn answers_reaching_the_hss_are_ignored() {
    let mut hss = hss();
    let answer = message(0x40, 300, 16_777_216, &[base(263, b"s;1")]);
    assert_eq!(hss.handle(&answer), Outcome::Ignore);
}

#[test]
fn no_truncation_or_flip_of_a_request_panics() {
    let mut hss = hss();
    let requests = [
        cer(true),
        cx_request(
            303,
            &[
                base(1, b"alice@ims.test"),
                tgpp(601, b"sip:alice@ims.test"),
                tgpp(607, &2u32.to_be_bytes()),
                tgpp(
                    612,
                    &[tgpp(608, b"Digest-AKAv1-MD5"), tgpp(610, &[1; 30])].concat(),
                ),
                tgpp(602, b"sip:scscf"),
            ],
        ),
        cx_request(
            301,
            &[
                base(1, b"vu1@ims.test"),
                tgpp(602, b"sip:scscf"),
                tgpp(614, &1u32.to_be_bytes()),
            ],
        ),
    ];
    for request in &requests {
        for cut in 0..request.len() {
            let part = &request[..cut];
            match frame(part, 4096) {
                Ok(_) => {
                    let _ = hss.handle(part);
                }
                Err(error) => {
                    let _ = hss.handle_frame_error(part, error);
                }
            }
        }
        for index in 0..request.len() {
            for flip in [0x01, 0x40, 0x80, 0xff] {
                let mut bytes = request.clone();
                bytes[index] ^= flip;
                let _ = hss.handle(&bytes);
            }
        }
    }
}
