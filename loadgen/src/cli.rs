//! The command line, and the checked plan of a run built from it.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::mix::MixScenario;
use crate::users::{self, User};

const EXAMPLES: &str = "\
EXAMPLES:
  Register 10,000 users at 500/s, hold them 5 minutes (refreshing every 60 s), de-register:
    imsload register -t 127.0.0.1:5060 --users 'vu{0..9999}@ims.test' --password secret \\
        -r 500 --duration 5m --expires 120

  1,000 users in pairs, 200 MESSAGEs per second for 30 s, report to ./out:
    imsload message -t 127.0.0.1:5060 --users 'vu{0..999}@ims.test' --password secret \\
        -r 200 --duration 30s --report out

  Groups of 10, the core network fans out (group URIs sip:group0@ims.test ...), 5,000 texts:
    imsload group-chat -t 127.0.0.1:5060 --users 'vu{0..999}@ims.test' --password secret \\
        --group-size 10 --count 5000 -r 100

  Users from a SIPp injection file (first line SEQUENTIAL or RANDOM):
    imsload register -t 127.0.0.1:5060 --inf users.csv -r 100
    users.csv:  SEQUENTIAL
                alice0;ims.test;[authentication username=alice0@ims.test password=x]
                bob;ims.test;[authentication username=bob@ims.test aka_K=HEX32 aka_OPc=HEX32]
    (IMS AKA: aka_K with aka_OPc or aka_OP, 32 hex digits each; aka_AMF optional, 4 digits)

  1,000 users with IMS AKA through the local IMS core's P-CSCF (scripts/ims-core), keys
  derived from each number as imshss's --pattern subscribers have them, IMPI vuN@ims.test:
    imsload register -t 127.0.0.1:15060 --users 'vu{0..999}@ims.test' --aka-derived -r 200

  The same with one UDP port per user, as the P-CSCF tells UEs apart by address and port
  (users sharing a port would share one registration there), then MESSAGEs in pairs:
    imsload message -t 127.0.0.1:15060 --users 'vu{0..999}@ims.test' --aka-derived \\
        --port-per-user -r 100 --duration 30s

  A traffic mix at 50 arrivals per second for 60 s, each arrival a MESSAGE, a group text,
  a re-registration or a subscription to the user's reg event, by weight:
    imsload mixed -t 127.0.0.1:15060 --users 'vu{0..999}@ims.test' --aka-derived \\
        --port-per-user --weights message=6,group-chat=2,refresh=1,reg-event=1 \\
        --group-mode fan-out -r 50 --duration 60s

  Options from a TOML file (keys as the long options with _ for -, commented example in
  loadgen/scenario.example.toml); an option on the command line wins:
    imsload mixed --config scenario.toml -r 100

  Each user also subscribes to its own registration state (reg event) at the S-CSCF:
    imsload reg-event -t 127.0.0.1:15060 --users 'vu{0..199}@ims.test' --aka-derived \\
        --port-per-user -r 100 --duration 30s

  The IMS/NGN performance benchmark (ETSI TS 186 008): SAPS rises step by step until the
  share of inadequately handled scenario attempts passes its limit; it reports the DOC
  (options: imsload benchmark --help):
    imsload benchmark -t 127.0.0.1:5060 --users 'vu{0..9999}@ims.test' --password secret \\
        --base-saps 100 --step-saps 100 --step-duration 30s --report out

Every scenario registers its users first (at --register-rate), runs, and de-registers them
at the end; Ctrl-C (or SIGTERM) de-registers too (a second one stops at once).
Exit status: 0 when every transaction succeeded, 1 when some failed or timed out or the
de-registrations did not finish in time, 2 for bad input (options, injection file,
unreachable target).";

