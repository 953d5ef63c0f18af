//! Typed header views, URIs (RFC 3261 §19.1.4 comparison), the writer, stream framing and
//! limits, through the public API.

use ims_core::sip::typed::{
    Allow, Authorization, CSeq, Contact, ContentType, Event, From, PAccessNetworkInfo,
    PAssociatedUri, PChargingVector, Path, RAck, RSeq, Require, SecurityClient, SecurityVerify,
    ServiceRoute, SubscriptionState, Supported, To, Via, WwwAuthenticate, XGroup,
};
use ims_core::sip::{
    Frame, HeaderKind, HeaderName, Host, Limits, MessageWriter, Method, ParseErrorKind, Parsed,
    RawHeader, Scheme, SipMessage, Uri, WriteOptions, frame_stream,
};

const REGISTER_200: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP [2001:db8::9:1]:5062;received=2001:db8::9:255;rport=5062;branch=z9hG4bKnashds7\r\n\
Path: <sip:term@pcscf.ims.test;lr>\r\n\
Service-Route: <sip:orig@scscf.ims.test;lr>, <sip:second@scscf.ims.test;lr>\r\n\
P-Associated-URI: <sip:alice@ims.test>, <tel:+1-212-555-1234>\r\n\
From: <sip:alice@ims.test>;tag=4fa3\r\n\
To: <sip:alice@ims.test>;tag=5ef4\r\n\
Call-ID: 1-2-3@[2001:db8::9:1]\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:alice@[2001:db8::9:1]:5062>;expires=600000;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";q=0.5\r\n\
Supported: path, gruu\r\nRequire: sec-agree\r\n\
Security-Verify: ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=1111; spi-s=2222; port-c=5062; port-s=5064\r\n\
P-Charging-Vector: icid-value=\"AyretyU0dm+6O2IrT5tAFrbHLso=\";icid-generated-at=192.0.6.8;orig-ioi=home1.net\r\n\
Allow: INVITE, ACK, BYE, MESSAGE\r\n\
Content-Length: 0\r\n\r\n";

