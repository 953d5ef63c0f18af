//! What a run measures: per transaction type a latency histogram (HdrHistogram, in
//! microseconds) and counts by outcome and status code; per second the same counts for the
//! time series; and the engines' own counters (retransmissions, timeouts).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The transaction types measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A first registration (REGISTER until its 2xx, a Digest challenge included).
    Register,
    /// A refresh of a registration.
    Refresh,
    /// A de-registration (REGISTER with Expires: 0).
    Deregister,
    /// A 1:1 MESSAGE.
    Message,
    /// A group text, until its first 2xx.
    GroupMessage,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 5] = [
        Kind::Register,
        Kind::Refresh,
        Kind::Deregister,
        Kind::Message,
        Kind::GroupMessage,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Refresh => "refresh",
            Kind::Deregister => "deregister",
            Kind::Message => "message",
            Kind::GroupMessage => "group_message",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::Register => 0,
            Kind::Refresh => 1,
            Kind::Deregister => 2,
            Kind::Message => 3,
            Kind::GroupMessage => 4,
        }
    }
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A final response with this status (2xx is success).
    Status(u16),
    /// No final response in time (Timer B/F).
    Timeout,
    /// The transport failed (connection refused or lost).
    Transport,
    /// Failed before or outside the network (e.g. a request the engine could not build).
    Local,
}

/// Longest latency the histograms hold: 10 minutes, in microseconds.
const HIGHEST_MICROS: u64 = 600_000_000;

/// The measurements of one transaction type.
#[derive(Debug, Clone)]
pub struct KindStats {
    /// Attempts started.
    pub started: u64,
    /// Requests sent for these attempts, retransmissions not counted (kept for
    /// registrations and refreshes: a REGISTER answered 401 and its answer with
    /// credentials count 2).
    pub requests: u64,
    /// Attempts that ended with a 2xx.
    pub succeeded: u64,
    /// Attempts that ended otherwise.
    pub failed: u64,
    /// Of the failures: no final response in time.
    pub timeouts: u64,
    /// Of the failures: transport errors.
    pub transport_errors: u64,
    /// Of the failures: local errors.
    pub local_errors: u64,
    /// Final responses by status code (2xx included).
    pub by_code: BTreeMap<u16, u64>,
    /// Latency of successful attempts, microseconds.
    pub latency: Histogram<u64>,
    /// When the first and the last attempt started (since the run started).
    pub started_span: Option<(Duration, Duration)>,
}

impl Default for KindStats {
    fn default() -> Self {
        KindStats {
            started: 0,
            requests: 0,
            succeeded: 0,
            failed: 0,
            timeouts: 0,
            transport_errors: 0,
            local_errors: 0,
            by_code: BTreeMap::new(),
            latency: new_histogram(),
            started_span: None,
        }
    }
}

/// A histogram from 1 µs to 10 min with 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Bounds that are valid by construction (1 <= low, high >= 2 * low, sigfig <= 5).
    Histogram::new_with_bounds(1, HIGHEST_MICROS, 3).unwrap_or_else(|_| unreachable_bounds())
}

#[cold]
fn unreachable_bounds() -> Histogram<u64> {
    // new_with_bounds(1, 600e6, 3) only fails for low = 0, high < 2 * low or sigfig > 5,
    // none of which holds; this is never called.
    Histogram::new(3).unwrap_or_else(|_| std::process::abort())
}

impl KindStats {
    /// Back to no attempt, in place: the histogram keeps its counts array (a new one is
    /// 170 kB, allocated and zeroed page by page).
    pub fn clear(&mut self) {
        let KindStats {
            started,
            requests,
            succeeded,
            failed,
            timeouts,
            transport_errors,
            local_errors,
            by_code,
            latency,
            started_span,
        } = self;
        for count in [
            started,
            requests,
            succeeded,
            failed,
            timeouts,
            transport_errors,
            local_errors,
        ] {
            *count = 0;
        }
        by_code.clear();
        if !latency.is_empty() {
            latency.reset();
        }
        *started_span = None;
    }

    /// An attempt started `at` (time since the run started).
    pub fn start(&mut self, at: Duration) {
        self.started += 1;
        self.started_span = Some(match self.started_span {
            Some((first, last)) => (first.min(at), last.max(at)),
            None => (at, at),
        });
    }

