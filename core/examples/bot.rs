//! A chat bot on ims-core: registers, answers every text from the people it is told to
//! answer (1:1 in the same conversation, group messages in the group), and keeps going
//! until Ctrl-C (then de-registers). scripts/demo runs two of these (bob and carol) so a
//! newcomer's imsphone shows a conversation at once.
//!
//! ```text
//! cargo run -p ims-core --example bot -- --aor sip:bob@ims.test --password ims-demo \
//!     --proxy 127.0.0.1:5060 --answer sip:alice@ims.test
//! ```
//!
//! It answers only the senders given with `--answer`, so two bots in one group never
//! answer each other forever.
#![allow(clippy::disallowed_methods)] // an application owns its clock

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Parser;
use ims_core::config::Config;
use ims_core::driver::{Driver, next_hops, os_seed, route_address, split_targets};
use ims_core::engine::{Command, Event};
use ims_core::im::cpim;
use ims_core::messaging::{Messenger, message_key};
use ims_core::store::{Aor, GroupMode, Store};

#[derive(Parser)]
#[command(about = "A chat bot: answers texts and group messages from the given senders")]
struct Args {
    /// Address of record, e.g. sip:bob@ims.test.
    #[arg(long)]
    aor: String,
    /// Password (or IMS_PASSWORD); unused with --k (IMS AKA).
    #[arg(long, env = "IMS_PASSWORD", hide_env_values = true, default_value = "")]
    password: String,
    /// IMS AKA: the subscriber key K (32 hex digits); registers as an IMS account.
    #[arg(long, requires = "opc", env = "IMS_K", hide_env_values = true)]
    k: Option<String>,
    /// An IMS account with this private identity (e.g. carol@ims.test): the first
    /// REGISTER names it (TS 24.229) and Digest answers use it as the username.
    #[arg(long)]
    impi: Option<String>,
    /// IMS AKA: OPc (32 hex digits), with --k.
    #[arg(long, requires = "k", env = "IMS_OPC", hide_env_values = true)]
    opc: Option<String>,
    /// Next hop, host[:port].
    #[arg(long)]
    proxy: String,
    /// Answer messages from this sender (repeatable).
    #[arg(long, required = true)]
    answer: Vec<String>,
    /// A group the bot files messages under and answers in (URI=Name, repeatable), e.g.
    /// sip:friends@ims.test=Friends.
    #[arg(long)]
    group: Vec<String>,
    /// Send the groups' messages one per member (client fan-out, for a core without group
    /// support) to these members (repeatable), instead of to the group address.
    #[arg(long = "fanout-member")]
    fanout_members: Vec<String>,
    /// Greet this address once registered (retried every 2 s for a minute until it is
    /// online), so a newcomer's phone shows a conversation at once.
    #[arg(long)]
    greet: Option<String>,
    /// Exit after this many seconds (de-registering first).
    #[arg(long)]
    seconds: Option<u64>,
    /// Log filter.
    #[arg(long, default_value = "warn")]
    log: String,
}

