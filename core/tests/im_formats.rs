//! The IM body formats (`ims_core::im`): CPIM (RFC 3862), IMDN (RFC 5438), resource lists
//! (RFC 4826/5365), multipart/mixed (RFC 2046) and the X-Group header. RFC examples, round
//! trips with non-ASCII text, limits, hostile input, and the client fan-out body.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ims_core::im::cpim::{self, Address, CpimError, CpimHead, Disposition};
use ims_core::im::datetime;
use ims_core::im::group::{self, GroupError};
use ims_core::im::imdn::{self, ImdnError, Kind, Notification, Status};
use ims_core::im::multipart::{self, MultipartError, OutgoingPart};
use ims_core::im::resource_lists::{self, CopyControl, Entry, ResourceListsError};
use ims_core::sip::Uri;
use proptest::prelude::*;

/// 2026-05-13T10:00:00Z.
fn may_13() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_778_666_400)
}

// ---------------------------------------------------------------- CPIM

/// RFC 3862 §5.1, the example message. The RFC marks each line with `m:` (MIME headers
/// of the enclosing protocol: in SIP, the `Content-Type: message/cpim` header), `h:`
/// (message headers) and `e:` (the encapsulated content); the markers and the `m:` line
/// are left out, so the body starts at the message headers, as a SIP body does.
const RFC3862_EXAMPLE: &str = "From: MR SANDERS <im:piglet@100akerwood.com>\r\n\
To: Depressed Donkey <im:eeyore@100akerwood.com>\r\n\
DateTime: 2000-12-13T13:40:00-08:00\r\n\
Subject: the weather will be fine today\r\n\
Subject:;lang=fr beau temps prevu pour aujourd'hui\r\n\
NS: MyFeatures <mid:MessageFeatures@id.foo.com>\r\n\
Require: MyFeatures.VitalMessageOption\r\n\
MyFeatures.VitalMessageOption: Confirmation-requested\r\n\
MyFeatures.WackyMessageOption: Use-silly-font\r\n\
\r\n\
Content-type: text/xml; charset=utf-8\r\n\
Content-ID: <1234567890@foo.com>\r\n\
\r\n\
<body>\r\n\
Here is the text of my message.\r\n\
</body>\r\n";

#[test]
fn rfc3862_section_5_1_example() {
    let message = cpim::parse(RFC3862_EXAMPLE.as_bytes()).unwrap();
    let from = message.from.as_ref().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("MR SANDERS"));
    assert_eq!(from.uri, "im:piglet@100akerwood.com");
    assert_eq!(message.to.len(), 1);
    assert_eq!(
        message.to[0].display_name.as_deref(),
        Some("Depressed Donkey")
    );
    assert_eq!(message.to[0].uri, "im:eeyore@100akerwood.com");
    assert_eq!(message.datetime, Some("2000-12-13T13:40:00-08:00"));
    // 13:40 at -08:00 is 21:40 UTC.
    assert_eq!(
        message.sent_at(),
        Some(Ok(UNIX_EPOCH + Duration::from_secs(976_743_600)))
    );
    assert_eq!(message.message_id, None);
    assert_eq!(message.disposition, Disposition::NONE);
    assert_eq!(message.headers.len(), 9);
    let french = &message.headers[4];
    assert_eq!(
        (french.name, french.params, french.value),
        ("Subject", ";lang=fr", "beau temps prevu pour aujourd'hui")
    );
    assert_eq!(french.namespace, Some(cpim::DEFAULT_NAMESPACE));
    let vital = &message.headers[7];
    assert_eq!(vital.prefix, Some("MyFeatures"));
    assert_eq!(vital.name, "VitalMessageOption");
    assert_eq!(vital.namespace, Some("mid:MessageFeatures@id.foo.com"));
    assert_eq!(vital.value, "Confirmation-requested");
    assert!(vital.is("mid:MessageFeatures@id.foo.com", "VitalMessageOption"));
    // The message requires a feature this module does not implement.
    assert_eq!(
        message.unsupported_required(),
        Some("MyFeatures.VitalMessageOption")
    );
    // MIME header names ignore case ("Content-type").
    assert_eq!(message.content_type(), Some("text/xml; charset=utf-8"));
    assert_eq!(
        message.content_header("content-id"),
        Some("<1234567890@foo.com>")
    );
    assert_eq!(
        message.body,
        b"<body>\r\nHere is the text of my message.\r\n</body>\r\n"
    );
    // Everything borrows the body.
    assert!(matches!(from.display_name, Some(Cow::Borrowed(_))));
}

/// RFC 5438 §7.1.1: a message asking for delivery and display notifications, in the
/// shape of the RFC's example (header order and values as there; the blank line between
/// the message headers and the content headers as RFC 3862 §2 requires).
const RFC5438_REQUEST: &str = "From: Alice <im:alice@example.com>\r\n\
To: Bob <im:bob@example.com>\r\n\
NS: imdn <urn:ietf:params:imdn>\r\n\
imdn.Message-ID: 34jk324j\r\n\
DateTime: 2006-04-04T12:16:49-05:00\r\n\
imdn.Disposition-Notification: positive-delivery, display\r\n\
\r\n\
Content-type: text/plain\r\n\
Content-length: 12\r\n\
\r\n\
Hello World\n";

#[test]
fn rfc5438_request_example() {
    let message = cpim::parse(RFC5438_REQUEST.as_bytes()).unwrap();
    assert_eq!(message.message_id, Some("34jk324j"));
    assert_eq!(
        message.disposition,
        Disposition {
            positive_delivery: true,
            display: true,
            ..Disposition::NONE
        }
    );
    assert_eq!(message.from.as_ref().unwrap().uri, "im:alice@example.com");
    assert_eq!(message.content_type(), Some("text/plain"));
    assert_eq!(message.body, b"Hello World\n");
    assert_eq!(message.unsupported_required(), None);
}

