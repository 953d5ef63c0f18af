//! Timer values (RFC 3261 §17, Table 4) and what a fired timer asks for.

use std::time::Duration;

/// T1, T2, T4 and Timer D, configurable so that tests and lossy links can change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1: RTT estimate, 500 ms by default (RFC 3261 §17.1.1.1).
    pub t1: Duration,
    /// T2: the cap on non-INVITE and response retransmission intervals, 4 s.
    pub t2: Duration,
    /// T4: the longest a message stays in the network, 5 s.
    pub t4: Duration,
    /// Timer D: how long an INVITE client absorbs retransmitted final responses on an
    /// unreliable transport, at least 32 s.
    pub timer_d: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
        }
    }
}

/// A timer configuration that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimerConfigError {
    /// T1 must be at least 1 ms and at most 60 s.
    #[error("T1 must be between 1 ms and 60 s")]
    T1OutOfRange,
    /// T2 must not be below T1, nor above 10 minutes.
    #[error("T2 must be at least T1 and at most 600 s")]
    T2OutOfRange,
    /// T4 and Timer D must be at most 10 minutes.
    #[error("T4 and Timer D must be at most 600 s")]
    TooLong,
}

impl TimerConfig {
    /// Checks the values are usable (so deadlines never overflow).
    pub fn validate(&self) -> Result<(), TimerConfigError> {
        let max = Duration::from_secs(600);
        if self.t1 < Duration::from_millis(1) || self.t1 > Duration::from_secs(60) {
            return Err(TimerConfigError::T1OutOfRange);
        }
        if self.t2 < self.t1 || self.t2 > max {
            return Err(TimerConfigError::T2OutOfRange);
        }
        if self.t4 > max || self.timer_d > max {
            return Err(TimerConfigError::TooLong);
        }
        Ok(())
    }

    /// 64*T1: Timers B, F, H, J, L and M.
    pub fn t1_x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }
}

/// What a transaction asks of the engine when its deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerAction {
    /// Nothing is due yet (the engine woke early).
    Nothing,
    /// Send the stored request (client) or last response (server) again.
    Retransmit,
    /// The transaction timed out (Timer B, F or H): tell the transaction user.
    Timeout,
    /// The transaction ended quietly (Timers D, I, J, K, L, M); forget it.
    Terminated,
}
