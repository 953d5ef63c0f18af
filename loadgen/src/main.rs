//! imsload: many virtual IMS users from one process against an IMS core (or any SIP
//! registrar/proxy), with latency histograms per transaction type. Each worker thread runs
//! one sans-IO engine of ims-core holding its share of the users, on one socket (or one
//! per user, `--port-per-user`).

mod batch;
mod benchmark;
mod cli;
mod config_file;
mod dashboard;
mod hlog;
mod html;
mod metrics;
mod mix;
mod net;
mod report;
mod run;
mod scenario_file;
mod shared;
mod signals;
mod steer;
mod udp;
mod users;
mod vu;
mod worker;

use std::process::ExitCode;

fn main() -> ExitCode {
    // `imsload benchmark ...` has its own options (benchmark/config.rs).
    if std::env::args_os().nth(1).is_some_and(|a| a == "benchmark") {
        return benchmark::main(std::env::args_os().collect());
    }
    // Usage errors (unknown scenario, bad option) exit with status 2 from clap; a bad
    // --config file with status 2 too.
    let args = match scenario_file::parse(std::env::args_os()) {
        Ok(args) => args,
        Err(scenario_file::ArgsError::Usage(error)) => error.exit(),
        Err(scenario_file::ArgsError::File(error)) => {
            eprintln!("imsload: {error}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(dashboard::log_writer)
        .init();
    let plan = match cli::Plan::from_args(args) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("imsload: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("imsload: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run::run(plan)) {
        Ok(code) => code,
        Err(run::RunError::Input(error)) => {
            eprintln!("imsload: {error:#}");
            ExitCode::from(2)
        }
        Err(run::RunError::Runtime(error)) => {
            eprintln!("imsload: {error:#}");
            ExitCode::from(1)
        }
    }
}
