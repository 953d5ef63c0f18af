//! The sound card port (cpal; ALSA on Linux), behind the `audio-device` feature.
//!
//! Each direction runs one cpal stream on a keeper thread (a stream may not move between
//! threads). The stream's data callback and the port meet in a lock-free ring of 8 kHz
//! samples ([`rtrb`]): the callback converts between the card's rate, channels and sample
//! format and the port's, and takes no lock, makes no allocation and no system call. The
//! port side ([`DeviceSource`], [`DeviceSink`]) is read and written by the media thread a
//! frame at a time; a ring that runs dry plays silence, one that fills drops samples, and
//! both are counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};

use super::port::{AudioSink, AudioSource};
use super::resample::{Resampler, float_to_i16, i16_to_float};

/// Ring capacity in port samples: 200 ms at 8 kHz.
const RING_MILLISECONDS: u32 = 200;
/// Samples kept in the capture ring before older ones are skipped, in milliseconds:
/// bounds the capture latency when the card runs faster than the media clock.
const CAPTURE_LATENCY_MILLISECONDS: u32 = 60;
/// How long the keeper thread waits for the backend to open a stream.
const OPEN_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a sound card port could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// No such device (no default one, or none with the name asked for).
    #[error("no {direction} sound device{}", name.as_deref().map(|name| format!(" named {name:?}")).unwrap_or_default())]
    NotFound {
        /// `input` or `output`.
        direction: &'static str,
        /// The name asked for, if any.
        name: Option<String>,
    },
    /// The card uses a sample format this port does not convert.
    #[error("sound device sample format {format:?} is not supported")]
    UnsupportedSampleFormat {
        /// The card's format.
        format: SampleFormat,
    },
    /// The audio backend refused.
    #[error("sound device: {source}")]
    Backend {
        /// What cpal said.
        #[from]
        source: cpal::Error,
    },
    /// The keeper thread could not be started or died while opening.
    #[error("sound device thread failed")]
    Thread,
}

/// Counters shared between a callback and its port.
#[derive(Debug, Default)]
struct DeviceCounters {
    /// Samples dropped because the ring was full.
    overruns: AtomicU64,
    /// Samples played or read as silence because the ring was empty.
    underruns: AtomicU64,
}

/// Finds the device of one direction: the default, or the one whose name is `name`.
fn find_device(
    host: &cpal::Host,
    input: bool,
    name: Option<&str>,
) -> Result<cpal::Device, DeviceError> {
    let direction = if input { "input" } else { "output" };
    let not_found = || DeviceError::NotFound {
        direction,
        name: name.map(str::to_owned),
    };
    match name {
        None if input => host.default_input_device().ok_or_else(not_found),
        None => host.default_output_device().ok_or_else(not_found),
        Some(name) => {
            let mut devices = if input {
                host.input_devices()?.collect::<Vec<_>>()
            } else {
                host.output_devices()?.collect::<Vec<_>>()
            };
            let index = devices
                .iter()
                .position(|device| device.to_string() == name)
                .ok_or_else(not_found)?;
            Ok(devices.swap_remove(index))
        }
    }
}

/// Whether the host has a default input and a default output device.
pub fn device_available() -> bool {
    let host = cpal::default_host();
    host.default_input_device().is_some() && host.default_output_device().is_some()
}

