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
use ims_core::driver::dns::Target;
use ims_core::driver::{NextHopError, TraceReceiver, TraceRecord};
use ims_core::engine::{EngineConfig, Event};
use ims_core::messaging::{Messenger, TextFormat};
use ims_core::store::Store;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::accounts::Accounts;
use crate::action::{Action, Effect, Notice, RegistrationState};
use crate::app::App;
use crate::backend::Backend;
use crate::session::Link;

/// Trace records waiting for the loop at most (past that the driver drops them).
const TRACE_BUFFER: usize = 4096;

/// What the loop needs, from the command line and config.
#[derive(Debug)]
pub struct Options {
    /// The parsed config: engine settings and every account (one given on the command
    /// line first).
    pub config: Config,
    /// The account to run (index into `config.accounts`).
    pub account_index: usize,
    /// The config file, if there is one.
    pub config_path: Option<PathBuf>,
    /// `config.accounts[0]` came from the command line (`--aor`).
    pub command_line_account: bool,
    /// Where the store is.
    pub store_path: PathBuf,
    /// DNS server for P-CSCF discovery (wins over the account's).
    pub dns_server: Option<SocketAddr>,
    /// The log file, for the Account screen.
    pub log_file: Option<PathBuf>,
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

/// The registration session's state, as the loop sees it.
#[derive(Debug, Default)]
struct Connection {
    /// Finding the next hop (a task).
    resolving: Option<JoinHandle<Result<Vec<Target>, NextHopError>>>,
    /// The next try, after a failure to find the next hop or start the driver.
    retry_at: Option<tokio::time::Instant>,
    /// Tries failed in a row (the back-off grows with them).
    failures: u32,
    /// The running session's trace.
    trace: Option<TraceReceiver>,
    /// The running session's driver task.
    running: Option<JoinHandle<()>>,
}

impl Connection {
    /// Starts finding the next hop for `account`; the running session (if any) ends
    /// first: its handle, taken by the caller, is dropped, which de-registers it.
    fn connect(&mut self, account: &AccountSettings, dns_server: Option<SocketAddr>) {
        self.trace = None;
        self.retry_at = None;
        if let Some(resolving) = self.resolving.take() {
            resolving.abort();
        }
        let previous = self.running.take();
        self.resolving = Some(crate::session::resolve(
            account.clone(),
            dns_server,
            previous,
            Duration::from_secs(3),
        ));
    }

