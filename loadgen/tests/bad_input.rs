//! Bad input ends imsload with exit status 2 and a message that says what is wrong: an
//! unknown scenario, a malformed injection file (with its line number), an impossible
//! rate, an unreachable target, more users with a port each than file descriptors allow.

use std::net::UdpSocket;
use std::process::Output;

mod common;
use common::*;

fn run(args: &[&str]) -> Output {
    imsload().args(args).output().expect("run imsload")
}

#[test]
fn an_unknown_scenario_is_refused() {
    let output = run(&[
        "dance",
        "-t",
        "127.0.0.1:5060",
        "--users",
        "u{0..1}@ims.test",
    ]);
    assert_exit_2(&output, "invalid value 'dance'");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("register") && stderr.contains("group-chat"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_injection_file_names_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("users.csv");
    std::fs::write(
        &path,
        "SEQUENTIAL\nalice0;ims.test;[authentication username=alice0@ims.test password=x]\nbob;ims.test;password=y\n",
    )
    .expect("write");
    let file = path.to_str().expect("UTF-8 path");
    let output = run(&["register", "-t", "127.0.0.1:5060", "--inf", file]);
    assert_exit_2(&output, "users.csv:3: field 3 must read [authentication");
    std::fs::write(&path, "alice;ims.test\n").expect("write");
    let output = run(&["register", "-t", "127.0.0.1:5060", "--inf", file]);
    assert_exit_2(
        &output,
        "users.csv:1: the first line must be SEQUENTIAL or RANDOM",
    );
}

#[test]
fn impossible_rates_are_refused() {
    for rate in ["0", "-3", "inf"] {
        let output = run(&[
            "message",
            "-t",
            "127.0.0.1:5060",
            "--users",
            "u{0..9}@ims.test",
            "--password",
            "p",
            "-r",
            rate,
        ]);
        assert_exit_2(&output, "impossible rate");
    }
}

#[test]
fn an_unreachable_target_is_refused_before_the_run() {
    // A port nobody listens on: bound, then released.
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let target = format!("127.0.0.1:{port}");
    let output = run(&[
        "register",
        "-t",
        &target,
        "--users",
        "u{0..9}@ims.test",
        "--password",
        "p",
        "--probe-timeout",
        "1s",
    ]);
    assert_exit_2(&output, &target);
    let output = run(&[
        "register",
        "-t",
        &target,
        "--users",
        "u{0..9}@ims.test",
        "--password",
        "p",
        "--transport",
        "tcp",
        "--probe-timeout",
        "1s",
    ]);
    assert_exit_2(&output, "cannot reach");
    let output = run(&[
        "register",
        "-t",
        "no-such-host.invalid:5060",
        "--users",
        "u{0..9}@ims.test",
        "--password",
        "p",
    ]);
    assert_exit_2(&output, "--target");
}

#[test]
fn users_with_a_port_each_beyond_the_file_limit_are_refused_before_the_run() {
    // prlimit (util-linux) runs imsload under a hard limit of 300 open files: 100 users
    // with a port each need about 356. Refused before the target is probed (port 9: none).
    let output = std::process::Command::new("prlimit")
        .arg("--nofile=300:300")
        .arg(env!("CARGO_BIN_EXE_imsload"))
        .args([
            "register",
            "-t",
            "127.0.0.1:9",
            "--users",
            "u{0..99}@ims.test",
            "--password",
            "x",
            "--port-per-user",
        ])
        .output()
        .expect("run prlimit (util-linux)");
    assert_exit_2(
        &output,
        "100 users with a port each need about 356 file descriptors, but the hard limit (ulimit -Hn) is 300",
    );
}

#[test]
fn a_bad_config_file_names_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scenario.toml");
    let file = path.to_str().expect("UTF-8 path");
    std::fs::write(
        &path,
        "target = \"127.0.0.1:5060\"\nusers = \"u{0..9}@ims.test\"\n\n[weights]\nmessage = 1\ncall = 1\n",
    )
    .expect("write");
    let output = run(&["mixed", "--config", file]);
    assert_exit_2(&output, "scenario.toml:6: unknown field `call`");
    std::fs::write(&path, "target = \"127.0.0.1:5060\"\nrate = \"fast\"\n").expect("write");
    let output = run(&["message", "--config", file]);
    assert_exit_2(&output, "scenario.toml:2: invalid type: string \"fast\"");
    let output = run(&["register", "--config", "/nonexistent/scenario.toml"]);
    assert_exit_2(&output, "--config /nonexistent/scenario.toml: ");
    // A valid file whose weights add up to zero: refused as the option would be.
    std::fs::write(
        &path,
        "target = \"127.0.0.1:5060\"\nusers = \"u{0..9}@ims.test\"\npassword = \"p\"\n[weights]\nmessage = 0\n",
    )
    .expect("write");
    let output = run(&["mixed", "--config", file]);
    assert_exit_2(&output, "the weights add up to zero");
}

#[test]
fn bad_weights_are_refused() {
    for (weights, needle) in [
        ("message=1,invite=2", "unknown scenario \"invite\""),
        ("message=0,refresh=0", "the weights add up to zero"),
        ("message=lots", "--weights message=lots: not a weight"),
    ] {
        let output = run(&[
            "mixed",
            "-t",
            "127.0.0.1:5060",
            "--users",
            "u{0..9}@ims.test",
            "--password",
            "p",
            "--weights",
            weights,
        ]);
        assert_exit_2(&output, needle);
    }
}
