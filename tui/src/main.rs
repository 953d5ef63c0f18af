//! imsphone: the keyboard-driven terminal IMS softphone.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use ims_core::config::Config;
use ims_core::store::Store;
use ims_core::transport::Transport;
use ims_tui::run::{Options, run};
use ims_tui::settings;

#[derive(Parser, Debug)]
#[command(
    name = "imsphone",
    version,
    about = "Keyboard-driven terminal IMS/SIP softphone: contacts, 1:1 and group chat, history, live SIP trace",
    after_help = "Keys: press ? inside imsphone. Logs never go to the screen: use --log-file.\n\
                  Without a config file, give --aor, --password and --proxy (or write the file;\n\
                  imsphone prints an example)."
)]
struct Args {
    /// The config file (default: $XDG_CONFIG_HOME/ims-rs/imsphone.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Which account of the config file (its AOR, with or without sip:); default the first.
    #[arg(long)]
    account: Option<String>,
    /// Where the message store lives (default: $XDG_DATA_HOME/ims-rs).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Write logs here (they never go to the screen).
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Log filter for --log-file, e.g. `info` or `ims_core=trace`.
    #[arg(long, default_value = "info")]
    log: String,
    /// Account without a config file: address of record, e.g. sip:alice@ims.test.
    #[arg(long)]
    aor: Option<String>,
    /// Password for --aor (or IMS_PASSWORD).
    #[arg(long, env = "IMS_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Next hop for --aor: host[:port] or sip:host[:port];transport=tcp (default: DNS).
    #[arg(long)]
    proxy: Option<String>,
    /// Use TCP for --aor.
    #[arg(long)]
    tcp: bool,
    /// DNS server (IP:PORT) for finding the P-CSCF, instead of the system resolver.
    #[arg(long)]
    dns_server: Option<SocketAddr>,
    /// Import contacts and groups from this TOML address book first (entries already
    /// there are skipped); see the ims_tui::import docs for the format.
    #[arg(long)]
    import: Option<PathBuf>,
    /// Leave the mouse to the terminal (no clicks or wheel in imsphone; the terminal's
    /// own selection works without Shift).
    #[arg(long)]
    no_mouse: bool,
    /// No colours (also when NO_COLOR is set). Otherwise 24-bit colour when COLORTERM is
    /// truecolor or 24bit, 256 colours when TERM says 256color, else the 16 ANSI ones.
    #[arg(long)]
    no_color: bool,
}

fn init_logging(args: &Args) -> anyhow::Result<()> {
    let Some(path) = &args.log_file else {
        return Ok(());
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the log file {}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .init();
    Ok(())
}

fn options(args: &Args) -> anyhow::Result<Options> {
    let (mut config, config_path) = match (&args.config, &args.aor) {
        (Some(path), _) => (settings::load(path)?, Some(path.clone())),
        (None, Some(_)) => (Config::from_toml("")?, None),
        (None, None) => {
            let path = settings::default_config_path()
                .context("no config file given and no HOME to look for one in")?;
            if !path.exists() {
                anyhow::bail!(
                    "no account configured.\n\nWrite {} (mode 0600), for example:\n\n{}\n\
                     or start with --aor sip:alice@ims.test --password ... --proxy 127.0.0.1:5060",
                    path.display(),
                    settings::EXAMPLE
                );
            }
            (settings::load(&path)?, Some(path))
        }
    };
    if let Some(aor) = &args.aor {
        let text = format!("[[accounts]]\naor = {aor:?}\npassword = \"\"\n");
        let mut extra = Config::from_toml(&text)
            .with_context(|| format!("--aor {aor}"))?
            .accounts;
        config.accounts.splice(0..0, extra.drain(..));
    }
    let account_index = settings::pick_index(&config, args.account.as_deref())?;
    if args.aor.is_some()
        && let Some(account) = config.accounts.get_mut(account_index)
    {
        if let Some(password) = &args.password {
            account.password.clone_from(password);
        }
        if let Some(proxy) = &args.proxy {
            account.proxy = Some(proxy.clone());
        }
        if args.tcp {
            account.transport = Some(Transport::Tcp);
        }
    }
    let store_path = Store::default_path(args.data_dir.as_deref())?;
    Ok(Options {
        config,
        account_index,
        config_path,
        command_line_account: args.aor.is_some(),
        store_path,
        dns_server: args.dns_server,
        log_file: args.log_file.clone(),
        import: args.import.clone(),
        palette: palette(args),
    })
}

/// Enters the full-screen terminal (alternate screen, raw mode) and, with `mouse`,
/// turns mouse reporting on. A panic turns it off again before ratatui's own hook
/// restores the rest and the message prints.
fn enter_terminal(mouse: bool) -> ratatui::DefaultTerminal {
    let terminal = ratatui::init();
    if mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
            previous(info);
        }));
    }
    terminal
}

