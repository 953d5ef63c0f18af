//! imsload on a terminal (a pseudo-terminal from util-linux `script`) against the harness
//! Kamailio: the dashboard comes up, `p` pauses, `q` de-registers every user and exits
//! cleanly, and the terminal is given back (alternate screen left) before the summary.
#![allow(clippy::disallowed_methods)] // a test driver waits on real processes

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ims_tests::Kamailio;

const USERS: usize = 20;
const PASSWORD: &str = "tui-secret";
/// Enter and leave the alternate screen.
const ENTER: &str = "\x1b[?1049h";
const LEAVE: &str = "\x1b[?1049l";

fn wait_for(output: &Mutex<Vec<u8>>, needle: &str, from: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let text = String::from_utf8_lossy(&output.lock().expect("lock")).into_owned();
        if let Some(at) = text.get(from..).and_then(|rest| rest.find(needle)) {
            return from + at;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} not on the terminal after {limit:?}:\n{}",
            text.get(from..).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn dashboard_pauses_quits_with_deregistration_and_restores_the_terminal() {
    let mut builder = Kamailio::builder();
    for user in 0..USERS {
        builder = builder.user(&format!("vu{user}"), PASSWORD);
    }
    let kamailio = builder.start().expect("start Kamailio");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report");
    let command = format!(
        "stty cols 100 rows 30; exec '{}' message --target {} --users 'vu{{0..{}}}@ims.test' \
         --password {PASSWORD} -r 20 --register-rate 200 --duration 60s --report '{}'",
        env!("CARGO_BIN_EXE_imsload"),
        kamailio.addr(),
        USERS - 1,
        report.display()
    );
    let mut child = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script (util-linux)");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let output = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let output = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                output.lock().expect("lock").extend_from_slice(&chunk[..n]);
            }
        })
    };

    let entered = wait_for(&output, ENTER, 0, Duration::from_secs(20));
    let traffic = wait_for(&output, "traffic", entered, Duration::from_secs(20));
    stdin.write_all(b"p").expect("send p");
    stdin.flush().expect("flush");
    let paused = wait_for(&output, "PAUSED", traffic, Duration::from_secs(5));
    stdin.write_all(b"q").expect("send q");
    stdin.flush().expect("flush");
    let left = wait_for(&output, LEAVE, paused, Duration::from_secs(40));
    wait_for(&output, "interrupted", left, Duration::from_secs(10));

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "imsload did not exit after q");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    reader.join().expect("reader");
    let text = String::from_utf8_lossy(&output.lock().expect("lock")).into_owned();
    assert!(status.success(), "exit {status:?}:\n{text}");
    // The summary table comes after the terminal is given back.
    let summary_at = text.rfind("p99.9 ms").expect("summary table");
    assert!(summary_at > left, "summary inside the dashboard:\n{text}");

    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report.join("summary.json")).expect("summary.json"),
    )
    .expect("JSON");
    let deregister = &summary["transactions"]["deregister"];
    assert_eq!(deregister["succeeded"], USERS, "{deregister:#}");
    assert_eq!(summary["failures"], 0, "{summary:#}");
}