#[test]
fn cpim_namespaces_are_honoured() {
    // Any prefix bound to the IMDN namespace works; an undeclared prefix means nothing.
    let other_prefix = "From: <sip:a@ims.test>\r\nNS: x <urn:ietf:params:imdn>\r\n\
x.Message-ID: abc\r\nx.Disposition-Notification: positive-delivery\r\n\r\n\
Content-Type: text/plain\r\n\r\nhi";
    let message = cpim::parse(other_prefix.as_bytes()).unwrap();
    assert_eq!(message.message_id, Some("abc"));
    assert!(message.disposition.positive_delivery);

    let undeclared = "From: <sip:a@ims.test>\r\nimdn.Message-ID: abc\r\n\r\n\
Content-Type: text/plain\r\n\r\nhi";
    let message = cpim::parse(undeclared.as_bytes()).unwrap();
    assert_eq!(message.message_id, None);
    assert_eq!(message.headers[1].namespace, None);
    assert_eq!(message.headers[1].value, "abc");

    // Header names are case sensitive (RFC 3862 §3.1): `from` is an unknown header.
    let lower = "from: <sip:a@ims.test>\r\n\r\nContent-Type: text/plain\r\n\r\nhi";
    let message = cpim::parse(lower.as_bytes()).unwrap();
    assert_eq!(message.from, None);
    assert_eq!(message.headers[0].name, "from");
}

fn head<'a>(from: Address<'a>, to: Address<'a>) -> CpimHead<'a> {
    CpimHead {
        from,
        to,
        datetime: may_13(),
        message_id: "m-0001",
        disposition: Disposition::POSITIVE_DELIVERY,
        content_type: "text/plain;charset=UTF-8",
        content_headers: &[],
    }
}

#[test]
fn cpim_written_bytes_and_round_trip() {
    let mut out = Vec::new();
    let head = head(
        Address::new(Some("Zoë \"Z\" Ångström"), "sip:zoe@ims.test"),
        Address::new(Some("山田 太郎"), "sip:taro@ims.test"),
    );
    cpim::write(&mut out, &head, "Grüße aus Köln 👋".as_bytes()).unwrap();
    let expected = "From: \"Zoë \\\"Z\\\" Ångström\" <sip:zoe@ims.test>\r\n\
To: \"山田 太郎\" <sip:taro@ims.test>\r\n\
DateTime: 2026-05-13T10:00:00Z\r\n\
NS: imdn <urn:ietf:params:imdn>\r\n\
imdn.Message-ID: m-0001\r\n\
imdn.Disposition-Notification: positive-delivery\r\n\
\r\n\
Content-Type: text/plain;charset=UTF-8\r\n\
\r\n\
Grüße aus Köln 👋";
    assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);

    let message = cpim::parse(&out).unwrap();
    assert_eq!(message.from.as_ref(), Some(&head.from));
    assert_eq!(message.to, vec![head.to.clone()]);
    assert_eq!(message.sent_at(), Some(Ok(may_13())));
    assert_eq!(message.message_id, Some("m-0001"));
    assert_eq!(message.disposition, Disposition::POSITIVE_DELIVERY);
    assert_eq!(message.content_type(), Some("text/plain;charset=UTF-8"));
    assert_eq!(message.body, "Grüße aus Köln 👋".as_bytes());
    assert_eq!(message.unsupported_required(), None);
}

#[test]
fn cpim_without_display_names_or_disposition() {
    let mut out = Vec::new();
    let mut head = head(
        Address::new(None, "sip:a@ims.test"),
        Address::new(Some(""), "sip:b@ims.test"),
    );
    head.disposition = Disposition::NONE;
    head.content_headers = &[("Content-Disposition", "render")];
    cpim::write(&mut out, &head, b"").unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("From: <sip:a@ims.test>\r\nTo: <sip:b@ims.test>\r\n"));
    assert!(!text.contains("Disposition-Notification"));
    let message = cpim::parse(&out).unwrap();
    assert_eq!(message.from.as_ref().unwrap().display_name, None);
    assert_eq!(message.disposition, Disposition::NONE);
    assert_eq!(
        message.content_header("Content-Disposition"),
        Some("render")
    );
    assert_eq!(message.body, b"");
}

#[test]
fn cpim_escapes_in_display_names() {
    let body = "From: \"tab\\there \\u00e9\\\\ \\\"q\\\"\" <sip:a@ims.test>\r\n\r\n\
Content-Type: text/plain\r\n\r\n";
    let message = cpim::parse(body.as_bytes()).unwrap();
    assert_eq!(
        message.from.as_ref().unwrap().display_name.as_deref(),
        Some("tab\there é\\ \"q\"")
    );
}

#[test]
fn cpim_content_headers_fold() {
    let body = "From: <sip:a@ims.test>\r\n\r\nContent-Type: text/plain;\r\n charset=UTF-8\r\n\r\nx";
    let message = cpim::parse(body.as_bytes()).unwrap();
    assert_eq!(
        message.content_type(),
        Some("text/plain;\r\n charset=UTF-8")
    );
    assert_eq!(message.body, b"x");
}

