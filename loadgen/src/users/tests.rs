//! Tests of the users module: patterns, injection files, AKA keys.

use super::*;

fn path() -> &'static Path {
    Path::new("users.csv")
}

#[test]
fn a_pattern_expands_its_range_in_order() {
    let users = expand_pattern("vu{0..9999}@ims.test", &PatternAuth::password("secret")).unwrap();
    assert_eq!(users.len(), 10_000);
    assert_eq!(users[0].aor(), "sip:vu0@ims.test");
    assert_eq!(users[9_999].user, "vu9999");
    assert_eq!(users[17].password, "secret");
}

#[test]
fn a_zero_padded_range_keeps_its_width() {
    let users =
        expand_pattern("sip:u{007..010}x@example.org", &PatternAuth::password("p")).unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.user.as_str()).collect();
    assert_eq!(names, ["u007x", "u008x", "u009x", "u010x"]);
}

#[test]
fn bad_patterns_say_what_is_wrong() {
    for (pattern, needle) in [
        ("vu{0..9}", "USER@DOMAIN"),
        ("vu{9..0}@ims.test", "below its start"),
        ("vu{0..x}@ims.test", "not a number"),
        ("vu{0..9@ims.test", "without its"),
        ("vu{0..9}{0..9}@ims.test", "only one"),
        ("vu{0-9}@ims.test", "{A..B}"),
        ("vu{0..9}@", "domain"),
    ] {
        let error = expand_pattern(pattern, &PatternAuth::password("p"))
            .unwrap_err()
            .to_string();
        assert!(error.contains(needle), "{pattern}: {error}");
    }
    let error =
        expand_pattern("vu{0..99999999}@ims.test", &PatternAuth::password("p")).unwrap_err();
    assert!(matches!(error, UsersError::TooMany { .. }), "{error}");
    let error = expand_pattern("vu{0..1}@ims.test", &PatternAuth::default()).unwrap_err();
    assert!(matches!(error, UsersError::NoPassword { .. }), "{error}");
}

#[test]
fn a_sipp_injection_file_gives_users_with_their_credentials() {
    let text = "SEQUENTIAL\n\
                alice0;ims.test;[authentication username=alice0@ims.test password=x]\n\
                \n\
                bob;ims.test;[authentication username=bob password=y]\r\n\
                carol;example.org\n";
    let users = parse_injection(text, path(), Some("fallback"), 1).unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0].aor(), "sip:alice0@ims.test");
    assert_eq!(users[0].auth_username.as_deref(), Some("alice0@ims.test"));
    assert_eq!(users[0].password, "x");
    assert_eq!(
        users[1].auth_username, None,
        "same as the user: not repeated"
    );
    assert_eq!(users[1].password, "y");
    assert_eq!(users[2].password, "fallback");
}

#[test]
fn random_order_is_a_seeded_permutation() {
    let mut text = String::from("RANDOM\n");
    for n in 0..50 {
        text.push_str(&format!("u{n};ims.test\n"));
    }
    let first = parse_injection(&text, path(), Some("p"), 7).unwrap();
    let again = parse_injection(&text, path(), Some("p"), 7).unwrap();
    assert_eq!(first, again);
    let mut names: Vec<String> = first.iter().map(|u| u.user.clone()).collect();
    assert_ne!(names[..5], ["u0", "u1", "u2", "u3", "u4"]);
    names.sort_by_key(|n| n[1..].parse::<u32>().unwrap());
    assert_eq!(names.len(), 50);
    assert_eq!(names[49], "u49");
}