    /// The status after a failed try; the next one is due after the back-off.
    fn failed(&mut self, reason: String, config: &EngineConfig) -> Action {
        self.failures = self.failures.saturating_add(1);
        let wait = crate::session::backoff(
            self.failures,
            config.registration.retry_base,
            config.registration.retry_max,
        );
        tracing::warn!(%reason, retry_in = ?wait, "no session");
        self.retry_at = Some(tokio::time::Instant::now() + wait);
        Action::Registration(RegistrationState::Failed {
            reason,
            retry_in: Some(wait),
        })
    }
}

/// Resolves when the task does; never while there is none.
async fn finished<T>(task: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match task {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`; forever without one.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next trace record; never without a session.
async fn next_record(trace: &mut Option<TraceReceiver>) -> Option<TraceRecord> {
    match trace {
        Some(trace) => trace.recv().await,
        None => std::future::pending().await,
    }
}

/// Ends the running session (dropping its handle de-registers it) and starts one for
/// the account in use; the screens show that account at once.
fn restart(
    accounts: &Accounts,
    backend: &mut Backend<Link>,
    connection: &mut Connection,
    dns_server: Option<SocketAddr>,
) -> anyhow::Result<Vec<Action>> {
    let account = accounts.active().context("no account to register")?;
    let offline = crate::session::offline_account(&accounts.config, account)?;
    drop(backend.relink(offline, &account.aor, Link::Down)?);
    connection.failures = 0;
    connection.connect(account, dns_server.or(account.dns_server));
    let mut actions = vec![
        accounts.view(),
        Action::NextHop(String::new()),
        Action::Registration(RegistrationState::Registering),
    ];
    actions.extend(backend.refresh());
    Ok(actions)
}

/// Carries out what the Account screen asks for: save an account (registering again
/// when it is the one in use) or switch to another.
fn account_effect(
    effect: Effect,
    accounts: &mut Accounts,
    backend: &mut Backend<Link>,
    connection: &mut Connection,
    dns_server: Option<SocketAddr>,
) -> Vec<Action> {
    let result = match effect {
        Effect::SaveSettings { index, edit } => accounts.save(index, &edit).and_then(|saved| {
            let path = accounts
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let mut actions = if saved == accounts.active {
                restart(accounts, backend, connection, dns_server)?
            } else {
                vec![accounts.view()]
            };
            let again = if saved == accounts.active {
                "; registering again"
            } else {
                ""
            };
            actions.push(Action::Notice(Notice::Info(format!(
                "saved to {path} (mode 0600){again}"
            ))));
            Ok(actions)
        }),
        Effect::SwitchAccount(index) if index < accounts.config.accounts.len() => {
            accounts.active = index;
            restart(accounts, backend, connection, dns_server)
        }
        _ => Ok(Vec::new()),
    };
    result.unwrap_or_else(|error| {
        vec![Action::Notice(Notice::Error(format!(
            "account not saved: {error:#}"
        )))]
    })
}

/// Starts the engine for the account and runs the UI until the user quits. A next hop
/// that cannot be found (DNS, an unknown proxy name) does not stop it: the status bar
/// says why and when it tries again, with back-off.
pub async fn run(options: Options, terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
    let mut accounts = Accounts {
        config: options.config,
        active: options.account_index,
        path: options.config_path,
        command_line: options.command_line_account,
        store_path: options.store_path,
        log_file: options.log_file,
    };
    let first = accounts.active().context("no account to run")?.clone();
    let now = SystemTime::now();
    let mut app = App::new(&first.aor, now);
    app.utc_offset = utc_offset();
    app.palette = options.palette;
    app.update(accounts.view());
    app.registration = RegistrationState::Registering;
    terminal.draw(|frame| crate::components::render(&app, frame))?;

    let mut store = Store::open(&accounts.store_path).with_context(|| {
        format!(
            "opening the message store {}",
            accounts.store_path.display()
        )
    })?;
    if let Some(path) = &options.import {
        let done = crate::import::import(&mut store, &first.aor, path)?;
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
    let offline = crate::session::offline_account(&accounts.config, &first)?;
    let mut backend = Backend::new(messenger, offline, &first.aor, Link::Down)?;
    let mut pending = backend.refresh();
    let mut connection = Connection::default();
    connection.connect(&first, options.dns_server.or(first.dns_server));

    let stop_input = Arc::new(AtomicBool::new(false));
    let mut keys = spawn_input(Arc::clone(&stop_input));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut quit_deadline: Option<tokio::time::Instant> = None;
    let result = loop {
        // Apply everything waiting, then draw once.
        let mut quit_now = false;
        while let Some(action) = pending.pop() {
            let effects = app.update(action);
            for effect in effects {
                let mut more = match effect {
                    Effect::ExportTrace(path) => vec![crate::backend::export_trace(
                        &app.trace,
                        &path,
                        app.utc_offset,
                    )],
                    Effect::SaveSettings { .. } | Effect::SwitchAccount(_) => account_effect(
                        effect,
                        &mut accounts,
                        &mut backend,
                        &mut connection,
                        options.dns_server,
                    ),
                    Effect::Quit if !backend.commands_mut().is_up() => {
                        // Not registered: nothing to de-register.
                        quit_now = true;
                        Vec::new()
                    }
                    effect => {
                        if effect == Effect::Quit && quit_deadline.is_none() {
                            quit_deadline =
                                Some(tokio::time::Instant::now() + Duration::from_secs(3));
                            app.notice = Some(Notice::Info("de-registering…".into()));
                        }
                        backend.execute(effect, SystemTime::now())
                    }
                };
                more.reverse();
                pending.extend(more);
            }
        }
        if quit_now {
            break Ok(());
        }
        if app.dirty {
            app.dirty = false;
            if let Err(error) = terminal.draw(|frame| crate::components::render(&app, frame)) {
                break Err(error.into());
            }
        }
        let Some(account) = accounts.active().cloned() else {
            break Err(anyhow::anyhow!("no account to run"));
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
                Some(TermEvent::Mouse(mouse)) => {
                    let size = terminal.size()?;
                    let area = ratatui::layout::Rect::new(0, 0, size.width, size.height);
                    let mut actions = crate::mouse::actions(&app, mouse, area);
                    actions.reverse();
                    pending.extend(actions);
                }
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
                    if done && quit_deadline.is_some() {
                        break Ok(());
                    }
                }
                None => {
                    if quit_deadline.is_some() {
                        break Ok(());
                    }
                    // The driver stopped under us: try a new session.
                    let offline = crate::session::offline_account(&accounts.config, &account)?;
                    drop(backend.relink(offline, &account.aor, Link::Down)?);
                    pending.push(connection.failed("the SIP driver stopped".into(), &accounts.config.engine_config()?));
                }
            },
            resolved = finished(&mut connection.resolving) => {
                connection.resolving = None;
                let targets = match resolved {
                    Ok(Ok(targets)) => Ok(targets),
                    Ok(Err(error)) => Err(format!("next hop (P-CSCF) not found: {error}")),
                    Err(error) => Err(format!("finding the next hop: {error}")),
                };
                let started = match targets {
                    Ok(targets) => crate::session::start(
                        &accounts.config,
                        &account,
                        &targets,
                        backend.messenger_mut().store_mut(),
                        TRACE_BUFFER,
                    )
                    .await
                    .map_err(|error| format!("{error:#}")),
                    Err(error) => Err(error),
                };
                match started {
                    Ok(session) => {
                        connection.failures = 0;
                                            connection.trace = Some(session.trace);
                        connection.running = Some(session.running);
                        drop(backend.relink(session.engine_account, &account.aor, Link::Up(session.handle))?);
                        pending.push(Action::NextHop(session.next_hop));
                        pending.push(Action::Registration(RegistrationState::Registering));
                        let mut actions = backend.register();
                        actions.reverse();
                        pending.extend(actions);
                    }
                    Err(reason) => {
                        pending.push(connection.failed(reason, &accounts.config.engine_config()?));
                    }
                }
            }
            () = until(connection.retry_at) => {
                pending.push(Action::Registration(RegistrationState::Registering));
                connection.connect(&account, options.dns_server.or(account.dns_server));
            }
            record = next_record(&mut connection.trace) => {
                match record {
                    Some(record) => pending.push(Action::Trace(Box::new(record))),
                    None => connection.trace = None,
                }
            }
            _ = tick.tick() => {
                pending.push(Action::Tick(SystemTime::now()));
            }
            () = until(quit_deadline) => break Ok(()),
        }
    };
    stop_input.store(true, Ordering::Relaxed);
    if let Some(resolving) = connection.resolving.take() {
        resolving.abort();
    }
    // Dropping the handle makes the driver de-register; give it a moment.
    drop(backend.relink(offline, &first.aor, Link::Down));
    if let Some(running) = connection.running.take() {
        let _ = tokio::time::timeout(Duration::from_secs(1), running).await;
    }
    result
}