#[test]
fn cpim_refuses_bad_input() {
    let cases: &[(&str, CpimError)] = &[
        (
            "From: <sip:a@ims.test>\r\nFrom: <sip:b@ims.test>\r\n\r\nContent-Type: a/b\r\n\r\n",
            CpimError::Duplicate { header: "From" },
        ),
        (
            "From: <sip:a@ims.test>\r\n\r\nContent-Type: text/plain\r\n",
            CpimError::Truncated {
                section: "content headers",
            },
        ),
        (
            "From: <sip:a@ims.test>",
            CpimError::Truncated {
                section: "message headers",
            },
        ),
        (
            "From: sip:a@ims.test\r\n\r\n\r\n",
            CpimError::InvalidAddress { header: "From" },
        ),
        (
            "From: \"unterminated <sip:a@ims.test>\r\n\r\n\r\n",
            CpimError::InvalidAddress { header: "From" },
        ),
        (
            "From <sip:a@ims.test>\r\n\r\n\r\n",
            CpimError::UnexpectedByte {
                offset: 4,
                found: b' ',
            },
        ),
        (
            " From: <sip:a@ims.test>\r\n\r\n\r\n",
            CpimError::UnexpectedByte {
                offset: 0,
                found: b' ',
            },
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(cpim::parse(body.as_bytes()), Err(*expected), "{body:?}");
    }
    let not_utf8 = b"From: <sip:a@ims.test>\r\nSubject: \xff\r\n\r\n\r\n".to_vec();
    assert_eq!(
        cpim::parse(&not_utf8),
        Err(CpimError::InvalidUtf8 { offset: 33 })
    );

    let oversize = vec![b'a'; cpim::MAX_SIZE + 1];
    assert_eq!(
        cpim::parse(&oversize),
        Err(CpimError::TooLarge { what: "size" })
    );
    let many: String = (0..=cpim::MAX_HEADERS)
        .map(|i| format!("X-{i}: v\r\n"))
        .chain(["\r\nContent-Type: a/b\r\n\r\n".to_owned()])
        .collect();
    assert_eq!(
        cpim::parse(many.as_bytes()),
        Err(CpimError::TooLarge { what: "headers" })
    );
}

#[test]
fn cpim_writer_refuses_what_it_cannot_write() {
    let good = head(
        Address::new(None, "sip:a@ims.test"),
        Address::new(None, "sip:b@ims.test"),
    );
    let mut bad_uri = good.clone();
    bad_uri.to = Address::new(None, "sip:b@ims.test> evil");
    let mut bad_id = good.clone();
    bad_id.message_id = "two words";
    let mut bad_type = good.clone();
    bad_type.content_type = "text/plain\r\nX-Injected: 1";
    let mut bad_header = good.clone();
    bad_header.content_headers = &[("Content-ID", "a\nb")];
    for (head, field) in [
        (bad_uri, "To"),
        (bad_id, "Message-ID"),
        (bad_type, "Content-Type"),
        (bad_header, "content header value"),
    ] {
        let mut out = b"kept".to_vec();
        assert_eq!(
            cpim::write(&mut out, &head, b"x"),
            Err(CpimError::InvalidValue { field })
        );
        assert_eq!(out, b"kept");
    }
}

// ---------------------------------------------------------------- IMDN

/// RFC 5438 §7.2.1.1: the delivery notification of the example message.
const RFC5438_DELIVERED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n\
  <message-id>34jk324j</message-id>\r\n\
  <datetime>2008-04-04T12:16:49-05:00</datetime>\r\n\
  <recipient-uri>im:bob@example.com</recipient-uri>\r\n\
  <original-recipient-uri>im:bob@example.com</original-recipient-uri>\r\n\
  <delivery-notification>\r\n\
    <status>\r\n\
      <delivered/>\r\n\
    </status>\r\n\
  </delivery-notification>\r\n\
</imdn>\r\n";

#[test]
fn rfc5438_delivery_notification_example() {
    let notification = imdn::parse(RFC5438_DELIVERED.as_bytes()).unwrap();
    assert_eq!(notification.message_id, "34jk324j");
    assert_eq!(notification.datetime, "2008-04-04T12:16:49-05:00");
    assert_eq!(
        notification.recipient_uri.as_deref(),
        Some("im:bob@example.com")
    );
    assert_eq!(
        notification.original_recipient_uri.as_deref(),
        Some("im:bob@example.com")
    );
    assert_eq!(notification.kind, Kind::Delivery);
    assert_eq!(notification.status, Status::Delivered);
    assert_eq!(
        notification.sent_at(),
        Ok(UNIX_EPOCH + Duration::from_secs(1_207_329_409))
    );
    assert!(matches!(notification.message_id, Cow::Borrowed(_)));
}

#[test]
fn imdn_written_bytes_and_round_trip() {
    let delivered = Notification::delivery(
        "m-0001",
        "2026-05-13T10:00:00Z",
        "sip:bob@ims.test",
        Status::Delivered,
    );
    let mut out = Vec::new();
    imdn::write(&mut out, &delivered).unwrap();
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n \
<message-id>m-0001</message-id>\r\n \
<datetime>2026-05-13T10:00:00Z</datetime>\r\n \
<recipient-uri>sip:bob@ims.test</recipient-uri>\r\n \
<delivery-notification><status><delivered/></status></delivery-notification>\r\n\
</imdn>\r\n";
    assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);
    assert_eq!(imdn::parse(&out).unwrap(), delivered);

    let mut failed = Notification::delivery(
        "a&b<c>",
        "2026-05-13T10:00:00Z",
        "sip:bob@ims.test",
        Status::Failed,
    );
    failed.original_recipient_uri = Some(Cow::Borrowed("sip:friends@ims.test"));
    let mut out = Vec::new();
    imdn::write(&mut out, &failed).unwrap();
    assert!(String::from_utf8_lossy(&out).contains("<message-id>a&amp;b&lt;c&gt;</message-id>"));
    assert_eq!(imdn::parse(&out).unwrap(), failed);
}