#[test]
fn malformed_lines_are_named_by_number() {
    let cases = [
        ("USERS\nalice;ims.test\n", 1, "SEQUENTIAL or RANDOM"),
        ("SEQUENTIAL\nalice;ims.test\nbob\n", 3, "no ';'"),
        ("SEQUENTIAL\n\nalice;ims.test;password=x\n", 3, "field 3"),
        ("SEQUENTIAL\nal ice;ims.test\n", 2, "user"),
        (
            "SEQUENTIAL\nalice;ims.test;[authentication user=a]\n",
            2,
            "unknown",
        ),
        ("SEQUENTIAL\nalice;ims.test;;extra\n", 2, "extra field"),
        (
            "SEQUENTIAL\nalice;ims.test;[authentication aka_K=00]\n",
            2,
            "aka_K: K: ",
        ),
    ];
    for (text, line, needle) in cases {
        let error = parse_injection(text, path(), Some("p"), 1).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, UsersError::Line { line: l, .. } if l == line),
            "{text:?}: {message}"
        );
        assert!(
            message.starts_with(&format!("users.csv:{line}: ")),
            "{message}"
        );
        assert!(message.contains(needle), "{text:?}: {message}");
    }
    let text = "SEQUENTIAL\nbob;ims.test;[authentication password=b]\nalice;ims.test\n";
    let error = parse_injection(text, path(), None, 1)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("users.csv:3: no password for alice@ims.test"),
        "{error}"
    );
    let error = parse_injection("SEQUENTIAL\n", path(), None, 1).unwrap_err();
    assert!(matches!(error, UsersError::Empty { .. }), "{error}");
}
/// TS 35.208 test set 1.
const K1: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OP1: &str = "cdc202d5123e20f62b6d676ac72cb318";
const OPC1: &str = "cd63cb71954a9f4e48a5994e37a02baf";

fn bytes(hex: &str) -> [u8; 16] {
    decode_hex("test", hex).unwrap()
}

#[test]
fn aka_keys_in_an_injection_file_give_k_and_opc() {
    let text = format!(
        "SEQUENTIAL\n\
         alice;ims.test;[authentication username=alice@ims.test aka_K={K1} aka_OPc={OPC1}]\n\
         bob;ims.test;[authentication username=bob@ims.test aka_K=0x{K1} aka_OP=0x{OP1} aka_AMF=8000]\n\
         carol;ims.test;[authentication username=carol@ims.test password=c aka_k={K1} aka_opc={OPC1} aka_amf=b9b9]\n"
    );
    let users = parse_injection(&text, path(), None, 1).unwrap();
    assert_eq!(users.len(), 3);
    let alice = users[0].aka.as_ref().expect("alice has AKA keys");
    assert_eq!(alice.opc(), bytes(OPC1));
    assert_eq!(alice.keys().amf(), [0, 0], "AMF defaults to 0000");
    assert_eq!(users[0].password, "", "AKA only: no password needed");
    assert_eq!(users[0].auth_username.as_deref(), Some("alice@ims.test"));
    let bob = users[1].aka.as_ref().expect("bob has AKA keys");
    assert_eq!(
        bob.opc(),
        bytes(OPC1),
        "OP is turned into OPc with Milenage"
    );
    assert_ne!(bob, alice, "another AMF");
    assert_eq!(bob.keys().amf(), [0x80, 0]);
    assert_eq!(users[2].password, "c", "both a password and AKA keys");
    assert_eq!(
        users[2].aka.as_ref().map(|a| a.keys().amf()),
        Some([0xb9, 0xb9])
    );
}

#[test]
fn aka_keys_are_never_shown() {
    let text = format!(
        "SEQUENTIAL\nalice;ims.test;[authentication username=alice@ims.test aka_K={K1} aka_OPc={OPC1} aka_AMF=8001]\n"
    );
    let users = parse_injection(&text, path(), None, 1).unwrap();
    let shown = format!("{users:?}");
    assert!(shown.contains("k: ***, opc: ***, amf: 8001"), "{shown}");
    for secret in [K1, OPC1, "46, 91", "70, 91"] {
        assert!(!shown.to_ascii_lowercase().contains(secret), "{shown}");
    }
}

