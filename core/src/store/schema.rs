//! The schema, as migrations applied in order by `rusqlite_migration` (the version is
//! SQLite's `user_version`). A released migration is never edited: changes are new
//! migrations appended to [`migrations`].

use rusqlite_migration::{M, Migrations};

/// Version 1: accounts, address book, groups, conversations, messages, recipients, AKA
/// SQN state and call history. Times are unix milliseconds. AORs are stored in the
/// normal form of [`Aor`](super::Aor), so plain `=` compares them.
const V1: &str = r#"
CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    aor          TEXT NOT NULL UNIQUE,
    display_name TEXT
) STRICT;

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    aor          TEXT NOT NULL,
    display_name TEXT,
    notes        TEXT NOT NULL DEFAULT '',
    unknown      INTEGER NOT NULL DEFAULT 0 CHECK (unknown IN (0, 1)),
    UNIQUE (account_id, aor)
) STRICT;

CREATE TABLE groups (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    uri        TEXT NOT NULL,
    name       TEXT NOT NULL,
    mode       TEXT NOT NULL CHECK (mode IN ('network', 'fanout')),
    UNIQUE (account_id, uri)
) STRICT;

CREATE TABLE group_members (
    id       INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    aor      TEXT NOT NULL,
    UNIQUE (group_id, aor)
) STRICT;

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    peer_aor   TEXT,
    group_id   INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    CHECK ((peer_aor IS NULL) <> (group_id IS NULL)),
    UNIQUE (id, account_id)
) STRICT;
CREATE UNIQUE INDEX conversations_by_peer ON conversations (account_id, peer_aor)
    WHERE peer_aor IS NOT NULL;
CREATE UNIQUE INDEX conversations_by_group ON conversations (group_id)
    WHERE group_id IS NOT NULL;

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    account_id      INTEGER NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sender_aor      TEXT NOT NULL,
    body            BLOB NOT NULL,
    content_type    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN
                        ('queued', 'sending', 'sent', 'delivered', 'displayed', 'failed')),
    failure_reason  TEXT,
    sip_call_id     TEXT,
    sip_cseq        INTEGER CHECK (sip_cseq BETWEEN 0 AND 4294967295),
    imdn_message_id TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    FOREIGN KEY (conversation_id, account_id)
        REFERENCES conversations (id, account_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE INDEX messages_pending ON messages (account_id, id)
    WHERE direction = 'out' AND state IN ('queued', 'sending');
-- Duplicates: the same Call-ID + CSeq, or the same IMDN Message-ID, from the same sender
-- to the same account. Across both directions, so our own message forked back to us by
-- the network is refused too.
CREATE UNIQUE INDEX messages_by_sip_ids
    ON messages (account_id, sender_aor, sip_call_id, sip_cseq)
    WHERE sip_call_id IS NOT NULL AND sip_cseq IS NOT NULL;
CREATE UNIQUE INDEX messages_by_imdn_id
    ON messages (account_id, sender_aor, imdn_message_id)
    WHERE imdn_message_id IS NOT NULL;

CREATE TABLE message_recipients (
    message_id     INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    aor            TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN
                       ('queued', 'sending', 'sent', 'delivered', 'displayed', 'failed')),
    failure_reason TEXT,
    updated_ms     INTEGER NOT NULL,
    PRIMARY KEY (message_id, aor)
) STRICT;

CREATE TABLE aka_sqn (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    peer_aor    TEXT NOT NULL,
    started_ms  INTEGER NOT NULL,
    answered_ms INTEGER,
    ended_ms    INTEGER,
    end_reason  TEXT
) STRICT;
CREATE INDEX calls_by_account ON calls (account_id, id);
"#;

/// Version 2: a read marker per conversation (the id of the newest message the user has
/// seen), so unread counts survive a restart.
const V2: &str = r#"
ALTER TABLE conversations ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
"#;

/// Version 3: unread counts read an index of incoming messages alone (a count over
/// 100,000 messages went from about 95 ms to 9 ms).
const V3: &str = r#"
CREATE INDEX messages_incoming ON messages (conversation_id, id) WHERE direction = 'in';
"#;

/// Version 4: a conversation's order is `position`, not arrival. A message arriving after
/// a later one of the same sender in the same Call-ID (a lower CSeq: a group text
/// overtaken by the next one on its way through the core, a retransmission after loss)
/// is placed before it. Positions step by 1,024 so such a message fits between two rows;
/// existing rows keep their arrival order. Outgoing rows get their own index for the
/// lookup of a conversation's Call-ID and last CSeq.
const V4: &str = r#"
ALTER TABLE messages ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET position = id * 1024;
CREATE INDEX messages_by_position ON messages (conversation_id, position);
CREATE INDEX messages_outgoing ON messages (conversation_id, id) WHERE direction = 'out';
"#;

/// Every migration, oldest first.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1).foreign_key_check(),
        M::up(V2).foreign_key_check(),
        M::up(V3).foreign_key_check(),
        M::up(V4).foreign_key_check(),
    ])
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert_eq!(migrations().validate(), Ok(()));
    }
}