#[test]
fn imdn_cpim_envelope() {
    let notification = Notification::delivery(
        "m-0001",
        "2026-05-13T10:00:00Z",
        "sip:bob@ims.test",
        Status::Delivered,
    );
    let mut out = Vec::new();
    imdn::write_cpim(
        &mut out,
        Address::new(Some("Bob"), "sip:bob@ims.test"),
        Address::new(Some("Alice"), "sip:alice@ims.test"),
        may_13() + Duration::from_secs(1),
        "n-0001",
        &notification,
    )
    .unwrap();
    let message = cpim::parse(&out).unwrap();
    assert!(imdn::is_notification(&message));
    assert_eq!(message.content_type(), Some(imdn::CONTENT_TYPE));
    assert_eq!(
        message.content_header("Content-Disposition"),
        Some("notification")
    );
    assert_eq!(message.message_id, Some("n-0001"));
    assert_eq!(message.datetime, Some("2026-05-13T10:00:01Z"));
    assert_eq!(message.from.as_ref().unwrap().uri, "sip:bob@ims.test");
    // A notification never asks for notifications (RFC 5438 §7.2.1.1).
    assert_eq!(message.disposition, Disposition::NONE);
    assert_eq!(imdn::parse(message.body).unwrap(), notification);

    let plain = cpim::parse(RFC5438_REQUEST.as_bytes()).unwrap();
    assert!(!imdn::is_notification(&plain));
}

#[test]
fn imdn_refuses_bad_documents() {
    let wrong_namespace = RFC5438_DELIVERED.replace("urn:ietf:params:xml:ns:imdn", "urn:x");
    assert_eq!(
        imdn::parse(wrong_namespace.as_bytes()),
        Err(ImdnError::NotImdn)
    );
    let no_status = RFC5438_DELIVERED.replace("<delivered/>", "<displayed/>");
    assert_eq!(
        imdn::parse(no_status.as_bytes()),
        Err(ImdnError::Missing { element: "status" })
    );
    let no_id = RFC5438_DELIVERED.replace("<message-id>34jk324j</message-id>", "");
    assert_eq!(
        imdn::parse(no_id.as_bytes()),
        Err(ImdnError::Missing {
            element: "message-id"
        })
    );
    let truncated = &RFC5438_DELIVERED[..RFC5438_DELIVERED.len() - 10];
    assert!(matches!(
        imdn::parse(truncated.as_bytes()),
        Err(ImdnError::Xml { .. })
    ));
    let entity = RFC5438_DELIVERED.replace("34jk324j", "&unknown;");
    assert!(matches!(
        imdn::parse(entity.as_bytes()),
        Err(ImdnError::Xml { .. })
    ));
    let oversize = vec![b' '; imdn::MAX_SIZE + 1];
    assert_eq!(
        imdn::parse(&oversize),
        Err(ImdnError::TooLarge { what: "size" })
    );
    let deep = format!(
        "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">{}",
        "<x>".repeat(imdn::MAX_DEPTH)
    );
    assert_eq!(
        imdn::parse(deep.as_bytes()),
        Err(ImdnError::TooLarge { what: "depth" })
    );

    let mismatched = Notification {
        kind: Kind::Delivery,
        status: Status::Displayed,
        ..Notification::delivery("m", "d", "sip:b@ims.test", Status::Delivered)
    };
    let mut out = Vec::new();
    assert_eq!(
        imdn::write(&mut out, &mismatched),
        Err(ImdnError::InvalidValue { field: "status" })
    );
    assert!(out.is_empty());
}

// ---------------------------------------------------------------- resource lists

#[test]
fn rfc4826_section_3_3_example() {
    let body = include_bytes!("vectors/xml/resource-lists-rfc4826.xml");
    let lists = resource_lists::parse(body).unwrap();
    assert_eq!(lists.lists.len(), 2);
    let friends = &lists.lists[0];
    assert_eq!(friends.name.as_deref(), Some("friends"));
    assert_eq!(friends.parent, None);
    assert_eq!(friends.display_name, None);
    assert_eq!(
        friends.entries,
        vec![Entry::new("sip:bill@example.com", Some("Bill Doe"))]
    );
    let close = &lists.lists[1];
    assert_eq!(close.name.as_deref(), Some("close-friends"));
    assert_eq!(close.parent, Some(0));
    assert_eq!(close.display_name.as_deref(), Some("Close Friends"));
    assert_eq!(
        close.entries,
        vec![
            Entry::new("sip:joe@example.com", Some("Joe Smith")),
            Entry::new("sip:nancy@example.com", Some("Nancy Gross")),
        ]
    );
    // One entry-ref and one external, counted, not resolved ("Marketing" is the
    // external's name, not the list's).
    assert_eq!(lists.references, 2);
    assert_eq!(lists.entries().count(), 3);
}

/// RFC 5365 §4.1: a recipient list with copy control, in the shape of the RFC's example.
const RFC5365_LIST: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"\r\n\
    xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\">\r\n\
  <list>\r\n\
    <entry uri=\"sip:bill@example.com\" cp:copyControl=\"to\" />\r\n\
    <entry uri=\"sip:randy@example.net\" cp:copyControl=\"to\"/>\r\n\
    <entry uri=\"sip:joe@example.org\" cp:copyControl=\"cc\"/>\r\n\
    <entry uri=\"sip:ted@example.net\" cp:copyControl=\"bcc\"/>\r\n\
  </list>\r\n\
</resource-lists>\r\n";

#[test]
fn rfc5365_copy_control() {
    let lists = resource_lists::parse(RFC5365_LIST.as_bytes()).unwrap();
    let controls: Vec<(&str, Option<CopyControl>)> = lists
        .entries()
        .map(|e| (e.uri.as_ref(), e.copy_control))
        .collect();
    assert_eq!(
        controls,
        vec![
            ("sip:bill@example.com", Some(CopyControl::To)),
            ("sip:randy@example.net", Some(CopyControl::To)),
            ("sip:joe@example.org", Some(CopyControl::Cc)),
            ("sip:ted@example.net", Some(CopyControl::Bcc)),
        ]
    );
    // The attribute counts only in its namespace, whatever the prefix.
    let other_prefix = RFC5365_LIST
        .replace("cp:", "q:")
        .replace("xmlns:cp", "xmlns:q");
    let lists = resource_lists::parse(other_prefix.as_bytes()).unwrap();
    assert_eq!(
        lists.entries().next().unwrap().copy_control,
        Some(CopyControl::To)
    );
    let unprefixed = RFC5365_LIST.replace("cp:copyControl", "copyControl");
    let lists = resource_lists::parse(unprefixed.as_bytes()).unwrap();
    assert!(lists.entries().all(|e| e.copy_control.is_none()));
}

