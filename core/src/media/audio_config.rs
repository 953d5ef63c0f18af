//! Which audio ports a session uses, chosen by config: a sound card, a WAV file, a tone,
//! or null; `Auto` takes the sound card when there is one (and the `audio-device`
//! feature is built) and falls back to null when there is none, as on CI.

use std::path::PathBuf;

use serde::Deserialize;

use super::port::{AudioSink, AudioSource, NullPort, ToneGenerator};
use super::wav::{WavError, WavSink, WavSource};

/// Where the audio we send comes from.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AudioInput {
    /// The sound card if there is one, else silence.
    #[default]
    Auto,
    /// A sound card: the default one, or the one with this name.
    Device {
        /// The device's name as the audio backend lists it.
        #[serde(default)]
        name: Option<String>,
    },
    /// A WAV file, played once, then silence.
    Wav {
        /// The file.
        path: PathBuf,
    },
    /// A sine tone.
    Tone {
        /// Frequency in Hz.
        frequency: f32,
        /// Amplitude, 0 to 32767.
        amplitude: i16,
    },
    /// Silence.
    Null,
}

/// Where the audio we receive goes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AudioOutput {
    /// The sound card if there is one, else nowhere.
    #[default]
    Auto,
    /// A sound card: the default one, or the one with this name.
    Device {
        /// The device's name as the audio backend lists it.
        #[serde(default)]
        name: Option<String>,
    },
    /// A WAV file (16-bit mono at the session's rate), overwritten.
    Wav {
        /// The file.
        path: PathBuf,
    },
    /// Discarded.
    Null,
}

/// The audio ports of a session.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct AudioPortConfig {
    /// The source.
    pub input: AudioInput,
    /// The sink.
    pub output: AudioOutput,
}

/// What kind of port was opened (what `Auto` resolved to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortKind {
    /// A sound card.
    Device,
    /// A WAV file.
    Wav,
    /// A tone generator.
    Tone,
    /// Null.
    Null,
}

/// Why an audio port could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioPortError {
    /// A WAV file could not be opened or created.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// A sound card was asked for but could not be opened.
    #[cfg(feature = "audio-device")]
    #[error(transparent)]
    Device(#[from] super::device::DeviceError),
    /// A sound card was asked for, but this build has no sound card support.
    #[error("sound card ports need ims-core built with the `audio-device` feature")]
    DeviceSupportMissing,
}

/// A source port ready for a session, and what it is.
pub struct OpenedSource {
    /// The port.
    pub port: Box<dyn AudioSource + Send>,
    /// What it is.
    pub kind: PortKind,
}

impl std::fmt::Debug for OpenedSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OpenedSource")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A sink port ready for a session, and what it is.
pub struct OpenedSink {
    /// The port.
    pub port: Box<dyn AudioSink + Send>,
    /// What it is.
    pub kind: PortKind,
}

impl std::fmt::Debug for OpenedSink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OpenedSink")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl AudioInput {
    /// Opens this source at `sample_rate` Hz.
    pub fn open(&self, sample_rate: u32) -> Result<OpenedSource, AudioPortError> {
        let (port, kind): (Box<dyn AudioSource + Send>, PortKind) = match self {
            Self::Auto => match open_device_source(None, sample_rate) {
                Ok(port) => (port, PortKind::Device),
                Err(error) => {
                    tracing::info!(%error, "no sound card for input; sending silence");
                    (Box::new(NullPort::new(sample_rate)), PortKind::Null)
                }
            },
            Self::Device { name } => (
                open_device_source(name.as_deref(), sample_rate)?,
                PortKind::Device,
            ),
            Self::Wav { path } => (Box::new(WavSource::open(path, sample_rate)?), PortKind::Wav),
            Self::Tone {
                frequency,
                amplitude,
            } => (
                Box::new(ToneGenerator::new(*frequency, *amplitude, sample_rate)),
                PortKind::Tone,
            ),
            Self::Null => (Box::new(NullPort::new(sample_rate)), PortKind::Null),
        };
        Ok(OpenedSource { port, kind })
    }
}

