//! WAV file ports: a source that plays a file and a sink that records one, at the
//! session's rate (8 kHz mono 16-bit for G.711). A file at another rate, with more
//! channels or other sample formats is converted on the fly (channels averaged, rate
//! converted by [`Resampler`]).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::port::{AudioSink, AudioSource};
use super::resample::{Resampler, float_to_i16};

/// Why a WAV port could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The file could not be opened, read or created.
    #[error("WAV file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the WAV library said.
        source: hound::Error,
    },
    /// The file's format cannot be played (no channels, or samples wider than 32 bits).
    #[error("WAV file {path}: {channels} channels of {bits}-bit samples cannot be played")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Channels in the file.
        channels: u16,
        /// Bits per sample.
        bits: u16,
    },
}

/// The samples of an open file, in the file's own format.
enum Samples {
    Integer {
        samples: hound::WavIntoSamples<BufReader<File>, i32>,
        /// Bits to drop to bring a sample to 16 bits (negative: bits to add).
        shift: i32,
    },
    Float(hound::WavIntoSamples<BufReader<File>, f32>),
}

impl Samples {
    /// The next sample scaled to the 16-bit range, `None` at the end or on a read error.
    fn next(&mut self) -> Option<f32> {
        match self {
            Self::Integer { samples, shift } => {
                let sample = samples.next()?.ok()?;
                Some(if *shift >= 0 {
                    (sample >> *shift) as f32
                } else {
                    (sample << -*shift) as f32
                })
            }
            Self::Float(samples) => Some(samples.next()?.ok()? * 32767.0),
        }
    }
}

/// Plays a WAV file, then reports its end.
pub struct WavSource {
    file: WavFile,
    sample_rate: u32,
    resampler: Resampler,
    ended: bool,
}

impl std::fmt::Debug for WavSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WavSource")
            .field("channels", &self.file.channels)
            .field("sample_rate", &self.sample_rate)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl WavSource {
    /// Opens `path` for playing at `sample_rate` Hz.
    pub fn open(path: &Path, sample_rate: u32) -> Result<Self, WavError> {
        let file_error = |source| WavError::File {
            path: path.to_path_buf(),
            source,
        };
        let reader = hound::WavReader::open(path).map_err(file_error)?;
        let spec = reader.spec();
        let unsupported = WavError::UnsupportedFormat {
            path: path.to_path_buf(),
            channels: spec.channels,
            bits: spec.bits_per_sample,
        };
        if spec.channels == 0 || spec.bits_per_sample == 0 || spec.bits_per_sample > 32 {
            return Err(unsupported);
        }
        let samples = match spec.sample_format {
            hound::SampleFormat::Int => Samples::Integer {
                samples: reader.into_samples::<i32>(),
                shift: i32::from(spec.bits_per_sample) - 16,
            },
            hound::SampleFormat::Float if spec.bits_per_sample == 32 => {
                Samples::Float(reader.into_samples::<f32>())
            }
            hound::SampleFormat::Float => return Err(unsupported),
        };
        tracing::debug!(path = %path.display(), ?spec, sample_rate, "WAV source opened");
        Ok(Self {
            file: WavFile {
                samples,
                channels: spec.channels,
            },
            sample_rate,
            resampler: Resampler::new(spec.sample_rate, sample_rate),
            ended: false,
        })
    }

    /// Whether the whole file has been played.
    pub fn ended(&self) -> bool {
        self.ended
    }
}

/// An open file and its channel count.
struct WavFile {
    samples: Samples,
    channels: u16,
}

impl WavFile {
    /// One sample of the file with its channels averaged; `None` at the end.
    fn next_mono(&mut self) -> Option<f32> {
        let mut sum = 0.0;
        for _ in 0..self.channels {
            sum += self.samples.next()?;
        }
        Some(sum / f32::from(self.channels))
    }
}

impl AudioSource for WavSource {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn read(&mut self, frame: &mut [i16]) -> usize {
        let mut real = 0;
        for sample in frame.iter_mut() {
            if self.ended {
                *sample = 0;
                continue;
            }
            let value = if self.resampler.is_identity() {
                self.file.next_mono()
            } else {
                let mut ended = false;
                let file = &mut self.file;
                let value = self.resampler.pull(|| {
                    file.next_mono().unwrap_or_else(|| {
                        ended = true;
                        0.0
                    })
                });
                (!ended).then_some(value)
            };
            match value {
                Some(value) => {
                    *sample = float_to_i16(value / 32767.0);
                    real += 1;
                }
                None => {
                    self.ended = true;
                    *sample = 0;
                }
            }
        }
        real
    }
}

