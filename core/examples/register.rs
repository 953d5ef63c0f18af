//! Registers one account and prints every state change; Ctrl-C de-registers cleanly.
//!
//! ```text
//! cargo run -p ims-core --example register -- --aor sip:alice@ims.test \
//!     --password ims-demo --proxy 127.0.0.1:5060 [--tcp] [--expires 600]
//! cargo run -p ims-core --example register -- --config phone.toml
//! cargo run -p ims-core --example register -- --aor sip:alice@ims.test \
//!     --password ims-demo [--dns-server 127.0.0.1:5353]
//! ```
//! Without a proxy, the P-CSCF is found in DNS from the AOR's domain (RFC 3263: NAPTR, SRV,
//! A/AAAA), with the system resolver or the name server given by `--dns-server`; the other
//! targets found are the account's failover next hops.
//! The password may also come from the IMS_PASSWORD environment variable.
#![allow(clippy::disallowed_methods)] // an application owns its clock (the --seconds timer)

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ims_core::config::Config;
use ims_core::driver::{Driver, next_hops, route_address, split_targets};
use ims_core::engine::{Command, Event};
use ims_core::store::{Aor, Store};
use ims_core::transport::Transport;
use ims_core::ua::AccountId;

#[derive(Parser, Debug)]
#[command(about = "Register one SIP/IMS account and keep it registered until Ctrl-C")]
struct Args {
    /// A TOML config file (its first account is used); other options then override it.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Address of record, e.g. sip:alice@ims.test.
    #[arg(long)]
    aor: Option<String>,
    /// Password (or set IMS_PASSWORD).
    #[arg(long, env = "IMS_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Authentication user name (default: the AOR's user).
    #[arg(long)]
    user: Option<String>,
    /// Next hop: host[:port] or sip:host[:port];transport=tcp (default: the P-CSCF found
    /// in DNS from the AOR's domain).
    #[arg(long)]
    proxy: Option<String>,
    /// The DNS server (IP:PORT) to find the P-CSCF with, instead of the system resolver.
    #[arg(long)]
    dns_server: Option<SocketAddr>,
    /// Use TCP instead of UDP.
    #[arg(long)]
    tcp: bool,
    /// Registration lifetime in seconds.
    #[arg(long)]
    expires: Option<u32>,
    /// Local address to listen on (UDP and TCP), default 0.0.0.0:0.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Exit after this many seconds (de-registering first).
    #[arg(long)]
    seconds: Option<u64>,
    /// Log filter, e.g. `info` or `ims_core=trace` (shows SIP messages).
    #[arg(long, default_value = "warn")]
    log: String,
    /// Where the store lives (default: $XDG_DATA_HOME/ims-rs); it keeps the AKA SQN
    /// state of IMS accounts across runs (TS 33.102 Annex C).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("register: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let mut config = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Config::from_toml("").map_err(|e| e.to_string())?,
    };
    if config.accounts.is_empty() {
        let Some(aor) = args.aor.clone() else {
            return Err("give --aor and --password (or --config FILE); see --help".into());
        };
        let text = format!("[[accounts]]\naor = {aor:?}\npassword = \"\"\n");
        config.accounts = Config::from_toml(&text)
            .map_err(|e| e.to_string())?
            .accounts;
    }
    let mut settings = config.accounts.remove(0);
    if let Some(aor) = args.aor {
        settings.aor = aor;
    }
    if let Some(proxy) = args.proxy {
        settings.proxy = Some(proxy);
    }
    if let Some(password) = args.password {
        settings.password = password;
    }
    if let Some(user) = args.user {
        settings.auth_username = Some(user);
    }
    if args.tcp {
        settings.transport = Some(Transport::Tcp);
    }
    if let Some(expires) = args.expires {
        settings.expires = Some(expires);
    }
    let targets = next_hops(&settings, args.dns_server)
        .await
        .map_err(|e| e.to_string())?;
    for target in &targets {
        println!(
            "next hop {} over {} ({})",
            target.address, target.transport, target.host
        );
    }
    let Some(((proxy_address, transport), failover)) = split_targets(&targets) else {
        return Err("no next hop".into());
    };
    let listen = match args.listen {
        Some(listen) => listen,
        None => config.listen_address().map_err(|e| e.to_string())?,
    };
    let engine_config = config.engine_config().map_err(|e| e.to_string())?;
    let (mut driver, mut handle) = Driver::bind(engine_config, listen)
        .await
        .map_err(|e| e.to_string())?;
    let local = driver.local_address();
    if local.ip().is_unspecified() {
        let ip = route_address(proxy_address)
            .map_err(|e| format!("no route to {proxy_address}: {e}"))?;
        driver.advertise(SocketAddr::new(ip, local.port()));
    }
    let mut account_config = settings.account_config(proxy_address);
    account_config.transport = transport;
    account_config.failover = failover;
    // IMS AKA: the highest SQNs accepted so far come from the store, so a replayed
    // challenge is refused after a restart too.
    let mut sqn_store = None;
    if let Some(ims) = account_config.ims.as_mut().filter(|i| i.aka.is_some()) {
        let path = Store::default_path(args.data_dir.as_deref()).map_err(|e| e.to_string())?;
        let mut store = Store::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let aor = Aor::parse(&settings.aor).map_err(|e| e.to_string())?;
        let stored = store
            .upsert_account(&aor, None)
            .map_err(|e| e.to_string())?;
        if let Some(state) = store.load_aka_sqn(stored).map_err(|e| e.to_string())? {
            ims.sqn = state
                .parse()
                .map_err(|e| format!("{}: stored SQN state: {e}", path.display()))?;
        }
        sqn_store = Some((store, stored));
    }
    let account: AccountId = driver
        .engine_mut()
        .add_account(account_config)
        .map_err(|e| e.to_string())?;
    let contact = driver
        .engine_mut()
        .contact(account)
        .unwrap_or_default()
        .to_owned();
    println!(
        "{} via {transport} {proxy_address}, contact {contact}",
        settings.aor
    );
    let running = tokio::spawn(driver.run());
    handle
        .command(Command::Register { account })
        .map_err(|e| e.to_string())?;

    let stop_after = async {
        match args.seconds {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop_after);
    let mut exit = ExitCode::SUCCESS;
    let mut shutting_down = false;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c(), if !shutting_down => {
                println!("de-registering...");
                shutting_down = true;
                handle.command(Command::Shutdown).map_err(|e| e.to_string())?;
            }
            () = &mut stop_after, if !shutting_down => {
                println!("de-registering...");
                shutting_down = true;
                handle.command(Command::Shutdown).map_err(|e| e.to_string())?;
            }
            event = handle.next_event() => match event {
                None => break,
                Some(event) => {
                    if let (Event::SqnUpdated { state, .. }, Some((store, stored))) = (&event, sqn_store.as_mut()) {
                        store
                            .save_aka_sqn(*stored, &state.to_string(), std::time::SystemTime::now())
                            .map_err(|e| format!("saving the SQN state: {e}"))?;
                    }
                    if print_event(&event) {
                        exit = ExitCode::from(1);
                        if !shutting_down {
                            shutting_down = true;
                            handle.command(Command::Shutdown).map_err(|e| e.to_string())?;
                        }
                    }
                    if matches!(event, Event::ShutdownComplete) {
                        break;
                    }
                }
            },
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), running).await;
    Ok(exit)
}

/// Prints one event; returns true for a failure the engine gives up on.
fn print_event(event: &Event) -> bool {
    match event {
        Event::Registering { .. } => println!("registering"),
        Event::Registered {
            expires,
            bindings,
            observed,
            ..
        } => {
            let seen = observed
                .map(|o| format!(", seen as {o}"))
                .unwrap_or_default();
            println!("registered for {expires} s ({bindings} binding(s){seen})");
        }
        Event::RegistrationFailed {
            reason,
            retry_in: Some(delay),
            ..
        } => {
            println!(
                "registration failed: {reason}; retrying in {:.1} s",
                delay.as_secs_f64()
            );
        }
        Event::RegistrationFailed {
            reason,
            retry_in: None,
            ..
        } => {
            println!("registration failed: {reason}");
            return true;
        }
        Event::Unregistered { .. } => println!("unregistered"),
        Event::ShutdownComplete => println!("done"),
        other => println!("{other:?}"),
    }
    false
}