fn members() -> Vec<Entry<'static>> {
    let mut members = vec![
        Entry::new("sip:alice@ims.test", Some("Alice")),
        Entry::new("sip:bob@ims.test", Some("Bøb \"the builder\" <&>")),
        Entry::new("sip:carol@ims.test", Some("キャロル")),
        Entry::new("sip:dave@ims.test;x=\"1\"&y", None),
    ];
    for member in &mut members {
        member.copy_control = Some(CopyControl::To);
    }
    members
}

#[test]
fn resource_lists_written_bytes_and_round_trip() {
    let members = members();
    let mut out = Vec::new();
    resource_lists::write(&mut out, Some("Friends & Family"), &members[..2]).unwrap();
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\" \
xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\">\r\n \
<list>\r\n  \
<display-name>Friends &amp; Family</display-name>\r\n  \
<entry uri=\"sip:alice@ims.test\" cp:copyControl=\"to\"><display-name>Alice</display-name></entry>\r\n  \
<entry uri=\"sip:bob@ims.test\" cp:copyControl=\"to\"><display-name>Bøb \"the builder\" &lt;&amp;&gt;</display-name></entry>\r\n \
</list>\r\n\
</resource-lists>\r\n";
    assert_eq!(String::from_utf8(out).unwrap(), expected);

    let mut out = Vec::new();
    resource_lists::write(&mut out, Some("Freunde 👋"), &members).unwrap();
    let lists = resource_lists::parse(&out).unwrap();
    assert_eq!(lists.lists.len(), 1);
    assert_eq!(lists.lists[0].display_name.as_deref(), Some("Freunde 👋"));
    assert_eq!(lists.lists[0].entries, members);

    // Without copy control the namespace is not declared.
    let plain = [Entry::new("sip:a@ims.test", None)];
    let mut out = Vec::new();
    resource_lists::write(&mut out, None, &plain).unwrap();
    assert!(!String::from_utf8_lossy(&out).contains("copycontrol"));
    assert_eq!(resource_lists::parse(&out).unwrap().lists[0].entries, plain);
}

#[test]
fn resource_lists_limits() {
    let many: Vec<String> = (0..=resource_lists::MAX_ENTRIES)
        .map(|i| format!("sip:member{i}@ims.test"))
        .collect();
    let entries: Vec<Entry<'_>> = many.iter().map(|uri| Entry::new(uri, None)).collect();
    let mut out = Vec::new();
    assert_eq!(
        resource_lists::write(&mut out, None, &entries),
        Err(ResourceListsError::TooLarge { what: "entries" })
    );
    assert!(out.is_empty());
    // Exactly the limit parses; one more is refused.
    resource_lists::write(&mut out, None, &entries[..resource_lists::MAX_ENTRIES]).unwrap();
    assert_eq!(
        resource_lists::parse(&out).unwrap().entries().count(),
        resource_lists::MAX_ENTRIES
    );
    let one_more = String::from_utf8(out)
        .unwrap()
        .replace(" </list>", "<entry uri=\"sip:x@ims.test\"/></list>");
    assert_eq!(
        resource_lists::parse(one_more.as_bytes()),
        Err(ResourceListsError::TooLarge { what: "entries" })
    );

    let deep = format!(
        "<resource-lists xmlns=\"{}\">{}",
        resource_lists::NAMESPACE,
        "<list>".repeat(resource_lists::MAX_DEPTH)
    );
    assert_eq!(
        resource_lists::parse(deep.as_bytes()),
        Err(ResourceListsError::TooLarge { what: "depth" })
    );
    let oversize = vec![b' '; resource_lists::MAX_SIZE + 1];
    assert_eq!(
        resource_lists::parse(&oversize),
        Err(ResourceListsError::TooLarge { what: "size" })
    );
    let long_name = format!(
        "<resource-lists xmlns=\"{}\"><list><entry uri=\"sip:a@b\"><display-name>{}</display-name></entry></list></resource-lists>",
        resource_lists::NAMESPACE,
        "x".repeat(resource_lists::MAX_TEXT + 1)
    );
    assert_eq!(
        resource_lists::parse(long_name.as_bytes()),
        Err(ResourceListsError::TooLarge { what: "text" })
    );
}

#[test]
fn resource_lists_refuses_bad_documents() {
    let ns = resource_lists::NAMESPACE;
    assert_eq!(
        resource_lists::parse(b"<resource-lists><list/></resource-lists>"),
        Err(ResourceListsError::NotResourceLists)
    );
    assert_eq!(
        resource_lists::parse(b""),
        Err(ResourceListsError::NotResourceLists)
    );
    let no_uri = format!("<resource-lists xmlns=\"{ns}\"><list><entry/></list></resource-lists>");
    assert_eq!(
        resource_lists::parse(no_uri.as_bytes()),
        Err(ResourceListsError::MissingUri)
    );
    let unclosed = format!("<resource-lists xmlns=\"{ns}\"><list>");
    assert!(matches!(
        resource_lists::parse(unclosed.as_bytes()),
        Err(ResourceListsError::Xml { .. })
    ));
    let two_roots = format!("<resource-lists xmlns=\"{ns}\"/><resource-lists xmlns=\"{ns}\"/>");
    assert!(matches!(
        resource_lists::parse(two_roots.as_bytes()),
        Err(ResourceListsError::Xml { .. })
    ));
    // Elements of other namespaces are skipped with their content.
    let foreign = format!(
        "<resource-lists xmlns=\"{ns}\" xmlns:o=\"urn:other\"><list><o:entry uri=\"sip:no@x\"/>\
<entry uri=\"sip:yes@x\"><o:display-name>No</o:display-name></entry></list></resource-lists>"
    );
    let lists = resource_lists::parse(foreign.as_bytes()).unwrap();
    assert_eq!(lists.lists[0].entries, vec![Entry::new("sip:yes@x", None)]);
    let mut out = Vec::new();
    assert_eq!(
        resource_lists::write(&mut out, None, &[Entry::new("sip:a\n@x", None)]),
        Err(ResourceListsError::InvalidUri { index: 0 })
    );
}

