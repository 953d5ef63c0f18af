//! Digest authentication (RFC 2617, RFC 7616, RFC 8760, RFC 3261 §22.4): the known answers
//! in vectors/digest.json, and credentials that parse back with our own header views.

use ims_core::auth::digest::{
    self, Algorithm, DigestChallenge, DigestError, DigestRequest, Qop, Secret, write_authorization,
};
use ims_core::sip::typed::{Challenge, Credentials};
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/digest.json");

fn text<'a>(case: &'a Value, key: &str) -> Option<&'a str> {
    case.get(key).and_then(Value::as_str)
}

fn field<'a>(case: &'a Value, key: &str) -> &'a str {
    text(case, key).unwrap_or_else(|| panic!("{}: no {key}", case["id"]))
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The algorithm of a vector. AKAv1-MD5 and AKAv2-MD5 (RFC 3310 §3.3, RFC 4169 §3) hash
/// with MD5 and take the password the AKA run derives, which the vector gives (the run
/// itself from the Milenage keys is checked in tests/aka.rs).
fn vector_algorithm(token: &str) -> Algorithm {
    Algorithm::from_token(token).unwrap_or_else(|| panic!("algorithm {token}"))
}

fn vector_password(case: &Value) -> Secret {
    match text(case, "password_hex") {
        Some(hex) => Secret::new(hex_decode(hex)),
        None => Secret::from(field(case, "password")),
    }
}

fn vector_qop(case: &Value) -> Option<Qop> {
    match text(case, "qop") {
        None => None,
        Some("auth") => Some(Qop::Auth),
        Some("auth-int") => Some(Qop::AuthInt),
        Some(other) => panic!("qop {other}"),
    }
}

fn challenge(value: &str, proxy: bool) -> Result<DigestChallenge, DigestError> {
    let parsed = Challenge::parse(value.as_bytes()).expect("challenge parses");
    DigestChallenge::from_challenge(&parsed, proxy)
}

