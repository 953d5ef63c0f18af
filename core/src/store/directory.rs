//! Accounts, the address book, groups and conversations.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::aor::Aor;
use super::error::{Constraint, Entity, Operation, OperationContext, StoreError, constraint};
use super::open::Store;
use super::types::{
    Account, AccountId, Contact, ContactId, Conversation, ConversationId, Counterpart, Group,
    GroupId, GroupMode,
};

const CONTACT_COLUMNS: &str = "id, account_id, aor, display_name, notes, unknown";
const GROUP_COLUMNS: &str = "id, account_id, uri, name, mode";

fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: row.get(0)?,
        aor: row.get(1)?,
        display_name: row.get(2)?,
    })
}

fn contact_from_row(row: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: row.get(0)?,
        account: row.get(1)?,
        aor: row.get(2)?,
        display_name: row.get(3)?,
        notes: row.get(4)?,
        unknown: row.get(5)?,
    })
}

fn group_from_row(row: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        id: row.get(0)?,
        account: row.get(1)?,
        uri: row.get(2)?,
        name: row.get(3)?,
        mode: row.get(4)?,
    })
}

/// A conversation from columns `id, account_id, peer_aor, group_id` (0-3).
pub(super) fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    let peer: Option<Aor> = row.get(2)?;
    let group: Option<GroupId> = row.get(3)?;
    let counterpart = match (peer, group) {
        (Some(peer), None) => Counterpart::Peer(peer),
        (None, Some(group)) => Counterpart::Group(group),
        // The CHECK constraint allows exactly one of the two.
        _ => {
            return Err(rusqlite::Error::InvalidColumnType(
                2,
                "peer_aor".into(),
                rusqlite::types::Type::Null,
            ));
        }
    };
    Ok(Conversation {
        id: row.get(0)?,
        account: row.get(1)?,
        counterpart,
    })
}

/// Maps a foreign-key failure to "not found" and a uniqueness failure to "exists".
fn refused(
    operation: Operation,
    missing: (Entity, i64),
    existing: Entity,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| match constraint(&source) {
        Some(Constraint::ForeignKey) => StoreError::NotFound {
            operation,
            entity: missing.0,
            id: missing.1,
        },
        Some(Constraint::Unique) => StoreError::AlreadyExists {
            operation,
            entity: existing,
        },
        None => StoreError::Sqlite { operation, source },
    }
}

/// Fails with "not found" when a statement changed no row.
fn changed_one(
    changed: usize,
    operation: Operation,
    entity: Entity,
    id: i64,
) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound {
            operation,
            entity,
            id,
        })
    } else {
        Ok(())
    }
}

/// Creates a contact marked unknown for `sender` when the account has none for it and
/// the sender is not the account itself.
pub(crate) fn contact_for_sender(
    connection: &Connection,
    account: AccountId,
    sender: &Aor,
    display_name: Option<&str>,
    operation: Operation,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO contacts (account_id, aor, display_name, unknown)
             SELECT ?1, ?2, ?3, 1 WHERE ?2 <> (SELECT aor FROM accounts WHERE id = ?1)
             ON CONFLICT (account_id, aor) DO NOTHING",
        )
        .and_then(|mut statement| statement.execute(params![account, sender, display_name]))
        .during(operation)?;
    Ok(())
}

