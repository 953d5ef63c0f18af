//! The Account screen: what the config file says (secrets masked) and where things are.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::Theme;
use crate::app::App;

pub(super) fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::bordered()
        .title(" Account ")
        .title_bottom(" edit the config file to change; it is re-read at start ")
        .border_style(theme.accent());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines: Vec<Line<'_>> = app
        .settings
        .iter()
        .map(|(key, value)| {
            Line::from(vec![
                Span::styled(format!("{key:>20}  "), theme.dim()),
                Span::raw(value.as_str()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