fn authorization(
    challenge: &DigestChallenge,
    username: &str,
    password: &str,
    request: &DigestRequest<'_>,
    cnonce: &str,
    nc: u32,
) -> String {
    let mut out = Vec::new();
    write_authorization(
        &mut out,
        challenge,
        username,
        &Secret::from(password),
        request,
        cnonce,
        nc,
    )
    .expect("credentials written");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn every_vector_gives_its_ha1_ha2_and_response() {
    let cases: Vec<Value> = serde_json::from_str(VECTORS).expect("digest.json");
    assert_eq!(cases.len(), 9);
    for case in &cases {
        let id = field(case, "id");
        let algorithm = vector_algorithm(field(case, "algorithm"));
        let qop = vector_qop(case);
        let nonce = field(case, "nonce");
        let cnonce = text(case, "cnonce").unwrap_or("");
        let nc = text(case, "nc").map_or(0, |nc| u32::from_str_radix(nc, 16).expect("nc"));
        let body = text(case, "body").unwrap_or("").as_bytes();
        let password = vector_password(case);

        let ha1 = digest::ha1(
            algorithm,
            field(case, "username"),
            field(case, "realm"),
            &password,
            nonce,
            cnonce,
        );
        assert_eq!(ha1.expose(), field(case, "ha1"), "{id}: HA1");
        let ha2 = digest::ha2(
            algorithm,
            field(case, "method"),
            field(case, "uri"),
            qop,
            body,
        );
        if let Some(expected) = text(case, "ha2") {
            assert_eq!(ha2.as_str(), expected, "{id}: HA2");
        }
        let response = digest::response(algorithm, &ha1, nonce, nc, cnonce, qop, &ha2);
        assert_eq!(response.as_str(), field(case, "response"), "{id}: response");

        // The same answer through the full writer, read back with our own parser.
        let mut challenge =
            DigestChallenge::new(field(case, "realm"), nonce).with_opaque(text(case, "opaque"));
        challenge.algorithm = algorithm;
        challenge.qop = qop;
        let request = DigestRequest {
            method: field(case, "method"),
            uri: field(case, "uri"),
            body,
        };
        let mut out = Vec::new();
        write_authorization(
            &mut out,
            &challenge,
            field(case, "username"),
            &password,
            &request,
            cnonce,
            nc,
        )
        .unwrap_or_else(|e| panic!("{id}: {e}"));
        let credentials = Credentials::parse(&out).expect("credentials parse");
        assert_eq!(
            credentials.response(),
            Some(field(case, "response")),
            "{id}"
        );
        assert_eq!(credentials.nc(), text(case, "nc").map(|_| nc), "{id}");
        assert_eq!(
            credentials.algorithm(),
            Some(field(case, "algorithm")),
            "{id}"
        );
    }
}

/// RFC 2617 §3.5: the published challenge, answered and parsed back field by field.
#[test]
fn rfc2617_challenge_round_trips_through_credentials() {
    let challenge = challenge(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        false,
    )
    .expect("challenge");
    assert_eq!(
        challenge.algorithm,
        Algorithm::Md5,
        "absent algorithm is MD5"
    );
    assert_eq!(challenge.qop, Some(Qop::Auth), "auth is preferred");
    assert!(!challenge.stale && !challenge.proxy);
    assert_eq!(challenge.credentials_header(), "Authorization");

    let request = DigestRequest {
        method: "GET",
        uri: "/dir/index.html",
        body: b"",
    };
    let value = authorization(
        &challenge,
        "Mufasa",
        "Circle Of Life",
        &request,
        "0a4f113b",
        1,
    );
    assert_eq!(
        value,
        r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001"#
    );
    let credentials = Credentials::parse(value.as_bytes()).expect("parses");
    assert_eq!(credentials.scheme, "Digest");
    assert_eq!(credentials.username(), Some("Mufasa"));
    assert_eq!(credentials.realm(), Some("testrealm@host.com"));
    assert_eq!(
        credentials.nonce(),
        Some("dcd98b7102dd2f0e8b11d0f600bfb0c093")
    );
    assert_eq!(credentials.uri(), Some("/dir/index.html"));
    assert_eq!(
        credentials.response(),
        Some("6629fae49393a05397450978507c4ef1")
    );
    assert_eq!(credentials.algorithm(), Some("MD5"));
    assert_eq!(credentials.cnonce(), Some("0a4f113b"));
    assert_eq!(
        credentials.opaque(),
        Some("5ccc069c403ebaf9f0171e9517f40e41")
    );
    assert_eq!(credentials.qop(), Some("auth"));
    assert_eq!(credentials.nc(), Some(1));
    // Which values are quoted (RFC 3261 §25.1): algorithm, qop and nc are tokens.
    for param in credentials.params.iter() {
        let quoted = !matches!(param.name, "algorithm" | "qop" | "nc");
        assert_eq!(param.quoted, quoted, "{}", param.name);
    }
}

/// RFC 7616 §3.9.1: SHA-256 challenge with `qop="auth, auth-int"`.
#[test]
fn rfc7616_sha256_challenge_round_trips() {
    let challenge = challenge(
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        false,
    )
    .expect("challenge");
    assert_eq!(challenge.algorithm, Algorithm::Sha256);
    assert_eq!(challenge.qop, Some(Qop::Auth));
    let request = DigestRequest {
        method: "GET",
        uri: "/dir/index.html",
        body: b"",
    };
    let value = authorization(
        &challenge,
        "Mufasa",
        "Circle of Life",
        &request,
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        1,
    );
    let credentials = Credentials::parse(value.as_bytes()).expect("parses");
    assert_eq!(
        credentials.response(),
        Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    );
    assert_eq!(credentials.algorithm(), Some("SHA-256"));
    assert_eq!(credentials.qop(), Some("auth"));
    assert_eq!(
        credentials.opaque(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
}

/// A challenge offering only auth-int: the body is hashed (vector sip-invite-qop-auth-int).
#[test]
fn auth_int_only_challenge_protects_the_body() {
    let challenge = challenge(
        r#"Digest realm="example.com", nonce="a7f6e0c4b1d2e3f40516273849abcdef", qop="auth-int""#,
        false,
    )
    .expect("challenge");
    assert_eq!(challenge.qop, Some(Qop::AuthInt));
    assert_eq!(challenge.opaque(), None);
    let body = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";
    let request = DigestRequest {
        method: "INVITE",
        uri: "sip:bob@example.com",
        body,
    };
    let value = authorization(&challenge, "alice", "wonderland", &request, "8b0d1c3e", 2);
    let credentials = Credentials::parse(value.as_bytes()).expect("parses");
    assert_eq!(credentials.qop(), Some("auth-int"));
    assert_eq!(credentials.nc(), Some(2));
    assert!(value.ends_with(", qop=auth-int, nc=00000002"), "{value}");
    assert_eq!(credentials.opaque(), None);
    assert_eq!(
        credentials.response(),
        Some("11070bc5587a71815df549ff0572b0eb")
    );

    // A different body gives a different response.
    let other = DigestRequest {
        body: b"v=0\r\n",
        ..request
    };
    let changed = authorization(&challenge, "alice", "wonderland", &other, "8b0d1c3e", 2);
    assert_ne!(
        Credentials::parse(changed.as_bytes())
            .expect("parses")
            .response(),
        credentials.response()
    );
}

/// No qop: RFC 2069 form, no cnonce, qop or nc (vector sip-register-no-qop).
#[test]
fn challenge_without_qop_gives_rfc2069_credentials() {
    let challenge = challenge(
        r#"Digest realm="biloxi.example.com", nonce="dc3a5ab2", algorithm=MD5"#,
        false,
    )
    .expect("challenge");
    assert_eq!(challenge.qop, None);
    let request = DigestRequest {
        method: "REGISTER",
        uri: "sip:biloxi.example.com",
        body: b"",
    };
    let value = authorization(&challenge, "bob", "zanzibar", &request, "unused", 1);
    assert_eq!(
        value,
        r#"Digest username="bob", realm="biloxi.example.com", nonce="dc3a5ab2", uri="sip:biloxi.example.com", response="df60527ef9073c51ec3c9017f0e95a4f", algorithm=MD5"#
    );
    let credentials = Credentials::parse(value.as_bytes()).expect("parses");
    assert_eq!(credentials.cnonce(), None);
    assert_eq!(credentials.qop(), None);
    assert_eq!(credentials.nc(), None);
    // Empty qop value: lenient, treated as no qop.
    let empty = challenge_value_qop(r#""""#).expect("challenge");
    assert_eq!(empty.qop, None);
}

fn challenge_value_qop(qop: &str) -> Result<DigestChallenge, DigestError> {
    challenge(
        &format!(r#"Digest realm="ims.test", nonce="abc", qop={qop}"#),
        false,
    )
}

#[test]
fn stale_proxy_and_algorithm_case() {
    let stale = challenge(
        r#"Digest realm="ims.test", nonce="n2", stale=TRUE, qop="auth""#,
        false,
    )
    .expect("challenge");
    assert!(stale.stale);
    let fresh =
        challenge(r#"Digest realm="ims.test", nonce="n2", stale=false"#, false).expect("challenge");
    assert!(!fresh.stale);

    let proxy = challenge(
        r#"Digest realm="ims.test", nonce="n3", algorithm=md5-SESS, qop="auth""#,
        true,
    )
    .expect("challenge");
    assert!(proxy.proxy);
    assert_eq!(proxy.credentials_header(), "Proxy-Authorization");
    assert_eq!(proxy.algorithm, Algorithm::Md5Sess);

    // A quoted algorithm (seen from some servers) is accepted too.
    let quoted = challenge(
        r#"Digest realm="ims.test", nonce="n4", algorithm="SHA-512-256-sess""#,
        false,
    )
    .expect("challenge");
    assert_eq!(quoted.algorithm, Algorithm::Sha512_256Sess);
}

/// `-sess` without qop still sends the cnonce its HA1 is built from; the response matches
/// the lower-level pieces.
#[test]
fn session_algorithm_sends_cnonce_and_matches_the_pieces() {
    for algorithm in [
        Algorithm::Md5Sess,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256Sess,
    ] {
        let challenge = challenge(
            &format!(
                r#"Digest realm="ims.test", nonce="n5", algorithm={}"#,
                algorithm
            ),
            false,
        )
        .expect("challenge");
        let request = DigestRequest {
            method: "REGISTER",
            uri: "sip:ims.test",
            body: b"",
        };
        let value = authorization(&challenge, "alice", "secret", &request, "c0ffee", 1);
        let credentials = Credentials::parse(value.as_bytes()).expect("parses");
        assert_eq!(credentials.cnonce(), Some("c0ffee"));
        assert_eq!(credentials.qop(), None);
        assert_eq!(credentials.algorithm(), Some(algorithm.as_str()));
        let password = Secret::from("secret");
        let ha1 = digest::ha1(algorithm, "alice", "ims.test", &password, "n5", "c0ffee");
        let ha2 = digest::ha2(algorithm, "REGISTER", "sip:ims.test", None, b"");
        let expected = digest::response(algorithm, &ha1, "n5", 1, "c0ffee", None, &ha2);
        assert_eq!(credentials.response(), Some(expected.as_str()));
        assert_eq!(
            expected.as_str().len(),
            if algorithm == Algorithm::Md5Sess {
                32
            } else {
                64
            }
        );
    }
}

/// The nonce count is part of the response and written as eight hex digits.
#[test]
fn nonce_count_changes_the_response() {
    let challenge =
        challenge(r#"Digest realm="ims.test", nonce="n6", qop="auth""#, false).expect("challenge");
    let request = DigestRequest {
        method: "REGISTER",
        uri: "sip:ims.test",
        body: b"",
    };
    let first = authorization(&challenge, "alice", "secret", &request, "c1", 1);
    let later = authorization(&challenge, "alice", "secret", &request, "c1", 0x1f);
    assert!(later.ends_with("nc=0000001f"), "{later}");
    let first = Credentials::parse(first.as_bytes()).expect("parses");
    let later = Credentials::parse(later.as_bytes()).expect("parses");
    assert_eq!(later.nc(), Some(0x1f));
    assert_ne!(first.response(), later.response());
}

/// Quotes and backslashes are unescaped from the challenge for hashing and escaped again on
/// the way out.
#[test]
fn quoted_pairs_are_unescaped_and_escaped_again() {
    let challenge = challenge(
        r#"Digest realm="odd \"realm\" \\ here", nonce="n7", opaque="o\"1", qop="auth""#,
        false,
    )
    .expect("challenge");
    assert_eq!(challenge.realm(), r#"odd "realm" \ here"#);
    assert_eq!(challenge.opaque(), Some(r#"o"1"#));
    let request = DigestRequest {
        method: "REGISTER",
        uri: "sip:ims.test",
        body: b"",
    };
    let value = authorization(&challenge, r#"al"ice"#, "secret", &request, "c1", 1);
    let credentials = Credentials::parse(value.as_bytes()).expect("parses");
    // Our parser keeps escapes in the value, so the raw forms come back.
    assert_eq!(credentials.realm(), Some(r#"odd \"realm\" \\ here"#));
    assert_eq!(credentials.opaque(), Some(r#"o\"1"#));
    assert_eq!(credentials.username(), Some(r#"al\"ice"#));
    let password = Secret::from("secret");
    let ha1 = digest::ha1(
        Algorithm::Md5,
        r#"al"ice"#,
        r#"odd "realm" \ here"#,
        &password,
        "",
        "",
    );
    let ha2 = digest::ha2(
        Algorithm::Md5,
        "REGISTER",
        "sip:ims.test",
        Some(Qop::Auth),
        b"",
    );
    let expected = digest::response(Algorithm::Md5, &ha1, "n7", 1, "c1", Some(Qop::Auth), &ha2);
    assert_eq!(credentials.response(), Some(expected.as_str()));
}

#[test]
fn challenge_errors_name_the_problem() {
    // The IMS AKA algorithms are accepted (RFC 3310, RFC 4169), an unknown AKA one is not.
    for (token, algorithm) in [
        ("AKAv1-MD5", Algorithm::AkaV1Md5),
        ("akav2-md5", Algorithm::AkaV2Md5),
    ] {
        let accepted = challenge(
            &format!(r#"Digest realm="ims.test", nonce="n", algorithm={token}"#),
            false,
        )
        .expect("AKA challenge");
        assert_eq!(accepted.algorithm, algorithm);
        assert!(accepted.algorithm.is_aka());
    }
    assert_eq!(
        challenge(
            r#"Digest realm="ims.test", nonce="n", algorithm=AKAv1-SHA-256"#,
            false
        ),
        Err(DigestError::UnsupportedAlgorithm {
            algorithm: "AKAv1-SHA-256".to_owned()
        })
    );
    let error = challenge(
        r#"Digest realm="ims.test", nonce="n", algorithm=SHA-1"#,
        false,
    )
    .expect_err("unsupported");
    assert!(error.to_string().contains("SHA-1"), "{error}");
    assert_eq!(
        challenge(r#"Digest realm="ims.test", qop="auth""#, false),
        Err(DigestError::MissingParameter { parameter: "nonce" })
    );
    assert_eq!(
        challenge(r#"Digest nonce="n""#, false),
        Err(DigestError::MissingParameter { parameter: "realm" })
    );
    assert_eq!(
        challenge(r#"Basic realm="ims.test""#, false),
        Err(DigestError::NotDigest {
            scheme: "Basic".to_owned()
        })
    );
    assert_eq!(
        challenge_value_qop(r#""auth-conf""#),
        Err(DigestError::UnsupportedQop {
            offered: "auth-conf".to_owned()
        })
    );
    // Unknown options beside a known one are ignored.
    assert_eq!(
        challenge_value_qop(r#""auth-conf,auth-int""#).map(|c| c.qop),
        Ok(Some(Qop::AuthInt))
    );
}

#[test]
fn writer_errors_append_nothing() {
    let with_qop =
        challenge(r#"Digest realm="ims.test", nonce="n", qop="auth""#, false).expect("challenge");
    let request = DigestRequest {
        method: "REGISTER",
        uri: "sip:ims.test",
        body: b"",
    };
    let password = Secret::from("pw");
    let mut out = b"prefix".to_vec();
    let mut write = |username: &str, request: &DigestRequest<'_>, cnonce: &str, nc: u32| {
        write_authorization(
            &mut out, &with_qop, username, &password, request, cnonce, nc,
        )
    };
    assert_eq!(
        write("al\r\nice", &request, "c", 1),
        Err(DigestError::Unquotable { field: "username" })
    );
    let bad_uri = DigestRequest {
        uri: "sip:a\nb",
        ..request
    };
    assert_eq!(
        write("alice", &bad_uri, "c", 1),
        Err(DigestError::Unquotable { field: "uri" })
    );
    assert_eq!(
        write("alice", &request, "", 1),
        Err(DigestError::MissingCnonce)
    );
    assert_eq!(
        write("alice", &request, "c", 0),
        Err(DigestError::ZeroNonceCount)
    );
    assert_eq!(out, b"prefix");
}

/// A struct that holds a password, as an account config would.
#[derive(Debug)]
#[allow(dead_code)]
struct Account {
    username: String,
    password: Secret,
}

#[test]
fn secrets_never_show_in_debug_or_display() {
    let password = Secret::from("hunter2-wonderland");
    assert_eq!(format!("{password:?}"), "<redacted>");
    assert_eq!(format!("{password}"), "<redacted>");
    assert_eq!(password.expose(), b"hunter2-wonderland");
    assert_eq!(password, Secret::new(String::from("hunter2-wonderland")));

    let account = Account {
        username: "alice".to_owned(),
        password: password.clone(),
    };
    for shown in [format!("{account:?}"), format!("{account:#?}")] {
        assert!(shown.contains("alice"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    // HA1 is password-equivalent: redacted too.
    let ha1 = digest::ha1(Algorithm::Md5, "alice", "ims.test", &password, "", "");
    let shown = format!("{ha1:?}");
    assert!(!shown.contains(ha1.expose()), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}
