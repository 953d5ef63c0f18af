//! Bad input to `imsload benchmark` ends it with exit status 2 and a message that says
//! what is wrong, before any traffic: every weight of the traffic set zero, an unknown
//! scenario type, a zero or negative step duration, an unknown key in the TOML file.

use std::process::Output;

mod common;
use common::*;

fn benchmark(args: &[&str]) -> Output {
    imsload()
        .arg("benchmark")
        .args([
            "-t",
            "127.0.0.1:5060",
            "--users",
            "u{0..9}@ims.test",
            "--password",
            "p",
        ])
        .args(args)
        .output()
        .expect("run imsload benchmark")
}

#[test]
fn a_traffic_set_with_every_weight_zero_is_refused() {
    let output = benchmark(&["--traffic", "register=0,message=0"]);
    assert_exit_2(&output, "every weight is zero");
}

#[test]
fn an_unknown_scenario_type_is_refused() {
    let output = benchmark(&["--traffic", "message=1,invite=2"]);
    assert_exit_2(&output, "unknown scenario type \"invite\"");
    let output = benchmark(&["--threshold", "call=1s"]);
    assert_exit_2(&output, "unknown scenario type \"call\"");
}

#[test]
fn a_zero_or_negative_step_duration_is_refused() {
    let output = benchmark(&["--step-duration", "0s"]);
    assert_exit_2(&output, "--step-duration");
    let output = benchmark(&["--step-duration", "-5s"]);
    assert_exit_2(&output, "--step-duration");
    let output = benchmark(&["--base-saps", "0"]);
    assert_exit_2(&output, "--base-saps");
}

#[test]
fn an_unknown_key_in_the_toml_file_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.toml");
    std::fs::write(&path, "base_saps = 10\nsteps = 4\n").expect("write");
    let output = benchmark(&["--config", path.to_str().expect("UTF-8 path")]);
    assert_exit_2(&output, "unknown field `steps`");
    let output = benchmark(&["--config", "/nonexistent/bench.toml"]);
    assert_exit_2(&output, "--config /nonexistent/bench.toml");
}
