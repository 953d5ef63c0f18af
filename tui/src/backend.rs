//! Carries out the application's effects against the store (through the
//! [`Messenger`]) and the engine, and turns engine events into actions. Synchronous:
//! the loop calls it between draws; tests call it directly with a command sink.

use std::path::Path;
use std::time::SystemTime;

use ims_core::engine::{Command, Event};
use ims_core::messaging::{MessagingError, Messenger};
use ims_core::store::{
    self, Aor, ContactId, Direction, GroupId, GroupMode, HistoryFilter, Message, MessageId,
    StoreError,
};
use ims_core::ua;

use crate::action::{
    Action, Activity, ContactRow, ConversationData, Directory, Effect, GroupRow, MessageRow,
    Notice, RegistrationState, Target,
};
use crate::trace::TraceLog;

/// Messages loaded per conversation page.
pub const PAGE: usize = 200;

/// Messages per history page.
pub const HISTORY_PAGE: usize = 500;

/// Where engine commands go: the driver in the program, a vector in tests.
pub trait Commands {
    /// Sends one command to the engine.
    fn send(&mut self, command: Command) -> Result<(), String>;
}

impl Commands for Vec<Command> {
    fn send(&mut self, command: Command) -> Result<(), String> {
        self.push(command);
        Ok(())
    }
}

impl Commands for ims_core::driver::DriverHandle {
    fn send(&mut self, command: Command) -> Result<(), String> {
        self.command(command).map_err(|e| e.to_string())
    }
}

/// The store, the engine account, and where commands go.
#[derive(Debug)]
pub struct Backend<C> {
    messenger: Messenger,
    engine_account: ua::AccountId,
    account: store::AccountId,
    aor: Aor,
    commands: C,
    open: Option<Target>,
    /// Messages queued before the last exit, not yet handed to the engine.
    backlog: std::collections::VecDeque<Command>,
    /// Engine ids of backlog messages handed over and not yet answered.
    backlog_in_flight: std::collections::HashSet<u64>,
}

/// How many messages of the backlog are in the engine at once: a backlog of thousands
/// goes out paced instead of all at start.
pub const BACKLOG_WINDOW: usize = 20;

/// An error for the user: what failed and why.
fn failed(what: &str, error: impl std::fmt::Display) -> Action {
    Action::Notice(Notice::Error(format!("{what}: {error}")))
}

impl<C: Commands> Backend<C> {
    /// Attaches the engine account to the store.
    pub fn new(
        mut messenger: Messenger,
        engine_account: ua::AccountId,
        aor: &str,
        commands: C,
    ) -> Result<Backend<C>, MessagingError> {
        let account = messenger.attach(engine_account, aor)?;
        Ok(Backend {
            messenger,
            engine_account,
            account,
            aor: Aor::parse(aor)?,
            commands,
            open: None,
            backlog: std::collections::VecDeque::new(),
            backlog_in_flight: std::collections::HashSet::new(),
        })
    }

    /// The command sink (tests read what was sent).
    pub fn commands_mut(&mut self) -> &mut C {
        &mut self.commands
    }

    /// Moves to a new engine (a new session, maybe another account): commands go to
    /// `commands` from now on, and the old sink is handed back (dropping a driver's
    /// handle makes it de-register and stop). Call [`register`](Self::register) next.
    pub fn relink(
        &mut self,
        engine_account: ua::AccountId,
        aor: &str,
        commands: C,
    ) -> Result<C, MessagingError> {
        let parsed = Aor::parse(aor)?;
        let account = self.messenger.attach(engine_account, aor)?;
        if account != self.account {
            self.open = None;
        }
        self.account = account;
        self.aor = parsed;
        self.engine_account = engine_account;
        // What the old engine had in flight is still `queued`/`sending` in the store;
        // `register` resends it.
        self.backlog.clear();
        self.backlog_in_flight.clear();
        Ok(std::mem::replace(&mut self.commands, commands))
    }

