//! Messaging throughput (issue #7): messages per second alice -> bob with both stores
//! on disk, and the store's cost per message, (a) through the simulated network in this
//! process, (b) through the test Kamailio on loopback with two tokio drivers.
//!
//! ```text
//! cargo run --release -p ims-bench --example messaging -- [--count N] [--window W]
//!     [--only sim|kamailio] [--variant INDEX] [--timeout SECONDS]
//! ```
//!
//! Each run: alice keeps at most `W` messages unanswered, each stored `queued` before its
//! command exists (`send_text`, or `send_texts` for a refill when batched); every engine
//! event goes to the [`Messenger`] of its side (`on_event` one by one, or `on_events` for
//! what arrived together), whose 200s and notifications leave only after the store write.
//! A run ends when every message is `sent` (plain) or `delivered` (CPIM + IMDN), or at the
//! timeout. Then the stores are checked: every message alice holds as acknowledged is in
//! bob's store exactly once (`lost` counts those that are not; it must be 0).
//!
//! "store µs/msg" is the wall time spent inside the messengers (store writes and reads,
//! CPIM/IMDN writing and parsing) on both sides, divided by the message count; the rest of
//! the elapsed time is the engines, the network and waiting.
#![allow(clippy::disallowed_methods)] // a benchmark driver reads the wall clock

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use ims_core::driver::{Driver, DriverHandle};
use ims_core::engine::{Command, EngineConfig, Event};
use ims_core::messaging::{Messenger, TextFormat, is_notification_key};
use ims_core::sim::SimNetwork;
use ims_core::store::{Aor, Direction, Durability, MessageState, Store, StoreOptions};
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, AccountId};

const ALICE: &str = "sip:alice@ims.test";
const BOB: &str = "sip:bob@ims.test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    /// `send_text` and `on_event`: one commit per store write.
    PerMessage,
    /// `send_texts` per refill and `on_events` per wake-up: one commit for all of them.
    Batched,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    count: usize,
    window: usize,
    timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Variant {
    format: TextFormat,
    writes: Writes,
    durability: Durability,
}

#[derive(Debug, Default)]
struct Outcome {
    elapsed: Duration,
    /// Time inside alice's and bob's messengers.
    store_alice: Duration,
    store_bob: Duration,
    accepted: usize,
    failed: usize,
    notified: usize,
    /// Final check of the stores.
    acknowledged: usize,
    delivered: usize,
    stored_at_bob: usize,
    lost: usize,
    timed_out: bool,
    reasons: Vec<String>,
}

/// The counters of one side's events.
#[derive(Debug, Default)]
struct Progress {
    queued: usize,
    in_flight: usize,
    accepted: usize,
    failed: usize,
    notified: usize,
    /// Delivery notifications bob sent that failed (never retried: not stored).
    notifications_failed: usize,
    /// The first few failure reasons.
    reasons: Vec<String>,
}

impl Progress {
    fn alice_saw(&mut self, event: &Event) {
        match event {
            Event::MessageAccepted { id, .. } if !is_notification_key(*id) => {
                self.accepted += 1;
                self.in_flight = self.in_flight.saturating_sub(1);
            }
            Event::MessageFailed { id, reason, .. } if !is_notification_key(*id) => {
                if self.reasons.len() < 5 {
                    self.reasons.push(reason.to_string());
                }
                self.failed += 1;
                self.in_flight = self.in_flight.saturating_sub(1);
            }
            Event::MessageReceived(_) => self.notified += 1,
            _ => {}
        }
    }

    fn bob_saw(&mut self, event: &Event) {
        if let Event::MessageFailed { id, reason, .. } = event
            && is_notification_key(*id)
        {
            if self.reasons.len() < 5 {
                self.reasons.push(format!("notification: {reason}"));
            }
            self.notifications_failed += 1;
        }
    }

    fn done(&self, settings: &Settings, format: TextFormat) -> bool {
        self.accepted + self.failed >= settings.count
            && (format == TextFormat::Plain
                || self.notified + self.notifications_failed >= self.accepted)
    }
}

fn open(path: &Path, durability: Durability) -> anyhow::Result<Store> {
    let options = StoreOptions {
        durability,
        ..StoreOptions::default()
    };
    Store::open_with(path, &options).with_context(|| format!("open {}", path.display()))
}

