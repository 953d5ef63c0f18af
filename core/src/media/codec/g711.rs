//! G.711 µ-law (PCMU) and A-law (PCMA), exact per ITU-T G.711.
//!
//! Two exact forms of the same G.711 segment formulas (the arithmetic of the ITU-T G.191
//! reference implementation):
//!
//! - Per sample ([`mulaw_encode`] and the others): tables computed at compile time,
//!   256-entry decode tables and encode tables indexed by the bits of the 16-bit sample
//!   that G.711 uses (14 for µ-law, 13 for A-law).
//! - Per frame ([`Codec::encode`] and [`Codec::decode`]): branch-free lane functions
//!   with no table, which find the segment through the exponent of an `f32`, so LLVM
//!   turns the frame loops into vector code: 8 samples per step with SSE2, the x86-64
//!   baseline, and 16 with AVX2, which x86-64 CPUs that have it run through a second
//!   build of the same loop (`map_avx2`, chosen at run time). A table lookup costs a
//!   load per sample that vectors cannot share: with AVX2 an encode and decode runs
//!   about twice as fast as through the tables, with SSE2 alone about 1.3 times
//!   (bench/RESULTS.md, media #8).
//!
//! Tests check both forms against the formulas for all 65,536 samples and 256 codes.

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

/// Encodes one sample to µ-law without a table or a branch: the form the frame loops
/// vectorise. Equal to [`mulaw_encode_formula`] for every sample.
///
/// The biased magnitude (132..=32767) is exact in an `f32`, whose exponent field is 127
/// plus the position of its top bit (7 to 14, the segment plus 7) and whose mantissa
/// field starts with the 4 bits below that bit (G.711's mantissa), so bits 19 and up of
/// the `f32` are `(134 + segment) << 4 | mantissa`.
#[inline(always)]
fn mulaw_encode_lane(sample: i16) -> u8 {
    // -1 for a negative sample, else 0; the magnitude of a negative sample is its one's
    // complement (-sample - 1), as in G.711/G.191.
    let sign = sample >> 15;
    let magnitude = sample ^ sign;
    let biased = magnitude.min(32_635) + 0x84;
    let segment_mantissa = (f32::from(biased).to_bits() >> 19) as i16 - (134 << 4);
    !((sign & 0x80) | segment_mantissa) as u8
}

/// Decodes one µ-law code without a table or a branch: the form the frame loops
/// vectorise. Equal to [`mulaw_decode_formula`] for every code.
///
/// G.711's `((mantissa << 3) + 0x84) << segment` equals
/// `2^(7 + segment) * (1 + mantissa / 16 + 1 / 32)`: the `f32` whose exponent field is
/// `134 + segment` and whose mantissa field is `mantissa << 19 | 1 << 18`, which the
/// code's 7 low bits shifted by 19 place in one addition. Adding 2^23 to that integer
/// (below 2^15, so the sum is exact) leaves it in the low bits of the sum's mantissa.
#[inline(always)]
fn mulaw_decode_lane(code: u8) -> i16 {
    let inverted = !code;
    let bits = (u32::from(inverted & 0x7F) << 19) + ((134 << 23) | (1 << 18));
    let biased = (f32::from_bits(bits) + 8_388_608.0).to_bits() as i16;
    let magnitude = biased - 0x84;
    // -1 for a negative code (its inverted top bit set), else 0.
    let negative = ((inverted as i8) >> 7) as i16;
    (magnitude ^ negative) - negative
}

/// Encodes one sample to A-law without a table or a branch: the form the frame loops
/// vectorise. Equal to [`alaw_encode_formula`] for every sample.
///
/// From magnitude 32 up, bits 19 and up of the magnitude as an `f32` are `(131 +
/// segment) << 4 | mantissa`, as in [`mulaw_encode_lane`]. Below 64 the code is the
/// magnitude halved (segments 0 and 1 share one step), so the code is the `f32` form
/// of `max(magnitude, 32)` (16 for all below 32) less 16, plus `min(magnitude, 32) / 2`.
#[inline(always)]
fn alaw_encode_lane(sample: i16) -> u8 {
    // A-law quantises the top 13 bits; negative values use the one's complement.
    let value = sample >> 3;
    let sign = value >> 15;
    let magnitude = value ^ sign;
    let logarithmic = (f32::from(magnitude.max(32)).to_bits() >> 19) as i16;
    let segment_mantissa = logarithmic - (132 << 4) + (magnitude.min(32) >> 1);
    (((!sign & 0x80) | segment_mantissa) as u8) ^ 0x55
}

/// Decodes one A-law code without a table or a branch: the form the frame loops
/// vectorise. Equal to [`alaw_decode_formula`] for every code.
///
/// Segments 1 to 7 decode to `((mantissa << 4) + 0x108) << (segment - 1)`, which is
/// the `f32` of [`mulaw_decode_lane`]; segment 0, `(mantissa << 4) + 8`, is segment 1's
/// value less 256.
#[inline(always)]
fn alaw_decode_lane(code: u8) -> i16 {
    let value = code ^ 0x55;
    let low = u32::from(value & 0x7F);
    let segment_zero = u32::from(low < 0x10);
    let bits = ((low | (segment_zero << 4)) << 19) + ((134 << 23) | (1 << 18));
    let sum = (f32::from_bits(bits) + 8_388_608.0).to_bits();
    let magnitude = sum.wrapping_sub(0x4B00_0000 + (segment_zero << 8)) as i16;
    // -1 for a negative code (top bit clear after the inversion), else 0.
    let negative = !(((value as i8) >> 7) as i16);
    (magnitude ^ negative) - negative
}

/// Writes `lane(input[i])` to `output[i]` for each input; `output` may be longer.
///
/// A plain loop over a branch-free lane function, which LLVM vectorises with the
/// widest vectors the build targets (plus a scalar loop for the rest).
#[inline(always)]
fn map<I: Copy, O>(input: &[I], output: &mut [O], lane: impl Fn(I) -> O) {
    for (output, input) in output.iter_mut().zip(input) {
        *output = lane(*input);
    }
}

/// [`map`] built with AVX2: 16 lanes of 16 bits per step instead of SSE2's 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn map_avx2<I: Copy, O>(input: &[I], output: &mut [O], lane: impl Fn(I) -> O) {
    map(input, output, lane);
}

/// [`map`] through its AVX2 build when the CPU has AVX2, else its baseline build.
///
/// std caches the feature test: after the first call it is one load and a bit test.
#[allow(unsafe_code)]
fn map_frame<I: Copy, O>(input: &[I], output: &mut [O], lane: impl Fn(I) -> O) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: `map_avx2`'s only requirement is a CPU with AVX2, tested just above.
        // Its body is safe code (`map`).
        unsafe { map_avx2(input, output, lane) };
        return;
    }
    map(input, output, lane);
}

/// Writes `lane(input[i])` to `output[i]` for each input through [`map_frame`];
/// returns the count, or an error if `output` is too short.
fn convert<I: Copy, O>(
    input: &[I],
    output: &mut [O],
    lane: impl Fn(I) -> O,
) -> Result<usize, CodecError> {
    check_length(input.len(), output.len())?;
    map_frame(input, output, lane);
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
        convert(pcm, payload, mulaw_encode_lane)
    }

    fn decode(&mut self, payload: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError> {
        convert(payload, pcm, mulaw_decode_lane)
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
        convert(pcm, payload, alaw_encode_lane)
    }

    fn decode(&mut self, payload: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError> {
        convert(payload, pcm, alaw_decode_lane)
    }
}

#[cfg(test)]
#[path = "g711_tests.rs"]
mod tests;
