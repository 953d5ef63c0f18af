//! Packet loss concealment by repeating the last good frame and fading it out (in the
//! spirit of ITU-T G.711 Appendix I, without its pitch search).

/// The longest frame the concealer remembers: 60 ms at 8 kHz.
pub const MAX_FRAME_SAMPLES: usize = 480;

/// A concealer that repeats the last good frame, at full level for `hold` samples,
/// then fading linearly to silence over `fade` samples.
#[derive(Debug, Clone)]
pub struct RepeatFadeConcealer {
    last: [i16; MAX_FRAME_SAMPLES],
    length: usize,
    /// Samples concealed since the last good frame.
    position: usize,
    hold: usize,
    fade: usize,
}

impl Default for RepeatFadeConcealer {
    fn default() -> Self {
        // 10 ms held, then 50 ms of fade at 8 kHz (G.711 Appendix I fades to silence by 60 ms).
        Self::new(80, 400)
    }
}

impl RepeatFadeConcealer {
    /// Creates a concealer that holds full level for `hold` samples and then fades to
    /// silence over `fade` samples.
    pub fn new(hold: usize, fade: usize) -> Self {
        Self {
            last: [0; MAX_FRAME_SAMPLES],
            length: 0,
            position: 0,
            hold,
            fade: fade.max(1),
        }
    }

    /// Records a good decoded frame (its first 480 samples) and ends any concealment.
    pub fn remember(&mut self, frame: &[i16]) {
        let length = frame.len().min(MAX_FRAME_SAMPLES);
        if let (Some(target), Some(source)) = (self.last.get_mut(..length), frame.get(..length)) {
            target.copy_from_slice(source);
        }
        self.length = length;
        self.position = 0;
    }

    /// Fills `out` with the concealment of one missing frame.
    pub fn conceal(&mut self, out: &mut [i16]) {
        let history = self.last.get(..self.length).unwrap_or_default();
        if history.is_empty() {
            out.fill(0);
            return;
        }
        for (index, sample) in out.iter_mut().enumerate() {
            let source = history.get(index % history.len()).copied().unwrap_or(0);
            let faded = self.position.saturating_sub(self.hold);
            let remaining = self.fade.saturating_sub(faded);
            // Gain is remaining/fade, applied in integer arithmetic.
            let scaled = i64::from(source) * remaining as i64 / self.fade as i64;
            *sample = scaled as i16;
            self.position = self.position.saturating_add(1);
        }
    }

    /// Whether the fade has reached silence (further concealment is all zeros).
    pub fn is_silent(&self) -> bool {
        self.length == 0 || self.position >= self.hold.saturating_add(self.fade)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conceal_without_history_is_silence() {
        let mut concealer = RepeatFadeConcealer::default();
        let mut out = [7i16; 160];
        concealer.conceal(&mut out);
        assert!(out.iter().all(|sample| *sample == 0));
        assert!(concealer.is_silent());
    }

    #[test]
    fn repeats_then_fades_to_silence_within_60_ms() {
        let mut concealer = RepeatFadeConcealer::default();
        let frame: Vec<i16> = (0..160).map(|index| (index as i16 - 80) * 100).collect();
        concealer.remember(&frame);
        let mut out = [0i16; 160];
        concealer.conceal(&mut out);
        // The first 10 ms repeat the frame exactly.
        assert_eq!(&out[..80], &frame[..80]);
        // Then the level only goes down.
        let mut peak_previous = i32::MAX;
        for _ in 0..3 {
            let peak = out
                .iter()
                .map(|sample| i32::from(*sample).abs())
                .max()
                .unwrap();
            assert!(peak <= peak_previous);
            peak_previous = peak;
            concealer.conceal(&mut out);
        }
        assert!(concealer.is_silent());
        assert!(out.iter().all(|sample| *sample == 0));
        concealer.remember(&frame);
        concealer.conceal(&mut out);
        assert_eq!(&out[..80], &frame[..80], "a good frame resets the fade");
    }
}
