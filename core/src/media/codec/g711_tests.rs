use super::*;

#[test]
fn decode_tables_match_the_formula_for_all_256_codes() {
    for code in 0..=255u8 {
        assert_eq!(
            mulaw_decode(code),
            mulaw_decode_formula(code),
            "µ-law {code:#04x}"
        );
        assert_eq!(
            alaw_decode(code),
            alaw_decode_formula(code),
            "A-law {code:#04x}"
        );
    }
}

#[test]
fn encode_tables_match_the_formula_for_every_sample() {
    for sample in i16::MIN..=i16::MAX {
        assert_eq!(
            mulaw_encode(sample),
            mulaw_encode_formula(sample),
            "µ-law {sample}"
        );
        assert_eq!(
            alaw_encode(sample),
            alaw_encode_formula(sample),
            "A-law {sample}"
        );
    }
}

/// Reconstruction values from ITU-T G.711 Tables 1 and 2, scaled to 16 bits
/// (µ-law values are 14-bit, times 4; A-law values 13-bit, times 8).
#[test]
fn decode_matches_g711_reconstruction_values() {
    // µ-law: character 0xFF is +0, 0x80 is the largest positive, 0x00 the largest negative.
    assert_eq!(mulaw_decode(0xFF), 0);
    assert_eq!(mulaw_decode(0x7F), 0);
    assert_eq!(mulaw_decode(0xFE), 2 * 4);
    assert_eq!(mulaw_decode(0xF0), 30 * 4);
    assert_eq!(mulaw_decode(0xEF), 33 * 4);
    assert_eq!(mulaw_decode(0x80), 8031 * 4);
    assert_eq!(mulaw_decode(0x00), -8031 * 4);
    // A-law: even bits inverted; 0xD5 is +1, 0x55 is -1, 0xAA is +4032.
    assert_eq!(alaw_decode(0xD5), 8);
    assert_eq!(alaw_decode(0x55), -8);
    assert_eq!(alaw_decode(0xD4), 3 * 8);
    assert_eq!(alaw_decode(0xC5), 33 * 8);
    assert_eq!(alaw_decode(0xAA), 4032 * 8);
    assert_eq!(alaw_decode(0x2A), -4032 * 8);
}

#[test]
fn decode_is_monotonic_in_the_code_order() {
    // µ-law positive codes 0xFF down to 0x80 increase; negative 0x7F down to 0x00 decrease.
    for code in 0x81..=0xFFu8 {
        assert!(mulaw_decode(code - 1) > mulaw_decode(code));
    }
    for code in 0x01..=0x7Fu8 {
        assert!(mulaw_decode(code - 1) < mulaw_decode(code));
    }
    // A-law: after removing the inversion, magnitude grows with the 7 low bits.
    for value in 1..=0x7Fu8 {
        let positive = |bits: u8| alaw_decode((0x80 | bits) ^ 0x55);
        let negative = |bits: u8| alaw_decode(bits ^ 0x55);
        assert!(positive(value) > positive(value - 1));
        assert!(negative(value) < negative(value - 1));
    }
}

#[test]
fn encode_inverts_decode_for_every_code() {
    for code in 0..=255u8 {
        // µ-law 0x7F is negative zero, which encodes back as positive zero.
        let expected = if code == 0x7F { 0xFF } else { code };
        assert_eq!(
            mulaw_encode(mulaw_decode(code)),
            expected,
            "µ-law {code:#04x}"
        );
        assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
    }
}

#[test]
fn quantisation_error_is_within_half_a_step() {
    for sample in -32_000..=32_000i16 {
        let magnitude = i32::from(sample).abs();
        let mulaw_error = (i32::from(mulaw_decode(mulaw_encode(sample))) - i32::from(sample)).abs();
        assert!(
            mulaw_error <= 5 + magnitude / 28,
            "µ-law {sample}: {mulaw_error}"
        );
        let alaw_error = (i32::from(alaw_decode(alaw_encode(sample))) - i32::from(sample)).abs();
        assert!(
            alaw_error <= 9 + magnitude / 30,
            "A-law {sample}: {alaw_error}"
        );
    }
    // µ-law clips above 32635.
    assert_eq!(mulaw_encode(i16::MAX), 0x80);
    assert_eq!(mulaw_encode(i16::MIN), 0x00);
    assert_eq!(alaw_encode(i16::MAX), 0xAA);
    assert_eq!(alaw_encode(i16::MIN), 0x2A);
}

#[test]
fn codecs_encode_and_decode_frames() {
    let pcm: Vec<i16> = (0..FRAME_SAMPLES)
        .map(|index| (index as i16 - 80) * 300)
        .collect();
    for codec in [&mut MuLaw as &mut dyn Codec, &mut ALaw] {
        let mut payload = [0u8; FRAME_SAMPLES];
        assert_eq!(codec.encode(&pcm, &mut payload), Ok(FRAME_SAMPLES));
        let mut decoded = [0i16; FRAME_SAMPLES];
        assert_eq!(codec.decode(&payload, &mut decoded), Ok(FRAME_SAMPLES));
        for (original, round) in pcm.iter().zip(decoded) {
            assert!(
                (i32::from(*original) - i32::from(round)).abs()
                    <= 9 + i32::from(*original).abs() / 28
            );
        }
        let mut short = [0u8; 10];
        assert_eq!(
            codec.encode(&pcm, &mut short),
            Err(CodecError::BufferTooSmall {
                needed: FRAME_SAMPLES,
                available: 10
            })
        );
        assert_eq!(codec.sample_rate(), 8000);
        assert_eq!(codec.clock_rate(), 8000);
    }
    assert_eq!((MuLaw.payload_type(), MuLaw.name()), (0, "PCMU"));
    assert_eq!((ALaw.payload_type(), ALaw.name()), (8, "PCMA"));
}

