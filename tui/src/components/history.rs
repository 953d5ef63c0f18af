//! The History screen: every message of the account, newest first, filtered by
//! direction (calls join when the calls issue lands).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use ims_core::store::{Direction, HistoryFilter, MessageState};

use super::Theme;
use crate::app::App;
use crate::text::{fit, stamp};

pub(super) fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let filter = match app.history.filter {
        HistoryFilter::All => "all",
        HistoryFilter::Incoming => "received",
        HistoryFilter::Outgoing => "sent",
        HistoryFilter::Failed => "failed",
    };
    let block = Block::bordered()
        .title(format!(" History: {filter} ({}) ", app.history.rows.len()))
        .title_bottom(" f: all / received / sent / failed ")
        .border_style(theme.accent());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.history.rows.is_empty() {
        frame.render_widget(
            Paragraph::new("Nothing here yet.").style(theme.dim()),
            inner,
        );
        return;
    }
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let first = super::first_visible(app.history.selected, height);
    let mut lines = Vec::new();
    for (index, row) in app.history.rows.iter().enumerate().skip(first).take(height) {
        let (arrow, arrow_style) = match (row.direction, row.state) {
            (Direction::Incoming, _) => ("←", theme.them()),
            (Direction::Outgoing, MessageState::Failed) => ("✗", theme.error()),
            (Direction::Outgoing, _) => ("→", theme.me()),
        };
        let when = format!("{:>16}", stamp(row.at, app.now, app.utc_offset));
        let who = fit(&row.conversation, 16);
        let state = match row.direction {
            Direction::Incoming => String::new(),
            Direction::Outgoing => format!(" [{}]", row.state),
        };
        let used = 16 + 3 + 17 + state.chars().count() + 1;
        let body = fit(&row.body.replace('\n', " "), width.saturating_sub(used));
        let mut line = Line::from(vec![
            Span::styled(when, theme.dim()),
            Span::raw(" "),
            Span::styled(arrow, arrow_style),
            Span::raw(" "),
            Span::styled(format!("{who:<16}"), theme.accent()),
            Span::raw(" "),
            Span::raw(body),
            Span::styled(state, theme.dim()),
        ]);
        if index == app.history.selected {
            line = line.patch_style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
