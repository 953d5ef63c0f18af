//! The live dashboard shown when stdout is a terminal: a pure rendering of a [`Snapshot`]
//! (state -> frame, no I/O, no clock), the key handling ([`Controls`]) and the terminal
//! that shows them ([`Screen`]). The controller in `run.rs` builds a snapshot from the
//! shared counters and the workers' metrics, draws it, and applies the [`Command`]s keys
//! produce.

use std::fmt::Write as _;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Gauge, Paragraph, Row, Sparkline, Table};

use crate::metrics::{Kind, Metrics};

/// Seconds of throughput the sparkline shows.
pub const HISTORY: usize = 60;
/// Step of `+` and `-`, in percent of the requested rate.
pub const RATE_STEP: u32 = 10;
/// Lowest and highest rate factor, in percent.
pub const RATE_LIMITS: (u32, u32) = (10, 1000);

/// One transaction type's row.
#[derive(Debug, Clone, PartialEq)]
pub struct KindRow {
    /// Its name.
    pub name: &'static str,
    /// Attempts started, succeeded, failed.
    pub started: u64,
    /// Attempts that ended with a 2xx.
    pub succeeded: u64,
    /// Attempts that ended otherwise.
    pub failed: u64,
    /// p50, p90, p99 and p99.9 of successful attempts, milliseconds.
    pub percentiles_ms: [f64; 4],
}

/// How the de-registration after `q` (or Ctrl-C, or the end) is going.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stopping {
    /// Users still registered.
    pub registered: usize,
    /// Users registered when the de-registration began.
    pub from: usize,
    /// Time left before the stop timeout gives up on them.
    pub left: Duration,
}

/// Everything one frame shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Scenario name.
    pub scenario: &'static str,
    /// Target as written.
    pub target: String,
    /// Phase name.
    pub phase: &'static str,
    /// Since the run started.
    pub elapsed: Duration,
    /// Left of the traffic duration (`None` when the run is bounded by a count, or over).
    pub remaining: Option<Duration>,
    /// Share of the duration or count done, 0..=1 (`None`: unknown).
    pub progress: Option<f64>,
    /// Arrivals per second asked for now (`None`: no paced arrivals in this phase).
    pub requested_rate: Option<f64>,
    /// Rate factor in percent (100: as given on the command line).
    pub rate_percent: u32,
    /// Attempts started in the last full second.
    pub achieved_rate: f64,
    /// Arrivals paused.
    pub paused: bool,
    /// Successful transactions per second, oldest first, at most [`HISTORY`].
    pub throughput: Vec<u64>,
    /// One row per transaction type that started at least once.
    pub kinds: Vec<KindRow>,
    /// Failures by cause: status codes, `timeout`, `transport`, `local`.
    pub errors: Vec<(String, u64)>,
    /// Users by state.
    pub vus: Vec<(&'static str, usize)>,
    /// All users.
    pub users: usize,
    /// Transactions in flight.
    pub in_flight: u64,
    /// Client transactions that timed out (engine counter).
    pub timeouts: u64,
    /// Retransmitted requests and responses (engine counter).
    pub retransmissions: u64,
    /// Set once the run de-registers.
    pub stopping: Option<Stopping>,
    /// The help is open.
    pub help: bool,
}

/// The rows of the latency table, from merged metrics.
pub fn kind_rows(metrics: &Metrics) -> Vec<KindRow> {
    Kind::ALL
        .into_iter()
        .filter(|kind| metrics.kind(*kind).started > 0)
        .map(|kind| {
            let stats = metrics.kind(kind);
            KindRow {
                name: kind.name(),
                started: stats.started,
                succeeded: stats.succeeded,
                failed: stats.failed,
                percentiles_ms: [0.5, 0.9, 0.99, 0.999].map(|q| stats.quantile_ms(q)),
            }
        })
        .collect()
}

