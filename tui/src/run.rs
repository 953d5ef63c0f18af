//! The one loop: terminal keys, engine events, trace records and a clock tick go in;
//! actions change the [`App`]; effects go to the [`Backend`]; the screen is drawn only
//! when something changed.
#![allow(clippy::disallowed_methods)] // the program owns its clock

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use crossterm::event::{self, Event as TermEvent};
use ims_core::config::{AccountSettings, Config};
use ims_core::driver::{Driver, next_hops, route_address, split_targets};
use ims_core::engine::{Command, Event};
use ims_core::messaging::{Messenger, TextFormat};
use ims_core::store::Store;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::action::{Action, Effect, Notice, RegistrationState};
use crate::app::App;
use crate::backend::Backend;

/// What the loop needs, from the command line and config.
#[derive(Debug)]
pub struct Options {
    /// The parsed config (engine settings).
    pub config: Config,
    /// The account to run.
    pub account: AccountSettings,
    /// Where the store is.
    pub store_path: PathBuf,
    /// DNS server for P-CSCF discovery.
    pub dns_server: Option<SocketAddr>,
    /// Account screen lines.
    pub settings: Vec<(String, String)>,
    /// The colours the terminal can show.
    pub palette: crate::components::Palette,
    /// An address book to import first.
    pub import: Option<PathBuf>,
}

/// Reads terminal events on a thread of its own (crossterm's reads block) until told
/// to stop.
fn spawn_input(stop: Arc<AtomicBool>) -> mpsc::UnboundedReceiver<TermEvent> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => match event::read() {
                    Ok(event) => {
                        if sender.send(event).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
    receiver
}

/// Local time offset east of UTC, in seconds.
fn utc_offset() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}

/// Starts the engine for the account and runs the UI until the user quits.
pub async fn run(options: Options, terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
    let now = SystemTime::now();
    let mut app = App::new(&options.account.aor, now);
    app.utc_offset = utc_offset();
    app.palette = options.palette;
    app.settings = options.settings.clone();
    app.registration = RegistrationState::Registering;
    terminal.draw(|frame| crate::components::render(&app, frame))?;

    let store = Store::open(&options.store_path)
        .with_context(|| format!("opening the message store {}", options.store_path.display()))?;
    let mut store = store;
    if let Some(path) = &options.import {
        let done = crate::import::import(&mut store, &options.account.aor, path)?;
        app.notice = Some(Notice::Info(format!(
            "imported {} contact(s) and {} group(s) from {} ({} already there)",
            done.contacts,
            done.groups,
            path.display(),
            done.skipped
        )));
    }
    let mut messenger = Messenger::new(store, ims_core::driver::os_seed()?);
    messenger.set_text_format(TextFormat::CpimDelivery);

    let targets = next_hops(&options.account, options.dns_server)
        .await
        .context("finding the next hop (P-CSCF)")?;
    let ((proxy, transport), failover) = split_targets(&targets).context("no next hop found")?;
    app.update(Action::NextHop(format!("{transport} {proxy}")));
    let listen = options.config.listen_address()?;
    let (mut driver, handle) = Driver::bind(options.config.engine_config()?, listen).await?;
    let local = driver.local_address();
    if local.ip().is_unspecified() {
        let ip = route_address(proxy).with_context(|| format!("no route to {proxy}"))?;
        driver.advertise(SocketAddr::new(ip, local.port()));
    }
    let mut account_config = options.account.account_config(proxy);
    account_config.transport = transport;
    account_config.failover = failover;
    if let Some(ims) = account_config.ims.as_mut().filter(|i| i.aka.is_some()) {
        let aor = ims_core::store::Aor::parse(&options.account.aor)?;
        let store = messenger.store_mut();
        let id = store.upsert_account(&aor, None)?;
        if let Some(state) = store.load_aka_sqn(id)? {
            ims.sqn = state.parse().context("the stored AKA SQN state")?;
        }
    }
    let engine_account = driver.engine_mut().add_account(account_config)?;
    let mut trace = driver.trace(4096);
    let running = tokio::spawn(driver.run());
    let mut backend = Backend::new(messenger, engine_account, &options.account.aor, handle)?;
    backend
        .commands_mut()
        .command(Command::Register {
            account: engine_account,
        })
        .context("starting registration")?;
    let mut pending = backend.refresh();
    pending.extend(backend.resend_pending());

    let stop_input = Arc::new(AtomicBool::new(false));
    let mut keys = spawn_input(Arc::clone(&stop_input));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut quit_deadline: Option<tokio::time::Instant> = None;
    let result = loop {
        // Apply everything waiting, then draw once.
        while let Some(action) = pending.pop() {
            let effects = app.update(action);
            for effect in effects {
                if let Effect::ExportTrace(path) = &effect {
                    pending.push(crate::backend::export_trace(
                        &app.trace,
                        path,
                        app.utc_offset,
                    ));
                    continue;
                }
                if effect == Effect::Quit && quit_deadline.is_none() {
                    quit_deadline = Some(tokio::time::Instant::now() + Duration::from_secs(3));
                    app.notice = Some(Notice::Info("de-registering…".into()));
                }
                let mut more = backend.execute(effect, SystemTime::now());
                more.reverse();
                pending.extend(more);
            }
        }
        if app.dirty {
            app.dirty = false;
            if let Err(error) = terminal.draw(|frame| crate::components::render(&app, frame)) {
                break Err(error.into());
            }
        }
        let deadline = async {
            match quit_deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            key = keys.recv() => match key {
                Some(TermEvent::Key(key)) => {
                    if let Some(action) = crate::keymap::action(&app, key) {
                        pending.push(action);
                    }
                }
                Some(TermEvent::Paste(text)) => {
                    pending.push(Action::Edit(crate::editor::Edit::Paste(text)));
                }
                Some(TermEvent::Resize(..)) => pending.push(Action::Resize),
                Some(_) => {}
                None => break Err(anyhow::anyhow!("the terminal input ended")),
            },
            event = backend.commands_mut().next_event() => match event {
                Some(event) => {
                    let mut events = vec![event];
                    while let Some(event) = backend.commands_mut().try_event() {
                        events.push(event);
                    }
                    let done = events.iter().any(|e| matches!(e, Event::ShutdownComplete));
                    if let Some(Event::SqnUpdated { state, .. }) =
                        events.iter().rev().find(|e| matches!(e, Event::SqnUpdated { .. }))
                    {
                        let aor = ims_core::store::Aor::parse(&app.aor)?;
                        let store = backend.messenger_mut().store_mut();
                        let id = store.upsert_account(&aor, None)?;
                        store.save_aka_sqn(id, &state.to_string(), SystemTime::now())?;
                    }
                    let mut actions = backend.on_events(&events, SystemTime::now());
                    actions.reverse();
                    pending.extend(actions);
                    if done {
                        break Ok(());
                    }
                }
                None => break Ok(()),
            },
            record = trace.recv() => {
                if let Some(record) = record {
                    pending.push(Action::Trace(Box::new(record)));
                }
            }
            _ = tick.tick() => pending.push(Action::Tick(SystemTime::now())),
            () = deadline => break Ok(()),
        }
    };
    stop_input.store(true, Ordering::Relaxed);
    let _ = tokio::time::timeout(Duration::from_secs(1), running).await;
    result
}