/// The command line of `imsload`.
#[derive(Parser, Debug)]
#[command(
    name = "imsload",
    version,
    about = "Many virtual IMS users from one process, against an IMS core or SIP registrar/proxy, with latency histograms",
    after_help = EXAMPLES
)]
pub struct Args {
    /// What the virtual users do.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// A TOML file with any of the options below (keys as the long options with _ for -,
    /// e.g. `register_rate = 200`; times as "500ms"; --weights as a [weights] table). An
    /// option on the command line wins over the file. Example: loadgen/scenario.example.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The registrar/proxy (P-CSCF) every request goes to, HOST:PORT.
    #[arg(short = 't', long, visible_alias = "proxy", value_name = "HOST:PORT")]
    pub target: Option<String>,
    /// The users: USER{A..B}@DOMAIN, e.g. 'vu{0..9999}@ims.test' (with --password).
    #[arg(long, value_name = "PATTERN")]
    pub users: Option<String>,
    /// Digest password for --users (and for injection lines without one).
    #[arg(long, env = "IMSLOAD_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// IMS AKA for --users: K and OPc of each user derived from its number in the range,
    /// as imshss's pattern subscribers have them (`imshss --pattern`); no password needed.
    #[arg(long, conflicts_with = "inf")]
    pub aka_derived: bool,
    /// The private identity (IMPI, the authentication user name) of --users, `{user}` and
    /// `{domain}` standing for the user's parts. Default: the user part, or
    /// `{user}@{domain}` with --aka-derived.
    #[arg(long, value_name = "FORM", conflicts_with = "inf")]
    pub impi: Option<String>,
    /// A SIPp injection file: first line SEQUENTIAL or RANDOM, then
    /// `user;domain;[authentication username=U password=P]` per line (or, for IMS AKA,
    /// `aka_K=HEX aka_OPc=HEX` or `aka_K=HEX aka_OP=HEX`, optionally `aka_AMF=HEX`).
    #[arg(long, value_name = "FILE", conflicts_with = "users")]
    pub inf: Option<PathBuf>,
    /// Use only the first N users.
    #[arg(long, value_name = "N")]
    pub vus: Option<usize>,
    /// Scenario attempts per second: registrations (register), MESSAGEs (message), group
    /// texts (group-chat), arrivals of any scenario (mixed).
    #[arg(
        short = 'r',
        long,
        default_value_t = 100.0,
        value_name = "PER_SECOND",
        allow_negative_numbers = true
    )]
    pub rate: f64,
    /// Registrations per second before a message or group-chat run (and de-registrations
    /// after it).
    #[arg(
        long,
        default_value_t = 500.0,
        value_name = "PER_SECOND",
        allow_negative_numbers = true
    )]
    pub register_rate: f64,
    /// The rate rises linearly from 0 to --rate over this time.
    #[arg(long, default_value = "0s", value_parser = parse_duration, value_name = "TIME")]
    pub ramp_up: Duration,
    /// Most transactions in flight at once (arrivals wait beyond it).
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub max_concurrent: usize,
    /// How long the scenario runs once every user is registered (register: how long they
    /// stay registered). Units: ms, s, m, h (default s).
    #[arg(long, value_parser = parse_duration, value_name = "TIME")]
    pub duration: Option<Duration>,
    /// How many MESSAGEs (message), group texts (group-chat) or arrivals (mixed) in all.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Transport to the target.
    #[arg(long, value_enum, default_value_t = TransportArg::Udp)]
    pub transport: TransportArg,
    /// Seed for the engines' tags/branches/Call-IDs and for RANDOM injection order (default:
    /// from the OS).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Registration lifetime asked for, in seconds (refreshes follow from it).
    #[arg(long, default_value_t = 600)]
    pub expires: u32,
    /// mixed: the weight of each scenario an arrival may run, NAME=WEIGHT,... (whole
    /// numbers; left out: 0). message: a MESSAGE to the user's peer; group-chat: a text to
    /// its group (--group-size, --group-mode); refresh: a registered user re-registers;
    /// reg-event: a registered user subscribes to its own registration state in a new
    /// dialog (an S-CSCF serves the reg event), the attempt ends once the 200 and the
    /// first NOTIFY have come, then the user unsubscribes (Expires: 0) and is free for the
    /// next arrival. Every run of WEIGHTS-SUM arrivals of a worker holds each scenario its
    /// weight's times.
    #[arg(long, value_name = "NAME=WEIGHT,...", default_value = crate::mix::Weights::DEFAULT_TEXT)]
    pub weights: String,
    /// T1, the round-trip estimate the engine's retransmissions and timeouts scale from
    /// (RFC 3261 §17.1.1.1): a transaction times out after 64*T1 (Timer F, 32 s at 500ms).
    #[arg(long, default_value = "500ms", value_parser = parse_duration, value_name = "TIME")]
    pub t1: Duration,
    /// Members per group (group-chat).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub group_size: usize,
    /// How a group text reaches the members: the core network forks it to the group URI
    /// (network), or the sender sends one copy per member (fan-out).
    #[arg(long, value_enum, default_value_t = GroupModeArg::Network)]
    pub group_mode: GroupModeArg,
    /// Group URIs, `{g}` standing for the group number (default sip:group{g}@DOMAIN of
    /// the first user). Provision them at the core network for --group-mode network.
    #[arg(long, value_name = "PATTERN")]
    pub group_uri: Option<String>,
    /// Gather answers for up to TIME (10ms to 50ms; a worker's waits end on its 10 ms
    /// steps, so at most until the next step while arrivals are due) before reading them,
    /// while they come closer together than that, as a network card coalesces interrupts:
    /// one wake-up of a worker for the answers of a step, about a third less CPU per
    /// transaction at 1,000 REGISTER transactions/s. The price: a request that follows an
    /// answer (the credentials after a 401) leaves up to a step later, and the
    /// registration latency includes that wait. Each answer is still timed from its
    /// arrival (the kernel's receive time). UDP only. 0 (the default) reads every
    /// datagram as it comes.
    #[arg(long, default_value = "0s", value_parser = parse_duration, value_name = "TIME")]
    pub coalesce: Duration,
    /// Worker threads, each with one engine and one socket, or one socket per user with
    /// --port-per-user (default: one per 1,000 arrivals per second asked, the higher of
    /// --rate and --register-rate, at most one per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// One socket per user (--port-per-user, --local-ports).
    #[command(flatten)]
    pub ports: crate::udp::PortArgs,
    /// Write summary.json, timeseries.csv (per second), latency.hlog (HdrHistogram interval
    /// log, per second and transaction type) and report.html (self-contained, with plots)
    /// into this directory.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// A progress line on stderr this often (without the dashboard).
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "TIME")]
    pub progress_interval: Duration,
    /// No live dashboard even when stdout is a terminal: progress lines on stderr instead.
    #[arg(long)]
    pub no_tui: bool,
    /// Longest wait for registrations to settle before the scenario starts anyway.
    #[arg(long, default_value = "64s", value_parser = parse_duration, value_name = "TIME")]
    pub register_timeout: Duration,
    /// Longest wait for de-registrations at the end (or after Ctrl-C).
    #[arg(long, default_value = "32s", value_parser = parse_duration, value_name = "TIME")]
    pub stop_timeout: Duration,
    /// After the last text is answered, the users stay registered this long so copies
    /// still on their way (other branches of a fork, retransmissions) arrive.
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "TIME")]
    pub drain: Duration,
    /// How long a target gets to answer the OPTIONS probe before the run starts.
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "TIME")]
    pub probe_timeout: Duration,
    /// Log filter for tracing output on stderr, e.g. `info` or `ims_core=debug`.
    #[arg(long, default_value = "warn")]
    pub log: String,
}