fn with_message<R>(bytes: &[u8], f: impl FnOnce(&SipMessage<'_>) -> R) -> R {
    let mut slots = [RawHeader::EMPTY; 64];
    let message = SipMessage::parse_datagram(bytes, &mut slots, &Limits::DEFAULT).unwrap();
    f(&message)
}

#[test]
fn ims_registration_response_headers() {
    with_message(REGISTER_200, |m| {
        assert_eq!(m.status(), Some(200));
        let via = m.header::<Via>().unwrap().unwrap();
        assert_eq!(
            via.sent_by.host,
            Host::Ipv6("2001:db8::9:1".parse().unwrap())
        );
        assert_eq!(via.sent_by.port, Some(5062));
        assert_eq!(via.received(), Some("2001:db8::9:255"));
        assert_eq!(via.rport(), Some(Some(5062)));
        assert!(via.has_rfc3261_branch());
        let path = m.header::<Path>().unwrap().unwrap();
        assert_eq!(path.uri.param("lr"), Some(None));
        let routes: Vec<_> = m
            .header_values::<ServiceRoute>()
            .map(|r| r.unwrap().uri.as_str())
            .collect();
        assert_eq!(
            routes,
            ["sip:orig@scscf.ims.test;lr", "sip:second@scscf.ims.test;lr"]
        );
        let associated: Vec<_> = m
            .header_values::<PAssociatedUri>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(associated[1].uri.scheme(), Scheme::Tel);
        assert_eq!(associated[1].uri.user(), Some("+1-212-555-1234"));
        let contact = m.header::<Contact>().unwrap().unwrap();
        assert_eq!(contact.expires(), Some(600_000));
        assert_eq!(
            contact.instance(),
            Some("<urn:gsma:imei:35209900-176148-0>")
        );
        assert_eq!(contact.q(), Some(500));
        assert_eq!(contact.address().unwrap().uri.port(), Some(5062));
        let supported: Vec<_> = m
            .header_values::<Supported>()
            .map(|s| s.unwrap().0.0)
            .collect();
        assert_eq!(supported, ["path", "gruu"]);
        assert_eq!(m.header::<Require>().unwrap().unwrap().0.0, "sec-agree");
        let verify = m.header::<SecurityVerify>().unwrap().unwrap();
        assert_eq!(verify.mechanism, "ipsec-3gpp");
        assert_eq!((verify.spi_c(), verify.spi_s()), (Some(1111), Some(2222)));
        assert_eq!((verify.port_c(), verify.port_s()), (Some(5062), Some(5064)));
        assert_eq!(verify.q(), Some(100));
        assert_eq!(verify.alg(), Some("hmac-sha-1-96"));
        let charging = m.header::<PChargingVector>().unwrap().unwrap();
        assert_eq!(charging.icid_value, "AyretyU0dm+6O2IrT5tAFrbHLso=");
        assert_eq!(charging.orig_ioi(), Some("home1.net"));
        assert_eq!(charging.icid_generated_at(), Some("192.0.6.8"));
        let allow: Vec<_> = m.header_values::<Allow>().map(|a| a.unwrap().0).collect();
        assert_eq!(
            allow,
            [Method::Invite, Method::Ack, Method::Bye, Method::Message]
        );
        assert!(m.validate().is_ok());
    });
}

#[test]
fn authentication_headers() {
    let bytes = b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"ims.test\", nonce=\"CjPk9mRqNuT25eRkajM09uTl9nM09uTl9nMz5OX25PZz==\", qop=\"auth,auth-int\", algorithm=AKAv1-MD5, stale=TRUE, opaque=\"5ccc\"\r\n\
l: 0\r\n\r\n";
    with_message(bytes, |m| {
        let challenge = m.header::<WwwAuthenticate>().unwrap().unwrap();
        assert!(challenge.is_digest());
        assert_eq!(challenge.realm(), Some("ims.test"));
        assert_eq!(challenge.algorithm(), Some("AKAv1-MD5"));
        assert_eq!(
            challenge.qop_options().collect::<Vec<_>>(),
            ["auth", "auth-int"]
        );
        assert!(challenge.stale());
        assert_eq!(challenge.opaque(), Some("5ccc"));
    });
    let request = b"REGISTER sip:ims.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@ims.test>;tag=1\r\nTo: <sip:a@ims.test>\r\nCall-ID: x\r\nCSeq: 2 REGISTER\r\n\
Authorization: Digest username=\"alice@ims.test\", realm=\"ims.test\", nonce=\"abc\", uri=\"sip:ims.test\", response=\"\", algorithm=AKAv1-MD5, qop=auth, nc=0000000a, cnonce=\"0a4f113b\", auts=\"CjPk9mRqNuT25eRkajM09uTl\"\r\n\
P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=2344500000001\r\n\
Security-Client: ipsec-3gpp; alg=hmac-md5-96; spi-c=23456789; spi-s=12345678; port-c=2468; port-s=1357, tls; q=0.2\r\n\
Event: reg;id=7\r\nSubscription-State: terminated;reason=deactivated;retry-after=30\r\nRSeq: 988789\r\nRAck: 776656 1 INVITE\r\n\
Content-Type: application/reginfo+xml;charset=\"UTF-8\"\r\n\
X-Group: \"Friends\" <sip:friends@ims.test>\r\n\
Content-Length: 0\r\n\r\n";
    with_message(request, |m| {
        let credentials = m.header::<Authorization>().unwrap().unwrap();
        assert_eq!(credentials.scheme, "Digest");
        assert_eq!(credentials.username(), Some("alice@ims.test"));
        assert_eq!(credentials.response(), Some(""));
        assert_eq!(credentials.nc(), Some(10));
        assert_eq!(credentials.qop(), Some("auth"));
        assert_eq!(credentials.auts(), Some("CjPk9mRqNuT25eRkajM09uTl"));
        let access = m.header::<PAccessNetworkInfo>().unwrap().unwrap();
        assert_eq!(access.access_type, "3GPP-E-UTRAN-FDD");
        assert_eq!(
            access.params.value("utran-cell-id-3gpp"),
            Some(Some("2344500000001"))
        );
        let clients: Vec<_> = m
            .header_values::<SecurityClient>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(clients.len(), 2);
        assert_eq!(clients[0].spi_c(), Some(23_456_789));
        assert_eq!((clients[1].mechanism, clients[1].q()), ("tls", Some(200)));
        let event = m.header::<Event>().unwrap().unwrap();
        assert_eq!((event.package, event.id()), ("reg", Some("7")));
        let state = m.header::<SubscriptionState>().unwrap().unwrap();
        assert_eq!(state.state, "terminated");
        assert_eq!(state.reason(), Some("deactivated"));
        assert_eq!(state.retry_after(), Some(30));
        assert_eq!(m.header::<RSeq>().unwrap().unwrap().0, 988_789);
        let rack = m.header::<RAck>().unwrap().unwrap();
        assert_eq!(
            (rack.rseq, rack.cseq, rack.method),
            (776_656, 1, Method::Invite)
        );
        let content_type = m.header::<ContentType>().unwrap().unwrap();
        assert!(content_type.is("application", "reginfo+xml"));
        assert_eq!(content_type.params.value("charset"), Some(Some("UTF-8")));
        let group = m.header::<XGroup>().unwrap().unwrap();
        assert_eq!(group.display_name.unwrap().raw(), b"Friends");
        assert_eq!(group.uri.as_str(), "sip:friends@ims.test");
        assert!(m.validate().is_ok());
    });
}

#[test]
fn missing_and_malformed_headers_stay_distinct() {
    let bytes = b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: x OPTIONS\r\nl: 0\r\n\r\n";
    with_message(bytes, |m| {
        assert!(m.header::<Via>().is_none());
        let error = m.header::<CSeq>().unwrap().unwrap_err();
        assert_eq!(error.header, "CSeq");
        assert_eq!(error.offset, 0);
        assert!(error.to_string().contains("CSeq"));
    });
}

#[test]
fn uri_parsing_and_comparison() {
    let uri = Uri::parse(
        "sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=project%20x&priority=urgent",
    )
    .unwrap();
    assert_eq!(uri.scheme(), Scheme::Sips);
    assert_eq!(
        (uri.user(), uri.password()),
        (Some("alice"), Some("secret"))
    );
    assert_eq!(uri.host(), Some(Host::Ipv6("2001:db8::1".parse().unwrap())));
    assert_eq!(uri.port(), Some(5061));
    assert_eq!(uri.param("TRANSPORT"), Some(Some("tcp")));
    assert_eq!(
        uri.headers_str(),
        Some("subject=project%20x&priority=urgent")
    );

    let equal = |a: &str, b: &str| Uri::parse(a).unwrap().equivalent(&Uri::parse(b).unwrap());
    // RFC 3261 §19.1.4: equivalent pairs.
    assert!(equal(
        "sip:%61lice@atlanta.com;transport=TCP",
        "sip:alice@AtLanTa.CoM;Transport=tcp"
    ));
    assert!(equal(
        "sip:carol@chicago.com",
        "sip:carol@chicago.com;newparam=5"
    ));
    assert!(equal(
        "sip:carol@chicago.com;security=on",
        "sip:carol@chicago.com;newparam=5"
    ));
    assert!(equal(
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
    ));
    assert!(equal(
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
    ));
    // ... and the pairs that are not.
    assert!(!equal(
        "SIP:ALICE@AtLanTa.CoM;Transport=udp",
        "sip:alice@AtLanTa.CoM;Transport=UDP"
    ));
    assert!(!equal("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
    assert!(!equal(
        "sip:bob@biloxi.com",
        "sip:bob@biloxi.com;transport=udp"
    ));
    assert!(!equal(
        "sip:bob@biloxi.com",
        "sip:bob@biloxi.com:6000;transport=tcp"
    ));
    assert!(!equal(
        "sip:carol@chicago.com",
        "sip:carol@chicago.com?Subject=next%20meeting"
    ));
    assert!(!equal(
        "sip:bob@phone21.boxesbybob.com",
        "sip:bob@192.0.2.4"
    ));
    assert!(!equal(
        "sip:carol@chicago.com;security=on",
        "sip:carol@chicago.com;security=off"
    ));
    assert!(!equal("sip:a@b", "sips:a@b"));
    // A reserved character and its escape differ in the user part.
    assert!(!equal("sip:a%3Bb@h", "sip:a;b@h"));
    // Found by fuzzing: a repeated parameter must not make a URI differ from itself.
    let repeated = Uri::parse("sip:07ORsFE90@IIiOR;t=tsenOR;t=ts").unwrap();
    assert!(repeated.equivalent(&repeated));
    // tel: visual separators do not matter (RFC 3966 §4).
    assert!(equal("tel:+1-201-555-0123", "tel:+1.201.555.0123"));
    assert!(!equal("tel:+1-201-555-0123", "tel:+1-201-555-0124"));

    for bad in [
        "",
        "sip:",
        "sip:@host",
        "sip:host:99999",
        "sip:a@[::1",
        "sip:a b@host",
        "noscheme",
        "sip:h;%zz",
        "<sip:a@b>",
    ] {
        assert!(Uri::parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn response_to_copies_the_request_and_adds_a_to_tag() {
    let request = b"MESSAGE sip:bob@ims.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa;rport=5070\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKb\r\n\
Max-Forwards: 69\r\nFrom: \"Alice\" <sip:alice@ims.test>;tag=a1\r\nTo: <sip:bob@ims.test>\r\n\
Call-ID: c1\r\nCSeq: 7 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    with_message(request, |m| {
        let mut buffer = b"previous bytes stay".to_vec();
        let mut writer = MessageWriter::response_to(
            &mut buffer,
            m,
            200,
            "OK",
            Some("b2"),
            WriteOptions::default(),
        );
        writer.header(HeaderName::Server, b"ims-rs");
        let length = writer.finish(b"");
        assert!(buffer.starts_with(b"previous bytes stay"));
        let written = &buffer[buffer.len() - length..];
        let expected: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa;rport=5070\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKb\r\n\
From: \"Alice\" <sip:alice@ims.test>;tag=a1\r\nTo: <sip:bob@ims.test>;tag=b2\r\n\
Call-ID: c1\r\nCSeq: 7 MESSAGE\r\nServer: ims-rs\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            std::str::from_utf8(written).unwrap(),
            std::str::from_utf8(expected).unwrap()
        );
        with_message(written, |response| {
            assert_eq!(response.header::<To>().unwrap().unwrap().tag(), Some("b2"));
            assert!(response.validate().is_ok());
        });
    });
}

#[test]
fn writer_compact_form_and_content_length() {
    let mut buffer = Vec::new();
    let mut writer = MessageWriter::request(
        &mut buffer,
        Method::Message,
        "sip:bob@ims.test",
        WriteOptions { compact: true },
    );
    writer
        .header(HeaderName::Via, b"SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK9")
        .header(HeaderName::From, b"<sip:alice@ims.test>;tag=1")
        .header(HeaderName::To, b"<sip:bob@ims.test>")
        .header(HeaderName::CallId, b"k")
        .header(HeaderName::CSeq, b"1 MESSAGE")
        .header_number(HeaderName::MaxForwards, 70)
        .header(HeaderName::ContentLength, b"999")
        .header(HeaderName::Other("X-Custom"), b"yes");
    writer.finish("héllo".as_bytes());
    let text = std::str::from_utf8(&buffer).unwrap();
    assert_eq!(
        text,
        "MESSAGE sip:bob@ims.test SIP/2.0\r\nv: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK9\r\nf: <sip:alice@ims.test>;tag=1\r\nt: <sip:bob@ims.test>\r\ni: k\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nX-Custom: yes\r\nl: 6\r\n\r\nhéllo"
    );
    let mut slots = [RawHeader::EMPTY; 16];
    match SipMessage::parse(&buffer, &mut slots, &Limits::DEFAULT).unwrap() {
        Parsed::Complete { message, length } => {
            assert_eq!(length, buffer.len());
            assert_eq!(message.body(), "héllo".as_bytes());
            assert!(message.header::<From>().unwrap().is_ok());
        }
        Parsed::Incomplete => panic!("incomplete"),
    }
}

#[test]
fn stream_parse_and_framing_handle_partial_and_pipelined_input() {
    let one = b"MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 5\r\n\r\nhello";
    let mut stream = Vec::new();
    stream.extend_from_slice(b"\r\n\r\n");
    stream.extend_from_slice(one);
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(one);
    let limits = Limits::DEFAULT;
    // Every prefix is either incomplete or frames the same first message.
    for cut in 0..stream.len() {
        let prefix = &stream[..cut];
        match frame_stream(prefix, &limits).unwrap() {
            Frame::Incomplete => {}
            Frame::KeepAlive { length } => assert!(length == 4 || (length == 2 && cut == 2)),
            Frame::Message { .. } => {
                panic!("message framed from {cut} bytes, which hold a keep-alive first")
            }
        }
        let mut slots = [RawHeader::EMPTY; 8];
        let after_ping = prefix.get(4..).unwrap_or(&[]);
        match SipMessage::parse(after_ping, &mut slots, &limits).unwrap() {
            Parsed::Incomplete => assert!(after_ping.len() < one.len()),
            Parsed::Complete { length, message } => {
                assert_eq!(length, one.len());
                assert_eq!(message.body(), b"hello");
            }
        }
    }
    let mut offset = 0;
    let mut frames = Vec::new();
    while offset < stream.len() {
        match frame_stream(&stream[offset..], &limits).unwrap() {
            Frame::KeepAlive { length } => {
                frames.push(("keep-alive", length));
                offset += length;
            }
            Frame::Message { length } => {
                frames.push(("message", length));
                offset += length;
            }
            Frame::Incomplete => panic!("incomplete at {offset}"),
        }
    }
    assert_eq!(
        frames,
        [
            ("keep-alive", 4),
            ("message", one.len()),
            ("keep-alive", 2),
            ("message", one.len())
        ]
    );
    // A stream message without Content-Length cannot be framed (RFC 3261 §18.3).
    let no_length = b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
    assert_eq!(
        frame_stream(no_length, &limits).unwrap_err().kind,
        ParseErrorKind::MissingContentLength
    );
    let mut slots = [RawHeader::EMPTY; 8];
    assert_eq!(
        SipMessage::parse(no_length, &mut slots, &limits)
            .unwrap_err()
            .kind,
        ParseErrorKind::MissingContentLength
    );
}

#[test]
fn limits_are_enforced_with_errors_naming_them() {
    let limits = Limits {
        max_message_size: 200,
        max_headers: 3,
        max_header_line: 40,
        max_uri_length: 20,
    };
    let mut slots = [RawHeader::EMPTY; 16];
    let many = b"OPTIONS sip:a@b SIP/2.0\r\nP1: 1\r\nP2: 2\r\nP3: 3\r\nP4: 4\r\nl: 0\r\n\r\n";
    let error = SipMessage::parse_datagram(many, &mut slots, &limits).unwrap_err();
    assert_eq!(error.kind, ParseErrorKind::TooManyHeaders { limit: 3 });
    assert_eq!(error.header.unwrap().as_str(), "P4");
    assert!(error.to_string().contains("more than 3 headers"), "{error}");

    let long = b"OPTIONS sip:a@b SIP/2.0\r\nSubject: this subject line is far longer than forty bytes\r\nl: 0\r\n\r\n";
    let error = SipMessage::parse_datagram(long, &mut slots, &limits).unwrap_err();
    assert_eq!(error.kind, ParseErrorKind::HeaderTooLong { limit: 40 });
    assert_eq!(error.header.unwrap().as_str(), "Subject");
    assert_eq!(error.offset, 25);

    let uri = b"OPTIONS sip:a-very-long-user-name@example.com SIP/2.0\r\nl: 0\r\n\r\n";
    let error = SipMessage::parse_datagram(uri, &mut slots, &limits).unwrap_err();
    assert_eq!(error.kind, ParseErrorKind::UriTooLong { limit: 20 });

    let big = [
        b"OPTIONS sip:a@b SIP/2.0\r\nl: 300\r\n\r\n".as_slice(),
        &[b'x'; 300],
    ]
    .concat();
    let error = SipMessage::parse_datagram(&big, &mut slots, &limits).unwrap_err();
    assert_eq!(error.kind, ParseErrorKind::MessageTooLarge { limit: 200 });
    // On a stream, an endless header block is refused once it passes the limit.
    let endless = [b"OPTIONS sip:a@b SIP/2.0\r\nX: ".as_slice(), &[b'y'; 400]].concat();
    let error = SipMessage::parse(&endless, &mut slots, &limits).unwrap_err();
    assert_eq!(error.kind, ParseErrorKind::MessageTooLarge { limit: 200 });
    assert_eq!(
        frame_stream(&endless, &limits).unwrap_err().kind,
        ParseErrorKind::MessageTooLarge { limit: 200 }
    );
    // Fewer slots than the limit: the slots are the limit.
    let mut two = [RawHeader::EMPTY; 2];
    let error = SipMessage::parse_datagram(many, &mut two, &Limits::DEFAULT).unwrap_err();
    assert_eq!(error.kind, ParseErrorKind::TooManyHeaders { limit: 2 });
}

#[test]
fn header_names_ignore_case_and_map_compact_forms() {
    for (wire, kind) in [
        ("i", HeaderKind::CallId),
        ("M", HeaderKind::Contact),
        ("e", HeaderKind::ContentEncoding),
        ("l", HeaderKind::ContentLength),
        ("c", HeaderKind::ContentType),
        ("f", HeaderKind::From),
        ("s", HeaderKind::Subject),
        ("k", HeaderKind::Supported),
        ("t", HeaderKind::To),
        ("v", HeaderKind::Via),
        ("o", HeaderKind::Event),
        ("u", HeaderKind::AllowEvents),
        ("r", HeaderKind::ReferTo),
        ("b", HeaderKind::ReferredBy),
        ("x", HeaderKind::SessionExpires),
        ("y", HeaderKind::Identity),
        ("a", HeaderKind::AcceptContact),
        ("j", HeaderKind::RejectContact),
        ("d", HeaderKind::RequestDisposition),
        ("cAlL-iD", HeaderKind::CallId),
        ("p-associated-uri", HeaderKind::PAssociatedUri),
        ("q", HeaderKind::Other),
        ("X-Unknown", HeaderKind::Other),
    ] {
        assert_eq!(HeaderKind::lookup(wire.as_bytes()), kind, "{wire}");
    }
    assert_eq!(HeaderName::from_wire("X-Foo"), HeaderName::Other("x-foo"));
    assert_ne!(HeaderName::from_wire("X-Foo"), HeaderName::Other("x-bar"));
    assert_eq!(HeaderName::from_wire("v").as_str(), "Via");
}

#[test]
fn from_with_display_name_forms() {
    for (value, display) in [
        (
            &b"Alice <sip:alice@ims.test>;tag=1"[..],
            Some(&b"Alice"[..]),
        ),
        (
            b"\"Alice Smith\"<sip:alice@ims.test>;tag=1",
            Some(b"Alice Smith"),
        ),
        (b"<sip:alice@ims.test>;tag=1", None),
        (b"sip:alice@ims.test;tag=1", None),
    ] {
        let mut request = b"OPTIONS sip:a@b SIP/2.0\r\nFrom: ".to_vec();
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\nl: 0\r\n\r\n");
        with_message(&request, |m| {
            let from = m.header::<From>().unwrap().unwrap();
            assert_eq!(from.display_name.map(|d| d.raw()), display);
            assert_eq!(from.tag(), Some("1"));
            assert_eq!(from.uri.as_str(), "sip:alice@ims.test");
        });
    }
}
