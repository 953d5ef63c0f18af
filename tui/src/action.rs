//! What can happen to the application (actions) and what it asks the world to do
//! (effects).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use ims_core::driver::TraceRecord;
use ims_core::store::{
    Aor, ContactId, Counterpart, Direction, GroupId, GroupMode, HistoryFilter, MessageId,
    MessageState,
};

use crate::editor::Edit;

/// A conversation: with one peer or one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A 1:1 conversation.
    Peer(Aor),
    /// A group conversation.
    Group(GroupId),
}

impl From<Counterpart> for Target {
    fn from(counterpart: Counterpart) -> Target {
        match counterpart {
            Counterpart::Peer(aor) => Target::Peer(aor),
            Counterpart::Group(id) => Target::Group(id),
        }
    }
}

/// The screens, chosen with 1-4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    /// Contacts and conversations.
    #[default]
    Chats,
    /// Every message, newest first.
    History,
    /// Live SIP trace.
    Trace,
    /// The account.
    Settings,
}

impl Screen {
    /// Every screen in tab order.
    pub const ALL: [Screen; 4] = [
        Screen::Chats,
        Screen::History,
        Screen::Trace,
        Screen::Settings,
    ];

    /// Its tab title.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Chats => "Chats",
            Screen::History => "History",
            Screen::Trace => "SIP trace",
            Screen::Settings => "Account",
        }
    }
}

/// The panes of the Chats screen, cycled with Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    /// Groups and contacts.
    #[default]
    List,
    /// The open conversation's messages.
    Messages,
    /// The message being typed.
    Input,
}

/// Registration as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RegistrationState {
    /// Not started.
    #[default]
    Idle,
    /// Finding the P-CSCF or sending REGISTER.
    Registering,
    /// Registered until `until`.
    Registered {
        /// Granted lifetime.
        expires: u32,
        /// When it runs out (wall clock).
        until: SystemTime,
    },
    /// The last attempt failed.
    Failed {
        /// Why.
        reason: String,
        /// When the next attempt is (none: given up).
        retry_in: Option<Duration>,
    },
    /// De-registered.
    Unregistered,
}

/// A contact as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    /// Row id.
    pub id: ContactId,
    /// Address.
    pub aor: Aor,
    /// Display name.
    pub name: Option<String>,
    /// Notes.
    pub notes: String,
    /// A sender we did not have as a contact.
    pub unknown: bool,
}

impl ContactRow {
    /// The name, else the address without `sip:`.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| crate::text::short_aor(self.aor.as_str()).to_owned())
    }
}

/// A group as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// Row id.
    pub id: GroupId,
    /// The group's URI.
    pub uri: Aor,
    /// Its name.
    pub name: String,
    /// Network or client fan-out.
    pub mode: GroupMode,
    /// Members.
    pub members: Vec<Aor>,
}

/// Unread count and last activity of one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The conversation.
    pub target: Target,
    /// Unread incoming messages.
    pub unread: u32,
    /// Its newest message's time.
    pub last_at: Option<SystemTime>,
}

/// The address book and conversation list, read from the store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directory {
    /// Contacts, known first, each part by label.
    pub contacts: Vec<ContactRow>,
    /// Groups by name.
    pub groups: Vec<GroupRow>,
    /// Conversations with activity, newest first.
    pub activity: Vec<Activity>,
}

/// One message as the chat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Row id.
    pub id: MessageId,
    /// In or out.
    pub direction: Direction,
    /// Who sent it (name when known).
    pub sender: String,
    /// The text (non-text bodies are described).
    pub body: String,
    /// Where it stands.
    pub state: MessageState,
    /// Why it failed.
    pub failure: Option<String>,
    /// When it was stored.
    pub at: SystemTime,
    /// The conversation's title (history screen).
    pub conversation: String,
}

/// The open conversation's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationData {
    /// Which conversation.
    pub target: Target,
    /// Its title.
    pub title: String,
    /// The newest messages, oldest first.
    pub messages: Vec<MessageRow>,
    /// True when older messages exist.
    pub has_older: bool,
    /// True when this page goes before the ones shown (scrolling back).
    pub older_page: bool,
}

/// A line for the user at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something worked.
    Info(String),
    /// Something failed; the text says what and why.
    Error(String),
}

/// Fields of the add/edit forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    /// A new contact: address, name.
    AddContact,
    /// Editing a contact: name, notes.
    EditContact(ContactId),
    /// A new group: name, URI, mode, members.
    NewGroup,
    /// Editing a group: name, mode, members.
    EditGroup(GroupId),
    /// The first start, without a config: the account to write into one.
    FirstRun,
    /// An account of the Account screen (its index), or a new one (`None`).
    Account(Option<usize>),
}

