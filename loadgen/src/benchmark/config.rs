//! The command line of `imsload benchmark`, its TOML file (`--config FILE`), and the
//! checked configuration built from both (a flag wins over the file, the file over the
//! default).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::profile::{Profile, ScenarioType, Weights};
use crate::cli::parse_duration;
use crate::users::{self, User};

const EXAMPLES: &str = "\
EXAMPLES:
  10,000 subscribers, 80 % registered first; 50 SAPS, +50 per 30 s step, up to 10 steps:
    imsload benchmark -t 127.0.0.1:5060 --users 'vu{0..9999}@ims.test' --password secret \\
        --base-saps 50 --step-saps 50 --step-duration 30s --max-steps 10 --report out

  A traffic set of messaging and re-registration only, messages held to 200 ms:
    imsload benchmark -t 127.0.0.1:5060 --users 'vu{0..999}@ims.test' --password secret \\
        --traffic message=3,re-register=1 --threshold message=200ms

  The same from a file (keys as the long flags, with _ for -; see the README):
    imsload benchmark --config bench.toml

Scenario types: register (of a user not registered), re-register, de-register (of a
registered user), message (between two registered users). An attempt is inadequately
handled when it fails or its transaction takes longer than its threshold (defaults:
register and re-register 1s, de-register and message 500ms). The run stops after the
first step whose IHS % exceeds --ihs-limit; the DOC is the SAPS of the step before it.
Exit status: 0 when a DOC was found and every user was de-registered at the end, 1 when
even the first step failed or the end did not go cleanly, 2 for bad input.";

/// The command line of `imsload benchmark`.
#[derive(Parser, Debug, Default)]
#[command(
    name = "imsload benchmark",
    bin_name = "imsload benchmark",
    about = "The IMS/NGN performance benchmark (ETSI TS 186 008): stepwise SAPS until the share of inadequately handled scenarios exceeds its limit; reports the DOC",
    after_help = EXAMPLES
)]
pub struct Args {
    /// A TOML file with the same settings (flags given here win).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The registrar/proxy (P-CSCF) every request goes to, HOST:PORT.
    #[arg(short = 't', long, visible_alias = "proxy", value_name = "HOST:PORT")]
    pub target: Option<String>,
    /// The subscriber population: USER{A..B}@DOMAIN (with --password).
    #[arg(long, value_name = "PATTERN")]
    pub users: Option<String>,
    /// Digest password for --users.
    #[arg(long, env = "IMSLOAD_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// IMS AKA keys for --users derived from each user's number as imshss's pattern
    /// subscribers have them (no password needed).
    #[arg(long)]
    pub aka_derived: bool,
    /// The private identity form for --users, `{user}` and `{domain}` standing for the
    /// user's parts (default: the user part; `{user}@{domain}` with --aka-derived).
    #[arg(long, value_name = "FORM")]
    pub impi: Option<String>,
    /// A SIPp injection file instead of --users.
    #[arg(long, value_name = "FILE", conflicts_with = "users")]
    pub inf: Option<PathBuf>,
    /// Share of the population the preamble registers before the first step, percent.
    #[arg(long, value_name = "PERCENT")]
    pub registered_share: Option<f64>,
    /// Registrations per second in the preamble (and de-registrations at the end).
    #[arg(long, value_name = "PER_SECOND")]
    pub register_rate: Option<f64>,
    /// The traffic set: weights per scenario type, e.g. register=1,re-register=3,
    /// de-register=1,message=5 (types left out weigh 0; default 10/30/10/50).
    #[arg(long, value_name = "TYPE=WEIGHT,...")]
    pub traffic: Option<String>,
    /// SAPS (scenario attempts per second) of the first step.
    #[arg(long, value_name = "SAPS", allow_negative_numbers = true)]
    pub base_saps: Option<f64>,
    /// SAPS added at each step.
    #[arg(long, value_name = "SAPS", allow_negative_numbers = true)]
    pub step_saps: Option<f64>,
    /// How long each step is held (e.g. 30s).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub step_duration: Option<String>,
    /// Most steps.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Latency thresholds per scenario type's transaction, e.g. message=200ms,register=1s
    /// (types left out keep their default).
    #[arg(long, value_name = "TYPE=TIME,...")]
    pub threshold: Option<String>,
    /// The IHS limit, percent: a step above it stops the run.
    #[arg(long, value_name = "PERCENT", allow_negative_numbers = true)]
    pub ihs_limit: Option<f64>,
    /// Seed of the arrival process, the choices of scenario and user, and the engines.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Registration lifetime asked for, seconds (long, so that the engine's own
    /// refreshes stay out of the measurement).
    #[arg(long)]
    pub expires: Option<u32>,
    /// Worker threads, each with one engine and one socket, or one socket per user with
    /// --port-per-user (default: number of cores).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// One socket per user (--port-per-user, --local-ports).
    #[command(flatten)]
    pub ports: crate::udp::PortArgs,
    /// Write summary.json and report.html into this directory.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Longest wait for the preamble's registrations.
    #[arg(long, value_name = "TIME")]
    pub register_timeout: Option<String>,
    /// Longest wait for the de-registrations at the end (or after Ctrl-C).
    #[arg(long, value_name = "TIME")]
    pub stop_timeout: Option<String>,
    /// How long the target gets to answer the OPTIONS probe.
    #[arg(long, value_name = "TIME")]
    pub probe_timeout: Option<String>,
    /// Log filter for tracing output on stderr. The failures a benchmark provokes are
    /// counted in its report, so the engine's warning per failed transaction is off by
    /// default (`--log warn` shows them).
    #[arg(long, default_value = "warn,ims_core=error")]
    pub log: String,
}

