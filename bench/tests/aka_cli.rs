//! Runs `imsbench milenage` and `imsbench aka-response` against the TS 35.208 sets and
//! the AKA records of digest.json (core/tests/vectors), and checks their errors.

use std::process::{Command, Output};

use serde_json::Value;

const MILENAGE: &str = include_str!("../../core/tests/vectors/milenage.json");
const DIGEST: &str = include_str!("../../core/tests/vectors/digest.json");

fn imsbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imsbench"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .output()
        .expect("imsbench runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8")
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
}

/// `name: value` lines as pairs.
fn lines(output: &Output) -> Vec<(String, String)> {
    stdout(output)
        .lines()
        .map(|line| {
            let (name, value) = line.split_once(": ").expect("name: value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn field(lines: &[(String, String)], name: &str) -> String {
    lines
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
}

fn sets() -> Vec<Value> {
    serde_json::from_str(MILENAGE).expect("milenage.json")
}

fn aka_records() -> Vec<Value> {
    let cases: Vec<Value> = serde_json::from_str(DIGEST).expect("digest.json");
    cases
        .into_iter()
        .filter(|case| text(case, "algorithm").starts_with("AKA"))
        .collect()
}

/// TS 35.208 set 1 from OP: the eight outputs, one `name: hex` line each, in order.
#[test]
fn milenage_text_prints_every_output_of_set_1() {
    let set = &sets()[0];
    let output = imsbench(&[
        "milenage",
        "--k",
        text(set, "k"),
        "--op",
        text(set, "op"),
        "--rand",
        text(set, "rand"),
        "--sqn",
        text(set, "sqn"),
        "--amf",
        text(set, "amf"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected: Vec<(String, String)> = [
        ("opc", "opc"),
        ("mac_a", "f1"),
        ("mac_s", "f1star"),
        ("res", "f2"),
        ("ck", "f3"),
        ("ik", "f4"),
        ("ak", "f5"),
        ("ak_star", "f5star"),
    ]
    .iter()
    .map(|(name, key)| ((*name).to_owned(), text(set, key).to_owned()))
    .collect();
    assert_eq!(lines(&output), expected);
}

/// Every set, from OP and from OPc, as one JSON object.
#[test]
fn milenage_json_matches_every_set_from_op_and_opc() {
    for set in &sets() {
        for operator in ["--op", "--opc"] {
            let output = imsbench(&[
                "milenage",
                "--k",
                text(set, "k"),
                operator,
                text(set, &operator[2..]),
                "--rand",
                text(set, "rand"),
                "--sqn",
                text(set, "sqn"),
                "--amf",
                text(set, "amf"),
                "--json",
            ]);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let json: Value = serde_json::from_str(stdout(&output).trim()).expect("JSON");
            let expected = serde_json::json!({
                "opc": text(set, "opc"), "mac_a": text(set, "f1"), "mac_s": text(set, "f1star"),
                "res": text(set, "f2"), "ck": text(set, "f3"), "ik": text(set, "f4"),
                "ak": text(set, "f5"), "ak_star": text(set, "f5star"),
            });
            assert_eq!(json, expected, "set {} {operator}", set["set"]);
        }
    }
}

fn aka_args(case: &Value) -> Vec<String> {
    let set = &sets()[0];
    [
        "aka-response",
        "--k",
        text(set, "k"),
        "--opc",
        text(set, "opc"),
        "--amf",
        text(set, "amf"),
        "--nonce",
        text(case, "nonce"),
        "--user",
        text(case, "username"),
        "--realm",
        text(case, "realm"),
        "--uri",
        text(case, "uri"),
        "--method",
        text(case, "method"),
        "--qop",
        text(case, "qop"),
        "--cnonce",
        text(case, "cnonce"),
        "--nc",
        "1",
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect()
}

fn run(args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    imsbench(&args)
}

/// digest.json akav1-md5-milenage-set1 and akav2-md5-milenage-set1: the response, the
/// password and the keys, from the TS 35.208 set 1 keys.
#[test]
fn aka_response_matches_the_digest_json_records() {
    for case in &aka_records() {
        let mut args = aka_args(case);
        let v2 = text(case, "algorithm") == "AKAv2-MD5";
        if v2 {
            args.push("--v2".to_owned());
        }
        let output = run(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let lines = lines(&output);
        assert_eq!(field(&lines, "result"), "respond");
        assert_eq!(field(&lines, "algorithm"), text(case, "algorithm"));
        assert_eq!(field(&lines, "response"), text(case, "response"));
        assert_eq!(field(&lines, "res"), text(case, "res"));
        assert_eq!(field(&lines, "ck"), text(case, "ck"));
        assert_eq!(field(&lines, "ik"), text(case, "ik"));
        assert_eq!(field(&lines, "autn"), text(case, "autn"));
        let password = if v2 { "password" } else { "password_hex" };
        assert_eq!(field(&lines, "password"), text(case, password));
        assert_eq!(field(&lines, "sqn_state"), text(&sets()[0], "sqn"));
        let authorization = field(&lines, "authorization");
        assert!(
            authorization.contains(&format!(r#"response="{}""#, text(case, "response"))),
            "{authorization}"
        );
        assert!(!authorization.contains("auts="), "{authorization}");

        args.push("--json".to_owned());
        let json: Value = serde_json::from_str(stdout(&run(&args)).trim()).expect("JSON");
        assert_eq!(json["response"], text(case, "response"));
        assert_eq!(json["result"], "respond");
    }
}

/// With the vector's SQN already accepted, the answer is a resync: AUTS in the output and
/// in the Authorization, exit 0.
#[test]
fn aka_response_with_a_stale_sqn_prints_auts() {
    let case = &aka_records()[0];
    let mut args = aka_args(case);
    args.extend(["--sqn-state".to_owned(), text(&sets()[0], "sqn").to_owned()]);
    let output = run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = lines(&output);
    assert_eq!(field(&lines, "result"), "resync");
    assert_eq!(field(&lines, "sqn_ms"), text(&sets()[0], "sqn"));
    let auts = field(&lines, "auts");
    assert_eq!(auts.len(), 20, "base64 of 14 octets: {auts}");
    assert!(field(&lines, "authorization").ends_with(&format!(r#", auts="{auts}""#)));
    assert!(
        stderr(&output).contains("resynchronise"),
        "{}",
        stderr(&output)
    );
}

/// Keys of another set: MAC-A fails, both MACs are shown, exit 1.
#[test]
fn aka_response_reports_mac_failure() {
    let case = &aka_records()[0];
    let other = &sets()[2];
    let mut args = aka_args(case);
    args[2] = text(other, "k").to_owned();
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1));
    let lines = lines(&output);
    assert_eq!(field(&lines, "result"), "mac-failure");
    assert_eq!(field(&lines, "mac_a"), &text(case, "autn")[16..]);
    assert_ne!(field(&lines, "xmac_a"), field(&lines, "mac_a"));
    assert!(stderr(&output).contains("MAC-A"), "{}", stderr(&output));
}

#[test]
fn bad_hex_and_nonces_give_clear_errors() {
    let set = &sets()[0];
    let milenage = |k: &str, rand: &str, sqn: &str| {
        imsbench(&[
            "milenage",
            "--k",
            k,
            "--opc",
            text(set, "opc"),
            "--rand",
            rand,
            "--sqn",
            sqn,
            "--amf",
            "b9b9",
        ])
    };
    let k = text(set, "k");
    let rand = text(set, "rand");
    for (output, message) in [
        (
            milenage(&k[..30], rand, "ff9bb4d0b607"),
            "K: expected 32 hex digits, found 30",
        ),
        (
            milenage(k, &rand[..31], "ff9bb4d0b607"),
            "RAND: expected 32 hex digits, found 31",
        ),
        (
            milenage(k, rand, "ff9bb4d0b6"),
            "SQN: expected 12 hex digits, found 10",
        ),
        (
            milenage(k, rand, "ff9bb4d0b6zz"),
            "SQN: not a hex digit at offset 10",
        ),
    ] {
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
        assert!(stdout(&output).is_empty());
    }

    // Both OP and OPc: a usage error from the argument parser.
    let both = imsbench(&[
        "milenage",
        "--k",
        k,
        "--op",
        k,
        "--opc",
        k,
        "--rand",
        rand,
        "--sqn",
        "000000000001",
        "--amf",
        "0000",
    ]);
    assert_eq!(both.status.code(), Some(2));

    let mut args = aka_args(&aka_records()[0]);
    args[8] = "not base64!".to_owned();
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("AKA nonce: not base64"),
        "{}",
        stderr(&output)
    );
    args[8] = "AAAA".to_owned();
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("3 octets, fewer than the 32"),
        "{}",
        stderr(&output)
    );
}
