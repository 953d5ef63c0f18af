//! Test helpers: requests written by hand (an encoder of a few lines that shares no code
//! with the crate's), an HSS set up with short names so expected bytes stay readable,
//! and a reader for answers.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};

use ims_hss::avp::{Avp, AvpIter};
use ims_hss::message::{Header, Message};
use ims_hss::subscriber::{Pattern, Subscribers};
use ims_hss::{Config, Hss, Outcome, RandSource};

/// TS 35.208 test set 1.
pub const SET1_K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
pub const SET1_OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
pub const SET1_RAND: [u8; 16] = [
    0x23, 0x55, 0x3c, 0xbe, 0x96, 0x37, 0xa8, 0x9d, 0x21, 0x8a, 0xe6, 0x4d, 0xae, 0x47, 0xbf, 0x35,
];

pub const HOP: u32 = 0x1122_3344;
pub const END: u32 = 0x5566_7788;

/// One AVP: code, flags, optional vendor, data, zero padding.
pub fn avp(code: u32, flags: u8, vendor: Option<u32>, data: &[u8]) -> Vec<u8> {
    let header = if vendor.is_some() { 12 } else { 8 };
    let length = header + data.len();
    let mut out = code.to_be_bytes().to_vec();
    out.push(if vendor.is_some() {
        flags | 0x80
    } else {
        flags
    });
    out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
    if let Some(vendor) = vendor {
        out.extend_from_slice(&vendor.to_be_bytes());
    }
    out.extend_from_slice(data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out
}

/// A base AVP with the M bit.
pub fn base(code: u32, data: &[u8]) -> Vec<u8> {
    avp(code, 0x40, None, data)
}

/// A 3GPP AVP with M and V.
pub fn tgpp(code: u32, data: &[u8]) -> Vec<u8> {
    avp(code, 0x40, Some(10415), data)
}

/// A whole message.
pub fn message(flags: u8, command: u32, application: u32, avps: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = avps.concat();
    let length = 20 + body.len();
    let mut out = vec![1];
    out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
    out.push(flags);
    out.extend_from_slice(&command.to_be_bytes()[1..]);
    out.extend_from_slice(&application.to_be_bytes());
    out.extend_from_slice(&HOP.to_be_bytes());
    out.extend_from_slice(&END.to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// A Cx request (R and P set) with Session-Id "s;1", Origin-Host "icscf" and
/// Origin-Realm "ims.test" first, then `avps`.
pub fn cx_request(command: u32, avps: &[Vec<u8>]) -> Vec<u8> {
    let mut all = vec![
        base(263, b"s;1"),
        base(264, b"icscf"),
        base(296, b"ims.test"),
        base(283, b"ims.test"),
        base(277, &1u32.to_be_bytes()),
    ];
    all.extend_from_slice(avps);
    message(0xc0, command, 16_777_216, &all)
}

/// An HSS named "hss" in "ims.test" handing out "sip:scscf", with alice (AKA, TS 35.208
/// set 1 keys), carol (Digest, password "secret"), dave (AKA with set 1 keys, AKAv2-MD5 when
/// the HSS chooses) and the pattern vu{0..99}@ims.test.
pub fn hss() -> Hss {
    hss_with(|_| {})
}

/// [`hss`] with its config changed by `adjust` first.
pub fn hss_with(adjust: impl FnOnce(&mut Config)) -> Hss {
    let mut subscribers = Subscribers::new();
    subscribers
        .load_toml(&format!(
            r#"
            [[subscriber]]
            impi = "alice@ims.test"
            impu = ["sip:alice@ims.test", "tel:+15550100"]
            k = "{SET1_K}"
            opc = "{SET1_OPC}"

            [[subscriber]]
            impi = "carol@ims.test"
            password = "secret"

            [[subscriber]]
            impi = "dave@ims.test"
            k = "{SET1_K}"
            opc = "{SET1_OPC}"
            algorithm = "AKAv2-MD5"
            "#
        ))
        .unwrap();
    subscribers.set_pattern(Pattern::parse("vu{0..99}@ims.test").unwrap());
    let mut config = Config {
        origin_host: "hss".into(),
        origin_realm: "ims.test".into(),
        scscf_name: "sip:scscf".into(),
        host_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        max_message: 4096,
        max_auth_items: 4,
        origin_state_id: 7,
        akav2_authorization: Default::default(),
    };
    adjust(&mut config);
    Hss::new(config, subscribers, RandSource::Fixed(SET1_RAND))
}

/// The answer bytes, which must be a plain reply.
pub fn reply(hss: &mut Hss, request: &[u8]) -> Vec<u8> {
    match hss.handle(request) {
        Outcome::Reply(bytes) => bytes,
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// An answer read back: header and top-level AVPs.
pub struct Answer {
    pub header: Header,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn new(bytes: Vec<u8>) -> Answer {
        let header = Message::parse(&bytes).unwrap().header;
        Answer { header, bytes }
    }

    pub fn avps(&self) -> Vec<Avp<'_>> {
        AvpIter::new(&self.bytes[20..])
            .map(|a| a.unwrap())
            .collect()
    }

    pub fn find(&self, code: u32) -> Option<Avp<'_>> {
        self.avps().into_iter().find(|a| a.code == code)
    }

    pub fn result_code(&self) -> Option<u32> {
        self.find(268).and_then(|a| a.u32())
    }

    pub fn experimental_code(&self) -> Option<u32> {
        let group = self.find(297)?;
        group
            .grouped()
            .map(|a| a.unwrap())
            .find(|a| a.code == 298)
            .and_then(|a| a.u32())
    }

    pub fn text(&self, code: u32) -> Option<String> {
        self.find(code)
            .map(|a| String::from_utf8(a.data.to_vec()).unwrap())
    }
}