/// What the virtual users do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Register, hold (refreshing) for --duration, de-register.
    Register,
    /// Pairs of users (0-1, 2-3, ...) exchange MESSAGEs at --rate.
    Message,
    /// Groups of --group-size users; each text goes to the group, the next from the same
    /// sender only after a 200 for the last.
    GroupChat,
    /// As register, and each user subscribes to the reg event package of its own AOR
    /// once registered (RFC 3680; an IMS S-CSCF serves it); NOTIFYs are counted.
    RegEvent,
    /// Each arrival runs one of message, group-chat, refresh and reg-event, by --weights.
    Mixed,
}

impl Scenario {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Register => "register",
            Scenario::Message => "message",
            Scenario::GroupChat => "group-chat",
            Scenario::RegEvent => "reg-event",
            Scenario::Mixed => "mixed",
        }
    }
}

/// `--transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportArg {
    /// UDP (one socket per worker).
    Udp,
    /// TCP (one connection per worker to the target).
    Tcp,
}

/// `--group-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupModeArg {
    /// One MESSAGE to the group URI; the core network forks it.
    Network,
    /// One MESSAGE per member from the sender.
    FanOut,
}

/// Highest rate accepted (per second).
const MAX_RATE: f64 = 1_000_000.0;
/// The `--coalesce` intervals taken (besides 0).
const COALESCE: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(10)..=Duration::from_millis(50);

