//! Drawing. Pure: reads the [`App`], writes the frame, nothing else (no I/O, no clock,
//! no store). Only the visible rows are built.

pub mod chats;
mod history;
pub mod settings;
mod theme;
mod trace;

pub use theme::{Palette, Theme};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::action::{Notice, RegistrationState, Screen};
use crate::app::{App, Mode};
use crate::keymap::HELP;

/// The first row a list shows so that `selected` is visible: lists scroll only when
/// the selection would leave the bottom (renders and the mouse agree on it).
pub fn first_visible(selected: usize, height: usize) -> usize {
    selected.saturating_sub(height.saturating_sub(1))
}

/// The status bar, the screen and the bottom line of a terminal of `size`.
pub fn frame_areas(size: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(size)
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let theme = Theme::new(app.palette);
    let [top, main, bottom] = frame_areas(frame.area());
    status_bar(app, theme, frame, top);
    match app.screen {
        Screen::Chats => chats::render(app, theme, frame, main),
        Screen::History => history::render(app, theme, frame, main),
        Screen::Trace => trace::render(app, theme, frame, main),
        Screen::Settings => settings::render(app, theme, frame, main),
    }
    bottom_line(app, theme, frame, bottom);
    if let Some(form) = &app.form {
        form_popup(form, theme, frame, main);
    }
    if let Some((question, _)) = &app.confirm {
        let area = centered(main, 60, 5);
        frame.render_widget(Clear, area);
        frame.render_widget(
            Paragraph::new(question.as_str())
                .wrap(Wrap { trim: true })
                .block(
                    Block::bordered()
                        .title(" Confirm ")
                        .border_style(theme.accent()),
                ),
            area,
        );
    }
    if app.help {
        help_popup(app, theme, frame, main);
    }
}

/// The registration state in at most `width` columns: a failure's reason is cut
/// (the Account screen shows it whole) so that the retry time always shows.
fn registration(app: &App, theme: Theme, width: usize) -> Span<'static> {
    match &app.registration {
        RegistrationState::Idle => Span::styled("○ not registered", theme.dim()),
        RegistrationState::Registering => Span::styled("◌ registering…", theme.warn()),
        RegistrationState::Registered { until, .. } => {
            let left = until
                .duration_since(app.now)
                .map(crate::text::duration)
                .unwrap_or_else(|_| "refreshing".into());
            Span::styled(format!("● registered ({left})"), theme.ok())
        }
        RegistrationState::Failed { reason, .. } => {
            let retry = app
                .retry_left()
                .map(|d| format!(", retry in {}", crate::text::duration(d)))
                .unwrap_or_default();
            let room = width.saturating_sub(2 + retry.chars().count()).max(12);
            let reason = crate::text::fit(reason, room);
            Span::styled(format!("✗ {reason}{retry}"), theme.error())
        }
        RegistrationState::Unregistered => Span::styled("○ unregistered", theme.dim()),
    }
}

/// The tabs of the status bar: their text, and the screen each stands for.
pub fn tabs(app: &App, width: u16) -> Vec<(String, Screen)> {
    // Wide terminals name every screen; narrow ones only the current one.
    let wide = width >= 140;
    Screen::ALL
        .iter()
        .enumerate()
        .map(|(n, screen)| {
            let text = if wide || *screen == app.screen {
                format!(" {} {} ", n + 1, screen.title())
            } else {
                format!(" {} ", n + 1)
            };
            (text, *screen)
        })
        .collect()
}

fn status_bar(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let tabs: Vec<Span<'_>> = tabs(app, area.width)
        .into_iter()
        .map(|(text, screen)| {
            let style = if screen == app.screen {
                theme.accent().add_modifier(Modifier::REVERSED)
            } else {
                theme.dim()
            };
            Span::styled(text, style)
        })
        .collect();
    let tabs_width: usize = tabs.iter().map(|s| s.content.chars().count()).sum();
    let name = crate::text::short_aor(&app.aor).to_owned();
    let mut after = Vec::new();
    if !app.next_hop.is_empty() {
        after.push(Span::styled(format!("  via {}", app.next_hop), theme.dim()));
    }
    let unread = app.total_unread();
    if unread > 0 {
        after.push(Span::styled(
            format!("  {unread} unread"),
            theme.warn().add_modifier(Modifier::BOLD),
        ));
    }
    // " imsphone " + " " + name + "  " before the state; what follows the state (next
    // hop, unread count) is what the line loses when it is full.
    let used = 10 + 1 + name.chars().count() + 2 + tabs_width;
    let room = usize::from(area.width).saturating_sub(used);
    let state = registration(app, theme, room);
    let mut spans = vec![
        Span::styled(
            " imsphone ",
            theme.accent().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(" "),
        Span::styled(name, theme.accent()),
        Span::raw("  "),
        state,
    ];
    spans.extend(after);
    let [left, right] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(u16::try_from(tabs_width).unwrap_or(u16::MAX)),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(Line::from(tabs)), right);
}