/// Stores and sends what the window has room for; returns the commands.
fn refill(
    alice: &mut Messenger,
    account: AccountId,
    progress: &mut Progress,
    settings: &Settings,
    variant: &Variant,
    texts: &[String],
) -> anyhow::Result<Vec<Command>> {
    let room = settings
        .window
        .saturating_sub(progress.in_flight)
        .min(settings.count - progress.queued);
    if room == 0 {
        return Ok(Vec::new());
    }
    let next = &texts[progress.queued..progress.queued + room];
    let now = SystemTime::now();
    let commands = match variant.writes {
        Writes::PerMessage => next
            .iter()
            .map(|text| {
                alice
                    .send_text(account, BOB, text, now)
                    .map(|(_, command)| command)
            })
            .collect::<Result<Vec<_>, _>>()?,
        Writes::Batched => {
            let pairs: Vec<(&str, &str)> = next.iter().map(|t| (BOB, t.as_str())).collect();
            alice
                .send_texts(account, &pairs, now)?
                .into_iter()
                .map(|(_, command)| command)
                .collect()
        }
    };
    progress.queued += room;
    progress.in_flight += room;
    Ok(commands)
}

/// One side's events through its messenger.
fn handle(
    messenger: &mut Messenger,
    events: &[Event],
    writes: Writes,
) -> anyhow::Result<Vec<Command>> {
    let now = SystemTime::now();
    Ok(match writes {
        Writes::PerMessage => {
            let mut commands = Vec::new();
            for event in events {
                commands.extend(messenger.on_event(event, now)?);
            }
            commands
        }
        Writes::Batched => messenger.on_events(events, now)?,
    })
}

/// Every acknowledged message of alice's is in bob's store exactly once.
fn check(alice: &Store, bob: &Store, outcome: &mut Outcome) -> anyhow::Result<()> {
    let rows = |store: &Store, aor: &str| -> anyhow::Result<Vec<ims_core::store::Message>> {
        let account = store
            .find_account(&Aor::parse(aor)?)?
            .context("account row")?;
        let mut rows = Vec::new();
        for conversation in store.conversations(account.id)? {
            rows.extend(store.messages(conversation.id, usize::MAX, None)?);
        }
        Ok(rows)
    };
    let at_bob = rows(bob, BOB)?;
    let incoming: Vec<_> = at_bob
        .iter()
        .filter(|m| m.direction == Direction::Incoming)
        .collect();
    outcome.stored_at_bob = incoming.len();
    let bodies: HashSet<&[u8]> = incoming.iter().map(|m| m.body.as_slice()).collect();
    if bodies.len() != incoming.len() {
        bail!("bob stored a message twice");
    }
    for message in rows(alice, ALICE)? {
        if matches!(message.state, MessageState::Sent | MessageState::Delivered) {
            outcome.acknowledged += 1;
            if !bodies.contains(message.body.as_slice()) {
                outcome.lost += 1;
            }
        }
        if message.state == MessageState::Delivered {
            outcome.delivered += 1;
        }
    }
    Ok(())
}

/// (a) Two engines on the simulated network (each the other's next hop, 1 ms one-way),
/// virtual time advanced 1 ms per step, as fast as the CPU goes.
fn run_sim(settings: &Settings, variant: &Variant, dir: &Path) -> anyhow::Result<Outcome> {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 7);
    let alice_address = SocketAddr::from(([127, 0, 0, 1], 5062));
    let bob_address = SocketAddr::from(([127, 0, 0, 1], 5064));
    let alice_node = network.add_engine(&[(Transport::Udp, alice_address)]);
    let bob_node = network.add_engine(&[(Transport::Udp, bob_address)]);
    let alice_account =
        network.add_account(alice_node, ALICE, "pw", bob_address, Transport::Udp)?;
    let bob_account = network.add_account(bob_node, BOB, "pw", alice_address, Transport::Udp)?;
    let mut alice = Messenger::new(
        open(&dir.join("alice.sqlite"), variant.durability)?,
        [1; 32],
    );
    let mut bob = Messenger::new(open(&dir.join("bob.sqlite"), variant.durability)?, [2; 32]);
    alice.attach(alice_account, ALICE)?;
    bob.attach(bob_account, BOB)?;
    alice.set_text_format(variant.format);
    let texts: Vec<String> = (0..settings.count)
        .map(|i| format!("message {i}"))
        .collect();

    let mut outcome = Outcome::default();
    let mut progress = Progress::default();
    let start = Instant::now();
    while !progress.done(settings, variant.format) {
        if start.elapsed() > settings.timeout {
            outcome.timed_out = true;
            break;
        }
        let t = Instant::now();
        let commands = refill(
            &mut alice,
            alice_account,
            &mut progress,
            settings,
            variant,
            &texts,
        )?;
        outcome.store_alice += t.elapsed();
        for command in commands {
            network.command(alice_node, command)?;
        }
        network.run_for(Duration::from_millis(1));
        let events = network.take_events(alice_node);
        events.iter().for_each(|e| progress.alice_saw(e));
        let t = Instant::now();
        let commands = handle(&mut alice, &events, variant.writes)?;
        outcome.store_alice += t.elapsed();
        for command in commands {
            network.command(alice_node, command)?;
        }
        let events = network.take_events(bob_node);
        events.iter().for_each(|e| progress.bob_saw(e));
        let t = Instant::now();
        let commands = handle(&mut bob, &events, variant.writes)?;
        outcome.store_bob += t.elapsed();
        for command in commands {
            network.command(bob_node, command)?;
        }
    }
    outcome.elapsed = start.elapsed();
    outcome.accepted = progress.accepted;
    outcome.failed = progress.failed;
    outcome.notified = progress.notified;
    outcome.reasons = std::mem::take(&mut progress.reasons);
    check(alice.store(), bob.store(), &mut outcome)?;
    Ok(outcome)
}

