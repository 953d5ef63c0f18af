//! Runs the `imsbench parse` binary on the data files, a stream and broken input, and
//! checks exit codes and JSON lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const DATA: [&str; 4] = [
    "invite.sip",
    "register.sip",
    "register-200.sip",
    "notify-reginfo.sip",
];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

fn imsbench(args: &[&str], files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imsbench"))
        .args(args)
        .args(files)
        .output()
        .expect("imsbench runs")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).expect("write scratch file");
    path
}

#[test]
fn data_files_parse_with_exit_0() {
    let files: Vec<PathBuf> = DATA.iter().map(|name| data(name)).collect();
    let output = imsbench(&["parse", "--json"], &files);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 4);
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(line["file"], file.display().to_string());
        assert_eq!(line["ok"], true);
    }
    assert_eq!(
        lines[0],
        serde_json::json!({
            "file": files[0].display().to_string(),
            "ok": true, "kind": "request", "method": "INVITE", "headers": 13
        })
    );
    assert_eq!(lines[1]["method"], "REGISTER");
    assert_eq!(lines[1]["headers"], 16);
    assert_eq!(lines[2]["kind"], "response");
    assert_eq!(lines[2]["status"], 200);
    assert_eq!(lines[2]["headers"], 12);
    assert_eq!(lines[3]["method"], "NOTIFY");
    // The object keys come in the order issue 4 gives.
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(text.starts_with(r#"{"file":"#), "{text}");
    assert!(
        text.contains(r#""ok":true,"kind":"request","method":"INVITE","headers":13}"#),
        "{text}"
    );
}

#[test]
fn text_output_names_method_status_and_headers() {
    let output = imsbench(&["parse"], &[data("invite.sip"), data("register-200.sip")]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].ends_with("invite.sip: ok request INVITE, 13 headers, 926 bytes"),
        "{text}"
    );
    assert!(lines[1].contains("ok response 200, 12 headers"), "{text}");
}

#[test]
fn a_stream_of_several_messages_gives_one_line_each() {
    let mut stream = b"\r\n\r\n".to_vec();
    for name in DATA {
        stream.extend_from_slice(&std::fs::read(data(name)).expect("data file"));
    }
    stream.extend_from_slice(b"\r\n");
    let path = scratch("stream.sip", &stream);
    let output = imsbench(&["parse", "--json"], std::slice::from_ref(&path));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["method"], "INVITE");
    assert_eq!(lines[1]["method"], "REGISTER");
    assert_eq!(lines[2]["status"], 200);
    assert_eq!(lines[3]["method"], "NOTIFY");
}

#[test]
fn broken_input_exits_1_and_names_offset_and_header() {
    let broken = scratch(
        "broken.sip",
        b"INVITE sip:bob@ims.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: ten\r\n\r\n",
    );
    let output = imsbench(&["parse", "--json"], &[data("invite.sip"), broken.clone()]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(
        lines[1],
        serde_json::json!({
            "file": broken.display().to_string(),
            "ok": false,
            "error": "invalid Content-Length at byte 85 in header Content-Length"
        })
    );

    // A stream whose second message is cut short: the first is reported, then the error.
    let mut stream = std::fs::read(data("invite.sip")).expect("data file");
    stream.extend_from_slice(&std::fs::read(data("notify-reginfo.sip")).expect("data file")[..600]);
    let path = scratch("cut.sip", &stream);
    let output = imsbench(&["parse"], std::slice::from_ref(&path));
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("cut.sip#1: ok request INVITE"), "{text}");
    assert!(
        lines[1].contains("cut.sip#2: error:") && lines[1].contains("at byte"),
        "{text}"
    );

    let missing = imsbench(&["parse", "--json"], &[data("no-such-file.sip")]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(json_lines(&missing)[0]["ok"], false);
}

#[test]
fn bench_json_ends_with_the_summary_object() {
    let output = imsbench(
        &[
            "parse",
            "--bench",
            "--against",
            "rsip,rsipstack",
            "--json",
            "--rounds",
            "1",
            "--round-ms",
            "1",
        ],
        &[data("invite.sip"), data("register-200.sip")],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3);
    let last = lines.last().expect("a summary line");
    let keys: Vec<&str> = last
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "messages",
        "ns_per_msg",
        "mb_per_s",
        "allocs_per_msg",
        "rsip_ns_per_msg",
        "speedup_vs_rsip",
        "rsipstack_ns_per_msg",
        "speedup_vs_rsipstack",
        "rejected_by",
    ] {
        assert!(keys.contains(&key), "{key} missing from {last}");
    }
    assert_eq!(last["messages"], 2);
    assert_eq!(
        last["allocs_per_msg"], 0.0,
        "ims-core parses without allocating"
    );
    assert!(last["ns_per_msg"].as_f64().expect("a number") > 0.0);
    assert!(last["rejected_by"]["rsip"].is_array());
    assert!(last["rejected_by"]["rsipstack"].is_array());
    assert!(
        last["rsip_allocs_per_msg"].is_null(),
        "only the issue's keys in the last line"
    );
}

#[test]
fn a_message_a_peer_rejects_is_named_and_left_out_of_its_ratio() {
    // rsip cannot parse a tel: Request-URI (RFC 3966), which IMS uses for phone numbers.
    let invite = std::fs::read_to_string(data("invite.sip"))
        .expect("data file")
        .replace(
            "INVITE sip:+14155550123@ims.mnc001.mcc001.3gppnetwork.org;user=phone SIP/2.0",
            "INVITE tel:+14155550123 SIP/2.0",
        );
    let tel = scratch("tel.sip", invite.as_bytes());
    let files = [tel.clone(), data("register.sip")];
    let output = imsbench(
        &[
            "parse",
            "--bench",
            "--against",
            "rsip",
            "--json",
            "--rounds",
            "1",
            "--round-ms",
            "1",
        ],
        &files,
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines = json_lines(&output);
    let last = lines.last().expect("a summary line");
    assert_eq!(last["messages"], 2);
    assert_eq!(
        last["rejected_by"]["rsip"],
        serde_json::json!([tel.display().to_string()])
    );
    assert!(
        last["speedup_vs_rsip"].as_f64().is_some(),
        "the ratio covers register.sip"
    );
    assert!(
        last.get("rsipstack_ns_per_msg").is_none(),
        "rsipstack was not asked for"
    );
    assert!(lines[0]["rsip_error"].is_string());

    let output = imsbench(
        &[
            "parse",
            "--bench",
            "--against",
            "rsip",
            "--rounds",
            "1",
            "--round-ms",
            "1",
        ],
        &files,
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        text.contains("rsip rejected") && text.contains("tel.sip"),
        "{text}"
    );
    assert!(text.contains("over the 1 messages it parsed"), "{text}");
}

#[test]
fn against_needs_bench() {
    let output = imsbench(&["parse", "--against", "rsip"], &[data("invite.sip")]);
    assert_eq!(output.status.code(), Some(2));
}
