//! Every Cx answer checked against bytes written by hand from the layouts of RFC 6733 §3
//! and §4.1 and TS 29.229 §6: the header, then each AVP as code, flags, length,
//! (vendor,) data and padding. Only MAC-A in the AKA answer is computed (with Milenage,
//! whose outputs are checked against TS 35.208 in `vectors.rs`).

mod support;

use ims_core::auth::Milenage;
use ims_core::auth::aka::decode_hex;
use support::*;

/// Session-Id "s;1".
const SESSION: [u8; 12] = [0, 0, 1, 7, 0x40, 0, 0, 11, b's', b';', b'1', 0];
/// Vendor-Specific-Application-Id { Vendor-Id 10415, Auth-Application-Id 16777216 }.
#[rustfmt::skip]
const APPLICATION: [u8; 32] = [
    0, 0, 1, 4, 0x40, 0, 0, 32,
    0, 0, 1, 10, 0x40, 0, 0, 12, 0, 0, 0x28, 0xaf,
    0, 0, 1, 2, 0x40, 0, 0, 12, 1, 0, 0, 0,
];
/// Result-Code 2001.
const SUCCESS: [u8; 12] = [0, 0, 1, 12, 0x40, 0, 0, 12, 0, 0, 0x07, 0xd1];
/// Auth-Session-State NO_STATE_MAINTAINED.
const SESSION_STATE: [u8; 12] = [0, 0, 1, 0x15, 0x40, 0, 0, 12, 0, 0, 0, 1];
/// Origin-Host "hss" and Origin-Realm "ims.test".
#[rustfmt::skip]
const ORIGIN: [u8; 28] = [
    0, 0, 1, 8, 0x40, 0, 0, 11, b'h', b's', b's', 0,
    0, 0, 1, 0x28, 0x40, 0, 0, 16, b'i', b'm', b's', b'.', b't', b'e', b's', b't',
];
/// Server-Name "sip:scscf" (vendor 10415, 12 + 9 = 21 octets, 3 of padding).
#[rustfmt::skip]
const SERVER_NAME: [u8; 24] = [
    0, 0, 2, 0x5a, 0xc0, 0, 0, 21, 0, 0, 0x28, 0xaf,
    b's', b'i', b'p', b':', b's', b'c', b's', b'c', b'f', 0, 0, 0,
];

/// Experimental-Result { Vendor-Id 10415, Experimental-Result-Code `code` }.
#[rustfmt::skip]
fn experimental(code: u16) -> [u8; 32] {
    let [hi, lo] = code.to_be_bytes();
    [
        0, 0, 1, 0x29, 0x40, 0, 0, 32,
        0, 0, 1, 10, 0x40, 0, 0, 12, 0, 0, 0x28, 0xaf,
        0, 0, 1, 0x2a, 0x40, 0, 0, 12, 0, 0, hi, lo,
    ]
}

/// An answer header: P kept, R cleared, the request's ids echoed.
#[rustfmt::skip]
fn header(length: u16, command: u8) -> [u8; 20] {
    let [hi, lo] = length.to_be_bytes();
    [
        1, 0, hi, lo, 0x40, 0, 1, command, 1, 0, 0, 0,
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
    ]
}

fn uar(impi: &[u8], impu: &[u8], kind: u32) -> Vec<u8> {
    cx_request(
        300,
        &[
            base(1, impi),
            tgpp(601, impu),
            tgpp(600, b"ims.test"),
            tgpp(623, &kind.to_be_bytes()),
        ],
    )
}

fn sar(kind: u32) -> Vec<u8> {
    cx_request(
        301,
        &[
            base(1, b"alice@ims.test"),
            tgpp(601, b"sip:alice@ims.test"),
            tgpp(602, b"sip:scscf"),
            tgpp(614, &kind.to_be_bytes()),
            tgpp(624, &0u32.to_be_bytes()),
        ],
    )
}

fn mar(impi: &[u8], impu: &[u8], scheme: &[u8], count: u32) -> Vec<u8> {
    cx_request(
        303,
        &[
            base(1, impi),
            tgpp(601, impu),
            tgpp(607, &count.to_be_bytes()),
            tgpp(612, &tgpp(608, scheme)),
            tgpp(602, b"sip:scscf"),
        ],
    )
}