    /// An attempt ended after `latency`; whether it succeeded, and the latency in µs.
    pub fn end(&mut self, outcome: Outcome, latency: Duration) -> (bool, u64) {
        let success = matches!(outcome, Outcome::Status(200..=299));
        match outcome {
            Outcome::Status(code) => *self.by_code.entry(code).or_default() += 1,
            Outcome::Timeout => self.timeouts += 1,
            Outcome::Transport => self.transport_errors += 1,
            Outcome::Local => self.local_errors += 1,
        }
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, HIGHEST_MICROS);
        if success {
            self.succeeded += 1;
            let _ = self.latency.record(micros);
        } else {
            self.failed += 1;
        }
        (success, micros)
    }

    /// Adds another worker's measurements.
    fn merge(&mut self, other: &KindStats) {
        self.started += other.started;
        self.requests += other.requests;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.timeouts += other.timeouts;
        self.transport_errors += other.transport_errors;
        self.local_errors += other.local_errors;
        for (code, count) in &other.by_code {
            *self.by_code.entry(*code).or_default() += count;
        }
        self.started_span = match (self.started_span, other.started_span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (mine, theirs) => mine.or(theirs),
        };
        // Same bounds on both sides: add cannot fail.
        let _ = self.latency.add(&other.latency);
    }

    /// The latency at `quantile` (0..=1) in milliseconds; 0 when nothing was recorded.
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        if self.latency.is_empty() {
            return 0.0;
        }
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// Attempts started per second between the first and the last start (`None` with
    /// fewer than two).
    pub fn achieved_rate(&self) -> Option<f64> {
        let (first, last) = self.started_span?;
        let span = last.saturating_sub(first).as_secs_f64();
        (self.started >= 2 && span > 0.0).then(|| (self.started - 1) as f64 / span)
    }

    /// The mean latency in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.latency.mean() / 1000.0
    }

    /// The largest latency in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }
}

/// One second of the time series.
#[derive(Debug, Clone, Default)]
pub struct Second {
    /// Attempts started in this second, per kind.
    pub started: [u64; 5],
    /// Attempts that succeeded in this second, per kind.
    pub succeeded: [u64; 5],
    /// Attempts that failed in this second, per kind.
    pub failed: [u64; 5],
    /// Sum of the successful latencies, microseconds, per kind (for the mean).
    pub latency_sum: [u64; 5],
}

/// The engines' counters (summed over workers).
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineCounters {
    /// Retransmitted requests and responses.
    pub retransmissions: u64,
    /// Client transactions that timed out.
    pub timeouts: u64,
    /// Messages sent (retransmissions included).
    pub messages_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Received bytes that did not parse.
    pub malformed: u64,
    /// Responses that matched no transaction.
    pub stray_responses: u64,
}

/// The arrivals of one scenario of a `mixed` run and how they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScenarioCounts {
    /// Arrivals that started it.
    pub started: u64,
    /// Ended well: the text answered with a 2xx; the re-registration accepted (and, for
    /// reg-event, told by a NOTIFY).
    pub succeeded: u64,
    /// Ended otherwise.
    pub failed: u64,
    /// Of the failures: no answer (or no NOTIFY) in time.
    pub timeouts: u64,
}

impl ScenarioCounts {
    fn add(&mut self, other: &ScenarioCounts) {
        self.started += other.started;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.timeouts += other.timeouts;
    }
}

/// Everything one worker (or, merged, the whole run) measured.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    kinds: [KindStats; 5],
    /// MESSAGEs received by the users (1:1).
    pub messages_received: u64,
    /// Group texts received by the users (each member's copy).
    pub group_messages_received: u64,
    /// Other requests received (answered 200 or 501).
    pub other_requests: u64,
    /// The engine's counters.
    pub engine: EngineCounters,
    /// The users' reg-event SUBSCRIBEs (RFC 3680): in `reg-event`, from the 200 for the
    /// first REGISTER (the engine subscribes then) to the 2xx for the SUBSCRIBE; in
    /// `mixed`, from the reg-event arrival's command to that 2xx. Not in the time series.
    pub subscribe: KindStats,
    /// `mixed`: the SUBSCRIBEs with Expires: 0 that end a reg-event arrival's
    /// subscription, from the command to their final response. Not in the time series.
    pub unsubscribe: KindStats,
    /// reg-event NOTIFYs with a reginfo document the users took (stale ones not counted).
    pub reg_notifies: u64,
    /// Transactions in flight when last published.
    pub in_flight: u64,
    /// A `mixed` run's arrivals by scenario ([`crate::mix::MixScenario::index`]).
    pub scenarios: [ScenarioCounts; 4],
    /// The time series, one entry per second since the run started.
    pub seconds: Vec<Second>,
}

