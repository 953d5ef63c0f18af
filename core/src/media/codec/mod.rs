//! Audio codecs behind one [`Codec`] trait, and packet loss concealment.

pub mod g711;
pub mod plc;

pub use g711::{ALaw, MuLaw};
pub use plc::RepeatFadeConcealer;

use thiserror::Error;

/// Why a codec could not encode or decode a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The output buffer is smaller than the frame.
    #[error("codec output buffer too small: need {needed}, have {available}")]
    BufferTooSmall {
        /// Elements needed.
        needed: usize,
        /// Elements available.
        available: usize,
    },
}

/// An audio codec: 16-bit linear PCM in, payload bytes out, and back.
///
/// Implementations neither allocate nor block, so they can run in the audio callback.
pub trait Codec {
    /// The static RTP payload type, or the dynamic one negotiated in SDP.
    fn payload_type(&self) -> u8;

    /// The encoding name as SDP's rtpmap gives it (e.g. `PCMU`).
    fn name(&self) -> &'static str;

    /// The sampling rate of the PCM side, in Hz.
    fn sample_rate(&self) -> u32;

    /// The RTP clock rate, in Hz (equal to the sample rate except for G.722).
    fn clock_rate(&self) -> u32 {
        self.sample_rate()
    }

    /// Encodes `pcm` into `payload`, returning the number of bytes written.
    fn encode(&mut self, pcm: &[i16], payload: &mut [u8]) -> Result<usize, CodecError>;

    /// Decodes `payload` into `pcm`, returning the number of samples written.
    fn decode(&mut self, payload: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError>;
}