/// Leaves the full-screen terminal: mouse reporting off, then ratatui's restore.
fn leave_terminal(mouse: bool) {
    if mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::restore();
}

/// The colours to draw with, from --no-color and the environment.
fn palette(args: &Args) -> ims_tui::components::Palette {
    ims_tui::components::Palette::detect(args.no_color, |name| std::env::var(name).ok())
}

/// The first start: no config file and no --aor. On a terminal, a form asks for the
/// account and writes `path` (mode 0600); `Ok(false)` when the user left it with Esc.
fn first_run(
    path: &std::path::Path,
    palette: ims_tui::components::Palette,
) -> anyhow::Result<bool> {
    use crossterm::event::{self, Event};
    use ims_tui::{Action, App, Effect};
    let mut app = App::new("", std::time::SystemTime::UNIX_EPOCH);
    app.palette = palette;
    app.open_first_run();
    let mut terminal = ratatui::init();
    let result = (|| loop {
        terminal.draw(|frame| ims_tui::components::render(&app, frame))?;
        let Event::Key(key) = event::read()? else {
            continue;
        };
        let Some(action) = ims_tui::keymap::action(&app, key) else {
            continue;
        };
        if matches!(action, Action::Quit | Action::Cancel) {
            return Ok(false);
        }
        let typed = app.form.clone();
        for effect in app.update(action) {
            if let Effect::SaveAccount {
                aor,
                password,
                proxy,
                transport,
            } = effect
            {
                match settings::write_account(path, &aor, &password, &proxy, &transport) {
                    Ok(()) => return Ok(true),
                    Err(error) => {
                        // Keep what was typed; say what is wrong.
                        app.update(Action::Notice(ims_tui::action::Notice::Error(format!(
                            "{error:#}"
                        ))));
                        app.form = typed.clone();
                        app.mode = ims_tui::app::Mode::Form;
                    }
                }
            }
        }
    })();
    ratatui::restore();
    result
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.config.is_none()
        && args.aor.is_none()
        && std::io::stdout().is_terminal()
        && let Some(path) = settings::default_config_path().filter(|p| !p.exists())
    {
        match first_run(&path, palette(&args)) {
            Ok(true) => eprintln!("imsphone: wrote {}", path.display()),
            Ok(false) => {
                eprintln!("imsphone: no account configured; nothing written");
                return ExitCode::from(2);
            }
            Err(error) => {
                eprintln!("imsphone: {error:#}");
                return ExitCode::from(2);
            }
        }
    }
    let options = match init_logging(&args).and_then(|()| options(&args)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("imsphone: {error:#}");
            return ExitCode::from(2);
        }
    };
    if !std::io::stdout().is_terminal() {
        eprintln!("imsphone: needs a terminal (stdout is not one)");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("imsphone: cannot start: {error}");
            return ExitCode::from(2);
        }
    };
    // Every exit goes through leave_terminal (errors included: run returns them); a
    // panic goes through the hooks enter_terminal set.
    let mouse = !args.no_mouse;
    let mut terminal = enter_terminal(mouse);
    let result = runtime.block_on(run(options, &mut terminal));
    leave_terminal(mouse);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("imsphone: {error:#}");
            ExitCode::from(1)
        }
    }
}
