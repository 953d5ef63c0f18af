//! RFC 4475 torture messages (vectors/rfc4475, outcomes in its INDEX.md): valid ones parse
//! and give the values the RFC states; invalid ones are rejected at the layer the RFC
//! names (message parse, or the validation that decides 400/505).

use std::path::PathBuf;

use ims_core::sip::typed::{CSeq, CallId, Contact, ContentLength, From, MaxForwards, To, Via};
use ims_core::sip::{
    HeaderKind, InvalidReason, Limits, MessageWriter, Method, ParseErrorKind, RawHeader,
    SipMessage, StartLine, Uri, WriteOptions,
};

fn vector(path: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/rfc4475")
        .join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn parse<'a>(bytes: &'a [u8], slots: &'a mut [RawHeader]) -> SipMessage<'a> {
    SipMessage::parse_datagram(bytes, slots, &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("parse failed: {e}"))
}

fn parse_error(path: &str) -> ParseErrorKind {
    let bytes = vector(path);
    let mut slots = [RawHeader::EMPTY; 64];
    match SipMessage::parse_datagram(&bytes, &mut slots, &Limits::DEFAULT) {
        Ok(_) => panic!("{path}: parsed, but must be rejected by the parser"),
        Err(error) => error.kind,
    }
}

fn invalid_reason(path: &str) -> InvalidReason {
    let bytes = vector(path);
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    match message.validate() {
        Ok(()) => panic!("{path}: validated, but must be rejected"),
        Err(invalid) => invalid.reason,
    }
}

const VALID: &[&str] = &[
    "bcast",
    "bext01",
    "cparam01",
    "cparam02",
    "dblreq",
    "esc01",
    "esc02",
    "escnull",
    "intmeth",
    "inv2543",
    "invut",
    "longreq",
    "lwsdisp",
    "mpart01",
    "noreason",
    "novelsc",
    "regaut01",
    "regescrt",
    "sdp01",
    "semiuri",
    "transports",
    "unkscm",
    "unksm2",
    "unreason",
    "wsinv",
    "zeromf",
];

#[test]
fn every_valid_vector_parses_and_validates() {
    for name in VALID {
        let bytes = vector(&format!("valid/{name}.dat"));
        let mut slots = [RawHeader::EMPTY; 128];
        let message = parse(&bytes, &mut slots);
        message
            .validate()
            .unwrap_or_else(|e| panic!("{name}: validation failed: {e}"));
    }
}

/// §3.1.1.1: unusual white space, folding, case, and unknown headers.
#[test]
fn wsinv() {
    let bytes = vector("valid/wsinv.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    assert_eq!(message.method(), Some(Method::Invite));
    let to = message.header::<To>().unwrap().unwrap();
    assert!(to.display_name.is_none());
    assert_eq!(to.uri.as_str(), "sip:vivekg@chair-dnrc.example.com");
    assert_eq!(to.tag(), Some("1918181833n"));
    let from = message.header::<From>().unwrap().unwrap();
    let display = from.display_name.unwrap();
    assert_eq!(display.raw(), br#"J Rosenberg \\\""#);
    assert_eq!(&*display.unescaped(), br#"J Rosenberg \""#);
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(message.header::<MaxForwards>().unwrap().unwrap().0, 68);
    let cseq = message.header::<CSeq>().unwrap().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    assert_eq!(message.header::<ContentLength>().unwrap().unwrap().0, 150);
    assert_eq!(message.body().len(), 150);
    let vias: Vec<Via<'_>> = message.header_values::<Via>().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(
        vias.iter().map(|v| v.transport).collect::<Vec<_>>(),
        ["UDP", "TCP", "UDP"]
    );
    assert_eq!(vias[0].sent_by.host_str, "192.0.2.2");
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(vias[1].sent_by.host_str, "spindle.example.com");
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].sent_by.host_str, "192.168.255.111");
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    let contact = message.header::<Contact>().unwrap().unwrap();
    let address = contact.address().unwrap();
    assert_eq!(
        &*address.display_name.unwrap().unescaped(),
        br#"Quoted string """#
    );
    assert_eq!(address.params.value("newparam"), Some(Some("newvalue")));
    assert!(address.params.contains("secondparam"));
    assert_eq!(contact.q(), Some(330));
    let fangled = message.raw_named("newfangledheader").next().unwrap();
    assert!(fangled.starts_with(b"newfangled value"));
    assert!(fangled.ends_with(b"continued newfangled value"));
    assert_eq!(
        message.raw_named("UnknownHeaderWithUnusualValue").next(),
        Some(&b";;,,;;,;"[..])
    );
    assert_eq!(message.raw(HeaderKind::Subject), Some(&b""[..]));
    let route = message.raw(HeaderKind::Route).unwrap();
    assert_eq!(
        route,
        b"<sip:services.example.com;lr;unknownwith=value;unknown-no-value>"
    );
}

/// §3.1.1.2: unusual method, header names and values, UTF-8 display names.
#[test]
fn intmeth() {
    let bytes = vector("valid/intmeth.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    let method = message.method().unwrap();
    assert_eq!(
        method,
        Method::Other("!interesting-Method0123456789_*+`.%indeed'~")
    );
    let uri = Uri::parse(message.request_uri().unwrap()).unwrap();
    assert_eq!(
        uri.user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        uri.password(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    let to = message.header::<To>().unwrap().unwrap();
    assert_eq!(
        &*to.display_name.unwrap().unescaped(),
        b"BEL:\x07 NUL:\x00 DEL:\x7f"
    );
    let from = message.header::<From>().unwrap().unwrap();
    assert_eq!(
        from.display_name.unwrap().raw(),
        b"token1~` token2'+_ token3*%!.-"
    );
    assert_eq!(
        from.params.value("fromParam''~+*_!.-%"),
        Some(Some("работающий"))
    );
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        message.header::<CallId>().unwrap().unwrap().0,
        "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    );
    assert_eq!(message.header::<CSeq>().unwrap().unwrap().method, method);
    let extension = message
        .raw_named("extensionHeader-!.%*+_`'~")
        .next()
        .unwrap();
    assert_eq!(extension, "\u{feff}大停電".as_bytes());
}

/// §3.1.1.3: escapes in the Request-URI and URIs compare equal to unescaped forms.
#[test]
fn esc01() {
    let bytes = vector("valid/esc01.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    let uri = Uri::parse(message.request_uri().unwrap()).unwrap();
    assert_eq!(&*uri.user_unescaped().unwrap(), b"sips:user@example.com");
    let to = message.header::<To>().unwrap().unwrap();
    assert_eq!(&*to.uri.user_unescaped().unwrap(), b"user");
    assert!(
        to.uri
            .equivalent(&Uri::parse("sip:user@example.com").unwrap())
    );
    let from = message.header::<From>().unwrap().unwrap();
    assert_eq!(&*from.uri.user_unescaped().unwrap(), b"I have spaces");
    let contact = message.header::<Contact>().unwrap().unwrap();
    let contact_uri = contact.address().unwrap().uri;
    assert!(
        contact_uri.equivalent(
            &Uri::parse("sip:caller@host5.example.net;lr;name=value%25%34%31").unwrap()
        )
    );
}

/// §3.1.1.5: `%` that is not an escape, in method, header names and values.
#[test]
fn esc02() {
    let bytes = vector("valid/esc02.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    assert_eq!(message.method(), Some(Method::Other("RE%47IST%45R")));
    assert_eq!(
        message
            .header::<To>()
            .unwrap()
            .unwrap()
            .display_name
            .unwrap()
            .raw(),
        b"%Z%45"
    );
    // `C%6Fntact` is a different header, not Contact.
    assert_eq!(message.header_values::<Contact>().count(), 2);
    assert_eq!(message.raw_named("C%6Fntact").count(), 1);
}

/// §3.1.1.4: %00 in user parts must not truncate.
#[test]
fn escnull() {
    let bytes = vector("valid/escnull.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    let to = message.header::<To>().unwrap().unwrap();
    assert_eq!(&*to.uri.user_unescaped().unwrap(), b"null-\0-null");
    let contacts: Vec<_> = message
        .header_values::<Contact>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        &*contacts[1].address().unwrap().uri.user_unescaped().unwrap(),
        b"\0\0"
    );
}

/// §3.1.1.6, §3.1.1.9, §3.1.1.10, §3.1.1.13, §3.3.12, §3.3.13 and more, one line each.
#[test]
fn small_valid_cases() {
    let bytes = vector("valid/lwsdisp.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    assert_eq!(
        message
            .header::<From>()
            .unwrap()
            .unwrap()
            .display_name
            .unwrap()
            .raw(),
        b"caller"
    );

    let bytes = vector("valid/semiuri.dat");
    let message = parse(&bytes, &mut slots);
    let uri = Uri::parse(message.request_uri().unwrap()).unwrap();
    assert_eq!(uri.user(), Some("user;par=u%40example.net"));
    assert_eq!(uri.params_str(), "");

    let bytes = vector("valid/transports.dat");
    let message = parse(&bytes, &mut slots);
    let transports: Vec<_> = message
        .header_values::<Via>()
        .map(|v| v.unwrap().transport)
        .collect();
    assert_eq!(transports, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);

    let bytes = vector("valid/noreason.dat");
    let message = parse(&bytes, &mut slots);
    assert_eq!(
        (message.status(), message.reason()),
        (Some(100), Some(&b""[..]))
    );

    let bytes = vector("valid/unreason.dat");
    let message = parse(&bytes, &mut slots);
    assert_eq!(message.status(), Some(200));
    assert!(
        std::str::from_utf8(message.reason().unwrap())
            .unwrap()
            .contains("простое")
    );

    let bytes = vector("valid/cparam01.dat");
    let message = parse(&bytes, &mut slots);
    let contact = message.header::<Contact>().unwrap().unwrap();
    let address = contact.address().unwrap();
    assert!(address.params.contains("unknownparam"));
    assert_eq!(address.uri.params_str(), "");

    let bytes = vector("valid/cparam02.dat");
    let message = parse(&bytes, &mut slots);
    let contact = message.header::<Contact>().unwrap().unwrap();
    let address = contact.address().unwrap();
    assert!(address.params.is_empty());
    assert_eq!(address.uri.param("unknownparam"), Some(None));

    let bytes = vector("valid/unksm2.dat");
    let message = parse(&bytes, &mut slots);
    assert_eq!(
        message.header::<To>().unwrap().unwrap().uri.as_str(),
        "isbn:2983792873"
    );
    assert_eq!(
        message.header::<From>().unwrap().unwrap().uri.as_str(),
        "http://www.example.com"
    );

    let bytes = vector("valid/regescrt.dat");
    let message = parse(&bytes, &mut slots);
    let contact = message.header::<Contact>().unwrap().unwrap();
    assert!(contact.address().unwrap().uri.headers_str().is_some());

    let bytes = vector("valid/longreq.dat");
    let message = parse(&bytes, &mut slots);
    assert_eq!(message.header_values::<Via>().count(), 34);

    let bytes = vector("valid/inv2543.dat");
    let message = parse(&bytes, &mut slots);
    assert!(message.raw(HeaderKind::MaxForwards).is_none());
    assert!(
        !message
            .header::<Via>()
            .unwrap()
            .unwrap()
            .has_rfc3261_branch()
    );
    assert!(!message.body().is_empty());
}

/// §3.1.1.8: Content-Length 0 then another request in the same datagram.
#[test]
fn dblreq_takes_the_first_message_only() {
    let bytes = vector("valid/dblreq.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    assert!(message.body().is_empty());
    assert!(message.as_bytes().len() < bytes.len());
    assert_eq!(message.method(), Some(Method::Register));
}

#[test]
fn invalid_framing_and_start_lines_are_rejected_by_the_parser() {
    assert!(matches!(
        parse_error("invalid/clerr.dat"),
        ParseErrorKind::ContentLengthExceedsData { declared: 9999, .. }
    ));
    assert_eq!(
        parse_error("invalid/ncl.dat"),
        ParseErrorKind::InvalidContentLength
    );
    assert_eq!(
        parse_error("invalid/mcl01.dat"),
        ParseErrorKind::ConflictingContentLength {
            first: 13,
            second: 5
        }
    );
    assert_eq!(
        parse_error("invalid/ltgtruri.dat"),
        ParseErrorKind::InvalidRequestUri
    );
    assert_eq!(
        parse_error("invalid/lwsruri.dat"),
        ParseErrorKind::InvalidVersion
    );
    assert_eq!(
        parse_error("invalid/lwsstart.dat"),
        ParseErrorKind::InvalidRequestUri
    );
    assert_eq!(
        parse_error("invalid/trws.dat"),
        ParseErrorKind::InvalidVersion
    );
    assert_eq!(
        parse_error("invalid/bigcode.dat"),
        ParseErrorKind::InvalidStatusCode
    );
    // baddn.dat has no empty line after its headers.
    assert_eq!(parse_error("invalid/baddn.dat"), ParseErrorKind::Truncated);
    assert!(matches!(
        parse_error("unreferenced/test.dat"),
        ParseErrorKind::InvalidVersion | ParseErrorKind::InvalidStartLine
    ));
}

#[test]
fn invalid_headers_are_rejected_by_validation() {
    for (path, header) in [
        ("invalid/badinv01.dat", "Via"),
        ("invalid/scalar02.dat", "CSeq"),
        ("invalid/scalarlg.dat", "CSeq"),
        ("invalid/quotbal.dat", "To"),
        ("invalid/regbadct.dat", "Contact"),
        ("invalid/badaspec.dat", "To"),
    ] {
        match invalid_reason(path) {
            InvalidReason::MalformedHeader(error) => assert_eq!(error.header, header, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    // baddn with its missing empty line restored: the unquoted comma in From is refused.
    let mut bytes = vector("invalid/baddn.dat");
    bytes.extend_from_slice(b"\r\n");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    assert!(matches!(
        message.validate().unwrap_err().reason,
        InvalidReason::MalformedHeader(e) if e.header == "From"
    ));
    assert_eq!(
        invalid_reason("invalid/escruri.dat"),
        InvalidReason::RequestUriHeaders
    );
    assert_eq!(
        invalid_reason("invalid/mismatch01.dat"),
        InvalidReason::CSeqMethodMismatch
    );
    assert_eq!(
        invalid_reason("invalid/mismatch02.dat"),
        InvalidReason::CSeqMethodMismatch
    );
    assert_eq!(
        invalid_reason("invalid/insuf.dat"),
        InvalidReason::MissingHeader { header: "From" }
    );
    assert!(matches!(
        invalid_reason("invalid/multi01.dat"),
        InvalidReason::DuplicateHeader { .. }
    ));
}

#[test]
fn semantically_bad_messages_parse_and_get_the_right_status() {
    let bytes = vector("invalid/badvers.dat");
    let mut slots = [RawHeader::EMPTY; 64];
    let message = parse(&bytes, &mut slots);
    let invalid = message.validate().unwrap_err();
    assert_eq!(invalid.status, 505);
    assert_eq!(
        invalid.reason,
        InvalidReason::UnsupportedVersion { major: 7, minor: 0 }
    );

    // §3.2.1: a bare magic cookie is no RFC 3261 branch; the transaction layer falls back.
    let bytes = vector("invalid/badbranch.dat");
    let message = parse(&bytes, &mut slots);
    let via = message.header::<Via>().unwrap().unwrap();
    assert_eq!(via.branch(), Some("z9hG4bK"));
    assert!(!via.has_rfc3261_branch());

    // §3.1.2.12: a bad Date is ignored unless Date matters.
    let bytes = vector("invalid/baddate.dat");
    let message = parse(&bytes, &mut slots);
    assert!(message.validate().is_ok());
}

fn assert_same(a: &SipMessage<'_>, b: &SipMessage<'_>, name: &str) {
    match (a.start_line(), b.start_line()) {
        (
            StartLine::Request {
                method: m1,
                uri: u1,
                version: v1,
            },
            StartLine::Request {
                method: m2,
                uri: u2,
                version: v2,
            },
        ) => {
            assert_eq!((m1, u1, v1), (m2, u2, v2), "{name}");
        }
        (
            StartLine::Response {
                status: s1,
                reason: r1,
                version: v1,
            },
            StartLine::Response {
                status: s2,
                reason: r2,
                version: v2,
            },
        ) => {
            assert_eq!((s1, r1, v1), (s2, r2, v2), "{name}");
        }
        _ => panic!("{name}: start lines differ"),
    }
    let headers = |m: &SipMessage<'_>| {
        m.headers()
            .filter(|h| h.name.kind() != HeaderKind::ContentLength)
            .map(|h| (h.name.as_str().to_ascii_lowercase(), h.value.to_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(headers(a), headers(b), "{name}");
    assert_eq!(a.body(), b.body(), "{name}");
}

#[test]
fn valid_vectors_round_trip_through_the_writer() {
    for compact in [false, true] {
        let parseable_invalid = [
            "badinv01",
            "scalar02",
            "scalarlg",
            "quotbal",
            "escruri",
            "baddate",
            "regbadct",
            "badaspec",
            "badvers",
            "mismatch01",
            "mismatch02",
            "badbranch",
            "insuf",
            "multi01",
        ];
        let paths = VALID.iter().map(|name| format!("valid/{name}.dat")).chain(
            parseable_invalid
                .iter()
                .map(|name| format!("invalid/{name}.dat")),
        );
        for path in paths {
            let name = path.as_str();
            let bytes = vector(name);
            let mut slots = [RawHeader::EMPTY; 128];
            let message = parse(&bytes, &mut slots);
            let mut written = Vec::new();
            let length = MessageWriter::copy(&mut written, &message, WriteOptions { compact });
            assert_eq!(length, written.len());
            let mut slots2 = [RawHeader::EMPTY; 128];
            let again = SipMessage::parse_datagram(&written, &mut slots2, &Limits::DEFAULT)
                .unwrap_or_else(|e| panic!("{name}: written message does not parse: {e}"));
            assert_same(&message, &again, name);
        }
    }
}
