//! Sample-rate conversion for audio ports: linear interpolation, with a moving-average
//! low-pass in front when the rate goes down. Allocation-free after construction, so the
//! sound card callbacks can run it.
//!
//! This is a telephone-band converter: good enough to bring a 44.1 or 48 kHz sound card
//! or file to G.711's 8 kHz and back, not a studio resampler.

/// The longest moving-average window (a 128 kHz input going down to 8 kHz).
const MAX_WINDOW: usize = 16;

/// A moving average over the last `length` samples.
#[derive(Debug, Clone)]
struct MovingAverage {
    window: [f32; MAX_WINDOW],
    length: usize,
    index: usize,
    sum: f32,
}

impl MovingAverage {
    fn new(length: usize) -> Self {
        Self {
            window: [0.0; MAX_WINDOW],
            length: length.clamp(1, MAX_WINDOW),
            index: 0,
            sum: 0.0,
        }
    }

    fn filter(&mut self, sample: f32) -> f32 {
        if self.length == 1 {
            return sample;
        }
        if let Some(slot) = self.window.get_mut(self.index) {
            self.sum += sample - *slot;
            *slot = sample;
        }
        self.index = (self.index + 1) % self.length;
        self.sum / self.length as f32
    }
}

/// A streaming converter from `input_rate` to `output_rate` samples per second.
///
/// Use one instance either push-style ([`Resampler::push`]: each input sample yields zero
/// or more output samples) or pull-style ([`Resampler::pull`]: each output sample pulls
/// input samples as needed), not both.
#[derive(Debug, Clone)]
pub struct Resampler {
    /// Input samples per output sample.
    step: f64,
    /// Where the next output falls between `previous` (0) and `current` (1).
    position: f64,
    previous: f32,
    current: f32,
    primed: bool,
    low_pass: MovingAverage,
}

impl Resampler {
    /// Creates a converter from `input_rate` to `output_rate` Hz (0 counts as 1).
    pub fn new(input_rate: u32, output_rate: u32) -> Self {
        let input = f64::from(input_rate.max(1));
        let output = f64::from(output_rate.max(1));
        let step = input / output;
        Self {
            step,
            position: 0.0,
            previous: 0.0,
            current: 0.0,
            primed: false,
            low_pass: MovingAverage::new(step.round() as usize),
        }
    }

    /// Whether the rates are equal (the conversion is the identity).
    pub fn is_identity(&self) -> bool {
        self.step == 1.0
    }

    /// Takes one input sample; calls `emit` for each output sample it completes.
    pub fn push(&mut self, input: f32, mut emit: impl FnMut(f32)) {
        let input = self.low_pass.filter(input);
        if !self.primed {
            self.primed = true;
            self.previous = input;
            return;
        }
        while self.position < 1.0 {
            emit(self.previous + (input - self.previous) * self.position as f32);
            self.position += self.step;
        }
        self.position -= 1.0;
        self.previous = input;
    }

    /// Produces one output sample, calling `source` for input samples as needed.
    pub fn pull(&mut self, mut source: impl FnMut() -> f32) -> f32 {
        if !self.primed {
            self.primed = true;
            self.previous = self.low_pass.filter(source());
            self.current = self.low_pass.filter(source());
        }
        while self.position >= 1.0 {
            self.previous = self.current;
            self.current = self.low_pass.filter(source());
            self.position -= 1.0;
        }
        let output = self.previous + (self.current - self.previous) * self.position as f32;
        self.position += self.step;
        output
    }
}

/// Converts a float sample (nominally -1.0 to 1.0) to 16 bits, saturating.
pub fn float_to_i16(sample: f32) -> i16 {
    (sample * 32767.0).clamp(-32768.0, 32767.0) as i16
}

/// Converts a 16-bit sample to a float from -1.0 to 1.0.
pub fn i16_to_float(sample: i16) -> f32 {
    f32::from(sample) / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::port::{AudioSource, ToneGenerator, tone_power_ratio};

    fn tone(frequency: f32, rate: u32, length: usize) -> Vec<i16> {
        let mut samples = vec![0i16; length];
        ToneGenerator::new(frequency, 10_000, rate).read(&mut samples);
        samples
    }

    #[test]
    fn push_down_from_48_khz_keeps_the_tone_and_the_length() {
        let input = tone(1000.0, 48_000, 48_000);
        let mut resampler = Resampler::new(48_000, 8000);
        let mut output = Vec::new();
        for sample in &input {
            resampler.push(f32::from(*sample), |value| output.push(value as i16));
        }
        assert!(output.len().abs_diff(8000) <= 2, "{}", output.len());
        let ratio = tone_power_ratio(&output[800..7200], 1000.0, 8000);
        assert!(ratio > 0.95, "{ratio}");
    }

    #[test]
    fn push_down_attenuates_what_would_alias() {
        // 7 kHz at 48 kHz would fold to 1 kHz at 8 kHz; the low-pass cuts most of it.
        let input = tone(7000.0, 48_000, 48_000);
        let mut resampler = Resampler::new(48_000, 8000);
        let mut output = Vec::new();
        for sample in &input {
            resampler.push(f32::from(*sample), |value| output.push(value as i16));
        }
        let energy = |samples: &[i16]| {
            samples
                .iter()
                .map(|sample| f64::from(*sample).powi(2))
                .sum::<f64>()
                / samples.len() as f64
        };
        assert!(energy(&output) < energy(&input) / 4.0);
    }

    #[test]
    fn pull_up_to_44_1_khz_keeps_the_tone() {
        let input = tone(1000.0, 8000, 8000);
        let mut samples = input.iter();
        let mut resampler = Resampler::new(8000, 44_100);
        let output: Vec<i16> = (0..44_000)
            .map(|_| {
                resampler.pull(|| samples.next().map_or(0.0, |sample| f32::from(*sample))) as i16
            })
            .collect();
        let ratio = tone_power_ratio(&output[4410..39_690], 1000.0, 44_100);
        assert!(ratio > 0.95, "{ratio}");
    }

    #[test]
    fn equal_rates_pass_samples_through() {
        let mut resampler = Resampler::new(8000, 8000);
        assert!(resampler.is_identity());
        let mut output = Vec::new();
        for sample in [1.0, 2.0, 3.0, 4.0] {
            resampler.push(sample, |value| output.push(value));
        }
        assert_eq!(output, [1.0, 2.0, 3.0]);
        assert_eq!(float_to_i16(2.0), 32767);
        assert_eq!(float_to_i16(-2.0), -32768);
        assert_eq!(i16_to_float(-32768), -1.0);
    }
}
