//! Robustness of the message layer: no input panics the parser or any typed view
//! (proptest and a truncate/flip sweep over the RFC 4475 vectors), and generated
//! messages round-trip through the writer.

use ims_core::sip::typed::*;
use ims_core::sip::{
    HeaderName, Limits, MessageWriter, Method, Parsed, RawHeader, SipMessage, Uri, WriteOptions,
    frame_stream,
};
use proptest::prelude::*;

/// Touches every typed view of a message, so that a panic anywhere would surface.
fn exercise(message: &SipMessage<'_>) {
    fn all<'a, T: TypedHeader<'a> + 'a>(message: &SipMessage<'a>) {
        for value in message.header_values::<T>() {
            std::hint::black_box(value.is_ok());
        }
    }
    all::<Via>(message);
    all::<From>(message);
    all::<To>(message);
    all::<Contact>(message);
    all::<Route>(message);
    all::<RecordRoute>(message);
    all::<Path>(message);
    all::<ServiceRoute>(message);
    all::<PAssociatedUri>(message);
    all::<PAssertedIdentity>(message);
    all::<PPreferredIdentity>(message);
    all::<XGroup>(message);
    all::<CSeq>(message);
    all::<CallId>(message);
    all::<MaxForwards>(message);
    all::<ContentLength>(message);
    all::<ContentType>(message);
    all::<Expires>(message);
    all::<MinExpires>(message);
    all::<WwwAuthenticate>(message);
    all::<ProxyAuthenticate>(message);
    all::<Authorization>(message);
    all::<ProxyAuthorization>(message);
    all::<Supported>(message);
    all::<Require>(message);
    all::<ProxyRequire>(message);
    all::<Unsupported>(message);
    all::<Allow>(message);
    all::<Event>(message);
    all::<SubscriptionState>(message);
    all::<RSeq>(message);
    all::<RAck>(message);
    all::<PAccessNetworkInfo>(message);
    all::<PChargingVector>(message);
    all::<SecurityClient>(message);
    all::<SecurityServer>(message);
    all::<SecurityVerify>(message);
    for contact in message.header_values::<Contact>().flatten() {
        let _ = (contact.q(), contact.expires(), contact.instance());
        if let Some(address) = contact.address() {
            let _ = (
                address.uri.user_unescaped(),
                address.display_name.map(|d| d.to_text()),
            );
            let _ = address.params.iter().count();
        }
    }
    for via in message.header_values::<Via>().flatten() {
        let _ = (
            via.branch(),
            via.rport(),
            via.ttl(),
            via.received(),
            via.maddr(),
        );
    }
    for challenge in message.header_values::<WwwAuthenticate>().flatten() {
        let _ = (
            challenge.qop_options().count(),
            challenge.stale(),
            challenge.nonce(),
        );
    }
    if let Some(uri) = message.request_uri().and_then(|u| Uri::parse(u).ok()) {
        let _ = (
            uri.params().count(),
            uri.user_unescaped(),
            uri.equivalent(&uri),
        );
    }
    let _ = message.validate();
    // A message that parsed, written again, parses to the same start line and body.
    let mut written = Vec::new();
    MessageWriter::copy(&mut written, message, WriteOptions::default());
    // One slot more than `feed` gives: the copy adds Content-Length when it was missing.
    let mut slots = [RawHeader::EMPTY; 65];
    let again = SipMessage::parse_datagram(&written, &mut slots, &Limits::DEFAULT)
        .expect("a written message parses");
    assert_eq!(again.start_line(), message.start_line());
    assert_eq!(again.body(), message.body());
    assert_eq!(
        again.header_count(),
        message.header_count()
            - message
                .raw_all(ims_core::sip::HeaderKind::ContentLength)
                .count()
            + 1
    );
}