/// Failures by cause over every transaction type, most frequent first.
pub fn errors(metrics: &Metrics) -> Vec<(String, u64)> {
    let mut by_cause: std::collections::BTreeMap<String, u64> = Default::default();
    for kind in Kind::ALL {
        let stats = metrics.kind(kind);
        for (code, count) in &stats.by_code {
            if !(200..300).contains(code) {
                *by_cause.entry(code.to_string()).or_default() += count;
            }
        }
        for (cause, count) in [
            ("timeout", stats.timeouts),
            ("transport", stats.transport_errors),
            ("local", stats.local_errors),
        ] {
            if count > 0 {
                *by_cause.entry(cause.to_owned()).or_default() += count;
            }
        }
    }
    let mut list: Vec<_> = by_cause.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}

/// Successes per second of the last [`HISTORY`] full seconds before `elapsed`, and the
/// attempts started in the last full second.
pub fn throughput(metrics: &Metrics, elapsed: Duration) -> (Vec<u64>, u64) {
    // Seconds with nothing recorded yet (a pause, a stall) are not in the series: zero.
    let full = usize::try_from(elapsed.as_secs()).unwrap_or(usize::MAX);
    let start = full.saturating_sub(HISTORY);
    let history = (start..full)
        .map(|index| {
            metrics
                .seconds
                .get(index)
                .map_or(0, |second| second.succeeded.iter().sum())
        })
        .collect();
    let achieved = full
        .checked_sub(1)
        .and_then(|last| metrics.seconds.get(last))
        .map_or(0, |second| second.started.iter().sum());
    (history, achieved)
}

/// What a key asks the controller to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Pause (true) or resume (false) arrivals.
    Pause(bool),
    /// Scale the requested rates to this many percent.
    Rate(u32),
    /// Stop: de-register every user (the Ctrl-C path).
    Quit,
    /// Stop at once, without waiting for de-registrations (a second quit).
    Abort,
}

/// The state the keys change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controls {
    /// Arrivals paused.
    pub paused: bool,
    /// Rate factor, percent.
    pub rate_percent: u32,
    /// The help is open.
    pub help: bool,
    /// Quit was asked once.
    pub quitting: bool,
}

impl Default for Controls {
    fn default() -> Self {
        Controls {
            paused: false,
            rate_percent: 100,
            help: false,
            quitting: false,
        }
    }
}

impl Controls {
    /// Applies one key; returns what the controller must do, if anything.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Command> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl_c || key.code == KeyCode::Char('q') {
            if self.quitting {
                return Some(Command::Abort);
            }
            self.quitting = true;
            self.help = false;
            return Some(Command::Quit);
        }
        if self.help && matches!(key.code, KeyCode::Esc | KeyCode::Char('?')) {
            self.help = false;
            return None;
        }
        if self.quitting {
            // Arrivals are over: nothing left to pause or pace.
            return None;
        }
        match key.code {
            KeyCode::Char('?') => {
                self.help = true;
                None
            }
            KeyCode::Char('p') => {
                self.paused = !self.paused;
                Some(Command::Pause(self.paused))
            }
            KeyCode::Char('+') | KeyCode::Char('=') => self.set_rate(
                self.rate_percent
                    .saturating_add(RATE_STEP)
                    .min(RATE_LIMITS.1),
            ),
            KeyCode::Char('-') => self.set_rate(
                self.rate_percent
                    .saturating_sub(RATE_STEP)
                    .max(RATE_LIMITS.0),
            ),
            _ => None,
        }
    }

    fn set_rate(&mut self, percent: u32) -> Option<Command> {
        if percent == self.rate_percent {
            return None;
        }
        self.rate_percent = percent;
        Some(Command::Rate(percent))
    }
}

