//! The Account screen: the configured accounts on the left (● the one in use), the
//! selected one's settings on the right (secrets only as set or not), its registration
//! in full, and where things are.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::Theme;
use crate::action::RegistrationState;
use crate::app::App;
use crate::text::{fit, short_aor};

/// Where the account list and the details go in `area` (the mouse needs it too).
pub fn areas(area: Rect) -> [Rect; 2] {
    let list_width = (area.width / 4).clamp(24, 36);
    Layout::horizontal([Constraint::Length(list_width), Constraint::Min(20)]).areas(area)
}

pub(super) fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let [list, details] = areas(area);
    account_list(app, theme, frame, list);
    account_details(app, theme, frame, details);
}

fn account_list(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::bordered()
        .title(" Accounts ")
        .title_bottom(" a add ")
        .border_style(theme.accent());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.accounts.is_empty() {
        frame.render_widget(
            Paragraph::new("No account in the config.\n\na  add one").style(theme.dim()),
            inner,
        );
        return;
    }
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let first = super::first_visible(app.account_selected, height);
    let mut lines = Vec::new();
    for (index, account) in app.accounts.iter().enumerate().skip(first).take(height) {
        let (mark, mark_style) = if index == app.account_active {
            ("● ", theme.ok())
        } else {
            ("  ", theme.dim())
        };
        let label = fit(short_aor(&account.aor), width.saturating_sub(2));
        let pad = width.saturating_sub(2 + label.chars().count());
        let mut line = Line::from(vec![
            Span::styled(mark, mark_style),
            Span::raw(format!("{label}{}", " ".repeat(pad))),
        ]);
        if index == app.account_selected {
            line = line.patch_style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn account_details(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let selected = app.accounts.get(app.account_selected);
    let in_use = app.account_selected == app.account_active;
    let title = match selected {
        Some(account) if in_use => format!(" {} (in use) ", short_aor(&account.aor)),
        Some(account) => format!(" {} ", short_aor(&account.aor)),
        None => " Account ".to_owned(),
    };
    let bottom = if in_use {
        " e edit · saved to the config file (mode 0600) "
    } else {
        " Enter use this account · e edit "
    };
    let block = Block::bordered()
        .title(title)
        .title_bottom(bottom)
        .border_style(theme.accent());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // One line per setting: long values (paths) lose their start, not their end.
    let room = usize::from(inner.width).saturating_sub(20);
    let row = |key: &str, value: String| {
        let count = value.chars().count();
        let value = if count > room {
            let tail: String = value.chars().skip(count + 1 - room.max(1)).collect();
            format!("…{tail}")
        } else {
            value
        };
        Line::from(vec![
            Span::styled(format!("{key:>18}  "), theme.dim()),
            Span::raw(value),
        ])
    };
    let mut lines = Vec::new();
    if let Some(account) = selected {
        for (key, value) in account.lines() {
            lines.push(row(key, value));
        }
    }
    if in_use {
        let state = match &app.registration {
            RegistrationState::Idle => "not registered".to_owned(),
            RegistrationState::Registering => "registering…".to_owned(),
            RegistrationState::Registered { expires, .. } => format!("registered ({expires} s)"),
            RegistrationState::Failed { reason, .. } => match app.retry_left() {
                Some(wait) => format!("failed: {reason}; retry in {}", crate::text::duration(wait)),
                None => format!("failed: {reason}"),
            },
            RegistrationState::Unregistered => "unregistered".to_owned(),
        };
        lines.push(row("registration", state));
        if !app.next_hop.is_empty() {
            lines.push(row("next hop", app.next_hop.clone()));
        }
    }
    lines.push(Line::raw(""));
    for (key, value) in &app.settings {
        lines.push(row(key, value.clone()));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