/// Everything that changes the application's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Quit (de-registers first).
    Quit,
    /// Switch screen.
    ShowScreen(Screen),
    /// Next pane / screen element (Tab).
    NextPane,
    /// Previous pane (Shift-Tab).
    PrevPane,
    /// Focus this pane of the Chats screen.
    Focus(Pane),
    /// Selection up.
    Up,
    /// Selection down.
    Down,
    /// Selection a page up.
    PageUp,
    /// Selection a page down.
    PageDown,
    /// Selection to the first entry.
    Top,
    /// Selection to the last entry.
    Bottom,
    /// Select this row of the list in focus (a mouse click).
    Select(usize),
    /// Open the selected entry (a conversation, a trace flow).
    Open,
    /// Edit the focused text (chat input, filter, command line, form field).
    Edit(Edit),
    /// Enter in a text: send, run, submit.
    Submit,
    /// Escape: close the overlay, leave the text, clear the filter.
    Cancel,
    /// Start typing a list filter (`/`).
    StartFilter,
    /// Start a `:` command.
    StartCommand,
    /// Show or hide the key help (`?`).
    ToggleHelp,
    /// Send the selected failed message again (`r`).
    Retry,
    /// Open the add-contact form (`a`).
    NewContact,
    /// Open the new-group form (`n`).
    NewGroup,
    /// Edit the selected contact or group (`e`).
    EditSelected,
    /// Delete the selected contact (`d`, asks first).
    DeleteSelected,
    /// Answer to a yes/no question.
    Confirm(bool),
    /// Next history filter (`f` on History).
    CycleHistoryFilter,
    /// Trace: show the selected flow's ladder or one message in full (Enter / `v`).
    ToggleTraceDetail,
    /// Open the form for a new account (`a` on the Account screen).
    NewAccount,
    /// The configured accounts, which one is in use, and where things are.
    Accounts {
        /// Every account (secrets only as set or not).
        accounts: Vec<crate::settings::AccountSummary>,
        /// The one in use.
        active: usize,
        /// Config file, store and log paths.
        paths: Vec<(String, String)>,
    },
    /// The registration changed.
    Registration(RegistrationState),
    /// The P-CSCF / next hop in use.
    NextHop(String),
    /// The address book and activity, fresh from the store.
    Directory(Directory),
    /// A conversation's messages, fresh from the store.
    Conversation(ConversationData),
    /// A history page, fresh from the store.
    History(Vec<MessageRow>),
    /// A message crossed the wire.
    Trace(Box<TraceRecord>),
    /// Something to tell the user.
    Notice(Notice),
    /// A text that could not be stored and sent: back into the input.
    Unsent(String),
    /// The clock moved (the loop sets `now`; the UI never reads the clock).
    Tick(SystemTime),
    /// The terminal was resized.
    Resize,
}

/// What the application asks the backend (store and engine) to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Store and send a text.
    Send {
        /// To whom.
        target: Target,
        /// What.
        text: String,
    },
    /// Send a failed message again.
    Retry(MessageId),
    /// Load a conversation and mark it read.
    Open(Target),
    /// Load the page before `before`.
    LoadOlder {
        /// Which conversation.
        target: Target,
        /// The oldest message shown.
        before: MessageId,
    },
    /// Mark a conversation read up to a message.
    MarkRead {
        /// Which conversation.
        target: Target,
        /// The newest message seen.
        up_to: MessageId,
    },
    /// Add a contact.
    AddContact {
        /// Address (as typed; the backend checks it).
        aor: String,
        /// Display name.
        name: String,
    },
    /// Change a contact's name and notes (also turns an unknown sender into a contact).
    UpdateContact {
        /// Which.
        id: ContactId,
        /// Display name.
        name: String,
        /// Notes.
        notes: String,
    },
    /// Delete a contact (its conversation stays).
    DeleteContact(ContactId),
    /// Create a group.
    CreateGroup {
        /// Name.
        name: String,
        /// URI (as typed; empty: made from the name and the account's domain).
        uri: String,
        /// Network or client fan-out.
        mode: GroupMode,
        /// Member addresses.
        members: Vec<String>,
    },
    /// Change a group.
    UpdateGroup {
        /// Which.
        id: GroupId,
        /// Name.
        name: String,
        /// Mode.
        mode: GroupMode,
        /// The full member list (addresses).
        members: Vec<String>,
    },
    /// Load a history page.
    LoadHistory(HistoryFilter),
    /// Write the trace to a file (`.pcap`: capture; else text).
    ExportTrace(PathBuf),
    /// Write the first account into the config file (first run).
    SaveAccount {
        /// Address of record.
        aor: String,
        /// Password.
        password: String,
        /// Next hop (empty: DNS).
        proxy: String,
        /// `udp` or `tcp`.
        transport: String,
    },
    /// Save an account into the config file and, if it is the one in use, register
    /// again with it.
    SaveSettings {
        /// Which account of the Account screen (`None`: a new one).
        index: Option<usize>,
        /// What to save (secrets stay hidden in `Debug`).
        edit: crate::settings::AccountEdit,
    },
    /// De-register and register the account of this index of the Account screen.
    SwitchAccount(usize),
    /// De-register and stop.
    Quit,
}
