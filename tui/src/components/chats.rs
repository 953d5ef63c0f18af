//! The Chats screen: contacts and groups on the left, the open conversation and the
//! input on the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use ims_core::store::{Direction, GroupMode, MessageState};

use super::{Theme, set_cursor};
use crate::action::{MessageRow, Pane};
use crate::app::{App, ListEntry, Mode};
use crate::text::{fit, stamp};

/// Where the list, the conversation and the input go in `area` (the mouse needs it too).
pub fn areas(app: &App, area: Rect) -> [Rect; 3] {
    let list_width = (area.width / 3).clamp(20, 36);
    let [list, right] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(20)]).areas(area);
    let input_lines = u16::try_from(app.input.text().lines().count().clamp(1, 6)).unwrap_or(1);
    let [messages, input] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(input_lines + 2)]).areas(right);
    [list, messages, input]
}

pub(super) fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let [list, messages, input] = areas(app, area);
    contact_list(app, theme, frame, list);
    conversation(app, theme, frame, messages);
    input_box(app, theme, frame, input);
}

fn contact_list(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let focused = app.pane == Pane::List;
    let title = if app.filter.is_empty() {
        " Contacts ".to_owned()
    } else {
        format!(" Contacts /{} ", app.filter.text())
    };
    let block = Block::bordered()
        .title(title)
        .border_style(theme.border(focused || app.mode == Mode::Filter));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let entries = app.entries();
    if entries.is_empty() {
        let text = if app.filter.is_empty() {
            "No contacts yet.\n\na  add a contact\nn  new group\n:msg bob hi"
        } else {
            "Nothing matches."
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    // Keep the selection visible: scroll so it sits on the last row at most.
    let first = super::first_visible(app.selected, height);
    let open = app.chat.as_ref().map(|c| &c.data.target);
    let mut lines = Vec::new();
    for (index, entry) in entries.iter().enumerate().skip(first).take(height) {
        let icon = match entry {
            ListEntry::Group(group) if group.mode == GroupMode::Network => "#",
            ListEntry::Group(_) => "*",
            ListEntry::Contact(contact) if contact.unknown => "?",
            ListEntry::Contact(_) => " ",
            ListEntry::Other(_) => "·",
        };
        let target = entry.target();
        let unread = app.unread(&target);
        let badge = if unread > 0 {
            format!(" {unread}")
        } else {
            String::new()
        };
        let label = fit(
            &entry.label(),
            width.saturating_sub(3 + badge.chars().count()),
        );
        let mut style = Style::new();
        if unread > 0 {
            style = style.add_modifier(Modifier::BOLD);
        }
        if open == Some(&target) {
            style = style.patch(theme.accent());
        }
        if index == app.selected && (focused || app.mode == Mode::Filter) {
            style = style.patch(theme.selected());
        }
        let pad = width.saturating_sub(2 + label.chars().count() + badge.chars().count());
        lines.push(Line::from(vec![
            Span::styled(format!("{icon} "), theme.dim()),
            Span::styled(format!("{label}{}", " ".repeat(pad)), style),
            Span::styled(badge, theme.warn().add_modifier(Modifier::BOLD)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn state_span(message: &MessageRow, theme: Theme) -> Option<Span<'static>> {
    if message.direction == Direction::Incoming {
        return None;
    }
    Some(match message.state {
        MessageState::Queued => Span::styled(" · queued", theme.warn()),
        MessageState::Sending => Span::styled(" … sending", theme.warn()),
        MessageState::Sent => Span::styled(" ✓ sent", theme.dim()),
        MessageState::Delivered => Span::styled(" ✓✓ delivered", theme.ok()),
        MessageState::Displayed => Span::styled(" ✓✓ read", theme.ok()),
        MessageState::Failed => Span::styled(
            format!(
                " ✗ failed: {} (r retries)",
                message.failure.as_deref().unwrap_or("unknown reason")
            ),
            theme.error(),
        ),
    })
}

/// `text` cut into lines of at most `width` characters, on spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut count = 0;
        for word in paragraph.split(' ') {
            let word_len = word.chars().count();
            if count > 0 && count + 1 + word_len > width {
                lines.push(std::mem::take(&mut line));
                count = 0;
            }
            if count > 0 {
                line.push(' ');
                count += 1;
            }
            // A word longer than the line is cut.
            for c in word.chars() {
                if count == width {
                    lines.push(std::mem::take(&mut line));
                    count = 0;
                }
                line.push(c);
                count += 1;
            }
        }
        lines.push(line);
    }
    lines
}

fn message_lines(
    app: &App,
    message: &MessageRow,
    theme: Theme,
    width: usize,
    selected: bool,
) -> Vec<Line<'static>> {
    let name_style = match message.direction {
        Direction::Outgoing => theme.me(),
        Direction::Incoming => theme.them(),
    };
    let mut header = vec![
        Span::styled(stamp(message.at, app.now, app.utc_offset), theme.dim()),
        Span::raw(" "),
        Span::styled(message.sender.clone(), name_style),
    ];
    header.extend(state_span(message, theme));
    let mut lines = vec![Line::from(header)];
    for text in wrap(&message.body, width.saturating_sub(2)) {
        lines.push(Line::raw(format!("  {text}")));
    }
    if selected {
        for line in &mut lines {
            *line = std::mem::take(line).patch_style(theme.selected());
        }
    }
    lines
}

fn conversation(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let focused = app.pane == Pane::Messages;
    let Some(chat) = &app.chat else {
        let block = Block::bordered().border_style(theme.border(focused));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new("Pick a contact or group and press Enter.\n? shows every key.")
                .style(theme.dim()),
            inner,
        );
        return;
    };
    let group = matches!(chat.data.target, crate::action::Target::Group(_));
    let title = if group {
        format!(" # {} ", chat.data.title)
    } else {
        format!(" {} ", chat.data.title)
    };
    let block = Block::bordered()
        .title(title)
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let messages = &chat.data.messages;
    if messages.is_empty() {
        frame.render_widget(
            Paragraph::new("No messages yet. Type below and press Enter.").style(theme.dim()),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    // Anchor the selected (or newest) message at the bottom and build upwards only as
    // many messages as fit: a long conversation costs what the screen shows.
    let anchor = chat
        .selected
        .unwrap_or(messages.len() - 1)
        .min(messages.len() - 1);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for index in (0..=anchor).rev() {
        let selected = focused && chat.selected == Some(index);
        let mut block = message_lines(app, &messages[index], theme, width, selected);
        block.append(&mut lines);
        lines = block;
        if lines.len() >= height {
            break;
        }
    }
    if lines.len() < height && chat.data.has_older && anchor == messages.len() - 1 {
        lines.insert(
            0,
            Line::styled("  ↑ older messages (k / PgUp)", theme.dim()),
        );
    }
    let skip = lines.len().saturating_sub(height);
    let lines: Vec<Line<'static>> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn input_box(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let focused = app.pane == Pane::Input && app.mode == Mode::Normal;
    let title = match &app.chat {
        Some(chat) => format!(" to {} ", chat.data.title),
        None => " message ".to_owned(),
    };
    let block = Block::bordered()
        .title(title)
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = app.input.text();
    let before = &text[..app.input.cursor()];
    let row = before.matches('\n').count();
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count();
    let height = usize::from(inner.height);
    let first = row.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line<'static>> = text
        .split('\n')
        .skip(first)
        .take(height)
        .map(|l| Line::raw(l.to_owned()))
        .collect();
    if text.is_empty() && !focused {
        frame.render_widget(
            Paragraph::new("i to type, Enter to send").style(theme.dim()),
            inner,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
    if focused {
        set_cursor(frame, inner, column, row - first);
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_breaks_on_spaces_and_cuts_long_words() {
        assert_eq!(wrap("hello big world", 9), vec!["hello big", "world"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("one\ntwo", 10), vec!["one", "two"]);
        assert_eq!(wrap("", 10), vec![""]);
    }
}
