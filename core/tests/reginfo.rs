//! reginfo (RFC 3680) parsing: the RFC's example, partial state, limits, bad input.

use ims_core::ims::reginfo::{self, RegInfoError};
use proptest::prelude::*;

#[test]
fn rfc3680_section_6_example() {
    let body = include_bytes!("vectors/xml/reginfo-rfc3680.xml");
    let info = reginfo::parse(body).unwrap();
    assert_eq!(info.version, 0);
    assert!(info.full);
    assert_eq!(info.registrations.len(), 1);
    let registration = &info.registrations[0];
    assert_eq!(registration.aor, "sip:user@example.com");
    assert_eq!(registration.id, "as9");
    assert_eq!(registration.state, "active");
    let contacts: Vec<(&str, &str, Option<&str>, &str)> = registration
        .contacts
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                c.state.as_str(),
                c.event.as_deref(),
                c.uri.as_str(),
            )
        })
        .collect();
    assert_eq!(
        contacts,
        vec![
            (
                "76",
                "active",
                Some("registered"),
                "sip:user@pc887.example.com"
            ),
            (
                "77",
                "terminated",
                Some("expired"),
                "sip:user@university.edu"
            ),
        ]
    );
    assert!(registration.contacts[1].is_terminated());
}

#[test]
fn partial_state_with_prefixes_entities_and_retry_after() {
    let body = br#"<?xml version="1.0"?>
<r:reginfo xmlns:r="urn:ietf:params:xml:ns:reginfo" version="7" state="partial">
  <r:registration aor="sip:alice@ims.test" id="a1" state="terminated">
    <r:contact id="c1" state="terminated" event="probation" retry-after="30" expires="0">
      <r:uri>sip:alice@10.0.0.1:5062;a=1&amp;b=2</r:uri>
      <r:unknown-extension>ignored</r:unknown-extension>
    </r:contact>
  </r:registration>
</r:reginfo>"#;
    let info = reginfo::parse(body).unwrap();
    assert_eq!((info.version, info.full), (7, false));
    let contact = &info.registrations[0].contacts[0];
    assert_eq!(contact.event.as_deref(), Some("probation"));
    assert_eq!(contact.retry_after, Some(30));
    assert_eq!(contact.expires, Some(0));
    assert_eq!(contact.uri, "sip:alice@10.0.0.1:5062;a=1&b=2");
}

#[test]
fn wrong_root_missing_attributes_and_broken_xml_are_errors() {
    assert_eq!(
        reginfo::parse(b"<presence/>"),
        Err(RegInfoError::NotReginfo)
    );
    assert!(matches!(
        reginfo::parse(br#"<reginfo state="full"/>"#),
        Err(RegInfoError::Attribute {
            attribute: "version",
            ..
        })
    ));
    assert!(matches!(
        reginfo::parse(br#"<reginfo version="1" state="full"><registration id="x"/></reginfo>"#),
        Err(RegInfoError::Attribute {
            attribute: "aor",
            ..
        })
    ));
    assert!(matches!(
        reginfo::parse(br#"<reginfo version="1" state="full"><registration"#),
        Err(RegInfoError::Xml { .. })
    ));
    assert_eq!(reginfo::parse(b""), Err(RegInfoError::NotReginfo));
}

#[test]
fn limits_hold() {
    let deep = format!(
        r#"<reginfo version="1" state="full">{}{}</reginfo>"#,
        "<x>".repeat(100),
        "</x>".repeat(100)
    );
    assert_eq!(
        reginfo::parse(deep.as_bytes()),
        Err(RegInfoError::TooLarge { what: "depth" })
    );
    let many = format!(
        r#"<reginfo version="1" state="full">{}</reginfo>"#,
        r#"<registration aor="sip:a@b" id="1" state="active"/>"#.repeat(65)
    );
    assert_eq!(
        reginfo::parse(many.as_bytes()),
        Err(RegInfoError::TooLarge {
            what: "registrations"
        })
    );
    assert_eq!(
        reginfo::parse(&vec![b' '; reginfo::MAX_SIZE + 1]),
        Err(RegInfoError::TooLarge { what: "size" })
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = reginfo::parse(&bytes);
    }

    #[test]
    fn mutated_example_never_panics(index in 0usize..600, byte in any::<u8>()) {
        let mut body = include_bytes!("vectors/xml/reginfo-rfc3680.xml").to_vec();
        let at = index % body.len();
        body[at] = byte;
        let _ = reginfo::parse(&body);
    }
}
