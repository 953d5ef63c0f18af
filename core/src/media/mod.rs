//! Media: codecs, packet loss concealment, playout decoding, DTMF (telephone-event)
//! payloads, audio ports (null, tone, WAV file, and the sound card behind the
//! `audio-device` feature) and, with the `driver` feature, the media session that runs
//! them over RTP/RTCP sockets on its own threads.

pub mod audio_config;
pub mod codec;
#[cfg(feature = "audio-device")]
pub mod device;
pub mod dtmf;
pub mod playout;
pub mod port;
pub mod resample;
#[cfg(feature = "driver")]
pub mod session;
pub mod wav;