fn feed(bytes: &[u8]) {
    let limits = Limits::DEFAULT;
    let mut slots = [RawHeader::EMPTY; 64];
    if let Ok(message) = SipMessage::parse_datagram(bytes, &mut slots, &limits) {
        exercise(&message);
    }
    if let Ok(Parsed::Complete { message, length }) = SipMessage::parse(bytes, &mut slots, &limits)
    {
        assert!(length <= bytes.len());
        exercise(&message);
    }
    // Framing and parsing agree on where a stream message ends.
    if let Ok(ims_core::sip::Frame::Message { length }) = frame_stream(bytes, &limits) {
        match SipMessage::parse(&bytes[..length], &mut slots, &limits) {
            Ok(Parsed::Complete { length: parsed, .. }) => assert_eq!(parsed, length),
            other => panic!("framed {length} bytes, parse gave {other:?}"),
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(uri) = Uri::parse(text)
    {
        assert!(uri.equivalent(&uri), "{text:?} differs from itself");
    }
}

fn vectors() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc4475");
    let mut out = Vec::new();
    for folder in ["valid", "invalid", "unreferenced"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            out.push(std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
    assert_eq!(out.len(), 50);
    out
}

/// Inputs the fuzzers found (core/fuzz/seeds/regression-*): each once broke an invariant.
#[test]
fn fuzz_regressions() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut found = 0;
    for entry in std::fs::read_dir(seeds).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("regression-")
        {
            feed(&std::fs::read(&path).unwrap());
            found += 1;
        }
    }
    assert!(found >= 3);
}

/// STYLE §7 no-panic sweep: every vector truncated at every length, and with each byte
/// replaced by a few troublesome values.
#[test]
fn truncated_and_flipped_vectors_never_panic() {
    for vector in vectors() {
        for cut in 0..=vector.len() {
            feed(&vector[..cut]);
        }
        let mut mutated = vector.clone();
        for i in 0..vector.len() {
            for replacement in [b'\n', b' ', b';', b',', b'"', b'<', b'%', 0xff] {
                mutated[i] = replacement;
                feed(&mutated);
            }
            mutated[i] = vector[i];
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        feed(&bytes);
    }

    #[test]
    fn sip_shaped_bytes_never_panic(
        lines in proptest::collection::vec("[A-Za-z:;,<>\" =@.%\\-\\[\\]0-9]{0,40}", 0..12),
        body in "[a-z\r\n]{0,20}",
    ) {
        let mut bytes = b"INVITE sip:a@b SIP/2.0\r\n".to_vec();
        for line in &lines {
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(body.as_bytes());
        feed(&bytes);
    }

    /// parse(write(m)) == m for generated requests.
    #[test]
    fn generated_requests_round_trip(
        method in "[A-Z]{3,10}",
        user in "[a-z0-9]{1,12}",
        host in "[a-z]{1,10}(\\.[a-z]{2,5}){0,2}",
        headers in proptest::collection::vec(("X-[A-Za-z0-9-]{1,12}", "[ -~]{0,30}"), 0..20),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        compact in any::<bool>(),
    ) {
        let uri = format!("sip:{user}@{host}");
        let mut buffer = Vec::new();
        let mut writer = MessageWriter::request(&mut buffer, Method::from_token(&method), &uri, WriteOptions { compact });
        writer.header(HeaderName::Via, b"SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx");
        let trimmed: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.clone(), value.trim_matches([' ', '\t']).to_string()))
            .collect();
        for (name, value) in &trimmed {
            writer.header(HeaderName::Other(name), value.as_bytes());
        }
        let length = writer.finish(&body);
        prop_assert_eq!(length, buffer.len());
        let mut slots = [RawHeader::EMPTY; 32];
        let message = SipMessage::parse_datagram(&buffer, &mut slots, &Limits::DEFAULT).unwrap();
        prop_assert_eq!(message.method().map(|m| m.as_str().to_string()), Some(method.clone()));
        prop_assert_eq!(message.request_uri(), Some(uri.as_str()));
        prop_assert_eq!(message.body(), &body[..]);
        let parsed: Vec<(String, Vec<u8>)> = message
            .headers()
            .skip(1)
            .filter(|h| h.name != HeaderName::ContentLength)
            .map(|h| (h.name.as_str().to_string(), h.value.to_vec()))
            .collect();
        let expected: Vec<(String, Vec<u8>)> = trimmed
            .into_iter()
            .map(|(n, v)| (n, v.into_bytes()))
            .collect();
        prop_assert_eq!(parsed, expected);
        // And the stream parser sees the same single message.
        let mut slots = [RawHeader::EMPTY; 32];
        match SipMessage::parse(&buffer, &mut slots, &Limits::DEFAULT).unwrap() {
            Parsed::Complete { length, .. } => prop_assert_eq!(length, buffer.len()),
            Parsed::Incomplete => prop_assert!(false, "incomplete"),
        }
    }
}
