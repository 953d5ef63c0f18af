//! G.711 µ-law (PCMU) and A-law (PCMA), table driven (ITU-T G.711).
//!
//! The tables are computed at compile time from the G.711 segment formulas (the same
//! arithmetic as the ITU-T G.191 reference implementation): 256-entry decode tables and
//! encode tables indexed by the bits of the 16-bit sample that G.711 uses (14 for
//! µ-law, 13 for A-law).

use super::{Codec, CodecError};

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// Encodes one 16-bit sample to µ-law by the G.711 formula (no table).
pub const fn mulaw_encode_formula(sample: i16) -> u8 {
    let value = sample as i32;
    // Negative values use the one's complement magnitude, as G.711/G.191 do.
    let (sign, magnitude) = if value < 0 {
        (0x80, -value - 1)
    } else {
        (0x00, value)
    };
    let clipped = if magnitude > 32_635 {
        32_635
    } else {
        magnitude
    };
    let biased = clipped + 0x84;
    let exponent = (31 - biased.leading_zeros() as i32) - 7;
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Decodes one µ-law code to a 16-bit sample by the G.711 formula (no table).
pub const fn mulaw_decode_formula(code: u8) -> i16 {
    let inverted = !code;
    let exponent = ((inverted >> 4) & 0x07) as i32;
    let mantissa = (inverted & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if inverted & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Encodes one 16-bit sample to A-law by the G.711 formula (no table).
pub const fn alaw_encode_formula(sample: i16) -> u8 {
    // A-law quantises the top 13 bits.
    let value = (sample as i32) >> 3;
    let (sign, magnitude) = if value >= 0 {
        (0x80, value)
    } else {
        (0x00, -value - 1)
    };
    let (segment, mantissa) = if magnitude < 32 {
        (0, magnitude >> 1)
    } else {
        let segment = (31 - magnitude.leading_zeros() as i32) - 4;
        (segment, (magnitude >> segment) & 0x0F)
    };
    ((sign | (segment << 4) | mantissa) as u8) ^ 0x55
}

/// Decodes one A-law code to a 16-bit sample by the G.711 formula (no table).
pub const fn alaw_decode_formula(code: u8) -> i16 {
    let value = code ^ 0x55;
    let segment = ((value >> 4) & 0x07) as i32;
    let mantissa = (value & 0x0F) as i32;
    let magnitude = if segment == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (segment - 1)
    };
    if value & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn build_decode_table(mulaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = if mulaw {
            mulaw_decode_formula(code as u8)
        } else {
            alaw_decode_formula(code as u8)
        };
        code += 1;
    }
    table
}

const fn build_mulaw_encode_table() -> [u8; 16_384] {
    let mut table = [0u8; 16_384];
    let mut index = 0;
    while index < 16_384 {
        // Index = the sample's top 14 bits as unsigned (µ-law depends on no others),
        // so any u16 shifted right by 2 is in range and needs no bounds check.
        let sample = ((index as u16) << 2) as i16;
        table[index] = mulaw_encode_formula(sample);
        index += 1;
    }
    table
}

const fn build_alaw_encode_table() -> [u8; 8192] {
    let mut table = [0u8; 8192];
    let mut index = 0;
    while index < 8192 {
        // Index = the sample's top 13 bits as unsigned (A-law depends on no others).
        let sample = ((index as u16) << 3) as i16;
        table[index] = alaw_encode_formula(sample);
        index += 1;
    }
    table
}

static MULAW_DECODE: [i16; 256] = build_decode_table(true);
static ALAW_DECODE: [i16; 256] = build_decode_table(false);
static MULAW_ENCODE: [u8; 16_384] = build_mulaw_encode_table();
static ALAW_ENCODE: [u8; 8192] = build_alaw_encode_table();

/// Encodes one sample to µ-law through the table.
#[inline]
pub fn mulaw_encode(sample: i16) -> u8 {
    MULAW_ENCODE[usize::from(sample as u16 >> 2)]
}

/// Decodes one µ-law code through the table.
#[inline]
pub fn mulaw_decode(code: u8) -> i16 {
    MULAW_DECODE[usize::from(code)]
}

/// Encodes one sample to A-law through the table.
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    ALAW_ENCODE[usize::from(sample as u16 >> 3)]
}

/// Decodes one A-law code through the table.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

fn check_length(needed: usize, available: usize) -> Result<(), CodecError> {
    if available < needed {
        return Err(CodecError::BufferTooSmall { needed, available });
    }
    Ok(())
}

/// Samples per unrolled step of the conversion loops.
const STEP: usize = 8;

/// Writes `convert(input[i])` to `output[i]` for each input, in fixed steps of
/// [`STEP`] (unrolled, no loop overhead per sample) and then the rest one by one;
/// returns the count, or an error if `output` is too short.
fn convert<I: Copy, O>(
    input: &[I],
    output: &mut [O],
    convert: impl Fn(I) -> O,
) -> Result<usize, CodecError> {
    check_length(input.len(), output.len())?;
    let output = output.get_mut(..input.len()).unwrap_or_default();
    let (input_steps, input_rest) = input.as_chunks::<STEP>();
    let (output_steps, output_rest) = output.as_chunks_mut::<STEP>();
    for (outputs, inputs) in output_steps.iter_mut().zip(input_steps) {
        for (output, input) in outputs.iter_mut().zip(inputs) {
            *output = convert(*input);
        }
    }
    for (output, input) in output_rest.iter_mut().zip(input_rest) {
        *output = convert(*input);
    }
    Ok(input.len())
}

/// G.711 µ-law, RTP payload type 0, PCMU/8000 (RFC 3551 §4.5.14).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MuLaw;

impl Codec for MuLaw {
    fn payload_type(&self) -> u8 {
        0
    }

    fn name(&self) -> &'static str {
        "PCMU"
    }

    fn sample_rate(&self) -> u32 {
        8000
    }

    fn encode(&mut self, pcm: &[i16], payload: &mut [u8]) -> Result<usize, CodecError> {
        convert(pcm, payload, mulaw_encode)
    }

    fn decode(&mut self, payload: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError> {
        convert(payload, pcm, mulaw_decode)
    }
}

/// G.711 A-law, RTP payload type 8, PCMA/8000 (RFC 3551 §4.5.14).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ALaw;

impl Codec for ALaw {
    fn payload_type(&self) -> u8 {
        8
    }

    fn name(&self) -> &'static str {
        "PCMA"
    }

    fn sample_rate(&self) -> u32 {
        8000
    }

    fn encode(&mut self, pcm: &[i16], payload: &mut [u8]) -> Result<usize, CodecError> {
        convert(pcm, payload, alaw_encode)
    }

    fn decode(&mut self, payload: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError> {
        convert(payload, pcm, alaw_decode)
    }
}

#[cfg(test)]
#[path = "g711_tests.rs"]
mod tests;