#[test]
fn uaa_first_registration() {
    let mut hss = hss();
    let answer = reply(&mut hss, &uar(b"alice@ims.test", b"sip:alice@ims.test", 0));
    let expected = [
        &header(160, 0x2c)[..],
        &SESSION,
        &APPLICATION,
        &experimental(2001),
        &SESSION_STATE,
        &ORIGIN,
        &SERVER_NAME,
    ]
    .concat();
    assert_eq!(expected.len(), 160);
    assert_eq!(answer, expected);
}

#[test]
fn uaa_subsequent_registration_after_sar() {
    let mut hss = hss();
    reply(&mut hss, &sar(1));
    let answer = reply(&mut hss, &uar(b"alice@ims.test", b"tel:+15550100", 0));
    let expected = [
        &header(160, 0x2c)[..],
        &SESSION,
        &APPLICATION,
        &experimental(2002),
        &SESSION_STATE,
        &ORIGIN,
        &SERVER_NAME,
    ]
    .concat();
    assert_eq!(answer, expected);
}

#[test]
fn uaa_errors_user_unknown_identities_dont_match_not_registered() {
    let mut hss = hss();
    let bare = |code| {
        [
            &header(136, 0x2c)[..],
            &SESSION,
            &APPLICATION,
            &experimental(code),
            &SESSION_STATE,
            &ORIGIN,
        ]
        .concat()
    };
    assert_eq!(
        reply(&mut hss, &uar(b"bob@ims.test", b"sip:bob@ims.test", 0)),
        bare(5001)
    );
    assert_eq!(
        reply(&mut hss, &uar(b"alice@ims.test", b"sip:carol@ims.test", 0)),
        bare(5002)
    );
    // DE_REGISTRATION of a user that is not registered.
    assert_eq!(
        reply(&mut hss, &uar(b"alice@ims.test", b"sip:alice@ims.test", 1)),
        bare(5003)
    );
}

#[test]
fn saa_registration_carries_user_name_and_user_data() {
    let mut hss = hss();
    let answer = reply(&mut hss, &sar(1));
    let xml: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><IMSSubscription>\
<PrivateID>alice@ims.test</PrivateID><ServiceProfile>\
<PublicIdentity><Identity>sip:alice@ims.test</Identity></PublicIdentity>\
<PublicIdentity><Identity>tel:+15550100</Identity></PublicIdentity>\
</ServiceProfile></IMSSubscription>";
    assert_eq!(xml.len(), 282);
    #[rustfmt::skip]
    let user_name: [u8; 24] = [
        0, 0, 0, 1, 0x40, 0, 0, 22,
        b'a', b'l', b'i', b'c', b'e', b'@', b'i', b'm', b's', b'.', b't', b'e', b's', b't', 0, 0,
    ];
    // User-Data 606, vendor 10415, 12 + 282 = 294 = 0x126 octets, 2 of padding.
    let user_data_header = [0, 0, 2, 0x5e, 0xc0, 0, 0x01, 0x26, 0, 0, 0x28, 0xaf];
    let expected = [
        &header(436, 0x2d)[..],
        &SESSION,
        &APPLICATION,
        &SUCCESS,
        &SESSION_STATE,
        &ORIGIN,
        &user_name,
        &user_data_header,
        xml,
        &[0, 0],
    ]
    .concat();
    assert_eq!(expected.len(), 436);
    assert_eq!(answer, expected);
}

#[test]
fn lia_unregistered_service_then_registered() {
    let mut hss = hss();
    let lir = cx_request(302, &[tgpp(601, b"sip:alice@ims.test")]);
    let unregistered = [
        &header(160, 0x2e)[..],
        &SESSION,
        &APPLICATION,
        &experimental(2003),
        &SESSION_STATE,
        &ORIGIN,
        &SERVER_NAME,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &lir), unregistered);
    reply(&mut hss, &sar(1));
    let registered = [
        &header(140, 0x2e)[..],
        &SESSION,
        &APPLICATION,
        &SUCCESS,
        &SESSION_STATE,
        &ORIGIN,
        &SERVER_NAME,
    ]
    .concat();
    assert_eq!(reply(&mut hss, &lir), registered);
}