/// A run, checked.
#[derive(Debug)]
pub struct Plan {
    /// The scenario.
    pub scenario: Scenario,
    /// Where every request goes.
    pub target: SocketAddr,
    /// `--target` as written.
    pub target_text: String,
    /// UDP or TCP.
    pub transport: ims_core::transport::Transport,
    /// The virtual users.
    pub users: Vec<User>,
    /// Scenario attempts per second.
    pub rate: f64,
    /// Registrations (and de-registrations) per second around message/group-chat.
    pub register_rate: f64,
    /// Linear ramp of `rate`.
    pub ramp_up: Duration,
    /// Most transactions in flight.
    pub max_concurrent: usize,
    /// How long the scenario runs.
    pub duration: Option<Duration>,
    /// How many texts.
    pub count: Option<u64>,
    /// Seed (fixed or from the OS).
    pub seed: Option<u64>,
    /// Registration lifetime.
    pub expires: u32,
    /// Members per group.
    pub group_size: usize,
    /// Network or fan-out.
    pub group_mode: GroupModeArg,
    /// Group URI pattern with `{g}`.
    pub group_uri: String,
    /// Worker threads.
    pub workers: usize,
    /// One socket per worker or per user.
    pub ports: crate::udp::PortMode,
    /// `--wake-per-answer`: no steered twin socket (crate::steer).
    pub wake_per_answer: bool,
    /// Report directory.
    pub report: Option<PathBuf>,
    /// Progress line interval.
    pub progress_interval: Duration,
    /// No dashboard (`--no-tui`).
    pub no_tui: bool,
    /// Registration settle limit.
    pub register_timeout: Duration,
    /// De-registration limit.
    pub stop_timeout: Duration,
    /// Wait after the last answer before de-registering.
    pub drain: Duration,
    /// OPTIONS probe limit.
    pub probe_timeout: Duration,
    /// The users subscribe to their registration state (`reg-event`, run as `register`).
    pub reg_event: bool,
    /// The traffic set of a `mixed` run (`None` for the other scenarios).
    pub mix: Option<crate::mix::Weights>,
    /// T1 of the engines.
    pub t1: Duration,
    /// How long a worker gathers answers that come close together (UDP).
    pub coalesce: Duration,
}

/// Input the run cannot start with (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// An option value is out of range or contradicts another.
    #[error("{0}")]
    Invalid(String),
    /// The users could not be read.
    #[error(transparent)]
    Users(#[from] users::UsersError),
    /// The target does not resolve.
    #[error("--target {target:?}: {reason}")]
    Target {
        /// As given.
        target: String,
        /// Why.
        reason: String,
    },
}