impl Metrics {
    /// The measurements of one kind.
    pub fn kind(&self, kind: Kind) -> &KindStats {
        &self.kinds[kind.index()]
    }

    /// An attempt of `kind` started `at` (time since the run started).
    pub fn started(&mut self, kind: Kind, at: Duration) {
        self.kinds[kind.index()].start(at);
        self.second(at).started[kind.index()] += 1;
    }

    /// A request of an attempt of `kind` went out (the first or a challenge answer).
    pub fn request_sent(&mut self, kind: Kind) {
        self.kinds[kind.index()].requests += 1;
    }

    /// An attempt of `kind` ended `at` after `latency`.
    pub fn ended(&mut self, kind: Kind, outcome: Outcome, latency: Duration, at: Duration) {
        let index = kind.index();
        let (success, micros) = self.kinds[index].end(outcome, latency);
        let second = self.second(at);
        if success {
            second.succeeded[index] += 1;
            second.latency_sum[index] += micros;
        } else {
            second.failed[index] += 1;
        }
    }

    fn second(&mut self, at: Duration) -> &mut Second {
        let index = usize::try_from(at.as_secs())
            .unwrap_or(usize::MAX)
            .min(1 << 20);
        if self.seconds.len() <= index {
            self.seconds.resize_with(index + 1, Second::default);
        }
        &mut self.seconds[index]
    }

    /// Back to nothing measured, in place: for the controller's totals, merged again at
    /// every look without allocating their histograms anew.
    pub fn clear(&mut self) {
        let Metrics {
            kinds,
            messages_received,
            group_messages_received,
            other_requests,
            engine,
            subscribe,
            unsubscribe,
            reg_notifies,
            in_flight,
            scenarios,
            seconds,
        } = self;
        for stats in kinds.iter_mut().chain([subscribe, unsubscribe]) {
            stats.clear();
        }
        for count in [
            messages_received,
            group_messages_received,
            other_requests,
            reg_notifies,
            in_flight,
        ] {
            *count = 0;
        }
        *engine = EngineCounters::default();
        *scenarios = Default::default();
        seconds.clear();
    }

    /// Adds another worker's measurements.
    pub fn merge(&mut self, other: &Metrics) {
        for kind in Kind::ALL {
            self.kinds[kind.index()].merge(&other.kinds[kind.index()]);
        }
        self.subscribe.merge(&other.subscribe);
        self.unsubscribe.merge(&other.unsubscribe);
        for (mine, theirs) in self.scenarios.iter_mut().zip(&other.scenarios) {
            mine.add(theirs);
        }
        self.reg_notifies += other.reg_notifies;
        self.messages_received += other.messages_received;
        self.group_messages_received += other.group_messages_received;
        self.other_requests += other.other_requests;
        self.in_flight += other.in_flight;
        let (a, b) = (&mut self.engine, &other.engine);
        a.retransmissions += b.retransmissions;
        a.timeouts += b.timeouts;
        a.messages_sent += b.messages_sent;
        a.messages_received += b.messages_received;
        a.malformed += b.malformed;
        a.stray_responses += b.stray_responses;
        if self.seconds.len() < other.seconds.len() {
            self.seconds
                .resize_with(other.seconds.len(), Second::default);
        }
        for (mine, theirs) in self.seconds.iter_mut().zip(&other.seconds) {
            for i in 0..5 {
                mine.started[i] += theirs.started[i];
                mine.succeeded[i] += theirs.succeeded[i];
                mine.failed[i] += theirs.failed[i];
                mine.latency_sum[i] += theirs.latency_sum[i];
            }
        }
    }