/// Builds the capture stream: card samples -> mono -> port rate -> ring.
fn capture_stream<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut ring: rtrb::Producer<i16>,
    sample_rate: u32,
    counters: Arc<DeviceCounters>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let mut resampler = Resampler::new(config.sample_rate, sample_rate);
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _| {
            for frame in data.chunks(channels) {
                let sum: f32 = frame.iter().map(|sample| f32::from_sample(*sample)).sum();
                resampler.push(sum / channels as f32, |value| {
                    if ring.push(float_to_i16(value)).is_err() {
                        counters.overruns.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        },
        |error| tracing::warn!(%error, "sound capture stream error"),
        Some(OPEN_TIMEOUT),
    )
}

/// Builds the playback stream: ring -> card rate -> every channel.
fn playback_stream<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut ring: rtrb::Consumer<i16>,
    sample_rate: u32,
    counters: Arc<DeviceCounters>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let mut resampler = Resampler::new(sample_rate, config.sample_rate);
    device.build_output_stream::<T, _, _>(
        config,
        move |data: &mut [T], _| {
            for frame in data.chunks_mut(channels) {
                let value = resampler.pull(|| match ring.pop() {
                    Ok(sample) => i16_to_float(sample),
                    Err(_) => {
                        counters.underruns.fetch_add(1, Ordering::Relaxed);
                        0.0
                    }
                });
                frame.fill(T::from_sample(value));
            }
        },
        |error| tracing::warn!(%error, "sound playback stream error"),
        Some(OPEN_TIMEOUT),
    )
}

/// The ring's two ends and what the keeper thread needs to build a stream.
enum Direction {
    Capture(rtrb::Producer<i16>),
    Playback(rtrb::Consumer<i16>),
}

/// Opens a stream on a keeper thread that holds it until `stop` is dropped.
fn keep_stream(
    name: Option<String>,
    sample_rate: u32,
    direction: Direction,
    counters: Arc<DeviceCounters>,
) -> Result<mpsc::Sender<()>, DeviceError> {
    let (stop, stopped) = mpsc::channel::<()>();
    let (opened, open_result) = mpsc::channel::<Result<(), DeviceError>>();
    std::thread::Builder::new()
        .name("ims-audio-device".into())
        .spawn(move || {
            let stream = open_stream(name.as_deref(), sample_rate, direction, counters);
            match stream {
                Ok(stream) => {
                    let _ = opened.send(Ok(()));
                    // Blocks until the port is dropped (its sender goes away).
                    let _ = stopped.recv();
                    drop(stream);
                }
                Err(error) => {
                    let _ = opened.send(Err(error));
                }
            }
        })
        .map_err(|_| DeviceError::Thread)?;
    open_result.recv().map_err(|_| DeviceError::Thread)??;
    Ok(stop)
}

fn open_stream(
    name: Option<&str>,
    sample_rate: u32,
    direction: Direction,
    counters: Arc<DeviceCounters>,
) -> Result<cpal::Stream, DeviceError> {
    let host = cpal::default_host();
    let input = matches!(direction, Direction::Capture(_));
    let device = find_device(&host, input, name)?;
    let supported = if input {
        device.default_input_config()?
    } else {
        device.default_output_config()?
    };
    let format = supported.sample_format();
    let config = supported.config();
    tracing::info!(device = %device, ?config, ?format, input, "sound device opened");
    let stream = match (direction, format) {
        (Direction::Capture(ring), SampleFormat::F32) => {
            capture_stream::<f32>(&device, config, ring, sample_rate, counters)?
        }
        (Direction::Capture(ring), SampleFormat::I16) => {
            capture_stream::<i16>(&device, config, ring, sample_rate, counters)?
        }
        (Direction::Playback(ring), SampleFormat::F32) => {
            playback_stream::<f32>(&device, config, ring, sample_rate, counters)?
        }
        (Direction::Playback(ring), SampleFormat::I16) => {
            playback_stream::<i16>(&device, config, ring, sample_rate, counters)?
        }
        (_, format) => return Err(DeviceError::UnsupportedSampleFormat { format }),
    };
    stream.play()?;
    Ok(stream)
}

fn ring_capacity(sample_rate: u32) -> usize {
    usize::try_from(sample_rate.max(1) * RING_MILLISECONDS / 1000).unwrap_or(1600)
}

/// A microphone: reads what the capture stream delivered.
#[derive(Debug)]
pub struct DeviceSource {
    ring: rtrb::Consumer<i16>,
    sample_rate: u32,
    latency_samples: usize,
    counters: Arc<DeviceCounters>,
    _stop: mpsc::Sender<()>,
}

impl DeviceSource {
    /// Opens the default capture device (or the one named `name`) at `sample_rate` Hz.
    pub fn open(name: Option<&str>, sample_rate: u32) -> Result<Self, DeviceError> {
        let (producer, consumer) = rtrb::RingBuffer::new(ring_capacity(sample_rate));
        let counters = Arc::new(DeviceCounters::default());
        let stop = keep_stream(
            name.map(str::to_owned),
            sample_rate,
            Direction::Capture(producer),
            Arc::clone(&counters),
        )?;
        Ok(Self {
            ring: consumer,
            sample_rate,
            latency_samples: usize::try_from(sample_rate * CAPTURE_LATENCY_MILLISECONDS / 1000)
                .unwrap_or(480),
            counters,
            _stop: stop,
        })
    }

    /// Samples lost because the media thread read too slowly.
    pub fn overruns(&self) -> u64 {
        self.counters.overruns.load(Ordering::Relaxed)
    }

    /// Samples read as silence because the card delivered too slowly.
    pub fn underruns(&self) -> u64 {
        self.counters.underruns.load(Ordering::Relaxed)
    }
}

impl AudioSource for DeviceSource {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn read(&mut self, frame: &mut [i16]) -> usize {
        // A card faster than the media clock: skip the oldest samples beyond the bound.
        let excess = self
            .ring
            .slots()
            .saturating_sub(self.latency_samples + frame.len());
        for _ in 0..excess {
            let _ = self.ring.pop();
        }
        for sample in frame.iter_mut() {
            *sample = self.ring.pop().unwrap_or_else(|_| {
                self.counters.underruns.fetch_add(1, Ordering::Relaxed);
                0
            });
        }
        frame.len()
    }
}

/// A speaker: hands frames to the playback stream.
#[derive(Debug)]
pub struct DeviceSink {
    ring: rtrb::Producer<i16>,
    sample_rate: u32,
    counters: Arc<DeviceCounters>,
    _stop: mpsc::Sender<()>,
}

impl DeviceSink {
    /// Opens the default playback device (or the one named `name`) at `sample_rate` Hz.
    pub fn open(name: Option<&str>, sample_rate: u32) -> Result<Self, DeviceError> {
        let (producer, consumer) = rtrb::RingBuffer::new(ring_capacity(sample_rate));
        let counters = Arc::new(DeviceCounters::default());
        let stop = keep_stream(
            name.map(str::to_owned),
            sample_rate,
            Direction::Playback(consumer),
            Arc::clone(&counters),
        )?;
        Ok(Self {
            ring: producer,
            sample_rate,
            counters,
            _stop: stop,
        })
    }

    /// Samples the card played as silence because the ring ran dry.
    pub fn underruns(&self) -> u64 {
        self.counters.underruns.load(Ordering::Relaxed)
    }

    /// Samples dropped because the ring was full (the card plays slower than we send).
    pub fn overruns(&self) -> u64 {
        self.counters.overruns.load(Ordering::Relaxed)
    }
}

impl AudioSink for DeviceSink {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn write(&mut self, frame: &[i16]) {
        for sample in frame {
            if self.ring.push(*sample).is_err() {
                self.counters.overruns.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
