//! `imsload <scenario> --config FILE`: the scenario's options from a TOML file (keys as
//! the long options with `_` for `-`, read by crate::config_file, unknown keys refused
//! with their line). What the command line gives (or IMSLOAD_PASSWORD) wins over the
//! file, the file over the defaults. One file can serve several scenarios: `count`
//! is left out for register and reg-event, `[weights]` for all but mixed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::{Args, GroupModeArg, Scenario, TransportArg};
use crate::config_file::{FileError, duration};

/// Why the command line (with its file) cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// Not a valid command line (clap prints it and exits 2), or --help / --version.
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// The --config file cannot be used (exit status 2).
    #[error(transparent)]
    File(#[from] FileError),
}

/// The file: every option of `imsload <scenario>` but `--config` itself.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    target: Option<String>,
    users: Option<String>,
    password: Option<String>,
    aka_derived: Option<bool>,
    impi: Option<String>,
    inf: Option<PathBuf>,
    vus: Option<usize>,
    rate: Option<f64>,
    register_rate: Option<f64>,
    #[serde(default, deserialize_with = "duration")]
    ramp_up: Option<Duration>,
    max_concurrent: Option<usize>,
    #[serde(default, deserialize_with = "duration")]
    duration: Option<Duration>,
    count: Option<u64>,
    transport: Option<TransportArg>,
    seed: Option<u64>,
    expires: Option<u32>,
    weights: Option<WeightsTable>,
    #[serde(default, deserialize_with = "duration")]
    t1: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    coalesce: Option<Duration>,
    group_size: Option<usize>,
    group_mode: Option<GroupModeArg>,
    group_uri: Option<String>,
    workers: Option<usize>,
    port_per_user: Option<bool>,
    local_ports: Option<String>,
    wake_per_answer: Option<bool>,
    report: Option<PathBuf>,
    #[serde(default, deserialize_with = "duration")]
    progress_interval: Option<Duration>,
    no_tui: Option<bool>,
    #[serde(default, deserialize_with = "duration")]
    register_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    stop_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    drain: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    probe_timeout: Option<Duration>,
    log: Option<String>,
}

/// `[weights]`: the weight of each scenario of a mixed run (left out: 0).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct WeightsTable {
    message: Option<u32>,
    group_chat: Option<u32>,
    refresh: Option<u32>,
    reg_event: Option<u32>,
}