/// Draws `snapshot` on the whole frame.
pub fn render(frame: &mut Frame, snapshot: &Snapshot) {
    let area = frame.area();
    let table_height = u16::try_from(snapshot.kinds.len())
        .unwrap_or(u16::MAX)
        .max(1)
        + 3;
    let listed = snapshot.errors.len().max(snapshot.vus.len()).clamp(3, 12);
    let bottom_height = u16::try_from(listed).unwrap_or(12) + 2;
    let [title, gauge, rates, spark, table, bottom, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(5),
        Constraint::Length(table_height),
        Constraint::Length(bottom_height),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(title_line(snapshot)), title);
    frame.render_widget(progress_gauge(snapshot), gauge);
    frame.render_widget(Paragraph::new(rates_lines(snapshot)), rates);
    render_sparkline(frame, spark, snapshot);
    render_table(frame, table, snapshot);
    let [errors_area, vus_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    render_errors(frame, errors_area, snapshot);
    render_vus(frame, vus_area, snapshot);
    frame.render_widget(
        Paragraph::new("p pause/resume  + / - rate ±10 %  q quit (de-registers)  ? help")
            .style(Style::new().add_modifier(Modifier::DIM)),
        footer,
    );
    if snapshot.help {
        render_help(frame, area);
    }
}

fn title_line(snapshot: &Snapshot) -> Line<'static> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut spans = vec![Span::styled("imsload ", bold)];
    if snapshot.paused && snapshot.stopping.is_none() {
        spans.push(Span::styled(
            "PAUSED",
            bold.add_modifier(Modifier::REVERSED),
        ));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::raw(format!(
        "{} -> {}  ",
        snapshot.scenario, snapshot.target
    )));
    spans.push(Span::styled(snapshot.phase, bold));
    spans.push(Span::raw(format!("  {}", clock(snapshot.elapsed))));
    if let Some(left) = snapshot.remaining {
        spans.push(Span::raw(format!(", {} left", clock(left))));
    }
    Line::from(spans)
}

fn progress_gauge(snapshot: &Snapshot) -> Gauge<'static> {
    match snapshot.stopping {
        Some(stopping) => {
            let done = stopping.from.saturating_sub(stopping.registered);
            let ratio = if stopping.from == 0 {
                1.0
            } else {
                done as f64 / stopping.from as f64
            };
            Gauge::default().ratio(ratio.clamp(0.0, 1.0)).label(format!(
                "de-registering: {} of {} left, gives up in {:.0} s",
                stopping.registered,
                stopping.from,
                stopping.left.as_secs_f64()
            ))
        }
        None => {
            let ratio = snapshot.progress.unwrap_or(0.0).clamp(0.0, 1.0);
            Gauge::default()
                .ratio(ratio)
                .label(format!("{:.0} %", ratio * 100.0))
        }
    }
}

fn rates_lines(snapshot: &Snapshot) -> Vec<Line<'static>> {
    let requested = match snapshot.requested_rate {
        Some(rate) if snapshot.paused => {
            format!("PAUSED ({rate:.0}/s, {} %)", snapshot.rate_percent)
        }
        Some(rate) => format!("{rate:.0}/s ({} %)", snapshot.rate_percent),
        None => format!("- ({} %)", snapshot.rate_percent),
    };
    vec![
        Line::from(format!(
            "requested {requested}  achieved {:.0}/s  in flight {}",
            snapshot.achieved_rate, snapshot.in_flight
        )),
        Line::from(format!(
            "timeouts {}  retransmissions {}",
            snapshot.timeouts, snapshot.retransmissions
        )),
    ]
}

fn render_sparkline(frame: &mut Frame, area: Rect, snapshot: &Snapshot) {
    let block = Block::bordered().title(format!(
        "successful transactions/s, last {HISTORY} s (max {})",
        snapshot.throughput.iter().max().copied().unwrap_or(0)
    ));
    let inner_width = usize::from(area.width.saturating_sub(2));
    let data = &snapshot.throughput[snapshot.throughput.len().saturating_sub(inner_width)..];
    frame.render_widget(Sparkline::default().block(block).data(data), area);
}

