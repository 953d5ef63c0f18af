//! `imsbench codec g711`: G.711 encode and decode speed on the user's WAV file or a
//! generated tone, and the round trip's signal-to-noise ratio.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use ims_core::media::codec::{ALaw, Codec, MuLaw};
use serde::Serialize;

use crate::cpu::thread_cpu_time;

/// The G.711 companding law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Law {
    /// µ-law (PCMU, payload type 0).
    Mu,
    /// A-law (PCMA, payload type 8).
    A,
}

/// Samples to measure: 16-bit mono PCM and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// The samples.
    pub samples: Vec<i16>,
    /// The sampling rate, in Hz.
    pub sample_rate: u32,
    /// The file name, or a description of the generated signal.
    pub source: String,
}

/// A sine tone at `frequency` Hz and `amplitude`, `seconds` long at 8 kHz.
pub fn tone(frequency: f64, amplitude: f64, seconds: u32) -> Signal {
    let rate = 8000u32;
    let samples = (0..rate * seconds)
        .map(|n| {
            let phase = std::f64::consts::TAU * frequency * f64::from(n) / f64::from(rate);
            (amplitude * phase.sin()).round() as i16
        })
        .collect();
    Signal {
        samples,
        sample_rate: rate,
        source: format!("generated {frequency} Hz tone, {seconds} s at {rate} Hz"),
    }
}

/// Reads a 16-bit mono PCM WAV file.
pub fn read_wav(path: &Path) -> anyhow::Result<Signal> {
    let reader =
        hound::WavReader::open(path).with_context(|| format!("reading {}", path.display()))?;
    let spec = reader.spec();
    if spec.channels != 1
        || spec.bits_per_sample != 16
        || spec.sample_format != hound::SampleFormat::Int
    {
        bail!(
            "{}: need 16-bit integer mono PCM, found {} channel(s) of {}-bit {}",
            path.display(),
            spec.channels,
            spec.bits_per_sample,
            match spec.sample_format {
                hound::SampleFormat::Int => "integer",
                hound::SampleFormat::Float => "float",
            }
        );
    }
    let samples = reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading the samples of {}", path.display()))?;
    if samples.is_empty() {
        bail!("{}: the file holds no samples", path.display());
    }
    Ok(Signal {
        samples,
        sample_rate: spec.sample_rate,
        source: path.display().to_string(),
    })
}

/// What one measurement found.
#[derive(Debug, Clone, Serialize)]
pub struct CodecReport {
    /// The law measured.
    pub law: Law,
    /// Where the samples came from.
    pub source: String,
    /// Samples in the signal.
    pub samples: usize,
    /// The signal's sampling rate, in Hz.
    pub sample_rate: u32,
    /// Encoded samples per second of thread CPU time.
    pub encode_samples_per_second: f64,
    /// Decoded samples per second of thread CPU time.
    pub decode_samples_per_second: f64,
    /// Samples encoded and decoded again per second of thread CPU time.
    pub round_trip_samples_per_second: f64,
    /// Signal-to-noise ratio of the round trip, in dB (`null` in JSON for digital
    /// silence, where it is undefined).
    pub snr_db: Option<f64>,
    /// The largest absolute difference between a sample and its round trip.
    pub max_error: u32,
}

/// Encodes and decodes `signal` repeatedly for at least `budget` of CPU time per
/// direction, and compares the round trip with the input.
pub fn measure(law: Law, signal: &Signal, budget: Duration) -> CodecReport {
    let samples = &signal.samples;
    let mut encoded = vec![0u8; samples.len()];
    let mut decoded = vec![0i16; samples.len()];
    let encode = |input: &[i16], output: &mut [u8]| match law {
        Law::Mu => MuLaw.encode(input, output),
        Law::A => ALaw.encode(input, output),
    };
    let decode = |input: &[u8], output: &mut [i16]| match law {
        Law::Mu => MuLaw.decode(input, output),
        Law::A => ALaw.decode(input, output),
    };
    // The buffers have the same length, so neither call can fail.
    let _ = encode(samples, &mut encoded);
    let _ = decode(&encoded, &mut decoded);
    let (snr_db, max_error) = compare(samples, &decoded);
    let encode_rate = rate(samples.len(), budget, || {
        let _ = encode(std::hint::black_box(samples), &mut encoded);
    });
    let decode_rate = rate(samples.len(), budget, || {
        let _ = decode(std::hint::black_box(&encoded), &mut decoded);
    });
    let round_trip_rate = rate(samples.len(), budget, || {
        let _ = encode(std::hint::black_box(samples), &mut encoded);
        let _ = decode(&encoded, &mut decoded);
    });
    std::hint::black_box(&decoded);
    CodecReport {
        law,
        source: signal.source.clone(),
        samples: samples.len(),
        sample_rate: signal.sample_rate,
        encode_samples_per_second: encode_rate,
        decode_samples_per_second: decode_rate,
        round_trip_samples_per_second: round_trip_rate,
        snr_db,
        max_error,
    }
}

/// Runs `pass` (over `samples` samples) until `budget` of thread CPU time has gone,
/// after one warm-up pass, and returns samples per second.
fn rate(samples: usize, budget: Duration, mut pass: impl FnMut()) -> f64 {
    pass();
    let began = thread_cpu_time();
    let mut passes = 0u64;
    loop {
        pass();
        passes += 1;
        let elapsed = thread_cpu_time().saturating_sub(began);
        if elapsed >= budget {
            return (passes as f64 * samples as f64) / elapsed.as_secs_f64();
        }
    }
}

/// The SNR in dB of `output` against `input`, and the largest sample error.
pub fn compare(input: &[i16], output: &[i16]) -> (Option<f64>, u32) {
    let mut signal = 0f64;
    let mut noise = 0f64;
    let mut max_error = 0u32;
    for (a, b) in input.iter().zip(output) {
        let error = i32::from(*a) - i32::from(*b);
        signal += f64::from(*a).powi(2);
        noise += f64::from(error).powi(2);
        max_error = max_error.max(error.unsigned_abs());
    }
    let snr = if signal == 0.0 {
        None
    } else if noise == 0.0 {
        Some(f64::INFINITY)
    } else {
        Some(10.0 * (signal / noise).log10())
    };
    (snr, max_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loud_tone_round_trips_with_the_g711_snr() {
        let signal = tone(1000.0, 16_000.0, 1);
        // A 1 kHz tone at 8 kHz repeats 8 sample values, so the SNR depends on where
        // those fall in each law's segments: 46.7 dB for µ-law, 37.0 dB for A-law.
        for (law, low, high) in [(Law::Mu, 44.0, 49.0), (Law::A, 35.0, 39.0)] {
            let report = measure(law, &signal, Duration::from_millis(1));
            let snr = report.snr_db.unwrap();
            assert!((low..high).contains(&snr), "{law:?}: {snr}");
            assert!(
                report.max_error > 0 && report.max_error <= 1024,
                "{report:?}"
            );
            assert!(report.round_trip_samples_per_second > 0.0);
        }
    }

    #[test]
    fn silence_has_no_snr() {
        assert_eq!(compare(&[0; 8], &[0; 8]), (None, 0));
        assert_eq!(compare(&[5, -5], &[5, -5]).0, Some(f64::INFINITY));
    }
}