impl WeightsTable {
    /// As `--weights` text.
    fn text(&self) -> String {
        [
            ("message", self.message),
            ("group-chat", self.group_chat),
            ("refresh", self.refresh),
            ("reg-event", self.reg_event),
        ]
        .into_iter()
        .filter_map(|(name, weight)| weight.map(|w| format!("{name}={w}")))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// Whether the command line (or the environment) gave the option `id`.
fn given(matches: &ArgMatches, id: &str) -> bool {
    matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Each option the file has and the command line does not, into `args` (`into` turns a
/// value into the `Option` of an option without a default).
macro_rules! fill {
    ($args:ident, $file:ident, $matches:ident; $($field:ident),+ $(,)?) => {$(
        if let Some(value) = $file.$field
            && !given($matches, stringify!($field))
        {
            $args.$field = value.into();
        }
    )+};
}

/// Parses the command line; with `--config FILE`, the file's settings fill in what the
/// command line leaves out.
pub fn parse<I, T>(argv: I) -> Result<Args, ArgsError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = Args::command().try_get_matches_from(argv)?;
    let mut args = Args::from_arg_matches(&matches)?;
    if let Some(path) = args.config.clone() {
        let file: ScenarioFile = crate::config_file::read(&path)?;
        apply(file, &mut args, &matches).map_err(|message| FileError::whole(&path, message))?;
    }
    Ok(args)
}

fn apply(file: ScenarioFile, args: &mut Args, matches: &ArgMatches) -> Result<(), String> {
    // The users come from the command line or from the file, not a mix of both.
    if !given(matches, "users") && !given(matches, "inf") {
        if file.users.is_some() && file.inf.is_some() {
            return Err("give users or inf, not both".into());
        }
        fill!(args, file, matches; users, inf);
    }
    if !matches!(args.scenario, Scenario::Register | Scenario::RegEvent) {
        fill!(args, file, matches; count);
    }
    if args.scenario == Scenario::Mixed
        && let Some(table) = &file.weights
        && !given(matches, "weights")
    {
        args.weights = table.text();
    }
    fill!(args, file, matches;
        target, password, aka_derived, impi, vus, rate, register_rate, ramp_up,
        max_concurrent, duration, transport, seed, expires, t1, coalesce, group_size, group_mode,
        group_uri, workers, report, progress_interval, no_tui, register_timeout,
        stop_timeout, drain, probe_timeout, log,
    );
    if let Some(port_per_user) = file.port_per_user
        && !given(matches, "port_per_user")
    {
        args.ports.port_per_user = port_per_user;
    }
    if let Some(local_ports) = file.local_ports
        && !given(matches, "local_ports")
    {
        args.ports.local_ports = Some(local_ports);
    }
    if let Some(wake_per_answer) = file.wake_per_answer
        && !given(matches, "wake_per_answer")
    {
        args.ports.wake_per_answer = wake_per_answer;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Plan;

    const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenario.example.toml");

    #[test]
    fn the_example_file_is_valid_for_every_scenario() {
        for scenario in ["register", "reg-event", "message", "group-chat", "mixed"] {
            let args = parse(["imsload", scenario, "--config", EXAMPLE]).unwrap();
            let plan = Plan::from_args(args).unwrap_or_else(|e| panic!("{scenario}: {e}"));
            assert_eq!(plan.target_text, "127.0.0.1:5060");
            assert_eq!(plan.users.len(), 1000, "{scenario}");
            assert_eq!(plan.rate, 50.0);
            assert_eq!(plan.register_rate, 500.0);
            assert_eq!(plan.expires, 600);
            assert_eq!(plan.group_size, 10);
            assert_eq!(plan.t1, Duration::from_millis(500));
            assert_eq!(plan.stop_timeout, Duration::from_secs(32));
            assert_eq!(plan.seed, Some(7));
            assert_eq!(plan.count, None, "{scenario}");
            assert_eq!(plan.duration, Some(Duration::from_secs(60)), "{scenario}");
            match scenario {
                "mixed" => assert_eq!(plan.mix, Some(crate::mix::Weights([6, 2, 1, 1]))),
                _ => assert_eq!(plan.mix, None),
            }
        }
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        std::fs::write(
            &path,
            "target = \"127.0.0.1:5060\"\nusers = \"vu{0..9}@ims.test\"\npassword = \"x\"\n\
             rate = 20\nduration = \"5s\"\ncount = 40\ngroup_mode = \"fan-out\"\nno_tui = true\n\
             port_per_user = true\nt1 = \"100ms\"\nwake_per_answer = true\n\
             [weights]\nmessage = 3\nrefresh = 1\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let args = parse(["imsload", "mixed", "--config", file, "-r", "30"]).unwrap();
        let plan = Plan::from_args(args).unwrap();
        assert_eq!(plan.rate, 30.0, "the flag wins");
        assert_eq!(plan.duration, Some(Duration::from_secs(5)));
        assert_eq!(plan.count, Some(40));
        assert_eq!(plan.group_mode, GroupModeArg::FanOut);
        assert!(plan.no_tui && plan.ports.per_user() && plan.wake_per_answer);
        assert_eq!(plan.t1, Duration::from_millis(100));
        assert_eq!(plan.mix, Some(crate::mix::Weights([3, 0, 1, 0])));
        let args = parse([
            "imsload",
            "mixed",
            "--config",
            file,
            "--weights",
            "refresh=1",
            "--users",
            "u{0..3}@ims.test",
            "--t1",
            "1s",
        ])
        .unwrap();
        let plan = Plan::from_args(args).unwrap();
        assert_eq!(plan.mix, Some(crate::mix::Weights([0, 0, 1, 0])));
        assert_eq!(plan.users.len(), 4);
        assert_eq!(plan.t1, Duration::from_secs(1));
        // register: the file's count and weights are for the other scenarios.
        let args = parse(["imsload", "register", "--config", file]).unwrap();
        let plan = Plan::from_args(args).unwrap();
        assert_eq!((plan.count, plan.mix), (None, None));
        // --inf on the command line replaces the file's users.
        let args = parse(["imsload", "register", "--config", file, "--inf", "u.csv"]).unwrap();
        assert_eq!(args.users, None);
        assert_eq!(args.inf, Some(PathBuf::from("u.csv")));
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        let file = path.to_str().unwrap();
        for (text, needle) in [
            ("rate = 5\nrates = 6\n", "run.toml:2: unknown field `rates`"),
            (
                "\n[weights]\ninvite = 1\n",
                "run.toml:3: unknown field `invite`",
            ),
            (
                "transport = \"sctp\"\n",
                "run.toml:1: unknown variant `sctp`",
            ),
            (
                "duration = \"soon\"\n",
                "run.toml:1: \"soon\" is not a time",
            ),
            ("count = -1\n", "run.toml:1: invalid value"),
            (
                "users = \"u{0..1}@ims.test\"\ninf = \"u.csv\"\n",
                "run.toml: give users or inf, not both",
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = parse(["imsload", "mixed", "--config", file])
                .unwrap_err()
                .to_string();
            assert!(error.contains(needle), "{text:?}: {error}");
        }
    }

    #[test]
    fn every_key_of_the_file_is_an_option() {
        // value_source panics (debug builds) on an id that is not an option of Args.
        let matches = Args::command()
            .try_get_matches_from(["imsload", "register"])
            .unwrap();
        for id in [
            "target",
            "users",
            "password",
            "aka_derived",
            "impi",
            "inf",
            "vus",
            "rate",
            "register_rate",
            "ramp_up",
            "max_concurrent",
            "duration",
            "count",
            "transport",
            "seed",
            "expires",
            "weights",
            "t1",
            "coalesce",
            "group_size",
            "group_mode",
            "group_uri",
            "workers",
            "port_per_user",
            "local_ports",
            "wake_per_answer",
            "report",
            "progress_interval",
            "no_tui",
            "register_timeout",
            "stop_timeout",
            "drain",
            "probe_timeout",
            "log",
        ] {
            assert!(!given(&matches, id), "{id}");
        }
    }
}
