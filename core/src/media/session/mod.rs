//! A media session (driver feature): a local RTP/RTCP socket pair, an audio source sent
//! through the encoder, received RTP through the jitter buffer to an audio sink, DTMF both
//! ways (RFC 4733), RTCP reports (RFC 3550) and a statistics snapshot.
//!
//! Two threads of its own do the work, so an application's UI loop never stalls audio:
//! the media thread is the clock (one frame out and one frame in each ptime) and the
//! network thread receives RTP and RTCP and sends the reports. They meet through the
//! lock-free jitter buffer; the owner meets them through channels and atomic counters.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ims_core::media::audio_config::{AudioInput, AudioOutput, AudioPortConfig};
//! use ims_core::media::session::{MediaSession, MediaSessionConfig};
//!
//! let ports = AudioPortConfig { input: AudioInput::Auto, output: AudioOutput::Auto };
//! let mut session = MediaSession::start_with_ports(MediaSessionConfig::default(), &ports)?;
//! session.set_remote("127.0.0.1:40000".parse()?, None)?;
//! session.send_dtmf("123#")?;
//! let statistics = session.stop();
//! println!("{} packets sent, {} lost", statistics.packets_sent, statistics.packets_lost);
//! # Ok(()) }
//! ```
#![allow(clippy::disallowed_methods)] // the session's threads own the clock

mod config;
mod handle;
mod media_thread;
mod network;
mod statistics;

pub use config::{
    DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE, MediaEvent, MediaSessionConfig, MediaSessionError,
    SessionCodec,
};
pub use handle::MediaSession;
pub use statistics::MediaStatistics;
