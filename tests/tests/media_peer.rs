//! Interop of the media session with a real RTP peer on loopback: SIPp's RTP echo
//! (`sipp -rtp_echo`, started by the harness and stopped by pid) sends our stream back,
//! and the tone we sent comes out of our jitter buffer and decoder into a WAV file;
//! DTMF digits we send come back as the same digits.
// The test waits on real time; the clock ban is for the engine.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use ims_core::media::audio_config::{AudioInput, AudioOutput, AudioPortConfig};
use ims_core::media::port::{AudioSource, ToneGenerator, tone_power_ratio};
use ims_core::media::session::{MediaEvent, MediaSession, MediaSessionConfig};
use ims_core::media::wav::{WavSink, WavSource};
use ims_tests::RtpEcho;

/// G.711 alone keeps a full-scale-ish tone about 35 dB above its quantisation noise; an
/// echo that returns the stream whole on loopback must keep it above 25 dB.
const SNR_THRESHOLD_DB: f64 = 25.0;

fn snr_db(samples: &[i16], frequency: f32) -> f64 {
    let ratio = f64::from(tone_power_ratio(samples, frequency, 8000)).min(0.999_999);
    10.0 * (ratio / (1.0 - ratio)).log10()
}

#[test]
fn a_tone_and_dtmf_come_back_from_sipp_rtp_echo() {
    let mut echo = RtpEcho::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("echoed.wav");
    let mut session = MediaSession::start(
        MediaSessionConfig {
            remote_rtp: Some(echo.address()),
            rtcp_interval: Duration::from_millis(500),
            ..MediaSessionConfig::default()
        },
        Box::new(ToneGenerator::new(1000.0, 10_000, 8000)),
        Box::new(WavSink::create(&recording, 8000).unwrap()),
    )
    .unwrap();

    std::thread::sleep(Duration::from_millis(2500));
    let digits = "159#";
    session.send_dtmf(digits).unwrap();
    let mut received = String::new();
    let mut other_events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(4);
    while received.len() < digits.len() && Instant::now() < deadline {
        match session.try_event() {
            Some(MediaEvent::Dtmf { digit, .. }) => received.push(digit),
            Some(event) => other_events.push(event),
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    echo.process().check_running().unwrap();
    let statistics = session.stop();
    drop(echo);
    eprintln!("{statistics:?}");

    // Our own stream came back: same SSRC, nothing lost on loopback but what was in
    // flight when we stopped.
    assert!(
        other_events
            .iter()
            .any(|event| matches!(event, MediaEvent::RemoteSource { .. })),
        "{other_events:?}"
    );
    assert!(statistics.packets_sent >= 100, "{statistics:?}");
    assert!(
        statistics.packets_received + 5 >= statistics.packets_sent,
        "{statistics:?}"
    );
    assert!(statistics.packets_lost <= 1, "{statistics:?}");
    assert_eq!(statistics.invalid_packets + statistics.unknown_ssrc, 0);
    assert_eq!(received, digits, "DTMF digits echoed");

    // The audio round-tripped: the 1 kHz tone is in what we played out.
    let mut source = WavSource::open(&recording, 8000).unwrap();
    let mut samples = Vec::new();
    let mut frame = [0i16; 160];
    loop {
        let real = source.read(&mut frame);
        samples.extend_from_slice(&frame[..real]);
        if real < frame.len() {
            break;
        }
    }
    // The first 2 s: before the DTMF (played as silence) and after the playout start.
    assert!(samples.len() >= 8000 * 3, "{} samples", samples.len());
    let steady = &samples[2400..16_000];
    let snr = snr_db(steady, 1000.0);
    eprintln!("echoed 1 kHz SNR {snr:.1} dB");
    assert!(snr >= SNR_THRESHOLD_DB, "echoed 1 kHz SNR {snr:.1} dB");
    assert!(snr_db(steady, 1400.0) < 0.0);
    // Before anything came back, the output was silence (the tone is not a local leak).
    assert!(samples[..160].iter().all(|sample| *sample == 0));
}

/// `Auto` ports take the sound card where there is one and fall back to null where there
/// is none (CI): either way the session runs against the echo.
#[test]
fn a_session_on_auto_ports_runs_with_or_without_a_sound_card() {
    let echo = RtpEcho::start().unwrap();
    let ports = AudioPortConfig::default();
    assert_eq!(ports.input, AudioInput::Auto);
    assert_eq!(ports.output, AudioOutput::Auto);
    let session = MediaSession::start_with_ports(
        MediaSessionConfig {
            remote_rtp: Some(echo.address()),
            ..MediaSessionConfig::default()
        },
        &ports,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let statistics = session.stop();
    assert!(statistics.packets_sent >= 20, "{statistics:?}");
    assert!(statistics.packets_received >= 20, "{statistics:?}");
}
