//! Mouse events to actions: a click on a tab of the status bar shows that screen, a
//! click on a list row selects it (a second click opens it), a click on a pane
//! focuses it, and the wheel scrolls what is under it. Pure, like the keymap: the
//! same layout functions as the renders say where things are.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use crate::action::{Action, Pane, Screen};
use crate::app::{App, Mode, TraceView};
use crate::components::{chats, first_visible, frame_areas, settings, tabs};

/// Rows one wheel notch scrolls.
pub const WHEEL_ROWS: usize = 3;

/// The actions a mouse event means for a terminal of `size`, in order.
pub fn actions(app: &App, event: MouseEvent, size: Rect) -> Vec<Action> {
    let at = Position::new(event.column, event.row);
    let wheel = match event.kind {
        MouseEventKind::ScrollUp => Some(Action::Up),
        MouseEventKind::ScrollDown => Some(Action::Down),
        MouseEventKind::Down(MouseButton::Left) => None,
        _ => return Vec::new(),
    };
    // Over a form or a question, the mouse does nothing; over the help, the wheel
    // scrolls it.
    if app.form.is_some() || app.confirm.is_some() || app.mode == Mode::Command {
        return Vec::new();
    }
    if app.help {
        return wheel.map(|step| vec![step; WHEEL_ROWS]).unwrap_or_default();
    }
    let [top, main, _] = frame_areas(size);
    if let Some(step) = wheel {
        let mut actions = match app.screen {
            Screen::Chats => match chats_pane(app, main, at) {
                Some(pane) if pane != app.pane => vec![Action::Focus(pane)],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        actions.extend(std::iter::repeat_n(step, WHEEL_ROWS));
        return actions;
    }
    if top.contains(at) {
        return tab_at(app, top, at.x)
            .map(Action::ShowScreen)
            .into_iter()
            .collect();
    }
    if !main.contains(at) {
        return Vec::new();
    }
    match app.screen {
        Screen::Chats => {
            let Some(pane) = chats_pane(app, main, at) else {
                return Vec::new();
            };
            let mut actions = Vec::new();
            if pane != app.pane {
                actions.push(Action::Focus(pane));
            }
            if pane == Pane::List {
                let [list, _, _] = chats::areas(app, main);
                if let Some(row) = row_at(list, 0, app.selected, app.entries().len(), at) {
                    actions.extend(pick(row, app.selected, app.pane == Pane::List));
                }
            }
            actions
        }
        Screen::History => row_at(main, 0, app.history.selected, app.history.rows.len(), at)
            .map(|row| pick(row, app.history.selected, true))
            .unwrap_or_default(),
        // The flow list has a header row.
        Screen::Trace if app.trace_view == TraceView::Flows => {
            row_at(main, 1, app.trace_selected, app.trace.flows().len(), at)
                .map(|row| pick(row, app.trace_selected, true))
                .unwrap_or_default()
        }
        Screen::Trace => Vec::new(),
        Screen::Settings => {
            let [list, _] = settings::areas(main);
            row_at(list, 0, app.account_selected, app.accounts.len(), at)
                .map(|row| vec![Action::Select(row)])
                .unwrap_or_default()
        }
    }
}

/// The tab under column `x` of the status bar (tabs sit at its right end).
fn tab_at(app: &App, bar: Rect, x: u16) -> Option<Screen> {
    let tabs = tabs(app, bar.width);
    let total: usize = tabs.iter().map(|(text, _)| text.chars().count()).sum();
    let mut start = usize::from(bar.right()).saturating_sub(total);
    let x = usize::from(x);
    for (text, screen) in tabs {
        let end = start + text.chars().count();
        if (start..end).contains(&x) {
            return Some(screen);
        }
        start = end;
    }
    None
}

/// The pane of the Chats screen under `at`.
fn chats_pane(app: &App, main: Rect, at: Position) -> Option<Pane> {
    let [list, messages, input] = chats::areas(app, main);
    [
        (list, Pane::List),
        (messages, Pane::Messages),
        (input, Pane::Input),
    ]
    .into_iter()
    .find(|(area, _)| area.contains(at))
    .map(|(_, pane)| pane)
}

/// The list row under `at` in a bordered `area` whose rows start `header` lines below
/// the top border, scrolled as the render scrolls it for `selected`; `None` past the
/// list's `len` rows.
fn row_at(area: Rect, header: u16, selected: usize, len: usize, at: Position) -> Option<usize> {
    let top = area.y.saturating_add(1).saturating_add(header);
    let bottom = area.bottom().saturating_sub(1);
    if at.y < top || at.y >= bottom || at.x <= area.x || at.x >= area.right().saturating_sub(1) {
        return None;
    }
    let height = usize::from(bottom - top);
    let row = first_visible(selected, height) + usize::from(at.y - top);
    (row < len).then_some(row)
}

/// Selects `row`; a click on the row already selected (in a focused list) opens it.
fn pick(row: usize, selected: usize, focused: bool) -> Vec<Action> {
    if focused && row == selected {
        vec![Action::Select(row), Action::Open]
    } else {
        vec![Action::Select(row)]
    }
}
