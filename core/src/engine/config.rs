//! Engine configuration.

use std::time::Duration;

use crate::sip::Limits;
use crate::transaction::{TimerConfig, TimerConfigError};

/// How registrations refresh and retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// Refresh this long before the registration expires (or at half the lifetime when
    /// that comes later).
    pub refresh_margin: Duration,
    /// First retry delay after a timeout, transport failure or 5xx without Retry-After;
    /// doubles per failure (RFC 5626 §4.5 style, with jitter) up to `retry_max`.
    pub retry_base: Duration,
    /// The longest retry delay.
    pub retry_max: Duration,
    /// 3xx redirects followed before giving up.
    pub max_redirects: u8,
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        RegistrationPolicy {
            refresh_margin: Duration::from_secs(30),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(300),
            max_redirects: 5,
        }
    }
}

/// Everything an engine is configured with.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// T1, T2, T4, Timer D.
    pub timers: TimerConfig,
    /// Size limits for received messages.
    pub limits: Limits,
    /// Path MTU: a request over `mtu - 200` bytes goes over TCP when the engine has a TCP
    /// address (RFC 3261 §18.1.1).
    pub mtu: usize,
    /// The User-Agent / Server header value (`None` sends none).
    pub user_agent: Option<String>,
    /// The seed of the engine's RNG (tags, branches, Call-IDs, cnonces). The driver fills
    /// it from the operating system; a test fixes it to repeat a run byte for byte.
    pub rng_seed: Option<[u8; 32]>,
    /// Registration refresh and retry.
    pub registration: RegistrationPolicy,
    /// Most TCP connections with unread bytes kept at once; a new one past it is refused.
    pub max_streams: usize,
    /// Largest MESSAGE body accepted; larger ones get 413 (RFC 3428 §7).
    pub max_message_body: usize,
    /// CRLF keep-alive interval on TCP flows of registered accounts (RFC 5626 §4.4.1):
    /// each ping goes out at a random 80-100 % of it. `None` sends none. Default 120 s.
    pub keepalive: Option<Duration>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            timers: TimerConfig::default(),
            limits: Limits::DEFAULT,
            mtu: 1500,
            user_agent: Some(concat!("ims-rs/", env!("CARGO_PKG_VERSION")).to_owned()),
            rng_seed: None,
            registration: RegistrationPolicy::default(),
            max_streams: 4096,
            max_message_body: 16 * 1024,
            keepalive: Some(Duration::from_secs(120)),
        }
    }
}

/// A configuration the engine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Timer values out of range.
    #[error(transparent)]
    Timers(#[from] TimerConfigError),
    /// No RNG seed: the driver must fill `rng_seed` from the operating system.
    #[error("rng_seed is not set (the driver fills it from the OS; tests fix it)")]
    MissingSeed,
    /// The MTU is below what SIP needs.
    #[error("mtu must be at least 576")]
    MtuTooSmall,
    /// The user agent string holds a line break.
    #[error("user_agent must not contain CR or LF")]
    UnsafeUserAgent,
    /// Retry delays out of order or too long.
    #[error("registration retry delays must be 1 ms ..= 24 h with base <= max")]
    RetryDelays,
}

impl EngineConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.timers.validate()?;
        if self.rng_seed.is_none() {
            return Err(ConfigError::MissingSeed);
        }
        if self.mtu < 576 {
            return Err(ConfigError::MtuTooSmall);
        }
        if self
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.bytes().any(|b| b == b'\r' || b == b'\n'))
        {
            return Err(ConfigError::UnsafeUserAgent);
        }
        let policy = &self.registration;
        let day = Duration::from_secs(86_400);
        if policy.retry_base < Duration::from_millis(1)
            || policy.retry_base > policy.retry_max
            || policy.retry_max > day
            || policy.refresh_margin > day
        {
            return Err(ConfigError::RetryDelays);
        }
        Ok(())
    }
}