/// What the bot says back.
fn reply(name: &str, text: &str) -> String {
    let lower = text.to_lowercase();
    if lower.contains("hello") || lower.contains("hi") {
        format!("Hi! {name} here (a bot on ims-core). Say anything and I will echo it.")
    } else if lower.contains("time") {
        "I keep SIP time: T1 is 500 ms.".to_owned()
    } else {
        format!("{name} got: \"{text}\"")
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bot: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut text = format!(
        "[[accounts]]\naor = {:?}\npassword = {:?}\nproxy = {:?}\n",
        args.aor, args.password, args.proxy
    );
    if let Some(impi) = &args.impi {
        text.push_str(&format!("auth_username = {impi:?}\n"));
    }
    if args.k.is_some() || args.impi.is_some() {
        text.push_str("[accounts.ims]\n");
    }
    if let (Some(k), Some(opc)) = (&args.k, &args.opc) {
        text.push_str(&format!("k = {k:?}\nopc = {opc:?}\n"));
    }
    let mut config = Config::from_toml(&text)?;
    let settings = config.accounts.remove(0);
    let targets = next_hops(&settings, None).await?;
    let ((proxy, transport), _) = split_targets(&targets).ok_or("no next hop")?;
    let (mut driver, mut handle) =
        Driver::bind(config.engine_config()?, config.listen_address()?).await?;
    let local = driver.local_address();
    if local.ip().is_unspecified() {
        driver.advertise(SocketAddr::new(route_address(proxy)?, local.port()));
    }
    let mut account_config = settings.account_config(proxy);
    account_config.transport = transport;
    let account = driver.engine_mut().add_account(account_config)?;
    let mut messenger = Messenger::new(Store::open_in_memory()?, os_seed()?);
    let stored = messenger.attach(account, &args.aor)?;
    let members: Vec<Aor> = args
        .fanout_members
        .iter()
        .map(|m| Aor::parse(m))
        .collect::<Result<_, _>>()?;
    let mode = if members.is_empty() {
        GroupMode::Network
    } else {
        GroupMode::Fanout
    };
    for group in &args.group {
        let (uri, name) = group.split_once('=').ok_or("--group is URI=Name")?;
        messenger
            .store_mut()
            .create_group(stored, &Aor::parse(uri)?, name, mode, &members)?;
    }
    let answer: Vec<Aor> = args
        .answer
        .iter()
        .map(|a| Aor::parse(a))
        .collect::<Result<_, _>>()?;
    let name = args
        .aor
        .trim_start_matches("sip:")
        .split('@')
        .next()
        .unwrap_or("bot")
        .to_owned();
    tokio::spawn(driver.run());
    handle.command(Command::Register { account })?;
    let stop_after = async {
        match args.seconds {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop_after);
    let mut stopping = false;
    // The greeting: (the message in flight, attempts left).
    let mut greeting: Option<(Option<u64>, u32)> = args.greet.as_ref().map(|_| (None, 30));
    let mut retry = tokio::time::interval(Duration::from_secs(2));
    let mut registered = false;
    loop {
        let event = tokio::select! {
            _ = retry.tick(), if registered && matches!(greeting, Some((None, 1..))) => {
                if let (Some(to), Some((id, left))) = (&args.greet, greeting.as_mut()) {
                    let text = format!("Hello from {name}! I am a bot on ims-core: write to me, or to the group Friends.");
                    let (message, command) = messenger.send_text(account, to, &text, SystemTime::now())?;
                    *id = Some(message_key(message));
                    *left -= 1;
                    handle.command(command)?;
                }
                continue;
            }
            _ = tokio::signal::ctrl_c(), if !stopping => {
                stopping = true;
                handle.command(Command::Shutdown)?;
                continue;
            }
            () = &mut stop_after, if !stopping => {
                stopping = true;
                handle.command(Command::Shutdown)?;
                continue;
            }
            event = handle.next_event() => event,
        };
        let Some(event) = event else { break };
        match &event {
            Event::Registered { expires, .. } => {
                registered = true;
                println!("{name}: registered for {expires} s");
            }
            Event::MessageAccepted { id, .. } if greeting.is_some_and(|(g, _)| g == Some(*id)) => {
                greeting = None;
            }
            Event::MessageFailed { id, .. } if greeting.is_some_and(|(g, _)| g == Some(*id)) => {
                // Not online yet: try again at the next tick.
                if let Some((pending, _)) = greeting.as_mut() {
                    *pending = None;
                }
            }
            Event::RegistrationFailed { reason, .. } => println!("{name}: {reason}"),
            Event::ShutdownComplete => break,
            _ => {}
        }
        // Store (and answer 200) first; then reply to what deserves one.
        for command in messenger.on_event(&event, SystemTime::now())? {
            handle.command(command)?;
        }
        let Event::MessageReceived(message) = &event else {
            continue;
        };
        let Ok(from) = Aor::parse(&message.from) else {
            continue;
        };
        // A CPIM envelope (RFC 3862) carries the text inside; IMDN notifications and
        // other non-text content get no answer.
        let (content_type, body) = if message.content_type.starts_with(cpim::CONTENT_TYPE) {
            match cpim::parse(&message.body) {
                Ok(inner) => (
                    inner.content_type().unwrap_or("text/plain").to_owned(),
                    inner.body.to_vec(),
                ),
                Err(_) => continue,
            }
        } else {
            (message.content_type.clone(), message.body.clone())
        };
        if !answer.contains(&from) || !content_type.starts_with("text/") {
            continue;
        }
        let text = String::from_utf8_lossy(&body);
        let reply = reply(&name, text.trim());
        let group = match &message.group {
            Some((_, uri)) => messenger.store().find_group(stored, &Aor::parse(uri)?)?,
            None => None,
        };
        let (_, command) = match group {
            Some(group) => messenger.send_group(account, group.id, &reply, SystemTime::now())?,
            None => messenger.send_text(account, &message.from, &reply, SystemTime::now())?,
        };
        handle.command(command)?;
    }
    Ok(())
}
