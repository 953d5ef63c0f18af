//! criterion benches (STYLE.md §8): one group per input with `Throughput::Bytes`;
//! ims-core beside rsip and rsipstack on the same bytes, httparse on an HTTP request of
//! the same size as the INVITE, and a memchr line-end scan of the same bytes as the floor.
//! Plus the writer: an INVITE built with `MessageWriter` into a reused buffer.
//!
//! The clock is the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`, through
//! `iter_custom`), as in the engine and AKA benches: the machine is shared with other
//! builds, and time the thread spends preempted is not counted. Every parser in a group is
//! timed the same way.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ims_bench::cpu::cpu_timed;
use ims_bench::peers::Ours;
use ims_core::sip::{HeaderName, MessageWriter, Method, WriteOptions};

const INPUTS: [(&str, &[u8]); 4] = [
    ("invite", include_bytes!("../data/invite.sip")),
    ("register", include_bytes!("../data/register.sip")),
    ("register-200", include_bytes!("../data/register-200.sip")),
    (
        "notify-reginfo",
        include_bytes!("../data/notify-reginfo.sip"),
    ),
];

/// An HTTP/1.1 POST of the same size as the INVITE, for httparse.
const HTTP_POST: &[u8] = include_bytes!("../data/http-post.http");

fn parse_groups(c: &mut Criterion) {
    // The same driver `imsbench parse --bench` times: reused slots, default limits.
    let mut ours = Ours::new();
    for (name, bytes) in INPUTS {
        assert!(ours.parse(bytes) > 0, "ims-core parses {name}");
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("ims-core", |b| {
            b.iter_custom(|n| cpu_timed(n, || ours.parse(bytes)))
        });
        group.bench_function("ims-core+via+cseq", |b| {
            b.iter_custom(|n| cpu_timed(n, || ours.parse_typed(bytes)))
        });
        match rsip::SipMessage::try_from(bytes) {
            Ok(_) => group.bench_function("rsip", |b| {
                b.iter_custom(|n| {
                    cpu_timed(n, || rsip::SipMessage::try_from(black_box(bytes)).is_ok())
                })
            }),
            Err(error) => {
                eprintln!("{name}: rsip rejects it ({error}); no rsip bench");
                &mut group
            }
        };
        match rsipstack::sip::SipMessage::try_from(bytes) {
            Ok(_) => group.bench_function("rsipstack", |b| {
                b.iter_custom(|n| {
                    cpu_timed(n, || {
                        rsipstack::sip::SipMessage::try_from(black_box(bytes)).is_ok()
                    })
                })
            }),
            Err(error) => {
                eprintln!("{name}: rsipstack rejects it ({error}); no rsipstack bench");
                &mut group
            }
        };
        if name == "invite" {
            assert_eq!(
                HTTP_POST.len(),
                bytes.len(),
                "the HTTP request matches the INVITE's size"
            );
            group.bench_function("httparse-same-size-http", |b| {
                b.iter_custom(|n| {
                    cpu_timed(n, || {
                        let mut headers = [httparse::EMPTY_HEADER; 32];
                        let mut request = httparse::Request::new(&mut headers);
                        matches!(
                            request.parse(black_box(HTTP_POST)),
                            Ok(httparse::Status::Complete(_))
                        )
                    })
                })
            });
        }
        group.bench_function("memchr-lf-scan-floor", |b| {
            b.iter_custom(|n| cpu_timed(n, || memchr::memchr_iter(b'\n', black_box(bytes)).count()))
        });
        // The CRLF scan the issue measured as its floor (0.3-0.4 µs): memchr's substring
        // searcher for "\r\n", built once.
        let crlf = memchr::memmem::Finder::new(b"\r\n");
        group.bench_function("memchr-crlf-scan-floor", |b| {
            b.iter_custom(|n| cpu_timed(n, || crlf.find_iter(black_box(bytes)).count()))
        });
        group.finish();
    }
}

/// Builds an INVITE like data/invite.sip; returns its length.
fn write_invite(buffer: &mut Vec<u8>, sdp: &[u8]) -> usize {
    buffer.clear();
    let mut writer = MessageWriter::request(
        buffer,
        Method::Invite,
        "sip:+14155550123@ims.mnc001.mcc001.3gppnetwork.org;user=phone",
        WriteOptions::default(),
    );
    writer
        .header(
            HeaderName::Via,
            b"SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bK-524287-1---e5a1f2b3c4d5;rport",
        )
        .header_number(HeaderName::MaxForwards, 70)
        .header(HeaderName::Route, b"<sip:10.0.0.10:5060;lr>")
        .header(
            HeaderName::From,
            b"<sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=7d1e5a02",
        )
        .header(
            HeaderName::To,
            b"<sip:+14155550123@ims.mnc001.mcc001.3gppnetwork.org;user=phone>",
        )
        .header(HeaderName::CallId, b"6f2b9c0e3d4a5b6c@10.45.0.7")
        .header(HeaderName::CSeq, b"1 INVITE")
        .header(
            HeaderName::Contact,
            b"<sip:001010000000001@10.45.0.7:5060>;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"",
        )
        .header(
            HeaderName::PAccessNetworkInfo,
            b"3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=0010100010019B01",
        )
        .header(HeaderName::Supported, b"100rel,timer,sec-agree")
        .header(HeaderName::Allow, b"INVITE,ACK,CANCEL,BYE,UPDATE,PRACK,OPTIONS")
        .header(HeaderName::ContentType, b"application/sdp");
    writer.finish(sdp)
}

fn writer_group(c: &mut Criterion) {
    let invite = INPUTS[0].1;
    let body_at = memchr::memmem::find(invite, b"\r\n\r\n").expect("a header end") + 4;
    let sdp = &invite[body_at..];
    let mut buffer = Vec::with_capacity(2048);
    let length = write_invite(&mut buffer, sdp);
    assert_eq!(buffer, invite, "the writer reproduces data/invite.sip");
    let mut group = c.benchmark_group("writer");
    group.throughput(Throughput::Bytes(length as u64));
    group.bench_function("invite", |b| {
        b.iter_custom(|n| cpu_timed(n, || write_invite(&mut buffer, black_box(sdp))))
    });
    group.finish();
}

fn config() -> Criterion {
    // Bounded so the whole run takes a few minutes on a shared 2-core machine.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse_groups, writer_group
}
criterion_main!(benches);
