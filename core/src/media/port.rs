//! Headless audio ports: a null port and a tone generator, behind the traits a sound
//! card port will implement too; and a Goertzel tone detector for checking audio.

/// Something that produces audio a frame at a time (a microphone, a file, a tone).
pub trait AudioSource {
    /// The sampling rate, in Hz.
    fn sample_rate(&self) -> u32;

    /// Fills `frame` with the next samples; returns how many are real (the rest are
    /// zero), 0 when the source has ended.
    fn read(&mut self, frame: &mut [i16]) -> usize;
}

/// Something that consumes audio a frame at a time (a speaker, a file).
pub trait AudioSink {
    /// The sampling rate, in Hz.
    fn sample_rate(&self) -> u32;

    /// Takes one frame of samples.
    fn write(&mut self, frame: &[i16]);
}

/// A port that reads silence forever and discards what it is given, counting samples.
#[derive(Debug, Clone, Default)]
pub struct NullPort {
    sample_rate: u32,
    written: u64,
}

impl NullPort {
    /// Creates a null port at `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            sample_rate,
            written: 0,
        }
    }

    /// Samples written so far.
    pub fn written(&self) -> u64 {
        self.written
    }
}

impl AudioSource for NullPort {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn read(&mut self, frame: &mut [i16]) -> usize {
        frame.fill(0);
        frame.len()
    }
}

impl AudioSink for NullPort {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn write(&mut self, frame: &[i16]) {
        self.written = self.written.saturating_add(frame.len() as u64);
    }
}

/// A sine tone generator.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    sample_rate: u32,
    amplitude: f32,
    phase: f32,
    step: f32,
}

impl ToneGenerator {
    /// Creates a tone of `frequency` Hz at `amplitude` (0 to 32767) sampled at
    /// `sample_rate` Hz.
    pub fn new(frequency: f32, amplitude: i16, sample_rate: u32) -> Self {
        let rate = sample_rate.max(1) as f32;
        Self {
            sample_rate,
            amplitude: f32::from(amplitude),
            phase: 0.0,
            step: std::f32::consts::TAU * frequency / rate,
        }
    }
}

impl AudioSource for ToneGenerator {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn read(&mut self, frame: &mut [i16]) -> usize {
        for sample in frame.iter_mut() {
            *sample = (self.amplitude * self.phase.sin()) as i16;
            self.phase += self.step;
            if self.phase >= std::f32::consts::TAU {
                self.phase -= std::f32::consts::TAU;
            }
        }
        frame.len()
    }
}

/// The power of `frequency` in `samples` relative to their total power, by the Goertzel
/// algorithm: near 1 for a pure tone at that frequency, near 0 without it.
pub fn tone_power_ratio(samples: &[i16], frequency: f32, sample_rate: u32) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let length = samples.len() as f32;
    let omega = std::f32::consts::TAU * frequency / sample_rate.max(1) as f32;
    let coefficient = 2.0 * omega.cos();
    let (mut previous, mut before_previous) = (0.0f32, 0.0f32);
    let mut total = 0.0f32;
    for sample in samples {
        let value = f32::from(*sample);
        total += value * value;
        let current = value + coefficient * previous - before_previous;
        before_previous = previous;
        previous = current;
    }
    let tone = previous * previous + before_previous * before_previous
        - coefficient * previous * before_previous;
    if total == 0.0 {
        return 0.0;
    }
    // |X(k)|^2 = N^2 A^2 / 4 and the total power is N A^2 / 2 for a sine of amplitude A.
    (2.0 * tone / (length * total)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_is_found_at_its_frequency_only() {
        let mut tone = ToneGenerator::new(1000.0, 8000, 8000);
        let mut samples = [0i16; 800];
        assert_eq!(tone.read(&mut samples), 800);
        assert!(tone_power_ratio(&samples, 1000.0, 8000) > 0.95);
        assert!(tone_power_ratio(&samples, 1400.0, 8000) < 0.01);
        let peak = samples.iter().map(|sample| sample.unsigned_abs()).max();
        assert!(peak.is_some_and(|peak| (7900..=8000).contains(&peak)));
    }

    #[test]
    fn the_null_port_reads_silence_and_counts_writes() {
        let mut port = NullPort::new(8000);
        let mut frame = [5i16; 160];
        assert_eq!(port.read(&mut frame), 160);
        assert!(frame.iter().all(|sample| *sample == 0));
        port.write(&frame);
        port.write(&frame);
        assert_eq!(port.written(), 320);
        assert_eq!(AudioSink::sample_rate(&port), 8000);
        assert_eq!(tone_power_ratio(&frame, 1000.0, 8000), 0.0);
    }
}