#[test]
fn bad_aka_values_name_their_line_and_field() {
    let good_k = format!("aka_K={K1}");
    let cases = [
        // 31 hex digits: wrong length.
        (format!("aka_K={} aka_OPc={OPC1}", &K1[1..]), "aka_K: K: "),
        (
            format!("{good_k} aka_OPc={}", &OPC1[..30]),
            "aka_OPc: OPc: ",
        ),
        (format!("{good_k} aka_OPc={OPC1}00"), "aka_OPc: OPc: "),
        // A letter that is no hex digit.
        (format!("aka_K=g{} aka_OPc={OPC1}", &K1[1..]), "aka_K: K: "),
        (format!("{good_k} aka_OP=x{}", &OP1[1..]), "aka_OP: OP: "),
        (
            format!("{good_k} aka_OPc={OPC1} aka_AMF=800"),
            "aka_AMF: AMF: ",
        ),
        (
            format!("{good_k} aka_OPc={OPC1} aka_AMF=zz00"),
            "aka_AMF: AMF: ",
        ),
        (good_k.clone(), "exactly one of aka_OP and aka_OPc"),
        (
            format!("{good_k} aka_OP={OP1} aka_OPc={OPC1}"),
            "exactly one",
        ),
        (format!("aka_OPc={OPC1}"), "need aka_K"),
        (format!("{good_k} aka_K={K1} aka_OPc={OPC1}"), "twice"),
    ];
    for (field, needle) in cases {
        let text = format!(
            "SEQUENTIAL\nok;ims.test;[authentication password=p]\nbad;ims.test;[authentication {field}]\n"
        );
        let error = parse_injection(&text, path(), None, 1).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, UsersError::Line { line: 3, .. }),
            "{field}: {message}"
        );
        assert!(message.starts_with("users.csv:3: "), "{message}");
        assert!(message.contains(needle), "{field}: {message}");
        assert!(!message.contains(OPC1), "no key in the message: {message}");
    }
    let error = parse_injection(
        &format!(
            "SEQUENTIAL\nbad;ims.test;[authentication aka_K={} aka_OPc={OPC1}]\n",
            &K1[2..]
        ),
        path(),
        None,
        1,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("30"), "the length found is named: {error}");
}

#[test]
fn a_pattern_with_derived_keys_matches_imshss_pattern_subscribers() {
    let users = expand_pattern(
        "vu{0..999}@ims.test",
        &PatternAuth {
            aka_derived: true,
            ..PatternAuth::default()
        },
    )
    .unwrap();
    assert_eq!(users.len(), 1000);
    assert_eq!(users[7].auth_username.as_deref(), Some("vu7@ims.test"));
    assert_eq!(users[7].aor(), "sip:vu7@ims.test");
    assert_eq!(users[7].password, "");
    // Subscriber 0 has TS 35.208 set 1's K and OP, so set 1's OPc.
    assert_eq!(
        users[0].aka.as_ref().map(AkaCredentials::opc),
        Some(bytes(OPC1))
    );
    for index in [0u32, 7, 999] {
        let (k, op) = ims_hss::subscriber::pattern_keys(index);
        let expected = Milenage::with_op(&k, &op);
        let ours = users[index as usize]
            .aka
            .as_ref()
            .unwrap()
            .keys()
            .milenage();
        assert_eq!(ours.opc(), expected.opc(), "user {index}");
        let rand = [index as u8; 16];
        assert_eq!(
            ours.f2345(&rand),
            expected.f2345(&rand),
            "same K for user {index}"
        );
    }
    assert_ne!(users[1].aka, users[2].aka);
}

#[test]
fn the_impi_form_names_the_private_identity() {
    let users = expand_pattern(
        "vu{5..6}@ims.test",
        &PatternAuth {
            password: Some("p"),
            impi: Some("{user}.private@{domain}"),
            ..PatternAuth::default()
        },
    )
    .unwrap();
    assert_eq!(
        users[1].auth_username.as_deref(),
        Some("vu6.private@ims.test")
    );
    assert_eq!(users[1].aka, None);
    let digest = expand_pattern("vu{5..6}@ims.test", &PatternAuth::password("p")).unwrap();
    assert_eq!(
        digest[0].auth_username, None,
        "Digest: the user part, as before"
    );
    for (pattern, impi, needle) in [
        ("vu{000..999}@ims.test", None, "unpadded"),
        ("alice@ims.test", None, "{A..B} range"),
        ("vu{0..4294967296}@ims.test", None, "TooMany"),
        ("vu{0..9}@ims.test", Some("{domain}"), "must contain {user}"),
        (
            "vu{0..9}@ims.test",
            Some("{user} @x"),
            "must contain {user}",
        ),
    ] {
        let error = expand_pattern(
            pattern,
            &PatternAuth {
                aka_derived: true,
                impi,
                ..PatternAuth::default()
            },
        )
        .unwrap_err();
        let message = format!("{error} {error:?}");
        assert!(message.contains(needle), "{pattern}: {message}");
    }
    let error = expand_pattern(
        "vu{4294967290..4294967296}@ims.test",
        &PatternAuth {
            aka_derived: true,
            ..PatternAuth::default()
        },
    )
    .unwrap_err();
    assert!(error.to_string().contains("4294967295"), "{error}");
}