fn bottom_line(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let line = match app.mode {
        Mode::Command => {
            let text = format!(":{}", app.command.text());
            let cursor = 1 + app.command.text()[..app.command.cursor()].chars().count();
            set_cursor(frame, area, cursor, 0);
            Line::from(text)
        }
        Mode::Filter => {
            let text = format!("/{}", app.filter.text());
            let cursor = 1 + app.filter.text()[..app.filter.cursor()].chars().count();
            set_cursor(frame, area, cursor, 0);
            Line::from(vec![
                Span::raw(text),
                Span::styled("   Enter open · Esc clear", theme.dim()),
            ])
        }
        _ => match &app.notice {
            Some(Notice::Error(text)) => Line::styled(format!(" {text}"), theme.error()),
            Some(Notice::Info(text)) => Line::styled(format!(" {text}"), theme.ok()),
            None => Line::styled(hints(app), theme.dim()),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn hints(app: &App) -> &'static str {
    match app.screen {
        Screen::Chats => match app.pane {
            crate::action::Pane::Input => {
                " Enter send · Alt-Enter new line · Esc leave · Tab pane · ? help"
            }
            crate::action::Pane::Messages => " j/k select · r retry · i type · Tab pane · ? help",
            crate::action::Pane::List => {
                " Enter open · / filter · a add · n group · e edit · d delete · : cmd · ? help"
            }
        },
        Screen::History => " j/k move · f filter · Enter open · ? help",
        Screen::Trace => " j/k move · Enter ladder/message · Esc back · :export FILE · ? help",
        Screen::Settings => " j/k select · Enter use · e edit · a add account · ? help",
    }
}

/// Places the terminal cursor `column` characters into `area`, `row` rows down.
pub(crate) fn set_cursor(frame: &mut Frame<'_>, area: Rect, column: usize, row: usize) {
    let x = area
        .x
        .saturating_add(u16::try_from(column).unwrap_or(u16::MAX))
        .min(area.right().saturating_sub(1));
    let y = area
        .y
        .saturating_add(u16::try_from(row).unwrap_or(u16::MAX))
        .min(area.bottom().saturating_sub(1));
    frame.set_cursor_position((x, y));
}

/// A `width` x `height` rectangle in the middle of `area` (smaller if it must be).
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

fn form_popup(form: &crate::app::Form, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    use crate::action::FormKind;
    let error_lines = usize::from(form.error.is_some());
    let height = u16::try_from(form.fields.len() * 2 + 3 + error_lines).unwrap_or(20);
    let popup = centered(area, 64, height);
    frame.render_widget(Clear, popup);
    let title = match form.kind {
        FormKind::AddContact => " Add contact ",
        FormKind::FirstRun => " Welcome to imsphone: your account ",
        FormKind::EditContact(_) => " Edit contact ",
        FormKind::NewGroup => " New group ",
        FormKind::EditGroup(_) => " Edit group ",
        FormKind::Account(None) => " New account ",
        FormKind::Account(Some(_)) => " Edit account ",
    };
    let block = Block::bordered()
        .title(title)
        .title_bottom(" Tab next · Enter save · Esc cancel ")
        .border_style(theme.accent());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut lines = Vec::new();
    if let Some(error) = &form.error {
        lines.push(Line::styled(format!("✗ {error}"), theme.error()));
    }
    for (index, (label, editor)) in form.fields.iter().enumerate() {
        let hint = match (&form.kind, *label) {
            (FormKind::Account(_), label) => crate::account_form::hint(label),
            (_, "Address") => "sip:bob@ims.test, bob@ims.test or bob",
            (_, "URI") => "empty: sip:<name>@<your domain>",
            (_, "Mode") => "network (the core fans out) or fanout (we do)",
            (_, "Members") => "names or addresses, space separated",
            (_, "AOR") => "your address of record, e.g. alice@ims.test",
            (_, "Password") => "kept in the config file (mode 0600), never shown",
            (_, "Proxy") => "host[:port] of the P-CSCF; empty: found in DNS",
            (_, "Transport") => "udp or tcp",
            _ => "",
        };
        let focused = index == form.focus;
        let style = if focused {
            theme.accent()
        } else {
            Style::new()
        };
        // Secrets are typed blind: one `*` per character, never the text.
        let shown = if crate::account_form::SECRET_LABELS.contains(label) {
            "*".repeat(editor.text().chars().count())
        } else {
            editor.text().to_owned()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{label:>9}: "), style),
            Span::raw(shown),
        ]));
        lines.push(Line::styled(format!("           {hint}"), theme.dim()));
        if focused {
            let column = 11 + editor.text()[..editor.cursor()].chars().count();
            set_cursor(frame, inner, column, error_lines + index * 2);
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn help_popup(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let mut lines = Vec::new();
    for (section, keys) in HELP {
        lines.push(Line::styled(*section, theme.accent()));
        for (key, what) in *keys {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {key:<24}"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ]));
        }
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, 78, height);
    // Scrolls when the terminal is shorter than the list.
    let visible = usize::from(popup.height.saturating_sub(2));
    let scroll = app.help_scroll.min(lines.len().saturating_sub(visible));
    let bottom = if lines.len() > visible {
        " j/k scroll · any other key closes "
    } else {
        " any key closes "
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((u16::try_from(scroll).unwrap_or(0), 0))
            .block(
                Block::new()
                    .borders(Borders::ALL)
                    .title(" Keys ")
                    .title_bottom(bottom)
                    .border_style(theme.accent()),
            ),
        popup,
    );
}
