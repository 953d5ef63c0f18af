//! The `:` command line (`:msg bob hi`, `:group create friends alice bob`, ...) and
//! how typed names become conversations and addresses.

use ims_core::store::{Aor, GroupMode};

use crate::action::{Action, Effect, Pane, Screen, Target};
use crate::app::App;

impl App {
    /// Finds a conversation by what the user typed: a group or contact name, an address
    /// with or without `sip:`, or a user part in the account's domain.
    pub fn resolve(&self, who: &str) -> Result<Target, String> {
        let lower = who.to_lowercase();
        if let Some(group) = self
            .directory
            .groups
            .iter()
            .find(|g| g.name.to_lowercase() == lower || g.uri.as_str() == who)
        {
            return Ok(Target::Group(group.id));
        }
        if let Some(contact) = self.directory.contacts.iter().find(|c| {
            c.label().to_lowercase() == lower
                || crate::text::short_aor(c.aor.as_str()) == who
                || c.aor.as_str() == who
        }) {
            return Ok(Target::Peer(contact.aor.clone()));
        }
        self.address(who).map(Target::Peer)
    }

    /// Group members as typed (contact names, user parts, addresses), as addresses.
    pub(crate) fn members(&self, typed: &[&str]) -> Result<Vec<String>, String> {
        typed
            .iter()
            .map(|who| match self.resolve(who)? {
                Target::Peer(aor) => Ok(aor.as_str().to_owned()),
                Target::Group(_) => Err(format!("{who} is a group, not a member")),
            })
            .collect()
    }

    /// An address from what was typed (`bob` → `sip:bob@<our domain>`).
    pub(crate) fn address(&self, who: &str) -> Result<Aor, String> {
        let text = if who.contains(':') {
            who.to_owned()
        } else if who.contains('@') {
            format!("sip:{who}")
        } else {
            let domain = self.aor.rsplit('@').next().unwrap_or_default();
            format!("sip:{who}@{domain}")
        };
        Aor::parse(&text).map_err(|e| format!("{who}: not a contact, group or address ({e})"))
    }

    pub(crate) fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let mut words = line.split_whitespace();
        let Some(command) = words.next() else {
            return Vec::new();
        };
        let rest: Vec<&str> = words.collect();
        let tail = |from: usize| rest.get(from..).unwrap_or_default().join(" ");
        match (command, rest.as_slice()) {
            ("q" | "quit", _) => self.update(Action::Quit),
            ("help" | "h", _) => {
                self.help = true;
                Vec::new()
            }
            ("msg" | "m", [who, _, ..]) => match self.resolve(who) {
                Ok(target) => {
                    self.screen = Screen::Chats;
                    self.pane = Pane::Input;
                    vec![
                        Effect::Open(target.clone()),
                        Effect::Send {
                            target,
                            text: tail(1),
                        },
                    ]
                }
                Err(error) => {
                    self.error(error);
                    Vec::new()
                }
            },
            ("open" | "o", [who]) => match self.resolve(who) {
                Ok(target) => {
                    self.screen = Screen::Chats;
                    self.pane = Pane::Input;
                    vec![Effect::Open(target)]
                }
                Err(error) => {
                    self.error(error);
                    Vec::new()
                }
            },
            ("add", [aor, ..]) => match self.address(aor) {
                Ok(aor) => vec![Effect::AddContact {
                    aor: aor.as_str().to_owned(),
                    name: tail(1),
                }],
                Err(error) => {
                    self.error(error);
                    Vec::new()
                }
            },
            ("group", ["create", name, members @ ..]) => {
                let fanout = members.contains(&"--fanout");
                let typed: Vec<&str> = members
                    .iter()
                    .copied()
                    .filter(|m| *m != "--fanout")
                    .collect();
                let members = match self.members(&typed) {
                    Ok(members) => members,
                    Err(error) => {
                        self.error(error);
                        return Vec::new();
                    }
                };
                vec![Effect::CreateGroup {
                    name: (*name).to_owned(),
                    uri: String::new(),
                    mode: if fanout {
                        GroupMode::Fanout
                    } else {
                        GroupMode::Network
                    },
                    members,
                }]
            }
            ("group", [verb @ ("add" | "remove" | "mode"), group, values @ ..]) => {
                let Some(row) = self
                    .directory
                    .groups
                    .iter()
                    .find(|g| g.name.eq_ignore_ascii_case(group))
                else {
                    self.error(format!("no group named {group}"));
                    return Vec::new();
                };
                let mut members: Vec<String> =
                    row.members.iter().map(|m| m.as_str().to_owned()).collect();
                let mut mode = row.mode;
                match *verb {
                    "add" => match self.members(values) {
                        Ok(added) => members.extend(added),
                        Err(error) => {
                            self.error(error);
                            return Vec::new();
                        }
                    },
                    "remove" => {
                        for value in values {
                            let Ok(target) = self.resolve(value) else {
                                continue;
                            };
                            if let Target::Peer(aor) = target {
                                members.retain(|m| m != aor.as_str());
                            }
                        }
                    }
                    _ => match values {
                        ["network"] => mode = GroupMode::Network,
                        ["fanout"] => mode = GroupMode::Fanout,
                        _ => {
                            self.error("usage: :group mode NAME network|fanout");
                            return Vec::new();
                        }
                    },
                }
                vec![Effect::UpdateGroup {
                    id: row.id,
                    name: row.name.clone(),
                    mode,
                    members,
                }]
            }
            ("retry", []) => self.retry(),
            ("export", [path]) => vec![Effect::ExportTrace((*path).into())],
            ("history", []) => self.show(Screen::History),
            ("trace", []) => self.show(Screen::Trace),
            _ => {
                self.error(format!(
                    "unknown command or arguments: :{line} (press ? for the list)"
                ));
                Vec::new()
            }
        }
    }
}