/// The TOML file: the same settings as the flags (`_` for `-`); the traffic set and the
/// thresholds as tables.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    target: Option<String>,
    users: Option<String>,
    password: Option<String>,
    aka_derived: Option<bool>,
    impi: Option<String>,
    inf: Option<PathBuf>,
    registered_share: Option<f64>,
    register_rate: Option<f64>,
    traffic: Option<BTreeMap<String, f64>>,
    base_saps: Option<f64>,
    step_saps: Option<f64>,
    step_duration: Option<String>,
    max_steps: Option<usize>,
    thresholds: Option<BTreeMap<String, String>>,
    ihs_limit: Option<f64>,
    seed: Option<u64>,
    expires: Option<u32>,
    workers: Option<usize>,
    port_per_user: Option<bool>,
    local_ports: Option<String>,
    wake_per_answer: Option<bool>,
    report: Option<PathBuf>,
    register_timeout: Option<String>,
    stop_timeout: Option<String>,
    probe_timeout: Option<String>,
}

/// A benchmark, checked.
#[derive(Debug)]
pub struct Config {
    /// Where every request goes.
    pub target: SocketAddr,
    /// The target as written.
    pub target_text: String,
    /// The subscriber population.
    pub users: Vec<User>,
    /// Share registered by the preamble, 0..=1.
    pub registered_share: f64,
    /// Preamble (and final de-registration) rate per second.
    pub register_rate: f64,
    /// The traffic set.
    pub weights: Weights,
    /// The stepwise profile.
    pub profile: Profile,
    /// Threshold per scenario type, by [`ScenarioType::index`].
    pub thresholds: [Duration; 4],
    /// IHS limit, percent.
    pub ihs_limit: f64,
    /// Seed (from the OS when not given).
    pub seed: Option<u64>,
    /// Registration lifetime.
    pub expires: u32,
    /// Worker threads.
    pub workers: usize,
    /// One socket per worker or per user.
    pub ports: crate::udp::PortMode,
    /// A shared socket has a steered twin for the 1xx/2xx answers (crate::steer; not with
    /// --wake-per-answer).
    pub steers_answers: bool,
    /// Report directory.
    pub report: Option<PathBuf>,
    /// Preamble limit.
    pub register_timeout: Duration,
    /// De-registration limit.
    pub stop_timeout: Duration,
    /// OPTIONS probe limit.
    pub probe_timeout: Duration,
}