    /// Sends REGISTER, then what waits to be sent, and reads the screens afresh: the
    /// start of each session.
    pub fn register(&mut self) -> Vec<Action> {
        let mut actions: Vec<Action> = self
            .send(Command::Register {
                account: self.engine_account,
            })
            .into_iter()
            .collect();
        actions.extend(self.refresh());
        actions.extend(self.resend_pending());
        actions
    }

    /// The messenger (tests and start-up read the store through it).
    pub fn messenger_mut(&mut self) -> &mut Messenger {
        &mut self.messenger
    }

    fn send(&mut self, command: Command) -> Option<Action> {
        self.commands
            .send(command)
            .err()
            .map(|error| failed("the engine stopped", error))
    }

    /// Sends again what was queued when the program last stopped.
    pub fn resend_pending(&mut self) -> Vec<Action> {
        match self.messenger.resend_pending(self.engine_account) {
            Ok(commands) => {
                let count = commands.len();
                self.backlog.extend(commands);
                let mut actions = self.pump_backlog();
                if count > 0 {
                    actions.push(Action::Notice(Notice::Info(format!(
                        "sending {count} message(s) queued before the last exit"
                    ))));
                }
                actions
            }
            Err(error) => vec![failed("reading queued messages", error)],
        }
    }

    /// Hands backlog messages to the engine while fewer than [`BACKLOG_WINDOW`] are
    /// unanswered.
    fn pump_backlog(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        while self.backlog_in_flight.len() < BACKLOG_WINDOW {
            let Some(command) = self.backlog.pop_front() else {
                break;
            };
            if let Command::SendMessage { message, .. } = &command {
                self.backlog_in_flight.insert(message.id);
            }
            actions.extend(self.send(command));
        }
        actions
    }

    /// Messages of the backlog not yet handed to the engine.
    pub fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Everything the screens show, fresh from the store.
    pub fn refresh(&mut self) -> Vec<Action> {
        let mut actions = match self.directory() {
            Ok(directory) => vec![Action::Directory(directory)],
            Err(error) => vec![failed("reading contacts", error)],
        };
        if let Some(target) = self.open.clone() {
            actions.push(match self.conversation(&target, None) {
                Ok(data) => Action::Conversation(data),
                Err(error) => failed("reading the conversation", error),
            });
        }
        actions
    }

    fn directory(&self) -> Result<Directory, StoreError> {
        let store = self.messenger.store();
        let contacts = store
            .contacts(self.account)?
            .into_iter()
            .map(|c| ContactRow {
                id: c.id,
                aor: c.aor,
                name: c.display_name,
                notes: c.notes,
                unknown: c.unknown,
            })
            .collect();
        let mut groups = Vec::new();
        for group in store.groups(self.account)? {
            groups.push(GroupRow {
                members: store.group_members(group.id)?,
                id: group.id,
                uri: group.uri,
                name: group.name,
                mode: group.mode,
            });
        }
        let activity = store
            .conversation_summaries(self.account)?
            .into_iter()
            .filter(|s| s.last_message.is_some())
            .map(|s| Activity {
                target: Target::from(s.conversation.counterpart),
                unread: s.unread,
                last_at: s.last_at,
            })
            .collect();
        Ok(Directory {
            contacts,
            groups,
            activity,
        })
    }

    fn conversation_id(&mut self, target: &Target) -> Result<store::ConversationId, StoreError> {
        let store = self.messenger.store_mut();
        match target {
            Target::Peer(aor) => store.conversation_with_peer(self.account, aor),
            Target::Group(id) => store.conversation_for_group(*id),
        }
    }