// ---------------------------------------------------------------- multipart

/// RFC 2046 §5.1.1, the example body (its headers are the mail's; the Content-Type here
/// is the one it gives).
const RFC2046_CONTENT_TYPE: &str = "multipart/mixed; boundary=\"simple boundary\"";
const RFC2046_BODY: &str = "This is the preamble.  It is to be ignored, though it\r\n\
is a handy place for composition agents to include an\r\n\
explanatory note to non-MIME conformant readers.\r\n\
\r\n\
--simple boundary\r\n\
\r\n\
This is implicitly typed plain US-ASCII text.\r\n\
It does NOT end with a linebreak.\r\n\
--simple boundary\r\n\
Content-type: text/plain; charset=us-ascii\r\n\
\r\n\
This is explicitly typed plain US-ASCII text.\r\n\
It DOES end with a linebreak.\r\n\
\r\n\
--simple boundary--\r\n\
\r\n\
This is the epilogue.  It is also to be ignored.\r\n";

#[test]
fn rfc2046_section_5_1_1_example() {
    let parts = multipart::parse(RFC2046_CONTENT_TYPE.as_bytes(), RFC2046_BODY.as_bytes()).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].raw_headers, "");
    assert_eq!(parts[0].content_type(), "text/plain");
    assert_eq!(
        parts[0].body,
        b"This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak."
    );
    assert_eq!(parts[1].content_type(), "text/plain; charset=us-ascii");
    assert_eq!(
        parts[1].body,
        b"This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"
    );
}

#[test]
fn multipart_written_bytes_and_round_trip() {
    let parts = [
        OutgoingPart {
            content_type: "text/plain;charset=UTF-8",
            headers: &[],
            body: "Hallo zusammen! 👋".as_bytes(),
        },
        OutgoingPart {
            content_type: "application/octet-stream",
            headers: &[
                ("Content-ID", "<p2@ims.test>"),
                ("Content-Disposition", "attachment"),
            ],
            body: b"\r\n--not-the-boundary\r\n\x00\xff",
        },
    ];
    let mut content_type = Vec::new();
    multipart::write_content_type(&mut content_type, "b0undary").unwrap();
    assert_eq!(content_type, b"multipart/mixed;boundary=b0undary");
    let mut out = Vec::new();
    multipart::write(&mut out, "b0undary", &parts).unwrap();
    let mut expected = b"--b0undary\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\n".to_vec();
    expected.extend_from_slice("Hallo zusammen! 👋".as_bytes());
    expected.extend_from_slice(
        b"\r\n--b0undary\r\nContent-Type: application/octet-stream\r\n\
Content-ID: <p2@ims.test>\r\nContent-Disposition: attachment\r\n\r\n\
\r\n--not-the-boundary\r\n\x00\xff\r\n--b0undary--\r\n",
    );
    assert_eq!(out, expected);

    let parsed = multipart::parse(&content_type, &out).unwrap();
    assert_eq!(parsed.len(), 2);
    for (parsed, written) in parsed.iter().zip(&parts) {
        assert_eq!(parsed.content_type(), written.content_type);
        assert_eq!(parsed.body, written.body);
    }
    let headers: Vec<(&str, &str)> = parsed[1].headers().collect();
    assert_eq!(
        headers,
        vec![
            ("Content-Type", "application/octet-stream"),
            ("Content-ID", "<p2@ims.test>"),
            ("Content-Disposition", "attachment"),
        ]
    );
    assert_eq!(parsed[1].header("content-id"), Some("<p2@ims.test>"));

    // A boundary that is not a token is quoted.
    let mut quoted = Vec::new();
    multipart::write_content_type(&mut quoted, "a b:c").unwrap();
    assert_eq!(quoted, b"multipart/mixed;boundary=\"a b:c\"");
    assert_eq!(multipart::boundary(&quoted).unwrap(), b"a b:c");
}

#[test]
fn multipart_is_lenient_where_rfc_2046_allows() {
    // Bare LF line ends, transport padding after delimiters, a look-alike delimiter
    // inside a part, a folded header, a nested multipart left whole.
    let body = "preamble\n--xyz  \t\nContent-Type: text/plain;\n charset=UTF-8\n\nline one\n\
--xyzzy is not a delimiter\n--xyz\nContent-Type: multipart/alternative;boundary=inner\n\n\
--inner\n\nnested\n--inner--\n--xyz-- \nepilogue";
    let parts = multipart::parse(b"Multipart/Mixed; boundary=xyz", body.as_bytes()).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].content_type(), "text/plain;\n charset=UTF-8");
    assert_eq!(parts[0].body, b"line one\n--xyzzy is not a delimiter");
    assert_eq!(
        parts[1].content_type(),
        "multipart/alternative;boundary=inner"
    );
    assert_eq!(parts[1].body, b"--inner\n\nnested\n--inner--");
    // A part with headers only, and an empty part.
    let parts = multipart::parse(
        b"multipart/mixed;boundary=q",
        b"--q\r\nContent-Type: a/b\r\n--q\r\n--q--",
    )
    .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!((parts[0].content_type(), parts[0].body), ("a/b", &b""[..]));
    assert_eq!((parts[1].raw_headers, parts[1].body), ("", &b""[..]));
}