/// Input the benchmark cannot start with (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is out of range or contradicts another.
    #[error("{0}")]
    Invalid(String),
    /// The TOML file could not be read or parsed (with the line).
    #[error(transparent)]
    File(#[from] crate::config_file::FileError),
    /// The users could not be read.
    #[error(transparent)]
    Users(#[from] users::UsersError),
}

fn invalid<T>(text: String) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid(text))
}

/// `register=1,message=2` into weights (types left out weigh 0).
fn parse_weights(pairs: &BTreeMap<String, f64>) -> Result<Weights, ConfigError> {
    let mut weights = [0.0; 4];
    for (name, weight) in pairs {
        let Some(scenario) = ScenarioType::from_name(name.trim()) else {
            return invalid(format!(
                "traffic set: unknown scenario type {name:?} (known: register, re-register, de-register, message)"
            ));
        };
        if !weight.is_finite() || *weight < 0.0 {
            return invalid(format!(
                "traffic set: weight {weight} of {name}: give a number >= 0"
            ));
        }
        weights[scenario.index()] = *weight;
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return invalid(
            "traffic set: every weight is zero; give at least one scenario type a weight above 0"
                .into(),
        );
    }
    Ok(Weights(weights))
}

/// `a=x,b=y` into pairs.
fn pairs(text: &str, what: &str) -> Result<Vec<(String, String)>, ConfigError> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => Ok((name.trim().to_owned(), value.trim().to_owned())),
            None => invalid(format!("{what} {pair:?}: expected TYPE=VALUE")),
        })
        .collect()
}

/// `HOST:PORT` to one address (the first IPv4 one when a name gives several).
fn resolve(target: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs as _;
    let addresses: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|e| {
            ConfigError::Invalid(format!("--target {target:?}: expected HOST:PORT ({e})"))
        })?
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| {
            ConfigError::Invalid(format!("--target {target:?}: the name has no address"))
        })
}

fn duration(text: &str, what: &str) -> Result<Duration, ConfigError> {
    parse_duration(text).map_err(|e| ConfigError::Invalid(format!("{what}: {e}")))
}

