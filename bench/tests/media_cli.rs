//! Runs `imsbench jitter` and `imsbench codec g711` on simulated streams, a generated
//! tone and WAV files (good and bad), and checks exit codes, statistics and JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn imsbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imsbench"))
        .args(args)
        .output()
        .expect("imsbench runs")
}

fn json(output: &Output) -> Value {
    let text = String::from_utf8(output.stdout.clone()).expect("UTF-8 output");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn wav(name: &str, spec: hound::WavSpec, samples: &[i32]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut writer = hound::WavWriter::create(&path, spec).expect("create WAV");
    for sample in samples {
        match spec.bits_per_sample {
            8 => writer.write_sample(*sample as i8).expect("write"),
            _ => writer.write_sample(*sample as i16).expect("write"),
        }
    }
    writer.finalize().expect("finalize WAV");
    path
}

fn mono16(rate: u32) -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

#[test]
fn jitter_json_reports_the_injected_loss_and_plays_in_order() {
    let output = imsbench(&[
        "jitter",
        "--loss",
        "0.1",
        "--jitter",
        "60",
        "--reorder",
        "0.05",
        "--packets",
        "5000",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json(&output);
    let outcome = &value["outcome"];
    let pushed = outcome["pushed"].as_u64().unwrap();
    assert!((4350..=4650).contains(&pushed), "{value}");
    assert_eq!(outcome["out_of_order_plays"], 0);
    assert_eq!(outcome["refused"], 0);
    let statistics = &outcome["statistics"];
    assert_eq!(statistics["duplicate"], 0);
    let lost = statistics["lost"].as_u64().unwrap();
    let late = statistics["late"].as_u64().unwrap();
    let played = statistics["played"].as_u64().unwrap();
    let dropped = statistics["dropped"].as_u64().unwrap();
    // Every packet pushed played, came too late, or was dropped to shrink the buffer;
    // every sequence number played, was dropped, or was lost (concealed, then a later
    // packet played), except lost ones at the very end, which look like the end of a
    // talkspurt.
    assert_eq!(played + late + dropped, pushed, "{value}");
    assert!(late > 0 && lost > 5000 - pushed, "{value}");
    assert!(
        (4997..=5000).contains(&(played + dropped + lost)),
        "{value}"
    );
    assert!(outcome["nanos_per_packet"].as_f64().unwrap() > 0.0);
    assert!(statistics["target_delay_frames"].as_u64().unwrap() >= 2);
    assert_eq!(value["seed"], 1);
}

#[test]
fn jitter_text_names_each_statistic_and_the_same_seed_repeats() {
    let args = [
        "jitter",
        "--packets",
        "2000",
        "--jitter",
        "30",
        "--seed",
        "9",
    ];
    let first = imsbench(&args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let text = String::from_utf8(first.stdout.clone()).unwrap();
    for word in [
        "ns per packet",
        "target",
        "late",
        "lost",
        "concealed",
        "duplicates",
        "out-of-order plays: 0",
    ] {
        assert!(text.contains(word), "{word}: {text}");
    }
    // The statistics (not the timing) are the same on a second run.
    let second = String::from_utf8(imsbench(&args).stdout).unwrap();
    let without_speed = |text: &str| {
        text.lines()
            .filter(|line| !line.starts_with("speed:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_speed(&text), without_speed(&second));
}

#[test]
fn jitter_rejects_a_probability_out_of_range() {
    let output = imsbench(&["jitter", "--loss", "1.5"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("--loss is a probability"),
        "{}",
        stderr(&output)
    );
    let output = imsbench(&["jitter", "--reorder", "-0.1"]);
    assert_ne!(output.status.code(), Some(0));
    let output = imsbench(&["jitter", "--packets", "0"]);
    assert!(stderr(&output).contains("--packets"), "{}", stderr(&output));
}

#[test]
fn codec_on_the_generated_tone_reports_speed_and_snr_for_both_laws() {
    for (law, low, high) in [("mu", 44.0, 49.0), ("a", 35.0, 39.0)] {
        let output = imsbench(&["codec", "g711", "--law", law, "--budget-ms", "20", "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let value = json(&output);
        assert_eq!(value["law"], law);
        assert_eq!(value["samples"], 80_000);
        assert_eq!(value["sample_rate"], 8000);
        let snr = value["snr_db"].as_f64().unwrap();
        assert!((low..high).contains(&snr), "{law}: {value}");
        for key in [
            "encode_samples_per_second",
            "decode_samples_per_second",
            "round_trip_samples_per_second",
        ] {
            assert!(value[key].as_f64().unwrap() > 1e6, "{key}: {value}");
        }
    }
}

#[test]
fn codec_reads_a_wav_file() {
    let samples: Vec<i32> = (0..8000)
        .map(|n| (10_000.0 * (f64::from(n) * 0.3).sin()) as i32)
        .collect();
    let path = wav("tone.wav", mono16(8000), &samples);
    let output = imsbench(&["codec", "g711", "--budget-ms", "10", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("tone.wav (8000 samples at 8000 Hz)"),
        "{text}"
    );
    assert!(text.contains("M samples/s"), "{text}");
    assert!(text.contains("SNR"), "{text}");
}

#[test]
fn codec_refuses_stereo_8_bit_and_missing_files_clearly() {
    let stereo = hound::WavSpec {
        channels: 2,
        ..mono16(8000)
    };
    let path = wav("stereo.wav", stereo, &[1, 2, 3, 4]);
    let output = imsbench(&["codec", "g711", path.to_str().unwrap()]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output)
            .contains("need 16-bit integer mono PCM, found 2 channel(s) of 16-bit integer"),
        "{}",
        stderr(&output)
    );
    let eight_bit = hound::WavSpec {
        bits_per_sample: 8,
        ..mono16(8000)
    };
    let path = wav("eight.wav", eight_bit, &[1, 2, 3]);
    let output = imsbench(&["codec", "g711", path.to_str().unwrap()]);
    assert!(
        stderr(&output).contains("1 channel(s) of 8-bit"),
        "{}",
        stderr(&output)
    );
    let output = imsbench(&["codec", "g711", "/nonexistent/file.wav"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("reading /nonexistent/file.wav"),
        "{}",
        stderr(&output)
    );
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-a.wav");
    std::fs::write(&path, b"RIFF garbage").unwrap();
    let output = imsbench(&["codec", "g711", path.to_str().unwrap()]);
    assert_ne!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("not-a.wav"), "{}", stderr(&output));
}

#[test]
fn help_lists_the_media_subcommands() {
    let output = imsbench(&["--help"]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("jitter"), "{text}");
    assert!(text.contains("codec"), "{text}");
    let output = imsbench(&["codec", "g711", "--help"]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("--law"), "{text}");
    assert!(text.contains("[WAV]"), "{text}");
}