impl Plan {
    /// Checks the arguments and reads the users.
    pub fn from_args(mut args: Args) -> Result<Plan, PlanError> {
        // reg-event runs as register, with the subscription on every account.
        let reg_event = args.scenario == Scenario::RegEvent;
        if reg_event {
            args.scenario = Scenario::Register;
        }
        let invalid = |text: String| Err(PlanError::Invalid(text));
        for (name, rate) in [
            ("--rate", args.rate),
            ("--register-rate", args.register_rate),
        ] {
            if !rate.is_finite() || rate <= 0.0 || rate > MAX_RATE {
                return invalid(format!(
                    "{name} {rate}: impossible rate; give a number of attempts per second above 0 and at most {MAX_RATE}"
                ));
            }
        }
        if args.max_concurrent == 0 {
            return invalid("--max-concurrent 0: nothing could ever be sent".into());
        }
        if args.count == Some(0) {
            return invalid("--count 0: nothing to send".into());
        }
        if args.expires == 0 {
            return invalid("--expires 0 would de-register at once; give seconds > 0".into());
        }
        if args.scenario == Scenario::Register && args.count.is_some() {
            return invalid(
                "--count applies to message, group-chat and mixed; register runs every user (see --vus) for --duration"
                    .into(),
            );
        }
        let mix = match args.scenario {
            Scenario::Mixed => Some(
                crate::mix::Weights::parse(&args.weights)
                    .map_err(|e| PlanError::Invalid(e.to_string()))?,
            ),
            _ if args.weights != crate::mix::Weights::DEFAULT_TEXT => {
                return invalid(format!(
                    "--weights applies to mixed, not {}",
                    args.scenario.name()
                ));
            }
            _ => None,
        };
        // T2 (4 s) caps the retransmission interval and must not be below T1.
        if args.t1 < Duration::from_millis(1) || args.t1 > Duration::from_secs(4) {
            return invalid(format!(
                "--t1 {:?}: give a round-trip estimate from 1ms to 4s (T2)",
                args.t1
            ));
        }
        if !args.coalesce.is_zero() && !COALESCE.contains(&args.coalesce) {
            return invalid(format!(
                "--coalesce {:?}: give 0, or 10ms to 50ms (shorter gathering costs more \
                 wake-ups than it saves; longer holds answers past what registrars take)",
                args.coalesce
            ));
        }
        if let Some(duration) = args.duration
            && args.ramp_up > duration
        {
            return invalid(format!(
                "--ramp-up {:?} is longer than --duration {duration:?}: the full rate would never be reached",
                args.ramp_up
            ));
        }
        if args.workers == Some(0) {
            return invalid("--workers 0: at least one worker is needed".into());
        }
        let Some(target_text) = args.target else {
            return invalid("give --target HOST:PORT (or target in --config)".into());
        };
        if args.inf.is_some() && (args.aka_derived || args.impi.is_some()) {
            return invalid(
                "--aka-derived and --impi apply to --users; an injection file (--inf) gives each user's keys"
                    .into(),
            );
        }
        let target = resolve_target(&target_text)?;
        let seed = args.seed;
        let mut users = match (&args.inf, &args.users) {
            (Some(path), _) => {
                users::read_injection(path, args.password.as_deref(), seed.unwrap_or(0))?
            }
            (None, Some(pattern)) => users::expand_pattern(
                pattern,
                &users::PatternAuth {
                    password: args.password.as_deref(),
                    aka_derived: args.aka_derived,
                    impi: args.impi.as_deref(),
                },
            )?,
            (None, None) => {
                return invalid("give --users PATTERN (with --password) or --inf FILE".into());
            }
        };
        if let Some(vus) = args.vus {
            if vus == 0 || vus > users.len() {
                return invalid(format!(
                    "--vus {vus}: between 1 and the {} users given",
                    users.len()
                ));
            }
            users.truncate(vus);
        }
        let (messages, groups) = match (args.scenario, mix) {
            (Scenario::Message, _) => (true, false),
            (Scenario::GroupChat, _) => (false, true),
            (Scenario::Mixed, Some(weights)) => (
                weights.of(MixScenario::Message) > 0,
                weights.of(MixScenario::GroupChat) > 0,
            ),
            _ => (false, false),
        };
        let name = args.scenario.name();
        if messages && users.len() < 2 {
            return invalid(format!(
                "{name} needs at least 2 users for MESSAGEs (they send in pairs)"
            ));
        }
        if groups && args.group_size < 2 {
            return invalid(format!(
                "--group-size {}: a group needs 2 members or more",
                args.group_size
            ));
        }
        if groups && users.len() < args.group_size {
            return invalid(format!(
                "{name} with --group-size {} needs at least that many users, got {}",
                args.group_size,
                users.len()
            ));
        }
        let group_uri = match args.group_uri {
            Some(pattern) if pattern.contains("{g}") => pattern,
            Some(pattern) => {
                return invalid(format!(
                    "--group-uri {pattern:?} must contain {{g}} (the group number)"
                ));
            }
            None => format!(
                "sip:group{{g}}@{}",
                users
                    .first()
                    .map(|u| u.domain.as_str())
                    .unwrap_or("ims.test")
            ),
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = args
            .workers
            .unwrap_or_else(|| default_workers(cores, args.rate.max(args.register_rate)))
            .clamp(1, users.len().max(1));
        let ports = crate::udp::PortMode::from_args(
            &args.ports,
            users.len(),
            args.transport == TransportArg::Udp,
        )
        .map_err(|e| PlanError::Invalid(e.to_string()))?;
        let duration = match (args.scenario, args.duration, args.count) {
            (Scenario::Register, None, _) => Some(Duration::ZERO),
            (_, None, None) => Some(Duration::from_secs(10)),
            (_, duration, _) => duration,
        };
        Ok(Plan {
            scenario: args.scenario,
            target,
            target_text,
            transport: match args.transport {
                TransportArg::Udp => ims_core::transport::Transport::Udp,
                TransportArg::Tcp => ims_core::transport::Transport::Tcp,
            },
            users,
            rate: args.rate,
            register_rate: args.register_rate,
            ramp_up: args.ramp_up,
            max_concurrent: args.max_concurrent,
            duration,
            count: args.count,
            seed,
            expires: args.expires,
            group_size: args.group_size,
            group_mode: args.group_mode,
            group_uri,
            workers,
            ports,
            wake_per_answer: args.ports.wake_per_answer,
            report: args.report,
            progress_interval: args.progress_interval.max(Duration::from_millis(100)),
            no_tui: args.no_tui,
            register_timeout: args.register_timeout,
            stop_timeout: args.stop_timeout,
            drain: args.drain,
            probe_timeout: args.probe_timeout,
            reg_event,
            mix,
            t1: args.t1,
            coalesce: args.coalesce,
        })
    }

    /// Whether the users subscribe to their registration state once registered: every
    /// user of `reg-event`. In `mixed`, none does at registration: each reg-event arrival
    /// subscribes a user on demand and unsubscribes it at the end (crate::vu::mixed).
    pub fn subscribes_at_registration(&self) -> bool {
        self.reg_event
    }

    /// Whether some users subscribe to their registration state (the report shows the
    /// SUBSCRIBEs and NOTIFYs).
    pub fn any_subscribes(&self) -> bool {
        self.reg_event
            || self
                .mix
                .is_some_and(|weights| weights.of(MixScenario::RegEvent) > 0)
    }

    /// Whether the run sends group texts (a fan-out copy with its member list can be too
    /// large for UDP and go over TCP, RFC 3261 §18.1.1).
    pub fn sends_group_texts(&self) -> bool {
        match self.mix {
            Some(weights) => weights.of(MixScenario::GroupChat) > 0,
            None => self.scenario == Scenario::GroupChat,
        }
    }

    /// Whether a worker's shared socket has a steered twin for the 1xx/2xx answers
    /// (crate::steer): unless --wake-per-answer, over UDP on a shared socket, and not when
    /// group texts are sent (the next text of a sender waits for the last one's 200, and
    /// those workers read one socket through tokio).
    pub fn steers_answers(&self) -> bool {
        !self.wake_per_answer
            && !self.ports.per_user()
            && self.transport == ims_core::transport::Transport::Udp
            && !self.sends_group_texts()
    }

    /// The members of global user `index`'s group: groups of --group-size in user order,
    /// the last one maybe smaller.
    pub fn group_of(&self, index: usize) -> std::ops::Range<usize> {
        let size = self.group_size.max(2);
        let start = index / size * size;
        start..self.users.len().min(start + size)
    }

    /// The rate of the registration phase: --rate for `register`, else --register-rate.
    pub fn registration_rate(&self) -> f64 {
        match self.scenario {
            Scenario::Register => self.rate,
            _ => self.register_rate,
        }
    }

    /// The scenario's name as given (`reg-event` runs as `register`).
    pub fn scenario_name(&self) -> &'static str {
        if self.reg_event {
            Scenario::RegEvent.name()
        } else {
            self.scenario.name()
        }
    }