fn render_table(frame: &mut Frame, area: Rect, snapshot: &Snapshot) {
    let header = Row::new(
        [
            "type", "started", "ok", "failed", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
        ]
        .map(Cell::from),
    )
    .style(Style::new().add_modifier(Modifier::BOLD));
    let rows = snapshot.kinds.iter().map(|row| {
        let mut cells = vec![
            row.name.to_owned(),
            row.started.to_string(),
            row.succeeded.to_string(),
            row.failed.to_string(),
        ];
        cells.extend(row.percentiles_ms.iter().map(|ms| millis(*ms)));
        Row::new(cells)
    });
    let widths = [
        Constraint::Length(13),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered().title("latency of successful transactions")),
        area,
    );
}

fn render_errors(frame: &mut Frame, area: Rect, snapshot: &Snapshot) {
    let visible = usize::from(area.height.saturating_sub(2));
    let mut lines: Vec<Line> = snapshot
        .errors
        .iter()
        .take(visible)
        .map(|(cause, count)| Line::from(format!("{cause:<10} {count:>9}")))
        .collect();
    if lines.is_empty() {
        lines.push(Line::from("none"));
    } else if snapshot.errors.len() > visible && visible > 0 {
        let rest: u64 = snapshot.errors[visible - 1..].iter().map(|e| e.1).sum();
        lines.truncate(visible - 1);
        lines.push(Line::from(format!("{:<10} {rest:>9}", "others")));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("errors by cause")),
        area,
    );
}

fn render_vus(frame: &mut Frame, area: Rect, snapshot: &Snapshot) {
    let lines: Vec<Line> = snapshot
        .vus
        .iter()
        .map(|(state, count)| Line::from(format!("{state:<16} {count:>8}")))
        .collect();
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(format!("virtual users by state ({})", snapshot.users))),
        area,
    );
}

fn render_help(frame: &mut Frame, area: Rect) {
    let text = [
        "p       pause / resume arrivals",
        "+ / -   requested rate up / down by 10 %",
        "q       quit: de-register every user",
        "        (q again: stop without waiting)",
        "Ctrl-C  same as q",
        "?, Esc  close this help",
    ];
    let width = 44.min(area.width);
    let height = (text.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text.map(Line::from).to_vec()).block(Block::bordered().title("keys")),
        popup,
    );
}

/// `m:ss` (or `h:mm:ss`).
fn clock(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let mut text = String::new();
    if seconds >= 3600 {
        let _ = write!(
            text,
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        );
    } else {
        let _ = write!(text, "{}:{:02}", seconds / 60, seconds % 60);
    }
    text
}

fn millis(ms: f64) -> String {
    if ms < 100.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.0}")
    }
}

/// A bar for progress lines: `[#####.....] 50 %`.
pub fn progress_bar(ratio: f64) -> String {
    let ratio = if ratio.is_finite() {
        ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let filled = (ratio * 10.0).floor() as usize;
    format!(
        "[{}{}] {:>3.0} %",
        "#".repeat(filled),
        ".".repeat(10 - filled),
        ratio * 100.0
    )
}

/// What the controller knows about the run when it draws a frame.
pub struct RunView<'a> {
    /// The plan.
    pub plan: &'a crate::cli::Plan,
    /// The shared counters.
    pub shared: &'a crate::shared::Shared,
    /// The workers' metrics, merged.
    pub metrics: &'a Metrics,
    /// Now, since the run started.
    pub elapsed: Duration,
    /// Time left before the stop timeout, once de-registering.
    pub stop_left: Option<Duration>,
}