    fn title(&self, target: &Target) -> Result<String, StoreError> {
        let store = self.messenger.store();
        Ok(match target {
            Target::Peer(aor) => match store.find_contact(self.account, aor)? {
                Some(contact) => contact
                    .display_name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| crate::text::short_aor(aor.as_str()).to_owned()),
                None => crate::text::short_aor(aor.as_str()).to_owned(),
            },
            Target::Group(id) => store
                .group(*id)?
                .map_or_else(|| format!("group {id}"), |g| g.name),
        })
    }

    fn row(&self, message: Message, names: &[(Aor, String)], conversation: &str) -> MessageRow {
        let sender = match message.direction {
            Direction::Outgoing => "me".to_owned(),
            Direction::Incoming => names
                .iter()
                .find(|(aor, _)| *aor == message.sender)
                .map_or_else(
                    || crate::text::short_aor(message.sender.as_str()).to_owned(),
                    |(_, name)| name.clone(),
                ),
        };
        MessageRow {
            id: message.id,
            direction: message.direction,
            sender,
            body: crate::text::body_text(&message.body, &message.content_type),
            state: message.state,
            failure: message.failure_reason,
            at: message.created_at,
            conversation: conversation.to_owned(),
        }
    }

    fn names(&self) -> Result<Vec<(Aor, String)>, StoreError> {
        Ok(self
            .messenger
            .store()
            .contacts(self.account)?
            .into_iter()
            .filter_map(|c| {
                let name = c.display_name.filter(|n| !n.is_empty())?;
                Some((c.aor, name))
            })
            .collect())
    }

    fn conversation(
        &mut self,
        target: &Target,
        before: Option<MessageId>,
    ) -> Result<ConversationData, StoreError> {
        let id = self.conversation_id(target)?;
        let title = self.title(target)?;
        // One more than a page tells whether older messages exist.
        let mut messages = self.messenger.store().messages(id, PAGE + 1, before)?;
        let has_older = messages.len() > PAGE;
        if has_older {
            messages.remove(0);
        }
        // A 1:1 conversation has one sender besides us: its title is the name.
        let names = match target {
            Target::Peer(aor) => vec![(aor.clone(), title.clone())],
            Target::Group(_) => self.names()?,
        };
        let messages = messages
            .into_iter()
            .map(|m| self.row(m, &names, &title))
            .collect();
        Ok(ConversationData {
            target: target.clone(),
            title,
            messages,
            has_older,
            older_page: before.is_some(),
        })
    }

    fn history(&self, filter: HistoryFilter) -> Result<Vec<MessageRow>, StoreError> {
        let store = self.messenger.store();
        let names = self.names()?;
        let mut titles: Vec<(store::ConversationId, String)> = Vec::new();
        let mut rows = Vec::new();
        for message in store.history(self.account, filter, HISTORY_PAGE, None)? {
            let title = match titles.iter().find(|(id, _)| *id == message.conversation) {
                Some((_, title)) => title.clone(),
                None => {
                    let title = match store.conversation(message.conversation)? {
                        Some(c) => self.title(&Target::from(c.counterpart))?,
                        None => String::new(),
                    };
                    titles.push((message.conversation, title.clone()));
                    title
                }
            };
            rows.push(self.row(message, &names, &title));
        }
        Ok(rows)
    }

    /// Member addresses (the app resolved names to them) as AORs.
    fn member_addresses(members: &[String]) -> Result<Vec<Aor>, String> {
        members
            .iter()
            .map(|member| Aor::parse(member).map_err(|e| format!("member {member}: {e}")))
            .collect()
    }

    /// Carries out one effect; returns what the user should see.
    pub fn execute(&mut self, effect: Effect, now: SystemTime) -> Vec<Action> {
        match effect {
            Effect::Send { target, text } => {
                let sent = match &target {
                    Target::Peer(aor) => {
                        self.messenger
                            .send_text(self.engine_account, aor.as_str(), &text, now)
                    }
                    Target::Group(id) => {
                        self.messenger
                            .send_group(self.engine_account, *id, &text, now)
                    }
                };
                match sent {
                    Ok((_, command)) => {
                        self.open = Some(target);
                        let mut actions: Vec<Action> = self.send(command).into_iter().collect();
                        actions.extend(self.refresh());
                        actions
                    }
                    // Not stored: the user sees why and gets the text back to edit.
                    Err(error) => vec![failed("message not sent", error), Action::Unsent(text)],
                }
            }
            Effect::Retry(id) => match self.messenger.retry(self.engine_account, id, now) {
                Ok(Some(command)) => {
                    let mut actions: Vec<Action> = self.send(command).into_iter().collect();
                    actions.push(Action::Notice(Notice::Info("sending again".into())));
                    actions.extend(self.refresh());
                    actions
                }
                Ok(None) => vec![Action::Notice(Notice::Info(
                    "that message has not failed; nothing to retry".into(),
                ))],
                Err(error) => vec![failed("retry", error)],
            },
            Effect::Open(target) => match self.conversation(&target, None) {
                Ok(data) => {
                    self.open = Some(target.clone());
                    let mut actions = Vec::new();
                    if let Some(last) = data.messages.last()
                        && let Err(error) = self.mark_read(&target, last.id)
                    {
                        actions.push(failed("marking read", error));
                    }
                    actions.push(Action::Conversation(data));
                    actions.extend(self.directory().map(Action::Directory));
                    actions
                }
                Err(error) => vec![failed("opening the conversation", error)],
            },
            Effect::LoadOlder { target, before } => {
                match self.conversation(&target, Some(before)) {
                    Ok(data) => vec![Action::Conversation(data)],
                    Err(error) => vec![failed("reading older messages", error)],
                }
            }
            Effect::MarkRead { target, up_to } => match self.mark_read(&target, up_to) {
                Ok(()) => self
                    .directory()
                    .map(Action::Directory)
                    .into_iter()
                    .collect(),
                Err(error) => vec![failed("marking read", error)],
            },
            Effect::AddContact { aor, name } => {
                let result = Aor::parse(&aor).map_err(|e| e.to_string()).and_then(|aor| {
                    let name = Some(name.as_str()).filter(|n| !n.is_empty());
                    self.messenger
                        .store_mut()
                        .add_contact(self.account, &aor, name, "")
                        .map_err(|e| match e {
                            StoreError::AlreadyExists { .. } => {
                                format!("{aor} is a contact already")
                            }
                            other => other.to_string(),
                        })
                });
                self.after("adding the contact", result.map(|_| format!("added {aor}")))
            }
            Effect::UpdateContact { id, name, notes } => {
                let name = Some(name.as_str()).filter(|n| !n.is_empty());
                let result = self
                    .messenger
                    .store_mut()
                    .update_contact(id, name, &notes)
                    .map(|()| "contact saved".to_owned())
                    .map_err(|e| e.to_string());
                self.after("saving the contact", result)
            }
            Effect::DeleteContact(id) => {
                let result = self.delete_contact(id);
                self.after("deleting the contact", result)
            }
            Effect::CreateGroup {
                name,
                uri,
                mode,
                members,
            } => {
                let result = self.create_group(&name, &uri, mode, &members);
                self.after("creating the group", result)
            }
            Effect::UpdateGroup {
                id,
                name,
                mode,
                members,
            } => {
                let result = self.update_group(id, &name, mode, &members);
                self.after("saving the group", result)
            }
            Effect::LoadHistory(filter) => match self.history(filter) {
                Ok(rows) => vec![Action::History(rows)],
                Err(error) => vec![failed("reading history", error)],
            },
            // The loop owns the trace; it calls `export_trace`.
            Effect::ExportTrace(_) => Vec::new(),
            // Only the first-run form asks for it, before there is a backend.
            Effect::SaveAccount { .. } => Vec::new(),
            // The loop owns the config and the session; it does these.
            Effect::SaveSettings { .. } | Effect::SwitchAccount(_) => Vec::new(),
            Effect::Quit => self.send(Command::Shutdown).into_iter().collect(),
        }
    }

    fn after(&mut self, what: &str, result: Result<String, String>) -> Vec<Action> {
        match result {
            Ok(done) => {
                let mut actions = self.refresh();
                actions.push(Action::Notice(Notice::Info(done)));
                actions
            }
            Err(error) => vec![failed(what, error)],
        }
    }

    fn mark_read(&mut self, target: &Target, up_to: MessageId) -> Result<(), StoreError> {
        let id = self.conversation_id(target)?;
        self.messenger.store_mut().mark_read(id, up_to)
    }

    fn delete_contact(&mut self, id: ContactId) -> Result<String, String> {
        self.messenger
            .store_mut()
            .remove_contact(id)
            .map(|()| "contact deleted; its messages stay in History".to_owned())
            .map_err(|e| e.to_string())
    }

    fn create_group(
        &mut self,
        name: &str,
        uri: &str,
        mode: GroupMode,
        members: &[String],
    ) -> Result<String, String> {
        let domain = self.aor.as_str().rsplit('@').next().unwrap_or_default();
        let uri = if uri.is_empty() {
            let user: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            format!("sip:{user}@{domain}")
        } else if uri.contains(':') {
            uri.to_owned()
        } else {
            format!("sip:{uri}")
        };
        let uri = Aor::parse(&uri).map_err(|e| format!("group address {uri}: {e}"))?;
        let members = Self::member_addresses(members)?;
        self.messenger
            .store_mut()
            .create_group(self.account, &uri, name, mode, &members)
            .map_err(|e| match e {
                StoreError::AlreadyExists { .. } => format!("a group {uri} exists already"),
                other => other.to_string(),
            })?;
        Ok(format!(
            "group {name} ({uri}, {mode}) with {} member(s)",
            members.len()
        ))
    }

    fn update_group(
        &mut self,
        id: GroupId,
        name: &str,
        mode: GroupMode,
        members: &[String],
    ) -> Result<String, String> {
        let wanted = Self::member_addresses(members)?;
        let store = self.messenger.store_mut();
        store.rename_group(id, name).map_err(|e| e.to_string())?;
        store.set_group_mode(id, mode).map_err(|e| e.to_string())?;
        let current = store.group_members(id).map_err(|e| e.to_string())?;
        for member in current.iter().filter(|m| !wanted.contains(m)) {
            store
                .remove_group_member(id, member)
                .map_err(|e| e.to_string())?;
        }
        for member in wanted.iter().filter(|m| !current.contains(m)) {
            store
                .add_group_member(id, member)
                .map_err(|e| e.to_string())?;
        }
        Ok(format!("group {name} saved ({} member(s))", wanted.len()))
    }

    /// Feeds engine events to the messenger (one store transaction) and the commands it
    /// returns to the engine; returns the actions for the screens.
    pub fn on_events(&mut self, events: &[Event], now: SystemTime) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut store_changed = false;
        for event in events {
            match event {
                Event::Registering { .. } => {
                    actions.push(Action::Registration(RegistrationState::Registering));
                }
                Event::Registered { expires, .. } => {
                    actions.push(Action::Registration(RegistrationState::Registered {
                        expires: *expires,
                        until: now + std::time::Duration::from_secs(u64::from(*expires)),
                    }));
                }
                Event::RegistrationFailed {
                    reason, retry_in, ..
                } => actions.push(Action::Registration(RegistrationState::Failed {
                    reason: reason.to_string(),
                    retry_in: *retry_in,
                })),
                Event::Unregistered { .. } => {
                    actions.push(Action::Registration(RegistrationState::Unregistered));
                }
                Event::MessageAccepted { id, .. } | Event::MessageFailed { id, .. } => {
                    store_changed = true;
                    if self.backlog_in_flight.remove(id) {
                        actions.extend(self.pump_backlog());
                    }
                }
                Event::MessageSending { .. } | Event::MessageReceived(_) => store_changed = true,
                _ => {}
            }
        }
        if store_changed {
            match self.messenger.on_events(events, now) {
                Ok(commands) => {
                    for command in commands {
                        actions.extend(self.send(command));
                    }
                }
                Err(error) => actions.push(failed("storing messages", error)),
            }
            actions.extend(self.refresh());
        }
        actions
    }
}

/// Writes the trace to `path`: pcap for `.pcap`, text otherwise.
pub fn export_trace(trace: &TraceLog, path: &Path, offset: i32) -> Action {
    let result = std::fs::File::create(path).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        if path.extension().is_some_and(|e| e == "pcap") {
            trace.write_pcap(&mut out)?;
        } else {
            trace.write_text(&mut out, offset)?;
        }
        std::io::Write::flush(&mut out)
    });
    match result {
        Ok(()) => Action::Notice(Notice::Info(format!(
            "{} messages written to {}",
            trace.len(),
            path.display()
        ))),
        Err(error) => failed(&format!("writing {}", path.display()), error),
    }
}