    /// The URI of group `g`.
    pub fn group_uri(&self, group: usize) -> String {
        self.group_uri.replace("{g}", &group.to_string())
    }
}

/// `HOST:PORT` to one address (the first IPv4 one when a name gives several).
fn resolve_target(target: &str) -> Result<SocketAddr, PlanError> {
    let error = |reason: String| PlanError::Target {
        target: target.to_owned(),
        reason,
    };
    let addresses: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|e| error(format!("expected HOST:PORT ({e})")))?
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| error("the name has no address".into()))
}

/// Arrivals per second one worker takes when --workers is not given. Below this, one
/// thread costs less CPU per transaction than one per core: the arrivals and answers of
/// all users share its wake-ups (bench/RESULTS.md, "Comparison with SIPp").
const ARRIVALS_PER_WORKER: f64 = 1000.0;

/// The worker count when --workers is not given: one per [`ARRIVALS_PER_WORKER`] of the
/// highest arrival rate asked, at least one, at most one per core.
fn default_workers(cores: usize, arrivals_per_second: f64) -> usize {
    let wanted = (arrivals_per_second / ARRIVALS_PER_WORKER).ceil();
    // At least 1 (NaN fails the test); `as` saturates past usize::MAX.
    let wanted = if wanted >= 1.0 { wanted as usize } else { 1 };
    wanted.min(cores.max(1))
}

/// `250ms`, `10s`, `5m`, `1h`, or plain seconds (`1.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a time such as 500ms, 10s, 5m or 1h"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown time unit {other:?} (use ms, s, m or h)")),
    };
    if !seconds.is_finite() || !(0.0..=31_536_000.0).contains(&seconds) {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests;
