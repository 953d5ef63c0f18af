//! Cx answers per second of `Hss::handle` (no I/O): one group per command, each request
//! written once and answered again and again, for a listed AKA subscriber, a Digest one
//! and pattern subscribers (whose keys are derived on every request).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ims_hss::avp::{self, FLAG_MANDATORY};
use ims_hss::message::{FLAG_PROXIABLE, FLAG_REQUEST, Header, MessageWriter};
use ims_hss::{Config, Hss, Outcome, Pattern, RandSource, Subscribers};

const V: u32 = 10415;

fn request(command: u32, build: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut writer = MessageWriter::new(&Header {
        length: 0,
        flags: FLAG_REQUEST | FLAG_PROXIABLE,
        command,
        application: 16_777_216,
        hop_by_hop: 1,
        end_to_end: 2,
    });
    let out = &mut writer.buffer;
    avp::write(out, 263, FLAG_MANDATORY, 0, b"scscf.ims.test;1234;5678");
    avp::write(out, 264, FLAG_MANDATORY, 0, b"scscf.ims.test");
    avp::write(out, 296, FLAG_MANDATORY, 0, b"ims.test");
    avp::write(out, 283, FLAG_MANDATORY, 0, b"ims.test");
    avp::write_u32(out, 277, FLAG_MANDATORY, 0, 1);
    build(out);
    writer.finish()
}

fn identities(out: &mut Vec<u8>, impi: &str) {
    avp::write(out, 1, FLAG_MANDATORY, 0, impi.as_bytes());
    avp::write(
        out,
        601,
        FLAG_MANDATORY,
        V,
        format!("sip:{impi}").as_bytes(),
    );
}

fn uar(impi: &str) -> Vec<u8> {
    request(300, |out| {
        identities(out, impi);
        avp::write(out, 600, FLAG_MANDATORY, V, b"ims.test");
        avp::write_u32(out, 623, FLAG_MANDATORY, V, 0);
    })
}

fn mar(impi: &str, scheme: &str, count: u32) -> Vec<u8> {
    request(303, |out| {
        identities(out, impi);
        avp::write_u32(out, 607, FLAG_MANDATORY, V, count);
        let start = avp::begin(out, 612, FLAG_MANDATORY, V);
        avp::write(out, 608, FLAG_MANDATORY, V, scheme.as_bytes());
        avp::end(out, start);
        avp::write(out, 602, FLAG_MANDATORY, V, b"sip:scscf.ims.test:16060");
    })
}

fn sar(impi: &str) -> Vec<u8> {
    request(301, |out| {
        identities(out, impi);
        avp::write(out, 602, FLAG_MANDATORY, V, b"sip:scscf.ims.test:16060");
        avp::write_u32(out, 614, FLAG_MANDATORY, V, 2);
        avp::write_u32(out, 624, FLAG_MANDATORY, V, 0);
    })
}

fn lir(impi: &str) -> Vec<u8> {
    request(302, |out| {
        avp::write(
            out,
            601,
            FLAG_MANDATORY,
            V,
            format!("sip:{impi}").as_bytes(),
        );
    })
}

fn hss() -> Hss {
    let mut subscribers = Subscribers::new();
    subscribers
        .load_toml(
            r#"
            [[subscriber]]
            impi = "alice@ims.test"
            k = "465b5ce8b199b49faa5f0a2ee238a6bc"
            opc = "cd63cb71954a9f4e48a5994e37a02baf"
            [[subscriber]]
            impi = "carol@ims.test"
            password = "secret"
            "#,
        )
        .expect("subscribers");
    subscribers.set_pattern(Pattern::parse("vu{0..9999}@ims.test").expect("pattern"));
    let config = Config {
        origin_host: "localhost".into(),
        origin_realm: "ims.test".into(),
        scscf_name: "sip:scscf.ims.test:16060".into(),
        host_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        max_message: 65_536,
        max_auth_items: 8,
        origin_state_id: 1,
        akav2_authorization: Default::default(),
    };
    Hss::new(config, subscribers, RandSource::seeded([9; 32]))
}

fn answer(hss: &mut Hss, request: &[u8]) -> usize {
    match hss.handle(black_box(request)) {
        Outcome::Reply(bytes) => bytes.len(),
        other => panic!("unexpected {other:?}"),
    }
}

fn cx(c: &mut Criterion) {
    let mut group = c.benchmark_group("cx_answer");
    group.throughput(Throughput::Elements(1));
    let cases = [
        ("uar", uar("alice@ims.test")),
        (
            "mar_akav1_1_vector",
            mar("alice@ims.test", "Digest-AKAv1-MD5", 1),
        ),
        (
            "mar_akav1_4_vectors",
            mar("alice@ims.test", "Digest-AKAv1-MD5", 4),
        ),
        ("mar_digest", mar("carol@ims.test", "SIP Digest", 1)),
        (
            "mar_akav1_pattern_user",
            mar("vu4711@ims.test", "Digest-AKAv1-MD5", 1),
        ),
        ("sar_reregistration", sar("alice@ims.test")),
        ("lir", lir("alice@ims.test")),
    ];
    for (name, request) in &cases {
        let mut hss = hss();
        group.bench_function(*name, |b| b.iter(|| answer(&mut hss, request)));
    }
    group.finish();
}

criterion_group!(benches, cx);
criterion_main!(benches);
