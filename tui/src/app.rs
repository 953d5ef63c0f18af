//! The application state and its one entry point, [`App::update`].

use std::time::SystemTime;

use ims_core::store::{Aor, HistoryFilter, MessageState};

use crate::action::{
    Action, ContactRow, ConversationData, Directory, Effect, FormKind, GroupRow, MessageRow,
    Notice, Pane, RegistrationState, Screen, Target,
};
use crate::editor::{Edit, Editor};
use crate::trace::TraceLog;

pub use crate::forms::Form;

/// Longest text the chat input takes (bytes). Larger than one UDP MESSAGE on purpose:
/// the engine sends big ones over TCP or refuses them with a clear reason.
pub const INPUT_LIMIT: usize = 8000;

/// How many trace messages are kept.
pub const TRACE_CAPACITY: usize = 5000;

/// What the keyboard is typing into, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Keys are commands (or chat input when the input pane has focus).
    #[default]
    Normal,
    /// Typing the list filter.
    Filter,
    /// Typing a `:` command.
    Command,
    /// Filling a form.
    Form,
    /// Answering a yes/no question.
    Confirm,
}

/// The open conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    /// Its messages and title.
    pub data: ConversationData,
    /// The selected message (for retry), an index into `data.messages`.
    pub selected: Option<usize>,
}

/// The history screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct History {
    /// Which messages.
    pub filter: HistoryFilter,
    /// The loaded page, newest first.
    pub rows: Vec<MessageRow>,
    /// Selected row.
    pub selected: usize,
}

/// What the trace screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceView {
    /// The list of flows.
    #[default]
    Flows,
    /// The ladder of the selected flow; the index selects one of its messages.
    Ladder(usize),
    /// One message in full (flow message index).
    Message(usize),
}