    /// Adds another worker's counts only (no histograms, no time series): for progress lines.
    pub fn merge_counts(&mut self, other: &Metrics) {
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            mine.started += theirs.started;
            mine.succeeded += theirs.succeeded;
            mine.failed += theirs.failed;
        }
        for (mine, theirs) in self.scenarios.iter_mut().zip(&other.scenarios) {
            mine.add(theirs);
        }
        self.in_flight += other.in_flight;
        self.engine.retransmissions += other.engine.retransmissions;
        self.engine.timeouts += other.engine.timeouts;
    }

    /// Adds another worker's latency histograms only: for the interval log.
    pub fn merge_latency(&mut self, other: &Metrics) {
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            // Same bounds on both sides: add cannot fail.
            let _ = mine.latency.add(&theirs.latency);
        }
    }

    /// Failed attempts of every kind (reg-event SUBSCRIBEs and unsubscriptions included).
    pub fn failures(&self) -> u64 {
        self.kinds.iter().map(|k| k.failed).sum::<u64>()
            + self.subscribe.failed
            + self.unsubscribe.failed
    }

    /// A `mixed` arrival of `scenario` started.
    pub fn scenario_started(&mut self, scenario: crate::mix::MixScenario) {
        self.scenarios[scenario.index()].started += 1;
    }

    /// A `mixed` arrival of `scenario` ended.
    pub fn scenario_ended(&mut self, scenario: crate::mix::MixScenario, outcome: Outcome) {
        let counts = &mut self.scenarios[scenario.index()];
        match outcome {
            Outcome::Status(200..=299) => counts.succeeded += 1,
            Outcome::Timeout => {
                counts.failed += 1;
                counts.timeouts += 1;
            }
            _ => counts.failed += 1,
        }
    }

    /// Texts started (message, group-chat) or, in a `mixed` run, arrivals: what --count
    /// counts.
    pub fn counted_attempts(&self) -> u64 {
        let arrivals: u64 = self.scenarios.iter().map(|s| s.started).sum();
        if arrivals > 0 {
            arrivals
        } else {
            self.kind(Kind::Message).started + self.kind(Kind::GroupMessage).started
        }
    }

    /// (started, succeeded, failed) of one kind.
    pub fn counts(&self, kind: Kind) -> (u64, u64, u64) {
        let stats = self.kind(kind);
        (stats.started, stats.succeeded, stats.failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_land_in_counts_histogram_and_seconds() {
        let mut metrics = Metrics::default();
        let at = Duration::from_millis(1500);
        metrics.started(Kind::Message, at);
        metrics.started(Kind::Message, at);
        metrics.started(Kind::Message, at);
        metrics.ended(
            Kind::Message,
            Outcome::Status(200),
            Duration::from_millis(3),
            at,
        );
        metrics.ended(
            Kind::Message,
            Outcome::Status(480),
            Duration::from_millis(4),
            at,
        );
        metrics.ended(
            Kind::Message,
            Outcome::Timeout,
            Duration::from_secs(32),
            Duration::from_secs(34),
        );
        let stats = metrics.kind(Kind::Message);
        assert_eq!((stats.started, stats.succeeded, stats.failed), (3, 1, 2));
        assert_eq!(stats.timeouts, 1);
        assert_eq!(stats.by_code.get(&480), Some(&1));
        assert_eq!(
            stats.latency.len(),
            1,
            "only successes are in the histogram"
        );
        assert!((stats.quantile_ms(0.5) - 3.0).abs() < 0.01);
        assert_eq!(metrics.seconds.len(), 35);
        assert_eq!(metrics.seconds[1].started[3], 3);
        assert_eq!(metrics.seconds[34].failed[3], 1);
        assert_eq!(metrics.failures(), 2);
    }

    #[test]
    fn merging_adds_everything() {
        let mut a = Metrics::default();
        let mut b = Metrics::default();
        a.started(Kind::Register, Duration::ZERO);
        a.ended(
            Kind::Register,
            Outcome::Status(200),
            Duration::from_millis(2),
            Duration::ZERO,
        );
        b.started(Kind::Register, Duration::from_secs(3));
        b.ended(
            Kind::Register,
            Outcome::Status(200),
            Duration::from_millis(8),
            Duration::from_secs(3),
        );
        b.engine.retransmissions = 4;
        a.request_sent(Kind::Register);
        b.request_sent(Kind::Register);
        b.request_sent(Kind::Register);
        a.merge(&b);
        assert_eq!(a.kind(Kind::Register).requests, 3);
        let stats = a.kind(Kind::Register);
        assert_eq!((stats.started, stats.succeeded), (2, 2));
        assert_eq!(stats.by_code.get(&200), Some(&2));
        assert!((stats.max_ms() - 8.0).abs() < 0.01);
        assert_eq!(a.seconds.len(), 4);
        assert_eq!(a.seconds[3].succeeded[0], 1);
        assert_eq!(a.engine.retransmissions, 4);
    }
}
