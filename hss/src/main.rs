//! imshss: the Cx HSS of the local IMS core. See the crate docs of `ims_hss`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use ims_hss::cx::Akav2Authorization;
use ims_hss::hss::DEFAULT_MAX_AUTH_ITEMS;
use ims_hss::message::DEFAULT_MAX_MESSAGE;
use ims_hss::{Config, Hss, Pattern, RandSource, Subscribers, server};
use tokio::net::TcpListener;
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

/// A Diameter Cx HSS (3GPP TS 29.228/29.229) for Kamailio's IMS CSCFs on loopback.
#[derive(Debug, Parser)]
#[command(name = "imshss", version)]
struct Args {
    /// Address to listen on (TCP).
    #[arg(long, default_value = "127.0.0.1:3868")]
    listen: SocketAddr,
    /// Origin-Host of the HSS: the peer FQDN the CSCFs' cdp configs name.
    #[arg(long, default_value = "localhost")]
    origin_host: String,
    /// Origin-Realm of the HSS.
    #[arg(long, default_value = "ims.test")]
    origin_realm: String,
    /// Subscribers file: TOML (`[[subscriber]]` tables), or CSV when the name ends in
    /// `.csv` (a header row of the same keys: impi,impu,k,op,opc,amf,sqn,algorithm,
    /// password,ha1,realm; several IMPUs in one cell separated by `;`).
    #[arg(long)]
    subscribers: Option<PathBuf>,
    /// Subscriber pattern, e.g. `vu{0..9999}@ims.test` (K and OPc derived from the index).
    #[arg(long)]
    pattern: Option<String>,
    /// The S-CSCF name handed out in UAA and LIA.
    #[arg(long, default_value = "sip:scscf.ims.test:16060")]
    scscf_name: String,
    /// Largest Diameter message accepted, in octets.
    #[arg(long, default_value_t = DEFAULT_MAX_MESSAGE)]
    max_message: usize,
    /// Most AKA vectors returned by one MAR.
    #[arg(long, default_value_t = DEFAULT_MAX_AUTH_ITEMS)]
    max_auth_items: u32,
    /// Seed for RAND (64 hex digits); from the OS when not given.
    #[arg(long)]
    seed: Option<String>,
    /// Seconds between the counts logged at info.
    #[arg(long, default_value_t = 10)]
    report_every: u64,
    /// What the SIP-Authorization AVP of an AKAv2-MD5 vector holds: the RFC 4169 password
    /// (for S-CSCFs that use it as the Digest password as it is, e.g. Kamailio's
    /// ims_auth) or XRES (for S-CSCFs that derive the password themselves).
    #[arg(long, value_enum, default_value_t = Akav2Arg::Password)]
    akav2_authorization: Akav2Arg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Akav2Arg {
    /// base64(PRF(XRES || IK || CK, "http-digest-akav2-password")), RFC 4169 §3.
    Password,
    /// XRES.
    Xres,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let mut subscribers = Subscribers::new();
    if let Some(path) = &args.subscribers {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let csv = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
        if csv {
            subscribers.load_csv(&text)
        } else {
            subscribers.load_toml(&text)
        }
        .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(pattern) = &args.pattern {
        subscribers.set_pattern(Pattern::parse(pattern).map_err(|e| e.to_string())?);
    }
    let (listed, generated) = subscribers.counts();
    if listed == 0 && generated == 0 {
        return Err("no subscribers: give --subscribers FILE and/or --pattern".into());
    }
    let seed = match &args.seed {
        Some(hex) => {
            ims_core::auth::aka::decode_hex::<32>("seed", hex).map_err(|e| e.to_string())?
        }
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| format!("no OS randomness: {e}"))?;
            seed
        }
    };
    let config = Config {
        origin_host: args.origin_host,
        origin_realm: args.origin_realm,
        scscf_name: args.scscf_name,
        host_ip: args.listen.ip(),
        max_message: args.max_message.max(ims_hss::message::HEADER_LEN),
        max_auth_items: args.max_auth_items.max(1),
        origin_state_id: origin_state_id(),
        akav2_authorization: match args.akav2_authorization {
            Akav2Arg::Password => Akav2Authorization::Password,
            Akav2Arg::Xres => Akav2Authorization::Xres,
        },
    };
    let hss = Arc::new(Mutex::new(Hss::new(
        config,
        subscribers,
        RandSource::seeded(seed),
    )));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        let listener = TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("listening on {}: {e}", args.listen))?;
        info!(listen = ?server::describe(&listener), listed, generated, "imshss ready");
        tokio::spawn(server::report_counts(
            Arc::clone(&hss),
            Duration::from_secs(args.report_every.max(1)),
        ));
        tokio::select! {
            served = server::serve(listener, hss) => served.map_err(|e| format!("accept: {e}")),
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted, stopping");
                Ok(())
            }
        }
    })
}

/// Origin-State-Id: seconds since the epoch at start, so it grows across restarts
/// (RFC 6733 §8.16). The binary's edge is the one place that reads the wall clock.
#[allow(clippy::disallowed_methods)]
fn origin_state_id() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}