/// The frame loops work in unrolled steps and then sample by sample: every length
/// (whole steps, a rest, shorter than a step) and a longer output buffer give exactly
/// the per-sample conversion, and bytes past the input stay untouched.
#[test]
fn frame_loops_match_the_per_sample_functions_at_every_length() {
    let pcm: Vec<i16> = (0..40)
        .map(|index: i32| (index * 1_657 - 31_000) as i16)
        .collect();
    for length in 0..=pcm.len() {
        let input = &pcm[..length];
        let mut mulaw = [0x5Au8; 48];
        let mut alaw = [0x5Au8; 48];
        assert_eq!(MuLaw.encode(input, &mut mulaw), Ok(length));
        assert_eq!(ALaw.encode(input, &mut alaw), Ok(length));
        for (index, sample) in input.iter().enumerate() {
            assert_eq!(
                mulaw[index],
                mulaw_encode(*sample),
                "µ-law {length} {index}"
            );
            assert_eq!(alaw[index], alaw_encode(*sample), "A-law {length} {index}");
        }
        assert!(mulaw[length..].iter().all(|byte| *byte == 0x5A));
        assert!(alaw[length..].iter().all(|byte| *byte == 0x5A));
        let mut from_mulaw = [0x55_i16; 48];
        let mut from_alaw = [0x55_i16; 48];
        assert_eq!(MuLaw.decode(&mulaw[..length], &mut from_mulaw), Ok(length));
        assert_eq!(ALaw.decode(&alaw[..length], &mut from_alaw), Ok(length));
        for index in 0..length {
            assert_eq!(from_mulaw[index], mulaw_decode(mulaw[index]));
            assert_eq!(from_alaw[index], alaw_decode(alaw[index]));
        }
        assert!(from_mulaw[length..].iter().all(|sample| *sample == 0x55));
        assert!(from_alaw[length..].iter().all(|sample| *sample == 0x55));
    }
}

/// The frame loops' lane functions (no table) equal the G.711 formulas for every sample
/// and every code.
#[test]
fn lane_functions_match_the_formula_for_every_sample_and_code() {
    for sample in i16::MIN..=i16::MAX {
        assert_eq!(
            mulaw_encode_lane(sample),
            mulaw_encode_formula(sample),
            "µ-law {sample}"
        );
        assert_eq!(
            alaw_encode_lane(sample),
            alaw_encode_formula(sample),
            "A-law {sample}"
        );
    }
    for code in 0..=255u8 {
        assert_eq!(
            mulaw_decode_lane(code),
            mulaw_decode_formula(code),
            "µ-law {code:#04x}"
        );
        assert_eq!(
            alaw_decode_lane(code),
            alaw_decode_formula(code),
            "A-law {code:#04x}"
        );
    }
}

/// Every sample and every code through the frame loops in both builds: the baseline
/// `map` called directly, and `Codec::encode`/`decode`, which take the AVX2 build on
/// CPUs that have it. Each output equals the G.711 formula.
#[test]
fn frame_loops_of_both_builds_match_the_formula_for_every_input() {
    let pcm: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let codes: Vec<u8> = (0..=255).collect();
    let mut payload = vec![0u8; pcm.len()];
    let mut decoded = vec![0i16; codes.len()];
    type Encoder = (&'static str, fn(&[i16], &mut [u8]), fn(i16) -> u8);
    type Decoder = (&'static str, fn(&[u8], &mut [i16]), fn(u8) -> i16);
    let encoders: [Encoder; 4] = [
        (
            "µ-law baseline",
            |pcm, payload| map(pcm, payload, mulaw_encode_lane),
            mulaw_encode_formula,
        ),
        (
            "µ-law frame",
            |pcm, payload| {
                assert_eq!(MuLaw.encode(pcm, payload), Ok(pcm.len()));
            },
            mulaw_encode_formula,
        ),
        (
            "A-law baseline",
            |pcm, payload| map(pcm, payload, alaw_encode_lane),
            alaw_encode_formula,
        ),
        (
            "A-law frame",
            |pcm, payload| {
                assert_eq!(ALaw.encode(pcm, payload), Ok(pcm.len()));
            },
            alaw_encode_formula,
        ),
    ];
    for (name, encode, formula) in encoders {
        payload.fill(0);
        encode(&pcm, &mut payload);
        for (sample, code) in pcm.iter().zip(&payload) {
            assert_eq!(*code, formula(*sample), "{name} {sample}");
        }
    }
    let decoders: [Decoder; 4] = [
        (
            "µ-law baseline",
            |codes, pcm| map(codes, pcm, mulaw_decode_lane),
            mulaw_decode_formula,
        ),
        (
            "µ-law frame",
            |codes, pcm| {
                assert_eq!(MuLaw.decode(codes, pcm), Ok(codes.len()));
            },
            mulaw_decode_formula,
        ),
        (
            "A-law baseline",
            |codes, pcm| map(codes, pcm, alaw_decode_lane),
            alaw_decode_formula,
        ),
        (
            "A-law frame",
            |codes, pcm| {
                assert_eq!(ALaw.decode(codes, pcm), Ok(codes.len()));
            },
            alaw_decode_formula,
        ),
    ];
    for (name, decode, formula) in decoders {
        decoded.fill(0x5555);
        decode(&codes, &mut decoded);
        for (code, sample) in codes.iter().zip(&decoded) {
            assert_eq!(*sample, formula(*code), "{name} {code:#04x}");
        }
    }
}
