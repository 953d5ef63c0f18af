//! Keys to actions, by what the keyboard is typing into. Vim keys and arrows both work.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::action::{Action, Pane, Screen};
use crate::app::{App, Mode};
use crate::editor::Edit;

/// The help overlay: every key, by where it works.
pub const HELP: &[(&str, &[(&str, &str)])] = &[
    (
        "Everywhere",
        &[
            ("1 2 3 4", "Chats, History, SIP trace, Account"),
            ("Tab / S-Tab", "next / previous pane (or screen)"),
            ("j k ↑ ↓", "move; PgUp PgDn, g G / Home End"),
            (":", "command line (:help in the list below)"),
            ("?", "this help"),
            ("q, Ctrl-C", "quit (de-registers first)"),
            ("Esc", "back / close / clear"),
            ("mouse", "click a tab or row (again: open); wheel scrolls"),
        ],
    ),
    (
        "Chats",
        &[
            ("Enter", "open the selected conversation"),
            ("i", "type a message; Enter sends"),
            ("Alt-Enter, Ctrl-J", "new line in a message"),
            ("/", "filter contacts as you type"),
            ("a / n", "add contact / new group"),
            ("e / d", "edit / delete the selected entry"),
            ("r", "retry the selected (or last) failed message"),
        ],
    ),
    (
        "Account",
        &[
            ("Enter", "use the selected account (registers it)"),
            ("e / a", "edit the selected account / add one"),
            ("Tab / ↑ ↓", "in the form: next / previous field"),
        ],
    ),
    (
        "History and trace",
        &[
            ("f", "History: all / in / out / failed"),
            ("Enter, v", "Trace: ladder, then one message"),
            (":export FILE", "trace to FILE (.pcap, else text)"),
        ],
    ),
    (
        "Commands",
        &[
            (":msg WHO TEXT", "send (contact, group, user or sip: URI)"),
            (":open WHO", "open a conversation"),
            (":add ADDRESS [NAME]", "add a contact"),
            (":group create NAME M1 M2…", "new group (--fanout: client)"),
            (":group add|remove NAME M…", "change members"),
            (":group mode NAME network|fanout", "change how it is sent"),
            (":retry  :history  :trace  :q", ""),
        ],
    ),
];

/// The action a key means in the app's current state, if any.
pub fn action(app: &App, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if app.help {
        return match key.code {
            KeyCode::Char('q') if app.mode == Mode::Normal => Some(Action::Quit),
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Down),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Up),
            _ => Some(Action::ToggleHelp),
        };
    }
    match app.mode {
        Mode::Confirm => match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Confirm(true)),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Confirm(false)),
            _ => None,
        },
        Mode::Command | Mode::Filter | Mode::Form => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Up if app.mode == Mode::Filter => Some(Action::Up),
            KeyCode::Down if app.mode == Mode::Filter => Some(Action::Down),
            KeyCode::Tab | KeyCode::Down if app.mode == Mode::Form => Some(Action::NextPane),
            KeyCode::BackTab | KeyCode::Up if app.mode == Mode::Form => Some(Action::PrevPane),
            _ => text_edit(key, ctrl, alt, false).map(Action::Edit),
        },
        Mode::Normal if app.screen == Screen::Chats && app.pane == Pane::Input => match key.code {
            KeyCode::Enter if alt || key.modifiers.contains(KeyModifiers::SHIFT) => {
                Some(Action::Edit(Edit::Newline))
            }
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Tab => Some(Action::NextPane),
            KeyCode::BackTab => Some(Action::PrevPane),
            KeyCode::Up if app.input.is_empty() => Some(Action::Up),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown => Some(Action::PageDown),
            _ => text_edit(key, ctrl, alt, true).map(Action::Edit),
        },
        Mode::Normal => normal(app, key, ctrl),
    }
}

fn normal(app: &App, key: KeyEvent, ctrl: bool) -> Option<Action> {
    if ctrl {
        return match key.code {
            KeyCode::Char('d') => Some(Action::PageDown),
            KeyCode::Char('u') => Some(Action::PageUp),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char(':') => Action::StartCommand,
        KeyCode::Char('1') => Action::ShowScreen(Screen::Chats),
        KeyCode::Char('2') => Action::ShowScreen(Screen::History),
        KeyCode::Char('3') => Action::ShowScreen(Screen::Trace),
        KeyCode::Char('4') => Action::ShowScreen(Screen::Settings),
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('l') | KeyCode::Right if app.screen == Screen::Chats => Action::Open,
        KeyCode::Char('h') | KeyCode::Left if app.screen == Screen::Chats => {
            Action::Focus(Pane::List)
        }
        KeyCode::Esc => Action::Cancel,
        KeyCode::Char('i') if app.screen == Screen::Chats => Action::Focus(Pane::Input),
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('a') if app.screen == Screen::Chats => Action::NewContact,
        KeyCode::Char('a') if app.screen == Screen::Settings => Action::NewAccount,
        KeyCode::Char('e') if app.screen == Screen::Settings => Action::EditSelected,
        KeyCode::Char('n') if app.screen == Screen::Chats => Action::NewGroup,
        KeyCode::Char('e') if app.screen == Screen::Chats => Action::EditSelected,
        KeyCode::Char('d') if app.screen == Screen::Chats => Action::DeleteSelected,
        KeyCode::Char('r') if app.screen == Screen::Chats => Action::Retry,
        KeyCode::Char('f') if app.screen == Screen::History => Action::CycleHistoryFilter,
        KeyCode::Char('v') if app.screen == Screen::Trace => Action::ToggleTraceDetail,
        _ => return None,
    })
}

fn text_edit(key: KeyEvent, ctrl: bool, alt: bool, multiline: bool) -> Option<Edit> {
    if ctrl {
        return match key.code {
            KeyCode::Char('w') => Some(Edit::DeleteWord),
            KeyCode::Char('u') => Some(Edit::DeleteToStart),
            KeyCode::Char('a') => Some(Edit::Home),
            KeyCode::Char('e') => Some(Edit::End),
            KeyCode::Char('j') if multiline => Some(Edit::Newline),
            KeyCode::Char('h') => Some(Edit::Backspace),
            _ => None,
        };
    }
    if alt {
        return None;
    }
    match key.code {
        KeyCode::Char(c) => Some(Edit::Insert(c)),
        KeyCode::Backspace => Some(Edit::Backspace),
        KeyCode::Delete => Some(Edit::Delete),
        KeyCode::Left => Some(Edit::Left),
        KeyCode::Right => Some(Edit::Right),
        KeyCode::Home => Some(Edit::Home),
        KeyCode::End => Some(Edit::End),
        _ => None,
    }
}