#[test]
fn multipart_refuses_bad_input() {
    let content_type = b"multipart/mixed;boundary=q";
    let cases: &[(&[u8], &[u8], MultipartError)] = &[
        (
            b"text/plain",
            b"--q\r\n\r\nx\r\n--q--",
            MultipartError::NotMultipart,
        ),
        (
            b"multipart/mixed",
            b"--q\r\n\r\nx\r\n--q--",
            MultipartError::MissingBoundary,
        ),
        (
            b"multipart/mixed;boundary=\"\"",
            b"",
            MultipartError::InvalidBoundary,
        ),
        (content_type, b"no delimiter", MultipartError::NoParts),
        (content_type, b"--q--\r\n", MultipartError::NoParts),
        (
            content_type,
            b"--q\r\n\r\nx\r\n--q\r\n\r\ny",
            MultipartError::Unterminated,
        ),
        (
            content_type,
            b"--q\r\nno colon\r\n\r\nx\r\n--q--",
            MultipartError::MalformedHeader { part: 0, offset: 5 },
        ),
    ];
    for (content_type, body, expected) in cases {
        assert_eq!(
            multipart::parse(content_type, body),
            Err(*expected),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let too_many: Vec<u8> = (0..=multipart::MAX_PARTS)
        .flat_map(|_| b"--q\r\n\r\nx\r\n".iter().copied())
        .chain(b"--q--".iter().copied())
        .collect();
    assert_eq!(
        multipart::parse(content_type, &too_many),
        Err(MultipartError::TooLarge { what: "parts" })
    );
    let oversize = vec![b'-'; multipart::MAX_SIZE + 1];
    assert_eq!(
        multipart::parse(content_type, &oversize),
        Err(MultipartError::TooLarge { what: "size" })
    );

    let mut out = Vec::new();
    let part = |body: &'static [u8]| OutgoingPart {
        content_type: "text/plain",
        headers: &[],
        body,
    };
    assert_eq!(
        multipart::write(&mut out, "q", &[part(b"a\r\n--q--\r\n")]),
        Err(MultipartError::InvalidPart {
            part: 0,
            what: "its content contains the boundary"
        })
    );
    assert_eq!(
        multipart::write(&mut out, "bad\"boundary", &[part(b"a")]),
        Err(MultipartError::InvalidBoundary)
    );
    assert_eq!(
        multipart::write(&mut out, &"x".repeat(71), &[part(b"a")]),
        Err(MultipartError::InvalidBoundary)
    );
    assert!(out.is_empty());
}

// ---------------------------------------------------------------- X-Group

#[test]
fn x_group_written_and_parsed() {
    let uri = Uri::parse("sip:friends@ims.test").unwrap();
    let mut out = Vec::new();
    group::write_x_group(&mut out, "Friends", &uri);
    assert_eq!(out, b"\"Friends\" <sip:friends@ims.test>");
    let parsed = group::parse_x_group(&out).unwrap();
    assert_eq!(parsed.name.as_deref(), Some("Friends"));
    assert_eq!(parsed.uri, "sip:friends@ims.test");

    let mut out = Vec::new();
    group::write_x_group(&mut out, "Die \"Wilden\" \\ Kerle — Grüße 🎉", &uri);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "\"Die \\\"Wilden\\\" \\\\ Kerle — Grüße 🎉\" <sip:friends@ims.test>"
    );
    assert_eq!(
        group::parse_x_group(&out).unwrap().name.as_deref(),
        Some("Die \"Wilden\" \\ Kerle — Grüße 🎉")
    );

    // A line break cannot be carried: it becomes a space.
    let mut out = Vec::new();
    group::write_x_group(&mut out, "a\r\nX-Evil: 1", &uri);
    assert_eq!(out, b"\"a  X-Evil: 1\" <sip:friends@ims.test>");

    let bare = group::parse_x_group(b"<sip:friends@ims.test>").unwrap();
    assert_eq!(bare.name, None);
    assert!(matches!(
        group::parse_x_group(b"\"Friends <sip:friends@ims.test>"),
        Err(GroupError::Header(_))
    ));
    assert_eq!(
        group::parse_x_group(b"\"\xff\" <sip:friends@ims.test>"),
        Err(GroupError::NameNotUtf8)
    );
}

// ---------------------------------------------------------------- the fan-out body

/// Client fan-out mode (issue #7): each member gets a multipart/mixed body with the text
/// and the member list, and the X-Group header naming the group.
#[test]
fn group_fan_out_body() {
    let members = members();
    let text = "Wer kommt heute? 🍕";
    let mut list = Vec::new();
    resource_lists::write(&mut list, Some("Freunde"), &members).unwrap();
    let parts = [
        OutgoingPart {
            content_type: "text/plain;charset=UTF-8",
            headers: &[],
            body: text.as_bytes(),
        },
        OutgoingPart {
            content_type: resource_lists::CONTENT_TYPE,
            headers: &[("Content-Disposition", "recipient-list")],
            body: &list,
        },
    ];
    let boundary = "ims-rs-7f3a9c";
    let mut content_type = Vec::new();
    multipart::write_content_type(&mut content_type, boundary).unwrap();
    let mut body = Vec::new();
    multipart::write(&mut body, boundary, &parts).unwrap();
    let mut x_group = Vec::new();
    group::write_x_group(
        &mut x_group,
        "Freunde",
        &Uri::parse("sip:friends@ims.test").unwrap(),
    );

    // The receiving side.
    let group = group::parse_x_group(&x_group).unwrap();
    assert_eq!(
        (group.name.as_deref(), group.uri),
        (Some("Freunde"), "sip:friends@ims.test")
    );
    let received = multipart::parse(&content_type, &body).unwrap();
    let text_part = received
        .iter()
        .find(|p| p.content_type().starts_with("text/plain"))
        .unwrap();
    assert_eq!(std::str::from_utf8(text_part.body).unwrap(), text);
    let list_part = received
        .iter()
        .find(|p| p.content_type() == resource_lists::CONTENT_TYPE)
        .unwrap();
    assert_eq!(
        list_part.header("Content-Disposition"),
        Some("recipient-list")
    );
    let lists = resource_lists::parse(list_part.body).unwrap();
    let uris: Vec<&str> = lists.entries().map(|e| e.uri.as_ref()).collect();
    assert_eq!(
        uris,
        vec![
            "sip:alice@ims.test",
            "sip:bob@ims.test",
            "sip:carol@ims.test",
            "sip:dave@ims.test;x=\"1\"&y"
        ]
    );
    assert_eq!(lists.lists[0].entries, members);
    assert_eq!(lists.lists[0].display_name.as_deref(), Some("Freunde"));
}