#[test]
fn maa_digest_carries_ha1_in_sip_digest_authenticate() {
    let mut hss = hss();
    let answer = reply(
        &mut hss,
        &mar(b"carol@ims.test", b"sip:carol@ims.test", b"SIP Digest", 1),
    );
    #[rustfmt::skip]
    let identities: [u8; 56] = [
        // User-Name "carol@ims.test"
        0, 0, 0, 1, 0x40, 0, 0, 22,
        b'c', b'a', b'r', b'o', b'l', b'@', b'i', b'm', b's', b'.', b't', b'e', b's', b't', 0, 0,
        // Public-Identity "sip:carol@ims.test"
        0, 0, 2, 0x59, 0xc0, 0, 0, 30, 0, 0, 0x28, 0xaf,
        b's', b'i', b'p', b':', b'c', b'a', b'r', b'o', b'l', b'@', b'i', b'm', b's', b'.', b't',
        b'e', b's', b't', 0, 0,
    ];
    // SIP-Number-Auth-Items 1.
    let count = [0, 0, 2, 0x5f, 0xc0, 0, 0, 16, 0, 0, 0x28, 0xaf, 0, 0, 0, 1];
    #[rustfmt::skip]
    let item_head: [u8; 52] = [
        // SIP-Auth-Data-Item, 144 octets
        0, 0, 2, 0x64, 0xc0, 0, 0, 144, 0, 0, 0x28, 0xaf,
        // SIP-Item-Number 1
        0, 0, 2, 0x65, 0xc0, 0, 0, 16, 0, 0, 0x28, 0xaf, 0, 0, 0, 1,
        // SIP-Authentication-Scheme "SIP Digest"
        0, 0, 2, 0x60, 0xc0, 0, 0, 22, 0, 0, 0x28, 0xaf,
        b'S', b'I', b'P', b' ', b'D', b'i', b'g', b'e', b's', b't', 0, 0,
    ];
    #[rustfmt::skip]
    let digest_head: [u8; 52] = [
        // SIP-Digest-Authenticate, 92 octets
        0, 0, 2, 0x7b, 0xc0, 0, 0, 92, 0, 0, 0x28, 0xaf,
        // Digest-Realm "ims.test"
        0, 0, 0, 0x68, 0x40, 0, 0, 16, b'i', b'm', b's', b'.', b't', b'e', b's', b't',
        // Digest-Algorithm "MD5"
        0, 0, 0, 0x6f, 0x40, 0, 0, 11, b'M', b'D', b'5', 0,
        // Digest-QoP "auth"
        0, 0, 0, 0x6e, 0x40, 0, 0, 12, b'a', b'u', b't', b'h',
    ];
    // Digest-HA1: MD5("carol@ims.test:ims.test:secret") in hex.
    let ha1_head = [0, 0, 0, 0x79, 0x40, 0, 0, 40];
    let ha1: &[u8] = b"18a8c52d4996aad2ef58460ec6bdeee2";
    let expected = [
        &header(332, 0x2f)[..],
        &SESSION,
        &APPLICATION,
        &SUCCESS,
        &SESSION_STATE,
        &ORIGIN,
        &identities,
        &count,
        &item_head,
        &digest_head,
        &ha1_head,
        ha1,
    ]
    .concat();
    assert_eq!(expected.len(), 332);
    assert_eq!(answer, expected);
}

