//! Turns what the jitter buffer says to play into PCM: decodes packets, conceals losses
//! (repeat-and-fade where the codec allows it, silence otherwise) and silences comfort
//! noise and telephone-events. Runs in the audio callback: no allocation.

use super::codec::{Codec, RepeatFadeConcealer};
use crate::rtp::jitter::Playout;

/// The static payload type of comfort noise (RFC 3389, RFC 3551 §6).
pub const COMFORT_NOISE_PAYLOAD_TYPE: u8 = 13;

/// How missing frames are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Concealment {
    /// Repeat the last good frame and fade it out (suits G.711).
    RepeatFade,
    /// Play silence.
    Silence,
}

/// What one rendered frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenderedFrame {
    /// A packet was decoded.
    Decoded,
    /// A missing packet was concealed.
    Concealed,
    /// Silence: nothing due, comfort noise, or an event payload.
    Silence,
    /// A packet of a payload type this decoder does not know; played as silence.
    UnknownPayloadType {
        /// The payload type found.
        payload_type: u8,
    },
    /// The packet did not decode into the frame (too long); played as silence.
    DecodeFailed,
}

/// Decodes jitter-buffer output into PCM frames of a fixed size.
#[derive(Debug, Clone)]
pub struct FrameDecoder<C: Codec> {
    codec: C,
    concealment: Concealment,
    concealer: RepeatFadeConcealer,
}

impl<C: Codec> FrameDecoder<C> {
    /// Creates a decoder for `codec`, filling losses as `concealment` says.
    pub fn new(codec: C, concealment: Concealment) -> Self {
        Self {
            codec,
            concealment,
            concealer: RepeatFadeConcealer::default(),
        }
    }

    /// The codec.
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// Fills `out` (one frame) from `playout`.
    ///
    /// A packet shorter than the frame is padded with silence; one longer than the
    /// frame is not decoded.
    pub fn render(&mut self, playout: Playout<'_>, out: &mut [i16]) -> RenderedFrame {
        match playout {
            Playout::Packet(packet) if packet.payload_type == self.codec.payload_type() => {
                match self.codec.decode(packet.payload(), out) {
                    Ok(samples) => {
                        if let Some(rest) = out.get_mut(samples..) {
                            rest.fill(0);
                        }
                        self.concealer.remember(out);
                        RenderedFrame::Decoded
                    }
                    Err(_) => {
                        out.fill(0);
                        RenderedFrame::DecodeFailed
                    }
                }
            }
            Playout::Packet(packet) => {
                out.fill(0);
                if packet.payload_type == COMFORT_NOISE_PAYLOAD_TYPE {
                    RenderedFrame::Silence
                } else {
                    RenderedFrame::UnknownPayloadType {
                        payload_type: packet.payload_type,
                    }
                }
            }
            Playout::Conceal { .. } => {
                match self.concealment {
                    Concealment::RepeatFade => self.concealer.conceal(out),
                    Concealment::Silence => out.fill(0),
                }
                RenderedFrame::Concealed
            }
            _ => {
                out.fill(0);
                RenderedFrame::Silence
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::codec::MuLaw;
    use crate::media::codec::g711::mulaw_encode;
    use crate::rtp::jitter::JitterPacket;

    fn packet(payload_type: u8, payload: &[u8]) -> JitterPacket {
        JitterPacket::new(1, 160, false, payload_type, payload).unwrap()
    }

    #[test]
    fn decodes_conceals_and_silences() {
        let mut decoder = FrameDecoder::new(MuLaw, Concealment::RepeatFade);
        let mut out = [0i16; 160];
        let payload = [mulaw_encode(1000); 160];
        let good = packet(0, &payload);
        assert_eq!(
            decoder.render(Playout::Packet(&good), &mut out),
            RenderedFrame::Decoded
        );
        let level = out[0];
        assert!((968..=1032).contains(&level), "{level}");
        assert_eq!(
            decoder.render(Playout::Conceal { sequence: 2 }, &mut out),
            RenderedFrame::Concealed
        );
        assert_eq!(out[0], level, "the first 10 ms repeat the last frame");
        let noise = packet(COMFORT_NOISE_PAYLOAD_TYPE, &[40]);
        assert_eq!(
            decoder.render(Playout::Packet(&noise), &mut out),
            RenderedFrame::Silence
        );
        assert!(out.iter().all(|sample| *sample == 0));
        let other = packet(96, &[1, 2, 3, 4]);
        assert_eq!(
            decoder.render(Playout::Packet(&other), &mut out),
            RenderedFrame::UnknownPayloadType { payload_type: 96 }
        );
        assert_eq!(
            decoder.render(Playout::Silence, &mut out),
            RenderedFrame::Silence
        );
    }

    #[test]
    fn short_packets_are_padded_and_long_ones_refused() {
        let mut decoder = FrameDecoder::new(MuLaw, Concealment::Silence);
        let mut out = [7i16; 160];
        let short = packet(0, &[mulaw_encode(500); 80]);
        assert_eq!(
            decoder.render(Playout::Packet(&short), &mut out),
            RenderedFrame::Decoded
        );
        assert!(out[80..].iter().all(|sample| *sample == 0));
        let long = packet(0, &[0xFF; 320]);
        assert_eq!(
            decoder.render(Playout::Packet(&long), &mut out),
            RenderedFrame::DecodeFailed
        );
        decoder.render(Playout::Conceal { sequence: 9 }, &mut out);
        assert!(out.iter().all(|sample| *sample == 0));
    }
}