/// Share of the run done: registrations settled in the register phase, then the
/// duration or the count of texts.
pub fn progress(view: &RunView<'_>) -> Option<f64> {
    use crate::shared::Phase;
    let (phase, began) = view.shared.phase();
    let users = view.plan.users.len().max(1) as f64;
    match phase {
        Phase::Register => Some(
            view.shared
                .settled
                .load(std::sync::atomic::Ordering::Acquire) as f64
                / users,
        ),
        Phase::Traffic => match (view.plan.count, view.plan.duration) {
            (Some(count), _) => {
                let sent = view.metrics.counted_attempts();
                Some(sent as f64 / count.max(1) as f64)
            }
            (None, Some(duration)) if !duration.is_zero() => {
                Some(view.elapsed.saturating_sub(began).as_secs_f64() / duration.as_secs_f64())
            }
            _ => None,
        },
        Phase::Deregister => Some(1.0),
    }
}

/// Builds the snapshot of one frame.
pub fn snapshot(view: &RunView<'_>, controls: &Controls, from: usize) -> Snapshot {
    use crate::shared::Phase;
    use std::sync::atomic::Ordering;
    let plan = view.plan;
    let shared = view.shared;
    let (phase, began) = shared.phase();
    let (paused, percent) = shared.pacing();
    let phase_elapsed = view.elapsed.saturating_sub(began);
    let factor = f64::from(percent) / 100.0;
    let requested_rate = match phase {
        Phase::Register => Some(plan.registration_rate() * factor),
        Phase::Traffic if plan.scenario != crate::cli::Scenario::Register => {
            Some(plan.rate * factor)
        }
        _ => None,
    };
    let remaining = match (phase, plan.duration) {
        (Phase::Traffic, Some(duration)) if !duration.is_zero() && plan.count.is_none() => {
            Some(duration.saturating_sub(phase_elapsed))
        }
        _ => None,
    };
    let (history, achieved) = throughput(view.metrics, view.elapsed);
    let users = plan.users.len();
    let registered = shared.registered.load(Ordering::Acquire);
    let counted: Vec<(&'static str, usize)> = crate::vu::VuState::COUNTED
        .into_iter()
        .zip(&shared.vus)
        .map(|(name, count)| (name, count.load(Ordering::Relaxed)))
        .collect();
    let busy: usize = counted.iter().map(|(_, count)| count).sum();
    let vus = std::iter::once(("idle", users.saturating_sub(busy)))
        .chain(counted)
        .filter(|(_, count)| *count > 0)
        .collect();
    Snapshot {
        scenario: plan.scenario_name(),
        target: plan.target_text.clone(),
        phase: phase.name(),
        elapsed: view.elapsed,
        remaining,
        progress: progress(view),
        requested_rate,
        rate_percent: percent,
        achieved_rate: achieved as f64,
        paused,
        throughput: history,
        kinds: kind_rows(view.metrics),
        errors: errors(view.metrics),
        vus,
        users,
        in_flight: view.metrics.in_flight,
        timeouts: view.metrics.engine.timeouts,
        retransmissions: view.metrics.engine.retransmissions,
        stopping: view.stop_left.map(|left| Stopping {
            registered,
            from: from.max(registered),
            left,
        }),
        help: controls.help,
    }
}

/// The live dashboard: the terminal, the keys' state, and what it needs to remember
/// between frames.
pub struct Live {
    /// `None` once left.
    screen: Option<Screen>,
    controls: Controls,
    /// Users registered when the de-registration began.
    from: Option<usize>,
    dirty: bool,
}

impl Live {
    /// Takes over the terminal.
    pub fn enter() -> Live {
        Live {
            screen: Some(Screen::enter()),
            controls: Controls::default(),
            from: None,
            dirty: true,
        }
    }

    /// Commands from the keys pressed since the last call.
    pub fn commands(&mut self) -> Vec<Command> {
        let Some(screen) = self.screen.as_mut() else {
            return Vec::new();
        };
        let keys = match screen.keys() {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%error, "cannot read the terminal's keys");
                Vec::new()
            }
        };
        let mut commands = Vec::new();
        for key in keys {
            self.dirty = true;
            commands.extend(self.controls.handle_key(key));
        }
        commands
    }

    /// Gives the terminal back (before a message on stderr); nothing is drawn after.
    pub fn leave(&mut self) {
        self.screen = None;
    }

    /// A key changed what the screen shows: draw before the next refresh.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// Draws the run as it is now.
    pub fn draw(&mut self, view: &RunView<'_>) {
        if view.stop_left.is_some() && self.from.is_none() {
            self.from = Some(
                view.shared
                    .registered
                    .load(std::sync::atomic::Ordering::Acquire),
            );
        }
        let Some(screen) = self.screen.as_mut() else {
            return;
        };
        let frame = snapshot(view, &self.controls, self.from.unwrap_or(0));
        if let Err(error) = screen.draw(&frame) {
            tracing::warn!(%error, "cannot draw the dashboard");
        }
        self.dirty = false;
    }
}