// ---------------------------------------------------------------- hostile input

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..600)
}

/// Text without C0/C1 controls and without surrounding white space: what an XML
/// display name keeps exactly.
fn xml_text() -> impl Strategy<Value = String> {
    "[^\\p{Cc}\\x{FFFE}\\x{FFFF}]{0,40}".prop_map(|s| s.trim().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_bytes(bytes in bytes()) {
        let _ = cpim::parse(&bytes);
        let _ = imdn::parse(&bytes);
        let _ = resource_lists::parse(&bytes);
        let _ = multipart::parse(b"multipart/mixed;boundary=q", &bytes);
        let _ = multipart::parse(&bytes, b"--q\r\n\r\nx\r\n--q--");
        let _ = multipart::boundary(&bytes);
        let _ = group::parse_x_group(&bytes);
        let _ = datetime::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_examples_never_panic(index in 0usize..2000, byte in any::<u8>(), cut in 0usize..2000) {
        let rfc4826: &[u8] = include_bytes!("vectors/xml/resource-lists-rfc4826.xml");
        for example in [
            RFC3862_EXAMPLE.as_bytes(),
            RFC5438_REQUEST.as_bytes(),
            RFC5438_DELIVERED.as_bytes(),
            RFC5365_LIST.as_bytes(),
            rfc4826,
            RFC2046_BODY.as_bytes(),
        ] {
            let mut mutated = example.to_vec();
            let len = mutated.len();
            mutated[index % len] = byte;
            mutated.truncate(cut % (len + 1));
            let _ = cpim::parse(&mutated);
            let _ = imdn::parse(&mutated);
            let _ = resource_lists::parse(&mutated);
            let _ = multipart::parse(RFC2046_CONTENT_TYPE.as_bytes(), &mutated);
        }
    }

    #[test]
    fn cpim_round_trips(
        from_name in proptest::option::of(".{0,30}"),
        to_name in proptest::option::of(".{0,30}"),
        seconds in 0u64..253_402_300_799,
        body in bytes(),
    ) {
        let head = CpimHead {
            from: Address::new(from_name.as_deref(), "sip:a@ims.test"),
            to: Address::new(to_name.as_deref(), "sip:b@ims.test"),
            datetime: UNIX_EPOCH + Duration::from_secs(seconds),
            message_id: "id",
            disposition: Disposition::POSITIVE_DELIVERY,
            content_type: "text/plain",
            content_headers: &[],
        };
        let mut out = Vec::new();
        cpim::write(&mut out, &head, &body).unwrap();
        let message = cpim::parse(&out).unwrap();
        let name = |n: &Option<String>| n.clone().filter(|n| !n.is_empty());
        prop_assert_eq!(message.from.as_ref().unwrap().display_name.clone().map(Cow::into_owned), name(&from_name));
        prop_assert_eq!(message.to[0].display_name.clone().map(Cow::into_owned), name(&to_name));
        prop_assert_eq!(message.sent_at(), Some(Ok(head.datetime)));
        prop_assert_eq!(message.body, &body[..]);
    }

    #[test]
    fn resource_lists_round_trip(
        list_name in proptest::option::of(xml_text()),
        names in proptest::collection::vec(proptest::option::of(xml_text()), 0..20),
    ) {
        let uris: Vec<String> = (0..names.len()).map(|i| format!("sip:m{i}@ims.test")).collect();
        let entries: Vec<Entry<'_>> = uris
            .iter()
            .zip(&names)
            .map(|(uri, name)| Entry::new(uri, name.as_deref().filter(|n| !n.is_empty())))
            .collect();
        let mut out = Vec::new();
        resource_lists::write(&mut out, list_name.as_deref(), &entries).unwrap();
        let lists = resource_lists::parse(&out).unwrap();
        prop_assert_eq!(
            lists.lists[0].display_name.as_deref(),
            list_name.as_deref().filter(|n| !n.is_empty())
        );
        prop_assert_eq!(&lists.lists[0].entries, &entries);
    }

    #[test]
    fn multipart_round_trips(bodies in proptest::collection::vec(bytes(), 1..=multipart::MAX_PARTS)) {
        let boundary = "=_ims-rs_0123456789";
        prop_assume!(bodies.iter().all(|b| !b.windows(boundary.len()).any(|w| w == boundary.as_bytes())));
        let parts: Vec<OutgoingPart<'_>> = bodies
            .iter()
            .map(|body| OutgoingPart { content_type: "application/octet-stream", headers: &[], body })
            .collect();
        let mut content_type = Vec::new();
        multipart::write_content_type(&mut content_type, boundary).unwrap();
        let mut out = Vec::new();
        multipart::write(&mut out, boundary, &parts).unwrap();
        let parsed = multipart::parse(&content_type, &out).unwrap();
        prop_assert_eq!(parsed.len(), bodies.len());
        for (part, body) in parsed.iter().zip(&bodies) {
            prop_assert_eq!(part.body, &body[..]);
        }
    }

    #[test]
    fn x_group_round_trips(name in "[^\\p{Cc}]{0,40}") {
        let uri = Uri::parse("sip:friends@ims.test").unwrap();
        let mut out = Vec::new();
        group::write_x_group(&mut out, &name, &uri);
        let parsed = group::parse_x_group(&out).unwrap();
        prop_assert_eq!(parsed.name.as_deref(), Some(name.as_str()));
        prop_assert_eq!(parsed.uri, "sip:friends@ims.test");
    }
}