/// One entry of the contact list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEntry<'a> {
    /// A group.
    Group(&'a GroupRow),
    /// A contact (or unknown sender).
    Contact(&'a ContactRow),
    /// Someone we talked to who is no contact.
    Other(&'a Aor),
}

impl ListEntry<'_> {
    /// The conversation it opens.
    pub fn target(&self) -> Target {
        match self {
            ListEntry::Group(group) => Target::Group(group.id),
            ListEntry::Contact(contact) => Target::Peer(contact.aor.clone()),
            ListEntry::Other(aor) => Target::Peer((*aor).clone()),
        }
    }

    /// What the list shows.
    pub fn label(&self) -> String {
        match self {
            ListEntry::Group(group) => group.name.clone(),
            ListEntry::Contact(contact) => contact.label(),
            ListEntry::Other(aor) => crate::text::short_aor(aor.as_str()).to_owned(),
        }
    }

    fn matches(&self, filter: &str) -> bool {
        if filter.is_empty() {
            return true;
        }
        let filter = filter.to_lowercase();
        let address = match self {
            ListEntry::Group(group) => group.uri.as_str(),
            ListEntry::Contact(contact) => contact.aor.as_str(),
            ListEntry::Other(aor) => aor.as_str(),
        };
        self.label().to_lowercase().contains(&filter) || address.to_lowercase().contains(&filter)
    }
}

/// The whole state of imsphone.
#[derive(Debug, Clone)]
pub struct App {
    /// Wall-clock now, set by the loop (render never reads the clock).
    pub now: SystemTime,
    /// Local time offset east of UTC, seconds.
    pub utc_offset: i32,
    /// The account's AOR.
    pub aor: String,
    /// The next hop (P-CSCF) in use.
    pub next_hop: String,
    /// Registration state.
    pub registration: RegistrationState,
    /// When the failed registration is tried again (wall clock), for the countdown.
    pub retry_at: Option<SystemTime>,
    /// Contacts, groups and activity.
    pub directory: Directory,
    /// The screen shown.
    pub screen: Screen,
    /// The focused pane of the Chats screen.
    pub pane: Pane,
    /// What keys type into.
    pub mode: Mode,
    /// Selected list entry (index into the filtered entries).
    pub selected: usize,
    /// The list filter.
    pub filter: Editor,
    /// The `:` command line.
    pub command: Editor,
    /// The chat input.
    pub input: Editor,
    /// The open conversation.
    pub chat: Option<Chat>,
    /// The history screen.
    pub history: History,
    /// The SIP trace.
    pub trace: TraceLog,
    /// Selected trace flow.
    pub trace_selected: usize,
    /// What the trace screen shows.
    pub trace_view: TraceView,
    /// Where things are (config file, store, log), for the Account screen.
    pub settings: Vec<(String, String)>,
    /// The configured accounts (secrets only as set or not).
    pub accounts: Vec<crate::settings::AccountSummary>,
    /// The account in use (index into `accounts`).
    pub account_active: usize,
    /// The account selected on the Account screen.
    pub account_selected: usize,
    /// The help overlay is up.
    pub help: bool,
    /// Lines the help overlay is scrolled down.
    pub help_scroll: usize,
    /// The bottom line.
    pub notice: Option<Notice>,
    /// The open form.
    pub form: Option<Form>,
    /// A question waiting for y/n, and what yes does.
    pub confirm: Option<(String, Effect)>,
    /// Quit was asked for.
    pub quitting: bool,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// The colours the terminal can show.
    pub palette: crate::components::Palette,
}

impl App {
    /// A fresh state for `aor`.
    pub fn new(aor: &str, now: SystemTime) -> App {
        App {
            now,
            utc_offset: 0,
            aor: aor.to_owned(),
            next_hop: String::new(),
            registration: RegistrationState::Idle,
            retry_at: None,
            directory: Directory::default(),
            screen: Screen::Chats,
            pane: Pane::List,
            mode: Mode::Normal,
            selected: 0,
            filter: Editor::line(100),
            command: Editor::line(1000),
            input: Editor::multiline(INPUT_LIMIT),
            chat: None,
            history: History::default(),
            trace: TraceLog::new(TRACE_CAPACITY),
            trace_selected: 0,
            trace_view: TraceView::Flows,
            settings: Vec::new(),
            accounts: Vec::new(),
            account_active: 0,
            account_selected: 0,
            help: false,
            help_scroll: 0,
            notice: None,
            form: None,
            confirm: None,
            quitting: false,
            dirty: true,
            palette: crate::components::Palette::Ansi16,
        }
    }

    /// The list entries that pass the filter: groups, contacts, unknown senders, then
    /// others talked to.
    pub fn entries(&self) -> Vec<ListEntry<'_>> {
        let filter = self.filter.text();
        let mut entries: Vec<ListEntry<'_>> = Vec::new();
        entries.extend(self.directory.groups.iter().map(ListEntry::Group));
        entries.extend(
            self.directory
                .contacts
                .iter()
                .filter(|c| !c.unknown)
                .map(ListEntry::Contact),
        );
        entries.extend(
            self.directory
                .contacts
                .iter()
                .filter(|c| c.unknown)
                .map(ListEntry::Contact),
        );
        for activity in &self.directory.activity {
            if let Target::Peer(aor) = &activity.target
                && !self.directory.contacts.iter().any(|c| &c.aor == aor)
            {
                entries.push(ListEntry::Other(aor));
            }
        }
        entries.retain(|entry| entry.matches(filter));
        entries
    }

    /// Unread messages of a conversation.
    pub fn unread(&self, target: &Target) -> u32 {
        self.directory
            .activity
            .iter()
            .find(|a| &a.target == target)
            .map_or(0, |a| a.unread)
    }

    /// Unread messages over all conversations.
    pub fn total_unread(&self) -> u32 {
        self.directory.activity.iter().map(|a| a.unread).sum()
    }

    /// How long until the failed registration is tried again, counting down with
    /// `now`.
    pub fn retry_left(&self) -> Option<std::time::Duration> {
        let at = self.retry_at?;
        Some(at.duration_since(self.now).unwrap_or_default())
    }

    /// The title of a conversation.
    pub fn title(&self, target: &Target) -> String {
        match target {
            Target::Group(id) => self
                .directory
                .groups
                .iter()
                .find(|g| g.id == *id)
                .map_or_else(|| format!("group {id}"), |g| g.name.clone()),
            Target::Peer(aor) => self
                .directory
                .contacts
                .iter()
                .find(|c| &c.aor == aor)
                .map_or_else(
                    || crate::text::short_aor(aor.as_str()).to_owned(),
                    ContactRow::label,
                ),
        }
    }

    pub(crate) fn selected_entry(&self) -> Option<ListEntry<'_>> {
        self.entries().get(self.selected).copied()
    }

    pub(crate) fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice::Error(text.into()));
    }

    /// Applies an action; returns what the backend must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let was_dirty = self.dirty;
        self.dirty = true;
        match action {
            Action::Tick(now) => {
                self.now = now;
                Vec::new()
            }
            Action::Resize => Vec::new(),
            Action::Quit => {
                self.quitting = true;
                vec![Effect::Quit]
            }
            Action::ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
                Vec::new()
            }
            Action::Up if self.help => {
                self.help_scroll = self.help_scroll.saturating_sub(1);
                Vec::new()
            }
            Action::Down if self.help => {
                self.help_scroll = (self.help_scroll + 1).min(100);
                Vec::new()
            }
            Action::ShowScreen(screen) => self.show(screen),
            Action::NextPane if self.mode == Mode::Form => {
                self.form_focus(true);
                Vec::new()
            }
            Action::PrevPane if self.mode == Mode::Form => {
                self.form_focus(false);
                Vec::new()
            }
            Action::NextPane => {
                self.cycle_pane(true);
                Vec::new()
            }
            Action::PrevPane => {
                self.cycle_pane(false);
                Vec::new()
            }
            Action::Focus(pane) => {
                self.screen = Screen::Chats;
                self.pane = pane;
                Vec::new()
            }
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            Action::PageUp => self.step(-10),
            Action::PageDown => self.step(10),
            Action::Top => self.step(i64::MIN / 2),
            Action::Bottom => self.step(i64::MAX / 2),
            Action::Select(row) => {
                self.select(row);
                Vec::new()
            }
            Action::Open => self.open(),
            Action::Edit(edit) => {
                self.edit(&edit);
                Vec::new()
            }
            Action::Submit => self.submit(),
            Action::Cancel => {
                self.cancel();
                Vec::new()
            }
            Action::StartFilter => {
                self.screen = Screen::Chats;
                self.pane = Pane::List;
                self.mode = Mode::Filter;
                Vec::new()
            }
            Action::StartCommand => {
                self.mode = Mode::Command;
                self.command.clear();
                Vec::new()
            }
            Action::Retry => self.retry(),
            Action::NewContact => {
                self.open_form(FormKind::AddContact);
                Vec::new()
            }
            Action::NewGroup => {
                self.open_form(FormKind::NewGroup);
                Vec::new()
            }
            Action::NewAccount => {
                self.open_form(FormKind::Account(None));
                Vec::new()
            }
            Action::Accounts {
                accounts,
                active,
                paths,
            } => {
                self.accounts_changed(accounts, active, paths);
                Vec::new()
            }
            Action::EditSelected if self.screen == Screen::Settings => {
                if self.accounts.get(self.account_selected).is_some() {
                    self.open_form(FormKind::Account(Some(self.account_selected)));
                } else {
                    self.error("no account selected; a adds one");
                }
                Vec::new()
            }
            Action::EditSelected => {
                match self.selected_entry() {
                    Some(ListEntry::Contact(contact)) => {
                        let id = contact.id;
                        self.open_form(FormKind::EditContact(id));
                    }
                    Some(ListEntry::Group(group)) => {
                        let id = group.id;
                        self.open_form(FormKind::EditGroup(id));
                    }
                    _ => self.error("select a contact or group to edit"),
                }
                Vec::new()
            }
            Action::DeleteSelected => {
                match self.selected_entry() {
                    Some(ListEntry::Contact(contact)) => {
                        let question = format!(
                            "Delete contact {}? Its messages stay. (y/n)",
                            contact.label()
                        );
                        self.confirm = Some((question, Effect::DeleteContact(contact.id)));
                        self.mode = Mode::Confirm;
                    }
                    _ => self.error("select a contact to delete"),
                }
                Vec::new()
            }
            Action::Confirm(yes) => {
                self.mode = Mode::Normal;
                match self.confirm.take() {
                    Some((_, effect)) if yes => vec![effect],
                    _ => Vec::new(),
                }
            }
            Action::CycleHistoryFilter => {
                self.history.filter = match self.history.filter {
                    HistoryFilter::All => HistoryFilter::Incoming,
                    HistoryFilter::Incoming => HistoryFilter::Outgoing,
                    HistoryFilter::Outgoing => HistoryFilter::Failed,
                    HistoryFilter::Failed => HistoryFilter::All,
                };
                self.history.selected = 0;
                vec![Effect::LoadHistory(self.history.filter)]
            }
            Action::ToggleTraceDetail => {
                self.trace_view = match self.trace_view {
                    TraceView::Flows => TraceView::Ladder(0),
                    TraceView::Ladder(index) => TraceView::Message(index),
                    TraceView::Message(index) => TraceView::Ladder(index),
                };
                Vec::new()
            }
            Action::Registration(state) => {
                self.retry_at = match &state {
                    RegistrationState::Failed {
                        retry_in: Some(wait),
                        ..
                    } => Some(self.now + *wait),
                    _ => None,
                };
                self.registration = state;
                Vec::new()
            }
            Action::NextHop(hop) => {
                self.next_hop = hop;
                Vec::new()
            }
            Action::Directory(directory) => {
                self.directory = directory;
                let count = self.entries().len();
                self.selected = self.selected.min(count.saturating_sub(1));
                Vec::new()
            }
            Action::Conversation(data) => self.conversation(data),
            Action::History(rows) => {
                self.history.rows = rows;
                self.history.selected = self
                    .history
                    .selected
                    .min(self.history.rows.len().saturating_sub(1));
                Vec::new()
            }
            Action::Trace(record) => {
                self.trace.push(*record);
                // Redraw for it only when the trace is on screen.
                self.dirty = was_dirty || self.screen == Screen::Trace;
                Vec::new()
            }
            Action::Unsent(text) => {
                // The store refused the message: the text goes back to the input
                // rather than being lost (unless something new was typed meanwhile).
                if self.input.is_empty() {
                    self.input.apply(&Edit::Paste(text));
                }
                Vec::new()
            }
            Action::Notice(notice) => {
                self.notice = Some(notice);
                Vec::new()
            }
        }
    }

    pub(crate) fn show(&mut self, screen: Screen) -> Vec<Effect> {
        self.screen = screen;
        if self.mode == Mode::Filter {
            self.mode = Mode::Normal;
        }
        match screen {
            Screen::History => vec![Effect::LoadHistory(self.history.filter)],
            _ => Vec::new(),
        }
    }

    fn cycle_pane(&mut self, forward: bool) {
        if self.screen != Screen::Chats {
            let index = Screen::ALL
                .iter()
                .position(|s| *s == self.screen)
                .unwrap_or(0);
            let next = if forward {
                (index + 1) % Screen::ALL.len()
            } else {
                (index + Screen::ALL.len() - 1) % Screen::ALL.len()
            };
            self.screen = Screen::ALL[next];
            return;
        }
        let order = [Pane::List, Pane::Messages, Pane::Input];
        let index = order.iter().position(|p| *p == self.pane).unwrap_or(0);
        let next = if forward { index + 1 } else { index + 2 };
        self.pane = order[next % order.len()];
    }

    /// Moves the selection of whatever list has focus by `delta` (clamped); at the top of
    /// a conversation, asks for the page before.
    fn step(&mut self, delta: i64) -> Vec<Effect> {
        fn moved(current: usize, delta: i64, len: usize) -> usize {
            let last = i64::try_from(len.saturating_sub(1)).unwrap_or(i64::MAX);
            let current = i64::try_from(current).unwrap_or(0);
            usize::try_from(current.saturating_add(delta).clamp(0, last.max(0))).unwrap_or(0)
        }
        match self.screen {
            Screen::Chats => match self.pane {
                Pane::List => {
                    self.selected = moved(self.selected, delta, self.entries().len());
                }
                Pane::Messages | Pane::Input => {
                    if let Some(chat) = &mut self.chat {
                        let len = chat.data.messages.len();
                        let current = chat.selected.unwrap_or(len.saturating_sub(1));
                        let next = moved(current, delta, len);
                        chat.selected = Some(next);
                        if next == 0
                            && delta < 0
                            && chat.data.has_older
                            && let Some(first) = chat.data.messages.first()
                        {
                            return vec![Effect::LoadOlder {
                                target: chat.data.target.clone(),
                                before: first.id,
                            }];
                        }
                    }
                }
            },
            Screen::History => {
                self.history.selected =
                    moved(self.history.selected, delta, self.history.rows.len());
            }
            Screen::Trace => match self.trace_view {
                TraceView::Flows => {
                    self.trace_selected =
                        moved(self.trace_selected, delta, self.trace.flows().len());
                }
                TraceView::Ladder(index) | TraceView::Message(index) => {
                    let len = self
                        .trace
                        .flows()
                        .get(self.trace_selected)
                        .map_or(0, |f| f.entries.len());
                    let next = moved(index, delta, len);
                    self.trace_view = match self.trace_view {
                        TraceView::Message(_) => TraceView::Message(next),
                        _ => TraceView::Ladder(next),
                    };
                }
            },
            Screen::Settings => {
                self.account_selected = moved(self.account_selected, delta, self.accounts.len());
            }
        }
        Vec::new()
    }

    /// Selects row `row` (clamped) of the list in focus: contacts, history, trace
    /// flows or accounts.
    fn select(&mut self, row: usize) {
        let clamp = |len: usize| row.min(len.saturating_sub(1));
        match self.screen {
            Screen::Chats if self.pane == Pane::List => {
                self.selected = clamp(self.entries().len());
            }
            Screen::History => self.history.selected = clamp(self.history.rows.len()),
            Screen::Trace if self.trace_view == TraceView::Flows => {
                self.trace_selected = clamp(self.trace.flows().len());
            }
            Screen::Settings => self.account_selected = clamp(self.accounts.len()),
            Screen::Chats | Screen::Trace => {}
        }
    }

    fn open(&mut self) -> Vec<Effect> {
        match self.screen {
            Screen::Chats => {
                if self.mode == Mode::Filter {
                    self.mode = Mode::Normal;
                }
                let Some(entry) = self.selected_entry() else {
                    self.error("nothing selected: add a contact with `a` or `:add`");
                    return Vec::new();
                };
                let target = entry.target();
                self.pane = Pane::Input;
                vec![Effect::Open(target)]
            }
            Screen::History => {
                let Some(row) = self.history.rows.get(self.history.selected) else {
                    return Vec::new();
                };
                let title = row.conversation.clone();
                let target = self
                    .entries()
                    .iter()
                    .find(|e| e.label() == title)
                    .map(ListEntry::target);
                match target {
                    Some(target) => {
                        self.screen = Screen::Chats;
                        self.pane = Pane::Messages;
                        vec![Effect::Open(target)]
                    }
                    None => Vec::new(),
                }
            }
            Screen::Trace => {
                self.trace_view = match self.trace_view {
                    TraceView::Flows => TraceView::Ladder(0),
                    TraceView::Ladder(index) => TraceView::Message(index),
                    TraceView::Message(index) => TraceView::Message(index),
                };
                Vec::new()
            }
            Screen::Settings => {
                let index = self.account_selected;
                match self.accounts.get(index) {
                    Some(_) if index == self.account_active => {
                        self.notice =
                            Some(Notice::Info("that account is in use; e edits it".into()));
                        Vec::new()
                    }
                    Some(account) => {
                        self.notice = Some(Notice::Info(format!(
                            "switching to {}…",
                            crate::text::short_aor(&account.aor)
                        )));
                        vec![Effect::SwitchAccount(index)]
                    }
                    None => Vec::new(),
                }
            }
        }
    }

    /// New account list (after a save or a switch): a new account in use means other
    /// contacts and conversations, so the open one closes.
    fn accounts_changed(
        &mut self,
        accounts: Vec<crate::settings::AccountSummary>,
        active: usize,
        paths: Vec<(String, String)>,
    ) {
        if let Some(account) = accounts.get(active)
            && account.aor != self.aor
        {
            self.aor = account.aor.clone();
            self.chat = None;
            self.selected = 0;
            self.input.clear();
        }
        self.account_active = active;
        self.account_selected = self.account_selected.min(accounts.len().saturating_sub(1));
        self.accounts = accounts;
        self.settings = paths;
    }

    fn conversation(&mut self, data: ConversationData) -> Vec<Effect> {
        let same = self
            .chat
            .as_ref()
            .is_some_and(|chat| chat.data.target == data.target);
        if data.older_page {
            if let Some(chat) = self.chat.as_mut().filter(|_| same) {
                let added = data.messages.len();
                let mut messages = data.messages;
                messages.append(&mut chat.data.messages);
                chat.data.messages = messages;
                chat.data.has_older = data.has_older;
                chat.selected = chat.selected.map(|s| s + added);
            }
            return Vec::new();
        }
        let follow = match &self.chat {
            Some(chat) if same => chat
                .selected
                .is_none_or(|s| s + 1 >= chat.data.messages.len()),
            _ => true,
        };
        let selected = match &self.chat {
            Some(chat) if same && !follow => chat.selected,
            _ => None,
        };
        let newest = data.messages.last().map(|m| (m.id, m.direction));
        let target = data.target.clone();
        self.chat = Some(Chat {
            data,
            selected: if follow { None } else { selected },
        });
        // Seen: the conversation is on screen and showing its newest message.
        match newest {
            Some((up_to, _)) if self.screen == Screen::Chats && self.unread(&target) > 0 => {
                vec![Effect::MarkRead { target, up_to }]
            }
            _ => Vec::new(),
        }
    }

    fn edit(&mut self, edit: &Edit) {
        match self.mode {
            Mode::Filter => {
                if self.filter.apply(edit) {
                    self.selected = 0;
                }
            }
            Mode::Command => {
                self.command.apply(edit);
            }
            Mode::Form => {
                if let Some(form) = &mut self.form
                    && let Some((_, editor)) = form.fields.get_mut(form.focus)
                {
                    editor.apply(edit);
                }
            }
            Mode::Normal => {
                self.screen = Screen::Chats;
                self.pane = Pane::Input;
                self.input.apply(edit);
            }
            Mode::Confirm => {}
        }
    }

    fn cancel(&mut self) {
        if self.help {
            self.help = false;
            return;
        }
        match self.mode {
            Mode::Filter => {
                self.filter.clear();
                self.mode = Mode::Normal;
            }
            Mode::Command => {
                self.command.clear();
                self.mode = Mode::Normal;
            }
            Mode::Form => {
                self.form = None;
                self.mode = Mode::Normal;
            }
            Mode::Confirm => {
                self.confirm = None;
                self.mode = Mode::Normal;
            }
            Mode::Normal => match self.screen {
                Screen::Trace if self.trace_view != TraceView::Flows => {
                    self.trace_view = match self.trace_view {
                        TraceView::Message(index) => TraceView::Ladder(index),
                        _ => TraceView::Flows,
                    };
                }
                Screen::Chats if self.pane == Pane::Input => self.pane = Pane::Messages,
                Screen::Chats if self.pane == Pane::Messages => self.pane = Pane::List,
                _ => self.notice = None,
            },
        }
    }

    fn submit(&mut self) -> Vec<Effect> {
        match self.mode {
            Mode::Filter => {
                self.mode = Mode::Normal;
                self.open()
            }
            Mode::Command => {
                self.mode = Mode::Normal;
                let line = self.command.take();
                self.run_command(line.trim())
            }
            Mode::Form => self.submit_form(),
            Mode::Confirm => Vec::new(),
            Mode::Normal => {
                if self.screen != Screen::Chats || self.pane != Pane::Input {
                    return self.open();
                }
                if self.input.text().trim().is_empty() {
                    return Vec::new();
                }
                let Some(chat) = &self.chat else {
                    self.error("no conversation open: pick a contact or group and press Enter");
                    return Vec::new();
                };
                let target = chat.data.target.clone();
                let text = self.input.take();
                vec![Effect::Send { target, text }]
            }
        }
    }

    pub(crate) fn retry(&mut self) -> Vec<Effect> {
        let Some(chat) = &self.chat else {
            self.error("no conversation open");
            return Vec::new();
        };
        let index = chat
            .selected
            .unwrap_or(chat.data.messages.len().saturating_sub(1));
        let failed = chat
            .data
            .messages
            .get(index)
            .filter(|m| m.state == MessageState::Failed)
            .or_else(|| {
                // Nothing selected by hand: the newest failed message.
                chat.selected
                    .is_none()
                    .then(|| {
                        chat.data
                            .messages
                            .iter()
                            .rev()
                            .find(|m| m.state == MessageState::Failed)
                    })
                    .flatten()
            });
        match failed {
            Some(message) => vec![Effect::Retry(message.id)],
            None => {
                self.error("the selected message has not failed; nothing to retry");
                Vec::new()
            }
        }
    }
}