/// Log lines held while the dashboard owns the terminal (`None`: write to stderr).
static HELD_LOGS: std::sync::Mutex<Option<Vec<u8>>> = std::sync::Mutex::new(None);
/// Most log bytes held; later lines are dropped (and counted).
const HELD_LIMIT: usize = 1 << 20;
static DROPPED_LOGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The tracing writer of imsload: stderr, except while the dashboard is on screen, when
/// lines are held and written once the terminal is restored (a line on stderr would
/// land in the middle of the frame).
pub fn log_writer() -> LogWriter {
    LogWriter
}

/// See [`log_writer`].
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut held = HELD_LOGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match held.as_mut() {
            Some(buffer) if buffer.len() + bytes.len() <= HELD_LIMIT => {
                buffer.extend_from_slice(bytes);
                Ok(bytes.len())
            }
            Some(_) => {
                DROPPED_LOGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(bytes.len())
            }
            None => {
                drop(held);
                std::io::stderr().write(bytes)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn hold_logs() {
    let mut held = HELD_LOGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    held.get_or_insert_with(Vec::new);
}

/// Writes the held lines to stderr and stops holding.
fn release_logs() {
    use std::io::Write as _;
    let held = HELD_LOGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let mut stderr = std::io::stderr();
    if let Some(buffer) = held {
        let _ = stderr.write_all(&buffer);
    }
    let dropped = DROPPED_LOGS.swap(0, std::sync::atomic::Ordering::Relaxed);
    if dropped > 0 {
        let _ = writeln!(
            stderr,
            "imsload: {dropped} log lines dropped while the dashboard was on screen"
        );
    }
}

/// The full-screen terminal the dashboard draws on. Dropping it restores the terminal;
/// ratatui's panic hook restores it on a panic.
struct Screen {
    terminal: ratatui::DefaultTerminal,
}

impl Screen {
    /// Enters the alternate screen in raw mode (Ctrl-C then arrives as a key).
    fn enter() -> Screen {
        hold_logs();
        Screen {
            terminal: ratatui::init(),
        }
    }

    /// Draws one frame.
    fn draw(&mut self, snapshot: &Snapshot) -> std::io::Result<()> {
        self.terminal
            .draw(|frame| render(frame, snapshot))
            .map(|_| ())
    }

    /// Keys pressed since the last call (never waits).
    fn keys(&mut self) -> std::io::Result<Vec<KeyEvent>> {
        let mut keys = Vec::new();
        while crossterm::event::poll(Duration::ZERO)? {
            if let crossterm::event::Event::Key(key) = crossterm::event::read()? {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
        release_logs();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Outcome;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn fixed() -> Snapshot {
        Snapshot {
            scenario: "message",
            target: "127.0.0.1:5060".to_owned(),
            phase: "traffic",
            elapsed: Duration::from_secs(75),
            remaining: Some(Duration::from_secs(45)),
            progress: Some(0.5),
            requested_rate: Some(500.0),
            rate_percent: 100,
            achieved_rate: 497.0,
            paused: false,
            throughput: (0..60u64).map(|s| 400 + (s * 37) % 120).collect(),
            kinds: vec![
                KindRow {
                    name: "register",
                    started: 1000,
                    succeeded: 998,
                    failed: 2,
                    percentiles_ms: [1.21, 2.5, 8.75, 130.0],
                },
                KindRow {
                    name: "message",
                    started: 30_000,
                    succeeded: 29_990,
                    failed: 10,
                    percentiles_ms: [0.8, 1.6, 4.2, 12.0],
                },
            ],
            errors: vec![
                ("408".to_owned(), 6),
                ("timeout".to_owned(), 4),
                ("503".to_owned(), 2),
            ],
            vus: vec![("registered", 996), ("retrying", 2), ("failed", 2)],
            users: 1000,
            in_flight: 12,
            timeouts: 4,
            retransmissions: 31,
            stopping: None,
            help: false,
        }
    }

    fn draw(snapshot: &Snapshot, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal
            .draw(|frame| render(frame, snapshot))
            .expect("draw");
        let buffer = terminal.backend().buffer();
        let mut text = String::new();
        for y in 0..height {
            for x in 0..width {
                text.push_str(buffer[(x, y)].symbol());
            }
            text.push('\n');
        }
        text
    }

    #[test]
    fn dashboard_80x24() {
        insta::assert_snapshot!("dashboard_80x24", draw(&fixed(), 80, 24));
    }

    #[test]
    fn dashboard_160x48() {
        insta::assert_snapshot!("dashboard_160x48", draw(&fixed(), 160, 48));
    }

    #[test]
    fn dashboard_paused_with_help() {
        let snapshot = Snapshot {
            paused: true,
            help: true,
            ..fixed()
        };
        let screen = draw(&snapshot, 80, 24);
        assert!(screen.contains("PAUSED"), "{screen}");
        assert!(
            screen.contains("requested PAUSED (500/s, 100 %)"),
            "{screen}"
        );
        assert!(screen.contains("pause / resume arrivals"), "{screen}");
    }

    #[test]
    fn dashboard_while_deregistering() {
        let snapshot = Snapshot {
            phase: "deregister",
            stopping: Some(Stopping {
                registered: 250,
                from: 1000,
                left: Duration::from_secs(20),
            }),
            ..fixed()
        };
        insta::assert_snapshot!("dashboard_deregistering_80x24", draw(&snapshot, 80, 24));
    }

    #[test]
    fn p_pauses_and_resumes() {
        let mut controls = Controls::default();
        assert_eq!(
            controls.handle_key(key(KeyCode::Char('p'))),
            Some(Command::Pause(true))
        );
        assert!(controls.paused);
        assert_eq!(
            controls.handle_key(key(KeyCode::Char('p'))),
            Some(Command::Pause(false))
        );
        assert!(!controls.paused);
    }

    #[test]
    fn plus_and_minus_step_the_rate_within_limits() {
        let mut controls = Controls::default();
        assert_eq!(
            controls.handle_key(key(KeyCode::Char('+'))),
            Some(Command::Rate(110))
        );
        assert_eq!(
            controls.handle_key(key(KeyCode::Char('-'))),
            Some(Command::Rate(100))
        );
        for _ in 0..20 {
            controls.handle_key(key(KeyCode::Char('-')));
        }
        assert_eq!(controls.rate_percent, RATE_LIMITS.0);
        assert_eq!(controls.handle_key(key(KeyCode::Char('-'))), None);
        for _ in 0..200 {
            controls.handle_key(key(KeyCode::Char('+')));
        }
        assert_eq!(controls.rate_percent, RATE_LIMITS.1);
        assert_eq!(controls.handle_key(key(KeyCode::Char('+'))), None);
    }

    #[test]
    fn q_quits_once_then_aborts_and_ctrl_c_is_the_same() {
        let mut controls = Controls::default();
        assert_eq!(
            controls.handle_key(key(KeyCode::Char('q'))),
            Some(Command::Quit)
        );
        // While stopping, pause and rate do nothing.
        assert_eq!(controls.handle_key(key(KeyCode::Char('p'))), None);
        assert_eq!(controls.handle_key(key(KeyCode::Char('+'))), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(controls.handle_key(ctrl_c), Some(Command::Abort));

        let mut fresh = Controls::default();
        assert_eq!(fresh.handle_key(ctrl_c), Some(Command::Quit));
        // A plain c is no quit.
        let mut other = Controls::default();
        assert_eq!(other.handle_key(key(KeyCode::Char('c'))), None);
    }

    #[test]
    fn help_opens_and_closes() {
        let mut controls = Controls::default();
        assert_eq!(controls.handle_key(key(KeyCode::Char('?'))), None);
        assert!(controls.help);
        controls.handle_key(key(KeyCode::Esc));
        assert!(!controls.help);
    }

    #[test]
    fn released_keys_are_ignored() {
        let mut controls = Controls::default();
        let mut release = key(KeyCode::Char('p'));
        release.kind = KeyEventKind::Release;
        assert_eq!(controls.handle_key(release), None);
        assert!(!controls.paused);
    }

    #[test]
    fn snapshot_parts_come_from_the_metrics() {
        let mut metrics = Metrics::default();
        for s in 0..3u64 {
            let at = Duration::from_secs(s);
            for _ in 0..=s {
                metrics.started(Kind::Message, at);
                metrics.ended(
                    Kind::Message,
                    Outcome::Status(200),
                    Duration::from_millis(2),
                    at,
                );
            }
        }
        metrics.started(Kind::Message, Duration::from_secs(2));
        metrics.ended(
            Kind::Message,
            Outcome::Status(480),
            Duration::from_millis(2),
            Duration::from_secs(2),
        );
        metrics.started(Kind::Message, Duration::from_secs(2));
        metrics.ended(
            Kind::Message,
            Outcome::Timeout,
            Duration::from_secs(32),
            Duration::from_secs(2),
        );
        // At 2.5 s, seconds 0 and 1 are full; second 2 is not shown yet.
        let (history, achieved) = throughput(&metrics, Duration::from_millis(2500));
        assert_eq!(history, vec![1, 2]);
        assert_eq!(achieved, 2);
        let (history, achieved) = throughput(&metrics, Duration::from_secs(3));
        assert_eq!(history, vec![1, 2, 3]);
        assert_eq!(achieved, 5);
        // Nothing recorded after second 2 (a pause): zeros, not the last busy second.
        let (history, achieved) = throughput(&metrics, Duration::from_secs(5));
        assert_eq!(history, vec![1, 2, 3, 0, 0]);
        assert_eq!(achieved, 0);
        let rows = kind_rows(&metrics);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].name,
                rows[0].started,
                rows[0].succeeded,
                rows[0].failed
            ),
            ("message", 8, 6, 2)
        );
        assert!((rows[0].percentiles_ms[0] - 2.0).abs() < 0.01);
        assert_eq!(
            errors(&metrics),
            vec![("480".to_owned(), 1), ("timeout".to_owned(), 1)]
        );
    }

    #[test]
    fn logs_are_held_while_on_screen() {
        use std::io::Write as _;
        hold_logs();
        let mut writer = log_writer();
        writer.write_all(b"a warning\n").expect("write");
        let held = HELD_LOGS.lock().expect("lock").clone();
        assert_eq!(held.as_deref(), Some(&b"a warning\n"[..]));
        release_logs();
        assert!(HELD_LOGS.lock().expect("lock").is_none());
    }

    #[test]
    fn progress_bar_fills_by_tenths() {
        assert_eq!(progress_bar(0.0), "[..........]   0 %");
        assert_eq!(progress_bar(0.5), "[#####.....]  50 %");
        assert_eq!(progress_bar(0.99), "[#########.]  99 %");
        assert_eq!(progress_bar(1.5), "[##########] 100 %");
        assert_eq!(progress_bar(f64::NAN), "[..........]   0 %");
    }
}
