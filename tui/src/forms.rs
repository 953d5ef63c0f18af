//! The small forms (add/edit contact, new/edit group, first run, account): opening
//! one filled from the state, moving between fields, and checking what was typed.

use ims_core::store::{Aor, GroupMode};

use crate::action::{Effect, FormKind};
use crate::app::{App, Mode};
use crate::editor::Editor;

/// A small form (add/edit contact, new/edit group, account).
#[derive(Clone, PartialEq, Eq)]
pub struct Form {
    /// What it does on submit.
    pub kind: FormKind,
    /// Labels and their editors.
    pub fields: Vec<(&'static str, Editor)>,
    /// The focused field.
    pub focus: usize,
    /// What is wrong with what was typed (shown in the form).
    pub error: Option<String>,
}

impl std::fmt::Debug for Form {
    /// Secret fields (password, K, OPc) print as `***`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(label, editor)| {
                let shown = if crate::account_form::SECRET_LABELS.contains(label) {
                    "***"
                } else {
                    editor.text()
                };
                (*label, shown)
            })
            .collect();
        f.debug_struct("Form")
            .field("kind", &self.kind)
            .field("fields", &fields)
            .field("focus", &self.focus)
            .field("error", &self.error)
            .finish()
    }
}

impl Form {
    pub(crate) fn field(&self, label: &str) -> String {
        self.fields
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, e)| e.text().trim().to_owned())
            .unwrap_or_default()
    }
}

impl App {
    pub(crate) fn open_form(&mut self, kind: FormKind) {
        let line = |text: &str| Editor::with_text(text, 200);
        let fields = match &kind {
            FormKind::AddContact => vec![("Address", line("")), ("Name", line(""))],
            FormKind::Account(index) => {
                crate::account_form::fields(index.and_then(|i| self.accounts.get(i)))
            }
            FormKind::FirstRun => vec![
                ("AOR", line("")),
                ("Password", line("")),
                ("Proxy", line("")),
                ("Transport", line("udp")),
            ],
            FormKind::EditContact(id) => {
                let Some(contact) = self.directory.contacts.iter().find(|c| c.id == *id) else {
                    return;
                };
                vec![
                    ("Name", line(contact.name.as_deref().unwrap_or_default())),
                    ("Notes", line(&contact.notes)),
                ]
            }
            FormKind::NewGroup => vec![
                ("Name", line("")),
                ("URI", line("")),
                ("Mode", line("network")),
                ("Members", line("")),
            ],
            FormKind::EditGroup(id) => {
                let Some(group) = self.directory.groups.iter().find(|g| g.id == *id) else {
                    return;
                };
                let members: Vec<&str> = group
                    .members
                    .iter()
                    .map(|m| crate::text::short_aor(m.as_str()))
                    .collect();
                vec![
                    ("Name", line(&group.name)),
                    ("Mode", line(group.mode.as_str())),
                    ("Members", line(&members.join(" "))),
                ]
            }
        };
        self.form = Some(Form {
            kind,
            fields,
            focus: 0,
            error: None,
        });
        self.mode = Mode::Form;
    }

    /// Opens the first-run form (no config yet).
    pub fn open_first_run(&mut self) {
        self.open_form(FormKind::FirstRun);
    }

    /// Moves the form focus (Tab / Shift-Tab in a form).
    pub fn form_focus(&mut self, forward: bool) {
        if let Some(form) = &mut self.form {
            let len = form.fields.len().max(1);
            form.focus = if forward {
                (form.focus + 1) % len
            } else {
                (form.focus + len - 1) % len
            };
            self.dirty = true;
        }
    }

    pub(crate) fn submit_form(&mut self) -> Vec<Effect> {
        let Some(form) = self.form.clone() else {
            self.mode = Mode::Normal;
            return Vec::new();
        };
        let mode = match form.field("Mode").to_lowercase().as_str() {
            "" | "network" => Some(GroupMode::Network),
            "fanout" | "fan-out" | "client" => Some(GroupMode::Fanout),
            _ => None,
        };
        let typed_members = form.field("Members");
        let typed_members: Vec<&str> = typed_members
            .split([' ', ','])
            .filter(|m| !m.is_empty())
            .collect();
        let effect = match &form.kind {
            FormKind::AddContact => {
                let address = form.field("Address");
                if address.is_empty() {
                    self.error("the address is required");
                    return Vec::new();
                }
                match self.address(&address) {
                    Ok(aor) => Effect::AddContact {
                        aor: aor.as_str().to_owned(),
                        name: form.field("Name"),
                    },
                    Err(error) => {
                        self.error(error);
                        return Vec::new();
                    }
                }
            }
            FormKind::FirstRun => {
                let address = form.field("AOR");
                let text = if address.contains(':') {
                    address.clone()
                } else {
                    format!("sip:{address}")
                };
                if !text.contains('@') || Aor::parse(&text).is_err() {
                    self.error("the address is user@domain, e.g. alice@ims.test");
                    return Vec::new();
                }
                let transport = form.field("Transport").to_lowercase();
                if transport != "udp" && transport != "tcp" {
                    self.error("transport is udp or tcp");
                    return Vec::new();
                }
                Effect::SaveAccount {
                    aor: text,
                    password: form.field("Password"),
                    proxy: form.field("Proxy"),
                    transport,
                }
            }
            FormKind::Account(index) => {
                let saved = index.and_then(|i| self.accounts.get(i));
                match crate::account_form::check(|label| form.field(label), saved) {
                    Ok(edit) => Effect::SaveSettings {
                        index: *index,
                        edit,
                    },
                    Err((label, problem)) => {
                        // The form stays open on the field that is wrong.
                        if let Some(open) = &mut self.form {
                            open.focus = open
                                .fields
                                .iter()
                                .position(|(l, _)| *l == label)
                                .unwrap_or(open.focus);
                            open.error = Some(problem);
                        }
                        return Vec::new();
                    }
                }
            }
            FormKind::EditContact(id) => Effect::UpdateContact {
                id: *id,
                name: form.field("Name"),
                notes: form.field("Notes"),
            },
            FormKind::NewGroup | FormKind::EditGroup(_) => {
                let name = form.field("Name");
                if name.is_empty() {
                    self.error("the group needs a name");
                    return Vec::new();
                }
                let Some(mode) = mode else {
                    self.error("mode is network or fanout");
                    return Vec::new();
                };
                let members = match self.members(&typed_members) {
                    Ok(members) => members,
                    Err(error) => {
                        self.error(error);
                        return Vec::new();
                    }
                };
                match form.kind {
                    FormKind::EditGroup(id) => Effect::UpdateGroup {
                        id,
                        name,
                        mode,
                        members,
                    },
                    _ => Effect::CreateGroup {
                        name,
                        uri: form.field("URI"),
                        mode,
                        members,
                    },
                }
            }
        };
        self.form = None;
        self.mode = Mode::Normal;
        vec![effect]
    }
}