/// One side on the real network: a driver on 127.0.0.1 and its messenger.
struct Side {
    handle: DriverHandle,
    account: AccountId,
    messenger: Messenger,
}

async fn side(proxy: SocketAddr, aor: &str, store: Store, seed: u8) -> anyhow::Result<Side> {
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let (mut driver, handle) = Driver::bind(EngineConfig::default(), listen).await?;
    let mut config = AccountConfig::new(aor, "pw", proxy, Transport::Udp);
    config.expires = 600;
    let account = driver.engine_mut().add_account(config)?;
    tokio::spawn(driver.run());
    let mut messenger = Messenger::new(store, [seed; 32]);
    messenger.attach(account, aor)?;
    Ok(Side {
        handle,
        account,
        messenger,
    })
}

async fn register(side: &mut Side) -> anyhow::Result<()> {
    side.handle.command(Command::Register {
        account: side.account,
    })?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, side.handle.next_event())
            .await
            .context("no Registered within 10 s")?
            .context("driver stopped")?;
        match event {
            Event::Registered { .. } => return Ok(()),
            Event::RegistrationFailed { reason, .. } => bail!("registration failed: {reason}"),
            _ => {}
        }
    }
}

/// What arrived: the first event and whatever else is already waiting.
fn drain(first: Event, handle: &mut DriverHandle) -> Vec<Event> {
    let mut events = vec![first];
    while let Some(event) = handle.try_event() {
        events.push(event);
    }
    events
}

/// (b) Two drivers registered at the test Kamailio on loopback; one task runs both
/// messengers (the drivers run on the runtime's other worker).
async fn run_kamailio(
    settings: &Settings,
    variant: &Variant,
    proxy: SocketAddr,
    dir: &Path,
) -> anyhow::Result<Outcome> {
    let mut alice = side(
        proxy,
        ALICE,
        open(&dir.join("alice.sqlite"), variant.durability)?,
        1,
    )
    .await?;
    let mut bob = side(
        proxy,
        BOB,
        open(&dir.join("bob.sqlite"), variant.durability)?,
        2,
    )
    .await?;
    register(&mut alice).await?;
    register(&mut bob).await?;
    alice.messenger.set_text_format(variant.format);
    let texts: Vec<String> = (0..settings.count)
        .map(|i| format!("message {i}"))
        .collect();

    let mut outcome = Outcome::default();
    let mut progress = Progress::default();
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + settings.timeout;
    while !progress.done(settings, variant.format) {
        let t = Instant::now();
        let commands = refill(
            &mut alice.messenger,
            alice.account,
            &mut progress,
            settings,
            variant,
            &texts,
        )?;
        outcome.store_alice += t.elapsed();
        for command in commands {
            alice.handle.command(command)?;
        }
        tokio::select! {
            event = alice.handle.next_event() => {
                let events = drain(event.context("alice's driver stopped")?, &mut alice.handle);
                events.iter().for_each(|e| progress.alice_saw(e));
                let t = Instant::now();
                let commands = handle(&mut alice.messenger, &events, variant.writes)?;
                outcome.store_alice += t.elapsed();
                for command in commands {
                    alice.handle.command(command)?;
                }
            }
            event = bob.handle.next_event() => {
                let events = drain(event.context("bob's driver stopped")?, &mut bob.handle);
                events.iter().for_each(|e| progress.bob_saw(e));
                let t = Instant::now();
                let commands = handle(&mut bob.messenger, &events, variant.writes)?;
                outcome.store_bob += t.elapsed();
                for command in commands {
                    bob.handle.command(command)?;
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                outcome.timed_out = true;
                break;
            }
        }
    }
    outcome.elapsed = start.elapsed();
    outcome.accepted = progress.accepted;
    outcome.failed = progress.failed;
    outcome.notified = progress.notified;
    outcome.reasons = std::mem::take(&mut progress.reasons);
    check(alice.messenger.store(), bob.messenger.store(), &mut outcome)?;
    // De-register both, so the next run's MESSAGEs are not forked to these contacts.
    for side in [&mut alice, &mut bob] {
        side.handle.command(Command::Shutdown)?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let event = tokio::time::timeout_at(deadline, side.handle.next_event())
                .await
                .context("no ShutdownComplete within 5 s")?;
            if matches!(event, None | Some(Event::ShutdownComplete)) {
                break;
            }
            // Late notifications and their answers are still handled meanwhile.
            if let Some(event) = event {
                for command in handle(&mut side.messenger, &[event], variant.writes)? {
                    let _ = side.handle.command(command);
                }
            }
        }
    }
    Ok(outcome)
}