/// Records what it is given into a 16-bit mono WAV file; the header is completed when
/// the sink is dropped (or [`WavSink::finish`]ed).
pub struct WavSink {
    writer: Option<hound::WavWriter<std::io::BufWriter<File>>>,
    path: PathBuf,
    sample_rate: u32,
    written: u64,
    failed: bool,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WavSink")
            .field("path", &self.path)
            .field("sample_rate", &self.sample_rate)
            .field("written", &self.written)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl WavSink {
    /// Creates (or truncates) `path` for recording at `sample_rate` Hz.
    pub fn create(path: &Path, sample_rate: u32) -> Result<Self, WavError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|source| WavError::File {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            writer: Some(writer),
            path: path.to_path_buf(),
            sample_rate,
            written: 0,
            failed: false,
        })
    }

    /// Samples recorded so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Completes the file's header and closes it.
    pub fn finish(mut self) -> Result<(), WavError> {
        self.close()
    }

    fn close(&mut self) -> Result<(), WavError> {
        match self.writer.take() {
            Some(writer) => writer.finalize().map_err(|source| WavError::File {
                path: self.path.clone(),
                source,
            }),
            None => Ok(()),
        }
    }
}

impl AudioSink for WavSink {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn write(&mut self, frame: &[i16]) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        for sample in frame {
            if let Err(error) = writer.write_sample(*sample) {
                if !self.failed {
                    tracing::error!(path = %self.path.display(), %error, "WAV recording failed");
                }
                self.failed = true;
                self.writer = None;
                return;
            }
        }
        self.written = self.written.saturating_add(frame.len() as u64);
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "WAV recording not completed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::port::{ToneGenerator, tone_power_ratio};

    fn write_tone(path: &Path, rate: u32, channels: u16, seconds: u32) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        let mut tone = ToneGenerator::new(1000.0, 10_000, rate);
        let mut sample = [0i16; 1];
        for _ in 0..rate * seconds {
            tone.read(&mut sample);
            for _ in 0..channels {
                writer.write_sample(sample[0]).unwrap();
            }
        }
        writer.finalize().unwrap();
    }

    fn play_all(source: &mut WavSource) -> Vec<i16> {
        let mut output = Vec::new();
        let mut frame = [0i16; 160];
        loop {
            let real = source.read(&mut frame);
            output.extend_from_slice(&frame[..real]);
            if real < frame.len() {
                return output;
            }
        }
    }

    #[test]
    fn a_recorded_file_plays_back_the_same_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let mut tone = ToneGenerator::new(1000.0, 8000, 8000);
        let mut frame = [0i16; 160];
        let mut recorded = Vec::new();
        let mut sink = WavSink::create(&path, 8000).unwrap();
        for _ in 0..50 {
            tone.read(&mut frame);
            sink.write(&frame);
            recorded.extend_from_slice(&frame);
        }
        assert_eq!(sink.written(), 8000);
        sink.finish().unwrap();
        let mut source = WavSource::open(&path, 8000).unwrap();
        assert_eq!(play_all(&mut source), recorded);
        assert!(source.ended());
        assert_eq!(source.read(&mut frame), 0);
    }

    #[test]
    fn a_stereo_44_1_khz_file_is_converted_to_8_khz_mono() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stereo.wav");
        write_tone(&path, 44_100, 2, 1);
        let mut source = WavSource::open(&path, 8000).unwrap();
        let output = play_all(&mut source);
        assert!(output.len().abs_diff(8000) <= 2, "{}", output.len());
        let ratio = tone_power_ratio(&output[800..7200], 1000.0, 8000);
        assert!(ratio > 0.95, "{ratio}");
    }

    #[test]
    fn missing_and_garbage_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.wav");
        assert!(matches!(
            WavSource::open(&missing, 8000),
            Err(WavError::File { .. })
        ));
        let garbage = dir.path().join("garbage.wav");
        std::fs::write(&garbage, b"RIFF\x04\x00\x00\x00WAVEjunk").unwrap();
        let error = WavSource::open(&garbage, 8000).unwrap_err();
        assert!(error.to_string().contains("garbage.wav"), "{error}");
    }
}
