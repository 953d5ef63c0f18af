//! The SIP trace screen: flows by Call-ID (like sngrep), a ladder of the selected flow,
//! and one message in full.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use ims_core::driver::trace::Direction;

use super::Theme;
use crate::app::{App, TraceView};
use crate::text::{clock_millis, fit, short_aor};
use crate::trace::Flow;

pub(super) fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let flows = app.trace.flows();
    match app.trace_view {
        TraceView::Flows => flow_list(app, theme, frame, area),
        TraceView::Ladder(index) => match flows.get(app.trace_selected) {
            Some(flow) => ladder(app, flow, index, theme, frame, area),
            None => flow_list(app, theme, frame, area),
        },
        TraceView::Message(index) => match flows.get(app.trace_selected) {
            Some(flow) => message(app, flow, index, theme, frame, area),
            None => flow_list(app, theme, frame, area),
        },
    }
}

fn flow_list(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let flows = app.trace.flows();
    let block = Block::bordered()
        .title(format!(
            " SIP trace: {} flows, {} messages ",
            flows.len(),
            app.trace.len()
        ))
        .border_style(theme.accent());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if flows.is_empty() {
        frame.render_widget(
            Paragraph::new("No SIP messages yet.").style(theme.dim()),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let height = usize::from(inner.height).saturating_sub(1);
    let column = (width.saturating_sub(12 + 10 + 5 + 8 + 4)) / 2;
    let mut lines = vec![Line::styled(
        format!(
            "{:<12} {:<10} {:<w$} {:<w$} {:>4} {:<8}",
            "time",
            "method",
            "from",
            "to",
            "msgs",
            "state",
            w = column
        ),
        theme.dim(),
    )];
    let first = super::first_visible(app.trace_selected, height);
    for (index, flow) in flows.iter().enumerate().skip(first).take(height) {
        let at = flow
            .entries
            .first()
            .and_then(|seq| app.trace.entry(*seq))
            .map(|e| clock_millis(e.record.at, app.utc_offset))
            .unwrap_or_default();
        let state = flow
            .last_status
            .map_or_else(|| "…".to_owned(), |s| s.to_string());
        let state_style = match flow.last_status {
            Some(200..=299) => theme.ok(),
            Some(300..) => theme.error(),
            _ => theme.warn(),
        };
        let mut line = Line::from(vec![
            Span::raw(format!(
                "{:<12} {:<10} {:<w$} {:<w$} {:>4} ",
                fit(&at, 12),
                fit(&flow.method, 10),
                fit(short_aor(&flow.from), column),
                fit(short_aor(&flow.to), column),
                flow.entries.len(),
                w = column
            )),
            Span::styled(state, state_style),
        ]);
        if index == app.trace_selected {
            line = line.patch_style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn ladder(
    app: &App,
    flow: &Flow,
    selected: usize,
    theme: Theme,
    frame: &mut Frame<'_>,
    area: Rect,
) {
    let block = Block::bordered()
        .title(format!(" {} {} ", flow.method, flow.call_id))
        .title_bottom(" j/k select · Enter full message · Esc back ")
        .border_style(theme.accent());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let entries: Vec<_> = flow
        .entries
        .iter()
        .filter_map(|seq| app.trace.entry(*seq))
        .collect();
    let Some(first) = entries.first() else {
        return;
    };
    let local = first.record.local.to_string();
    let remote = first.record.remote.to_string();
    let width = usize::from(inner.width);
    // The lane between the two vertical lines: arrows are exactly this wide.
    let lane = width.saturating_sub(14 + 2).clamp(24, 64);
    let inside = lane.saturating_sub(2);
    let mut lines = vec![Line::styled(
        format!(
            "{:<14}{local:<half$}{remote:>rest$}",
            "",
            half = lane / 2,
            rest = lane - lane / 2
        ),
        theme.accent(),
    )];
    let height = usize::from(inner.height).saturating_sub(1);
    let start = selected.saturating_sub(height.saturating_sub(1));
    for (index, entry) in entries.iter().enumerate().skip(start).take(height) {
        let label = fit(
            &format!(
                " {} ({}) ",
                entry.summary,
                entry.record.transport.to_string().to_uppercase()
            ),
            inside.saturating_sub(4),
        );
        let dashes = "─".repeat(inside.saturating_sub(label.chars().count() + 2));
        let arrow = match entry.record.direction {
            Direction::Sent => format!("│─{label}{dashes}>│"),
            Direction::Received => format!("│<{label}{dashes}─│"),
        };
        let style = match entry.status {
            Some(200..=299) => theme.ok(),
            Some(300..) => theme.error(),
            Some(_) => theme.warn(),
            None => theme.me(),
        };
        let mut line = Line::from(vec![
            Span::styled(
                format!("{:<14}", clock_millis(entry.record.at, app.utc_offset)),
                theme.dim(),
            ),
            Span::styled(arrow, style),
        ]);
        if index == selected {
            line = line.patch_style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn message(app: &App, flow: &Flow, index: usize, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let Some(entry) = flow
        .entries
        .get(index)
        .and_then(|seq| app.trace.entry(*seq))
    else {
        return;
    };
    let record = &entry.record;
    let (from, to) = match record.direction {
        Direction::Sent => (record.local, record.remote),
        Direction::Received => (record.remote, record.local),
    };
    let block = Block::bordered()
        .title(format!(
            " {} {} {from} → {to} ({} bytes) ",
            clock_millis(record.at, app.utc_offset),
            record.transport,
            record.bytes.len()
        ))
        .title_bottom(" j/k previous/next message · Esc back to the ladder ")
        .border_style(theme.accent());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = String::from_utf8_lossy(&record.bytes);
    let lines: Vec<Line<'_>> = text
        .lines()
        .take(usize::from(inner.height))
        .map(|line| match line.split_once(':') {
            Some((name, value)) if !name.contains(' ') => Line::from(vec![
                Span::styled(name.to_owned(), theme.accent()),
                Span::raw(format!(":{value}")),
            ]),
            _ => Line::raw(line.to_owned()),
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