fn variants() -> Vec<Variant> {
    let mut all = Vec::new();
    for format in [TextFormat::Plain, TextFormat::CpimDelivery] {
        for writes in [Writes::PerMessage, Writes::Batched] {
            all.push(Variant {
                format,
                writes,
                durability: Durability::PowerLoss,
            });
        }
    }
    all.push(Variant {
        format: TextFormat::Plain,
        writes: Writes::PerMessage,
        durability: Durability::ProcessCrash,
    });
    all
}

fn row(network: &str, settings: &Settings, variant: &Variant, outcome: &Outcome) -> String {
    let count = settings.count as f64;
    let per_second = outcome.accepted as f64 / outcome.elapsed.as_secs_f64();
    let micros = |d: Duration| d.as_secs_f64() * 1e6 / count;
    format!(
        "| {network} | {} | {} | {} | {} | {:.0} | {:.0} | {:.0} / {:.0} | {} | {} | {} | {}{} |",
        match variant.format {
            TextFormat::Plain => "plain",
            _ => "cpim+imdn",
        },
        match variant.writes {
            Writes::PerMessage => "per message",
            Writes::Batched => "batched",
        },
        match variant.durability {
            Durability::PowerLoss => "full",
            _ => "normal",
        },
        outcome.accepted,
        per_second,
        micros(outcome.store_alice + outcome.store_bob),
        micros(outcome.store_alice),
        micros(outcome.store_bob),
        outcome.delivered,
        outcome.stored_at_bob,
        outcome.failed,
        outcome.lost,
        if outcome.timed_out {
            " (timed out)"
        } else {
            ""
        },
    )
}

fn report_failures(outcome: &Outcome) {
    if !outcome.reasons.is_empty() {
        eprintln!("  first failures: {:?}", outcome.reasons);
    }
}

fn main() -> anyhow::Result<()> {
    let mut settings = Settings {
        count: 1000,
        window: 32,
        timeout: Duration::from_secs(120),
    };
    let mut only = None;
    let mut pick: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("a value after the option");
        match arg.as_str() {
            "--count" => settings.count = value()?.parse()?,
            "--window" => settings.window = value()?.parse()?,
            "--timeout" => settings.timeout = Duration::from_secs(value()?.parse()?),
            "--only" => only = Some(value()?),
            "--variant" => pick = Some(value()?.parse::<usize>()?),
            _ => bail!(
                "usage: messaging [--count N] [--window W] [--only sim|kamailio] [--timeout S]"
            ),
        }
    }
    if settings.count == 0 || settings.window == 0 {
        bail!("--count and --window must be at least 1");
    }
    println!(
        "{} messages alice -> bob, window {}, timeout {:?}",
        settings.count, settings.window, settings.timeout
    );
    println!(
        "| network | format | writes | sync | acked | msg/s | store µs/msg | alice / bob µs | delivered | at bob | failed | lost |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    if only.as_deref() != Some("kamailio") {
        for (_, variant) in variants()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| pick.is_none_or(|p| p == *i))
        {
            let dir = tempfile::tempdir()?;
            let outcome = run_sim(&settings, &variant, dir.path())?;
            println!("{}", row("sim", &settings, &variant, &outcome));
            report_failures(&outcome);
        }
    }
    if only.as_deref() != Some("sim") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        for (_, variant) in variants()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| pick.is_none_or(|p| p == *i))
        {
            // A fresh Kamailio per run: one that carried a few thousand transactions
            // started answering 500 (out of memory) on this config. The guard stops it by
            // its pid when dropped, also on an error.
            let kamailio = ims_tests::Kamailio::builder()
                .user("alice", "pw")
                .user("bob", "pw")
                .start()
                .context("start Kamailio (scripts/test installs it)")?;
            let dir = tempfile::tempdir()?;
            let outcome = runtime.block_on(run_kamailio(
                &settings,
                &variant,
                kamailio.addr(),
                dir.path(),
            ))?;
            println!("{}", row("kamailio", &settings, &variant, &outcome));
            report_failures(&outcome);
            drop(kamailio);
        }
        runtime.shutdown_timeout(Duration::from_secs(2));
    }
    Ok(())
}