#[test]
fn maa_aka_carries_rand_autn_xres_ck_ik() {
    let mut hss = hss();
    let answer = reply(
        &mut hss,
        &mar(
            b"alice@ims.test",
            b"sip:alice@ims.test",
            b"Digest-AKAv1-MD5",
            1,
        ),
    );
    // The first vector has SQN = SEQ 1 || IND 1 = 0x21; AK (f5) of set 1 is aa689c648370.
    let sqn = [0, 0, 0, 0, 0, 0x21];
    let ak = [0xaa, 0x68, 0x9c, 0x64, 0x83, 0x70];
    let milenage = Milenage::with_opc(
        &decode_hex("K", SET1_K).unwrap(),
        &decode_hex("OPc", SET1_OPC).unwrap(),
    );
    let mac = milenage.f1(&SET1_RAND, &sqn, &[0, 0]);
    let mut autn = Vec::new();
    autn.extend(sqn.iter().zip(&ak).map(|(s, a)| s ^ a));
    autn.extend_from_slice(&[0, 0]);
    autn.extend_from_slice(&mac);
    #[rustfmt::skip]
    let identities: [u8; 56] = [
        0, 0, 0, 1, 0x40, 0, 0, 22,
        b'a', b'l', b'i', b'c', b'e', b'@', b'i', b'm', b's', b'.', b't', b'e', b's', b't', 0, 0,
        0, 0, 2, 0x59, 0xc0, 0, 0, 30, 0, 0, 0x28, 0xaf,
        b's', b'i', b'p', b':', b'a', b'l', b'i', b'c', b'e', b'@', b'i', b'm', b's', b'.', b't',
        b'e', b's', b't', 0, 0,
    ];
    let count = [0, 0, 2, 0x5f, 0xc0, 0, 0, 16, 0, 0, 0x28, 0xaf, 0, 0, 0, 1];
    #[rustfmt::skip]
    let item_head: [u8; 56] = [
        // SIP-Auth-Data-Item, 176 octets
        0, 0, 2, 0x64, 0xc0, 0, 0, 176, 0, 0, 0x28, 0xaf,
        0, 0, 2, 0x65, 0xc0, 0, 0, 16, 0, 0, 0x28, 0xaf, 0, 0, 0, 1,
        // SIP-Authentication-Scheme "Digest-AKAv1-MD5" (12 + 16 = 28)
        0, 0, 2, 0x60, 0xc0, 0, 0, 28, 0, 0, 0x28, 0xaf,
        b'D', b'i', b'g', b'e', b's', b't', b'-', b'A', b'K', b'A', b'v', b'1', b'-', b'M', b'D', b'5',
    ];
    // SIP-Authenticate: RAND || AUTN (12 + 32 = 44).
    let authenticate_head = [0, 0, 2, 0x61, 0xc0, 0, 0, 44, 0, 0, 0x28, 0xaf];
    // SIP-Authorization: XRES = f2 of set 1 (12 + 8 = 20).
    #[rustfmt::skip]
    let xres = [
        0, 0, 2, 0x62, 0xc0, 0, 0, 20, 0, 0, 0x28, 0xaf,
        0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf,
    ];
    // Confidentiality-Key: f3 of set 1; Integrity-Key: f4 of set 1 (12 + 16 = 28 each).
    #[rustfmt::skip]
    let keys = [
        0, 0, 2, 0x71, 0xc0, 0, 0, 28, 0, 0, 0x28, 0xaf,
        0xb4, 0x0b, 0xa9, 0xa3, 0xc5, 0x8b, 0x2a, 0x05, 0xbb, 0xf0, 0xd9, 0x87, 0xb2, 0x1b, 0xf8, 0xcb,
        0, 0, 2, 0x72, 0xc0, 0, 0, 28, 0, 0, 0x28, 0xaf,
        0xf7, 0x69, 0xbc, 0xd7, 0x51, 0x04, 0x46, 0x04, 0x12, 0x76, 0x72, 0x71, 0x1c, 0x6d, 0x34, 0x41,
    ];
    let expected = [
        &header(364, 0x2f)[..],
        &SESSION,
        &APPLICATION,
        &SUCCESS,
        &SESSION_STATE,
        &ORIGIN,
        &identities,
        &count,
        &item_head,
        &authenticate_head,
        &SET1_RAND,
        &autn,
        &xres,
        &keys,
    ]
    .concat();
    assert_eq!(expected.len(), 364);
    assert_eq!(answer, expected);
}

#[test]
fn maa_for_an_aka_scheme_gives_a_digest_subscriber_sip_digest() {
    let mut hss = hss();
    let asked_digest = reply(
        &mut hss,
        &mar(b"carol@ims.test", b"sip:carol@ims.test", b"SIP Digest", 1),
    );
    let asked_aka = reply(
        &mut hss,
        &mar(
            b"carol@ims.test",
            b"sip:carol@ims.test",
            b"Digest-AKAv1-MD5",
            1,
        ),
    );
    assert_eq!(asked_aka, asked_digest);
}

#[test]
fn maa_digest_scheme_not_supported_for_an_aka_subscriber() {
    let mut hss = hss();
    let bare = [
        &header(136, 0x2f)[..],
        &SESSION,
        &APPLICATION,
        &experimental(5006),
        &SESSION_STATE,
        &ORIGIN,
    ]
    .concat();
    assert_eq!(
        reply(
            &mut hss,
            &mar(b"alice@ims.test", b"sip:alice@ims.test", b"SIP Digest", 1)
        ),
        bare
    );
}