impl AudioOutput {
    /// Opens this sink at `sample_rate` Hz.
    pub fn open(&self, sample_rate: u32) -> Result<OpenedSink, AudioPortError> {
        let (port, kind): (Box<dyn AudioSink + Send>, PortKind) = match self {
            Self::Auto => match open_device_sink(None, sample_rate) {
                Ok(port) => (port, PortKind::Device),
                Err(error) => {
                    tracing::info!(%error, "no sound card for output; discarding audio");
                    (Box::new(NullPort::new(sample_rate)), PortKind::Null)
                }
            },
            Self::Device { name } => (
                open_device_sink(name.as_deref(), sample_rate)?,
                PortKind::Device,
            ),
            Self::Wav { path } => (Box::new(WavSink::create(path, sample_rate)?), PortKind::Wav),
            Self::Null => (Box::new(NullPort::new(sample_rate)), PortKind::Null),
        };
        Ok(OpenedSink { port, kind })
    }
}

#[cfg(feature = "audio-device")]
fn open_device_source(
    name: Option<&str>,
    sample_rate: u32,
) -> Result<Box<dyn AudioSource + Send>, AudioPortError> {
    Ok(Box::new(super::device::DeviceSource::open(
        name,
        sample_rate,
    )?))
}

#[cfg(not(feature = "audio-device"))]
fn open_device_source(
    _name: Option<&str>,
    _sample_rate: u32,
) -> Result<Box<dyn AudioSource + Send>, AudioPortError> {
    Err(AudioPortError::DeviceSupportMissing)
}

#[cfg(feature = "audio-device")]
fn open_device_sink(
    name: Option<&str>,
    sample_rate: u32,
) -> Result<Box<dyn AudioSink + Send>, AudioPortError> {
    Ok(Box::new(super::device::DeviceSink::open(
        name,
        sample_rate,
    )?))
}

#[cfg(not(feature = "audio-device"))]
fn open_device_sink(
    _name: Option<&str>,
    _sample_rate: u32,
) -> Result<Box<dyn AudioSink + Send>, AudioPortError> {
    Err(AudioPortError::DeviceSupportMissing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_from_toml() {
        let config: AudioPortConfig = toml::from_str(
            "input = { tone = { frequency = 1000.0, amplitude = 8000 } }\n\
             output = { wav = { path = \"out.wav\" } }\n",
        )
        .unwrap();
        assert_eq!(
            config.input,
            AudioInput::Tone {
                frequency: 1000.0,
                amplitude: 8000
            }
        );
        assert_eq!(
            config.output,
            AudioOutput::Wav {
                path: "out.wav".into()
            }
        );
        let default: AudioPortConfig = toml::from_str("").unwrap();
        assert_eq!(default, AudioPortConfig::default());
        let null: AudioPortConfig = toml::from_str("input = \"null\"\noutput = \"auto\"").unwrap();
        assert_eq!(null.input, AudioInput::Null);
    }

    #[test]
    fn auto_falls_back_to_null_without_a_sound_card() {
        // The machines this runs on (CI, containers) have no sound card; where one exists
        // Auto must open it instead, which this test then checks.
        let source = AudioInput::Auto.open(8000).unwrap();
        let sink = AudioOutput::Auto.open(8000).unwrap();
        let expected = if cfg!(feature = "audio-device") && has_sound_card() {
            PortKind::Device
        } else {
            PortKind::Null
        };
        assert_eq!(source.kind, expected);
        assert_eq!(sink.kind, expected);
        let mut frame = [1i16; 160];
        let mut port = source.port;
        assert_eq!(port.read(&mut frame), 160);
    }

    /// A sound card exists when ALSA lists one.
    fn has_sound_card() -> bool {
        std::fs::read_to_string("/proc/asound/cards")
            .is_ok_and(|cards| !cards.trim().is_empty() && !cards.contains("no soundcards"))
    }

    #[test]
    fn explicit_ports_open_or_say_why_not() {
        assert_eq!(AudioInput::Null.open(8000).unwrap().kind, PortKind::Null);
        let tone = AudioInput::Tone {
            frequency: 1000.0,
            amplitude: 1000,
        };
        assert_eq!(tone.open(8000).unwrap().kind, PortKind::Tone);
        let missing = AudioInput::Wav {
            path: "/nonexistent/ims-rs.wav".into(),
        };
        assert!(matches!(missing.open(8000), Err(AudioPortError::Wav(_))));
        if !cfg!(feature = "audio-device") {
            let device = AudioOutput::Device { name: None };
            assert!(matches!(
                device.open(8000),
                Err(AudioPortError::DeviceSupportMissing)
            ));
        }
        let named = AudioInput::Device {
            name: Some("no such card".into()),
        };
        assert!(named.open(8000).is_err());
    }
}