impl Config {
    /// Reads the file (when given), applies the flags over it, checks everything and
    /// reads the users.
    pub fn from_args(args: Args) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => crate::config_file::read::<File>(path)?,
            None => File::default(),
        };
        let Some(target_text) = args.target.or(file.target) else {
            return invalid("give --target HOST:PORT (or target in --config)".into());
        };
        let target = resolve(&target_text)?;
        let password = args.password.or(file.password);
        let mut users = match (args.inf.or(file.inf), args.users.or(file.users)) {
            (Some(path), None) => {
                users::read_injection(&path, password.as_deref(), args.seed.unwrap_or(0))?
            }
            (None, Some(pattern)) => users::expand_pattern(
                &pattern,
                &users::PatternAuth {
                    password: password.as_deref(),
                    aka_derived: args.aka_derived || file.aka_derived.unwrap_or(false),
                    impi: args.impi.as_deref().or(file.impi.as_deref()),
                },
            )?,
            (Some(_), Some(_)) => return invalid("give --users or --inf, not both".into()),
            (None, None) => {
                return invalid("give --users PATTERN (with --password) or --inf FILE".into());
            }
        };
        users.shrink_to_fit();
        let registered_share = args
            .registered_share
            .or(file.registered_share)
            .unwrap_or(80.0);
        if !(0.0..=100.0).contains(&registered_share) {
            return invalid(format!(
                "--registered-share {registered_share}: a percentage from 0 to 100"
            ));
        }
        let register_rate = args.register_rate.or(file.register_rate).unwrap_or(200.0);
        if !register_rate.is_finite() || register_rate <= 0.0 || register_rate > 1e6 {
            return invalid(format!(
                "--register-rate {register_rate}: impossible rate; give registrations per second above 0"
            ));
        }
        let weights = match (args.traffic, file.traffic) {
            (Some(text), _) => {
                let mut map = BTreeMap::new();
                for (name, value) in pairs(&text, "--traffic")? {
                    let weight: f64 = value.parse().map_err(|_| {
                        ConfigError::Invalid(format!("--traffic {name}={value}: not a number"))
                    })?;
                    map.insert(name, weight);
                }
                parse_weights(&map)?
            }
            (None, Some(map)) => parse_weights(&map)?,
            (None, None) => Weights::DEFAULT,
        };
        let base_saps = args.base_saps.or(file.base_saps).unwrap_or(10.0);
        let step_saps = args.step_saps.or(file.step_saps).unwrap_or(10.0);
        if !base_saps.is_finite() || base_saps <= 0.0 || base_saps > 1e6 {
            return invalid(format!(
                "--base-saps {base_saps}: give scenario attempts per second above 0"
            ));
        }
        if !(0.0..=1e6).contains(&step_saps) {
            return invalid(format!("--step-saps {step_saps}: give a number >= 0"));
        }
        let step_duration = match args.step_duration.or(file.step_duration) {
            Some(text) => duration(&text, "--step-duration")?,
            None => Duration::from_secs(10),
        };
        if step_duration < Duration::from_millis(100) {
            return invalid(format!(
                "--step-duration {step_duration:?}: a step must last at least 100ms (and long enough to hold many attempts)"
            ));
        }
        let max_steps = args.max_steps.or(file.max_steps).unwrap_or(10);
        if max_steps == 0 || max_steps > 10_000 {
            return invalid(format!("--max-steps {max_steps}: between 1 and 10000"));
        }
        let mut thresholds = ScenarioType::ALL.map(ScenarioType::default_threshold);
        let mut given: Vec<(String, String)> =
            file.thresholds.unwrap_or_default().into_iter().collect();
        if let Some(text) = args.threshold {
            given.extend(pairs(&text, "--threshold")?);
        }
        for (name, value) in given {
            let Some(scenario) = ScenarioType::from_name(&name) else {
                return invalid(format!(
                    "--threshold: unknown scenario type {name:?} (known: register, re-register, de-register, message)"
                ));
            };
            thresholds[scenario.index()] = duration(&value, &format!("--threshold {name}"))?;
        }
        let ihs_limit = args.ihs_limit.or(file.ihs_limit).unwrap_or(0.1);
        if !(0.0..=100.0).contains(&ihs_limit) {
            return invalid(format!(
                "--ihs-limit {ihs_limit}: a percentage from 0 to 100"
            ));
        }
        let expires = args.expires.or(file.expires).unwrap_or(3600);
        if expires == 0 {
            return invalid("--expires 0 would de-register at once; give seconds > 0".into());
        }
        let workers = args.workers.or(file.workers);
        if workers == Some(0) {
            return invalid("--workers 0: at least one worker is needed".into());
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = workers.unwrap_or(cores).clamp(1, users.len().max(1));
        let port_args = crate::udp::PortArgs {
            port_per_user: args.ports.port_per_user || file.port_per_user.unwrap_or(false),
            local_ports: args.ports.local_ports.or(file.local_ports),
            wake_per_answer: args.ports.wake_per_answer || file.wake_per_answer.unwrap_or(false),
        };
        let ports = crate::udp::PortMode::from_args(&port_args, users.len(), true)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let time = |flag: Option<String>, file: Option<String>, what: &str, default: u64| match flag
            .or(file)
        {
            Some(text) => duration(&text, what),
            None => Ok(Duration::from_secs(default)),
        };
        Ok(Config {
            target,
            target_text,
            users,
            registered_share: registered_share / 100.0,
            register_rate,
            weights,
            profile: Profile {
                base_saps,
                step_saps,
                step_duration,
                max_steps,
            },
            thresholds,
            ihs_limit,
            seed: args.seed.or(file.seed),
            expires,
            workers,
            ports,
            steers_answers: !port_args.wake_per_answer && !ports.per_user(),
            report: args.report.or(file.report),
            register_timeout: time(
                args.register_timeout,
                file.register_timeout,
                "--register-timeout",
                64,
            )?,
            stop_timeout: time(args.stop_timeout, file.stop_timeout, "--stop-timeout", 32)?,
            probe_timeout: time(args.probe_timeout, file.probe_timeout, "--probe-timeout", 2)?,
        })
    }

    /// The threshold of `scenario`.
    pub fn threshold(&self, scenario: ScenarioType) -> Duration {
        self.thresholds[scenario.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec![
            "imsload benchmark",
            "-t",
            "127.0.0.1:5060",
            "--users",
            "vu{0..99}@ims.test",
            "--password",
            "p",
        ];
        argv.extend_from_slice(extra);
        Config::from_args(
            Args::try_parse_from(argv).map_err(|e| ConfigError::Invalid(e.to_string()))?,
        )
    }

    #[test]
    fn defaults_are_sensible() {
        let config = config(&[]).unwrap();
        assert_eq!(config.users.len(), 100);
        assert!((config.registered_share - 0.8).abs() < 1e-12);
        assert_eq!(config.weights, Weights::DEFAULT);
        assert_eq!(config.profile.saps(2), 30.0);
        assert_eq!(
            config.threshold(ScenarioType::Message),
            Duration::from_millis(500)
        );
        assert!((config.ihs_limit - 0.1).abs() < 1e-12);
    }

    #[test]
    fn flags_set_the_traffic_set_thresholds_and_profile() {
        let config = config(&[
            "--traffic",
            "message=3, re-register=1",
            "--threshold",
            "message=200ms",
            "--step-duration",
            "2s",
            "--max-steps",
            "3",
        ])
        .unwrap();
        assert_eq!(config.weights, Weights([0.0, 1.0, 0.0, 3.0]));
        assert_eq!(
            config.threshold(ScenarioType::Message),
            Duration::from_millis(200)
        );
        assert_eq!(
            config.threshold(ScenarioType::Register),
            Duration::from_secs(1)
        );
        assert_eq!(config.profile.step_duration, Duration::from_secs(2));
        assert_eq!(config.profile.max_steps, 3);
    }

    #[test]
    fn bad_values_are_refused_with_what_is_wrong() {
        for (extra, needle) in [
            (
                &["--traffic", "register=0,message=0"][..],
                "every weight is zero",
            ),
            (
                &["--traffic", "invite=1"][..],
                "unknown scenario type \"invite\"",
            ),
            (&["--traffic", "message=-1"][..], "give a number >= 0"),
            (&["--step-duration", "0s"][..], "at least 100ms"),
            (&["--step-duration", "-1s"][..], "--step-duration"),
            (&["--base-saps", "0"][..], "--base-saps"),
            (&["--step-saps", "-1"][..], "--step-saps"),
            (&["--max-steps", "0"][..], "--max-steps"),
            (
                &["--threshold", "call=1s"][..],
                "unknown scenario type \"call\"",
            ),
            (&["--registered-share", "120"][..], "--registered-share"),
            (&["--ihs-limit", "-1"][..], "--ihs-limit"),
        ] {
            let error = config(extra).unwrap_err().to_string();
            assert!(error.contains(needle), "{extra:?}: {error}");
        }
    }

    #[test]
    fn answers_are_steered_unless_asked_or_a_port_per_user() {
        assert!(config(&[]).unwrap().steers_answers);
        assert!(!config(&["--wake-per-answer"]).unwrap().steers_answers);
        assert!(!config(&["--port-per-user"]).unwrap().steers_answers);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        std::fs::write(
            &path,
            "target = \"127.0.0.1:5060\"\nusers = \"u{0..9}@ims.test\"\npassword = \"x\"\nwake_per_answer = true\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let config = Config::from_args(Args::try_parse_from(["b", "--config", file]).unwrap());
        assert!(!config.unwrap().steers_answers);
    }

    #[test]
    fn a_port_per_user_comes_from_the_flags_or_the_file() {
        use crate::udp::PortMode;
        assert_eq!(config(&[]).unwrap().ports, PortMode::Shared);
        assert_eq!(
            config(&["--port-per-user"]).unwrap().ports,
            PortMode::PerUser
        );
        assert_eq!(
            config(&["--local-ports", "20000-20099"]).unwrap().ports,
            PortMode::Range {
                first: 20000,
                last: 20099
            }
        );
        let error = config(&["--local-ports", "20000-20049"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("50 ports for 100 users"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        let file = path.to_str().unwrap();
        for (text, mode) in [
            ("port_per_user = true", PortMode::PerUser),
            (
                "local_ports = \"30000-30009\"",
                PortMode::Range {
                    first: 30000,
                    last: 30009,
                },
            ),
        ] {
            std::fs::write(
                &path,
                format!(
                    "target = \"127.0.0.1:5060\"\nusers = \"u{{0..9}}@ims.test\"\npassword = \"x\"\n{text}\n"
                ),
            )
            .unwrap();
            let config =
                Config::from_args(Args::try_parse_from(["b", "--config", file]).unwrap()).unwrap();
            assert_eq!(config.ports, mode, "{text}");
        }
    }

    #[test]
    fn the_example_file_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benchmark.example.toml");
        let config =
            Config::from_args(Args::try_parse_from(["b", "--config", path]).unwrap()).unwrap();
        assert_eq!(config.users.len(), 10_000);
        assert_eq!(config.weights, Weights::DEFAULT);
        assert_eq!(config.profile.saps(9), 1000.0);
        assert_eq!(config.profile.step_duration, Duration::from_secs(30));
        assert_eq!(config.seed, Some(186_008));
        assert_eq!(
            config.thresholds,
            ScenarioType::ALL.map(ScenarioType::default_threshold)
        );
    }

    #[test]
    fn a_toml_file_gives_settings_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        std::fs::write(
            &path,
            "target = \"127.0.0.1:5060\"\nusers = \"u{0..9}@ims.test\"\npassword = \"x\"\n\
             base_saps = 5\nstep_saps = 5\nstep_duration = \"3s\"\nmax_steps = 4\nihs_limit = 0.5\n\
             [traffic]\nregister = 1\nde-register = 1\nmessage = 2\n\
             [thresholds]\nmessage = \"100ms\"\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let config = Config::from_args(
            Args::try_parse_from(["b", "--config", file, "--max-steps", "2"]).unwrap(),
        )
        .unwrap();
        assert_eq!(config.users.len(), 10);
        assert_eq!(config.profile.saps(1), 10.0);
        assert_eq!(config.profile.max_steps, 2, "the flag wins");
        assert_eq!(config.weights, Weights([1.0, 0.0, 1.0, 2.0]));
        assert_eq!(
            config.threshold(ScenarioType::Message),
            Duration::from_millis(100)
        );
        assert!((config.ihs_limit - 0.5).abs() < 1e-12);
        std::fs::write(&path, "target = \"127.0.0.1:5060\"\nsaps = 5\n").unwrap();
        let error =
            Config::from_args(Args::try_parse_from(["b", "--config", file]).unwrap()).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `saps`"),
            "{error}"
        );
        std::fs::write(
            &path,
            "users = \"u{0..9}@ims.test\"\npassword = \"x\"\n[traffic]\ncall = 1\n",
        )
        .unwrap();
        let error = Config::from_args(
            Args::try_parse_from(["b", "--config", file, "-t", "127.0.0.1:5060"]).unwrap(),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("unknown scenario type \"call\""),
            "{error}"
        );
    }
}