impl Store {
    /// Adds an account, or updates the display name of the account with this AOR.
    pub fn upsert_account(
        &mut self,
        aor: &Aor,
        display_name: Option<&str>,
    ) -> Result<AccountId, StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO accounts (aor, display_name) VALUES (?1, ?2)
                 ON CONFLICT (aor) DO UPDATE SET display_name = excluded.display_name
                 RETURNING id",
            )
            .and_then(|mut statement| {
                statement.query_row(params![aor, display_name], |row| row.get(0))
            })
            .during(Operation::UpsertAccount)
    }

    /// The account with this id.
    pub fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.connection
            .prepare_cached("SELECT id, aor, display_name FROM accounts WHERE id = ?1")
            .and_then(|mut statement| statement.query_row([id], account_from_row).optional())
            .during(Operation::ReadAccounts)
    }

    /// The account with this AOR.
    pub fn find_account(&self, aor: &Aor) -> Result<Option<Account>, StoreError> {
        self.connection
            .prepare_cached("SELECT id, aor, display_name FROM accounts WHERE aor = ?1")
            .and_then(|mut statement| statement.query_row([aor], account_from_row).optional())
            .during(Operation::ReadAccounts)
    }

    /// Every account, in the order they were added.
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.connection
            .prepare_cached("SELECT id, aor, display_name FROM accounts ORDER BY id")
            .and_then(|mut statement| statement.query_map([], account_from_row)?.collect())
            .during(Operation::ReadAccounts)
    }

    /// Adds a contact to an account's address book. A contact that was created for an
    /// unknown sender becomes a known one (same id, the new name and notes); a known
    /// contact with this AOR is [`StoreError::AlreadyExists`].
    pub fn add_contact(
        &mut self,
        account: AccountId,
        aor: &Aor,
        display_name: Option<&str>,
        notes: &str,
    ) -> Result<ContactId, StoreError> {
        let operation = Operation::AddContact;
        let id: Option<ContactId> = self
            .connection
            .prepare_cached(
                "INSERT INTO contacts (account_id, aor, display_name, notes, unknown)
                 VALUES (?1, ?2, ?3, ?4, 0)
                 ON CONFLICT (account_id, aor) DO UPDATE
                     SET display_name = excluded.display_name, notes = excluded.notes,
                         unknown = 0
                     WHERE contacts.unknown = 1
                 RETURNING id",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![account, aor, display_name, notes], |row| row.get(0))
                    .optional()
            })
            .map_err(refused(
                operation,
                (Entity::Account, account.0),
                Entity::Contact,
            ))?;
        id.ok_or(StoreError::AlreadyExists {
            operation,
            entity: Entity::Contact,
        })
    }

    /// Changes a contact's display name and notes; the contact is then a known one.
    pub fn update_contact(
        &mut self,
        id: ContactId,
        display_name: Option<&str>,
        notes: &str,
    ) -> Result<(), StoreError> {
        let operation = Operation::UpdateContact;
        let changed = self
            .connection
            .prepare_cached(
                "UPDATE contacts SET display_name = ?2, notes = ?3, unknown = 0 WHERE id = ?1",
            )
            .and_then(|mut statement| statement.execute(params![id, display_name, notes]))
            .during(operation)?;
        changed_one(changed, operation, Entity::Contact, id.0)
    }

    /// Removes a contact (its conversation and messages stay).
    pub fn remove_contact(&mut self, id: ContactId) -> Result<(), StoreError> {
        let operation = Operation::RemoveContact;
        let changed = self
            .connection
            .prepare_cached("DELETE FROM contacts WHERE id = ?1")
            .and_then(|mut statement| statement.execute([id]))
            .during(operation)?;
        changed_one(changed, operation, Entity::Contact, id.0)
    }

    /// An account's contacts by name (then AOR), ignoring case.
    pub fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError> {
        self.connection
            .prepare_cached(&format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = ?1
                 ORDER BY coalesce(display_name, aor) COLLATE NOCASE, aor, id"
            ))
            .and_then(|mut statement| statement.query_map([account], contact_from_row)?.collect())
            .during(Operation::ReadContacts)
    }

    /// The account's contact with this AOR.
    pub fn find_contact(
        &self,
        account: AccountId,
        aor: &Aor,
    ) -> Result<Option<Contact>, StoreError> {
        self.connection
            .prepare_cached(&format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = ?1 AND aor = ?2"
            ))
            .and_then(|mut statement| {
                statement
                    .query_row(params![account, aor], contact_from_row)
                    .optional()
            })
            .during(Operation::ReadContacts)
    }

    /// The contact of the sender of an incoming message: the existing one, or a new one
    /// marked unknown. `None` when `sender` is the account itself.
    pub fn contact_for_sender(
        &mut self,
        account: AccountId,
        sender: &Aor,
        display_name: Option<&str>,
    ) -> Result<Option<Contact>, StoreError> {
        let operation = Operation::ContactForSender;
        self.write(|connection| {
            contact_for_sender(connection, account, sender, display_name, operation)
        })
        .map_err(|error| match error {
            StoreError::Sqlite { source, .. }
                if constraint(&source) == Some(Constraint::ForeignKey) =>
            {
                StoreError::NotFound {
                    operation,
                    entity: Entity::Account,
                    id: account.0,
                }
            }
            other => other,
        })?;
        self.find_contact(account, sender)
    }

    /// Creates a group of an account with its members (in the order given).
    pub fn create_group(
        &mut self,
        account: AccountId,
        uri: &Aor,
        name: &str,
        mode: GroupMode,
        members: &[Aor],
    ) -> Result<GroupId, StoreError> {
        let operation = Operation::CreateGroup;
        self.write(|connection| {
            let id: GroupId = connection
                .prepare_cached(
                    "INSERT INTO groups (account_id, uri, name, mode) VALUES (?1, ?2, ?3, ?4)
                     RETURNING id",
                )
                .and_then(|mut statement| {
                    statement.query_row(params![account, uri, name, mode], |row| row.get(0))
                })
                .map_err(refused(
                    operation,
                    (Entity::Account, account.0),
                    Entity::Group,
                ))?;
            for member in members {
                add_member(connection, id, member, operation)?;
            }
            Ok(id)
        })
    }

    /// Renames a group.
    pub fn rename_group(&mut self, id: GroupId, name: &str) -> Result<(), StoreError> {
        let operation = Operation::RenameGroup;
        let changed = self
            .connection
            .prepare_cached("UPDATE groups SET name = ?2 WHERE id = ?1")
            .and_then(|mut statement| statement.execute(params![id, name]))
            .during(operation)?;
        changed_one(changed, operation, Entity::Group, id.0)
    }

    /// Changes how a group's messages reach its members.
    pub fn set_group_mode(&mut self, id: GroupId, mode: GroupMode) -> Result<(), StoreError> {
        let operation = Operation::SetGroupMode;
        let changed = self
            .connection
            .prepare_cached("UPDATE groups SET mode = ?2 WHERE id = ?1")
            .and_then(|mut statement| statement.execute(params![id, mode]))
            .during(operation)?;
        changed_one(changed, operation, Entity::Group, id.0)
    }

    /// Adds a member; `false` when it was a member already.
    pub fn add_group_member(&mut self, group: GroupId, member: &Aor) -> Result<bool, StoreError> {
        add_member(&self.connection, group, member, Operation::AddGroupMember)
    }

    /// Removes a member; `false` when it was not a member.
    pub fn remove_group_member(
        &mut self,
        group: GroupId,
        member: &Aor,
    ) -> Result<bool, StoreError> {
        let changed = self
            .connection
            .prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND aor = ?2")
            .and_then(|mut statement| statement.execute(params![group, member]))
            .during(Operation::RemoveGroupMember)?;
        Ok(changed > 0)
    }

    /// The group with this id.
    pub fn group(&self, id: GroupId) -> Result<Option<Group>, StoreError> {
        self.connection
            .prepare_cached(&format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = ?1"))
            .and_then(|mut statement| statement.query_row([id], group_from_row).optional())
            .during(Operation::ReadGroups)
    }

    /// An account's groups, in the order they were created.
    pub fn groups(&self, account: AccountId) -> Result<Vec<Group>, StoreError> {
        self.connection
            .prepare_cached(&format!(
                "SELECT {GROUP_COLUMNS} FROM groups WHERE account_id = ?1 ORDER BY id"
            ))
            .and_then(|mut statement| statement.query_map([account], group_from_row)?.collect())
            .during(Operation::ReadGroups)
    }

    /// A group's members, in the order they were added.
    pub fn group_members(&self, group: GroupId) -> Result<Vec<Aor>, StoreError> {
        self.connection
            .prepare_cached("SELECT aor FROM group_members WHERE group_id = ?1 ORDER BY id")
            .and_then(|mut statement| statement.query_map([group], |row| row.get(0))?.collect())
            .during(Operation::ReadGroups)
    }

    /// The account's group with this URI.
    pub fn find_group(&self, account: AccountId, uri: &Aor) -> Result<Option<Group>, StoreError> {
        self.connection
            .prepare_cached(&format!(
                "SELECT {GROUP_COLUMNS} FROM groups WHERE account_id = ?1 AND uri = ?2"
            ))
            .and_then(|mut statement| {
                statement
                    .query_row(params![account, uri], group_from_row)
                    .optional()
            })
            .during(Operation::ReadGroups)
    }

    /// The 1:1 conversation of an account with a peer, created on first use.
    pub fn conversation_with_peer(
        &mut self,
        account: AccountId,
        peer: &Aor,
    ) -> Result<ConversationId, StoreError> {
        let operation = Operation::OpenConversation;
        let find = "SELECT id FROM conversations WHERE account_id = ?1 AND peer_aor = ?2";
        let existing = self
            .connection
            .prepare_cached(find)
            .and_then(|mut statement| {
                statement
                    .query_row(params![account, peer], |row| row.get(0))
                    .optional()
            })
            .during(operation)?;
        if let Some(id) = existing {
            return Ok(id);
        }
        self.connection
            .prepare_cached(
                "INSERT INTO conversations (account_id, peer_aor) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
            )
            .and_then(|mut statement| statement.execute(params![account, peer]))
            .map_err(refused(
                operation,
                (Entity::Account, account.0),
                Entity::Conversation,
            ))?;
        self.connection
            .prepare_cached(find)
            .and_then(|mut statement| statement.query_row(params![account, peer], |row| row.get(0)))
            .during(operation)
    }

    /// The conversation of a group, created on first use.
    pub fn conversation_for_group(&mut self, group: GroupId) -> Result<ConversationId, StoreError> {
        let operation = Operation::OpenConversation;
        self.connection
            .prepare_cached(
                "INSERT INTO conversations (account_id, group_id)
                 SELECT account_id, id FROM groups WHERE id = ?1
                 ON CONFLICT DO NOTHING",
            )
            .and_then(|mut statement| statement.execute([group]))
            .during(operation)?;
        let id = self
            .connection
            .prepare_cached("SELECT id FROM conversations WHERE group_id = ?1")
            .and_then(|mut statement| statement.query_row([group], |row| row.get(0)).optional())
            .during(operation)?;
        id.ok_or(StoreError::NotFound {
            operation,
            entity: Entity::Group,
            id: group.0,
        })
    }

    /// The conversation with this id.
    pub fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT id, account_id, peer_aor, group_id FROM conversations WHERE id = ?1",
            )
            .and_then(|mut statement| statement.query_row([id], conversation_from_row).optional())
            .during(Operation::ReadConversations)
    }

    /// An account's conversations, the one with the newest message first (those without
    /// messages last, newest created first).
    pub fn conversations(&self, account: AccountId) -> Result<Vec<Conversation>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT c.id, c.account_id, c.peer_aor, c.group_id FROM conversations c
                 WHERE c.account_id = ?1
                 ORDER BY (SELECT max(m.id) FROM messages m WHERE m.conversation_id = c.id)
                     DESC NULLS LAST, c.id DESC",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([account], conversation_from_row)?
                    .collect()
            })
            .during(Operation::ReadConversations)
    }
}

/// Adds a group member; `false` when it was one already.
fn add_member(
    connection: &Connection,
    group: GroupId,
    member: &Aor,
    operation: Operation,
) -> Result<bool, StoreError> {
    let changed = connection
        .prepare_cached(
            "INSERT INTO group_members (group_id, aor) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )
        .and_then(|mut statement| statement.execute(params![group, member]))
        .map_err(refused(operation, (Entity::Group, group.0), Entity::Group))?;
    Ok(changed > 0)
}
