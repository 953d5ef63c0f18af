//! AKA SQN state per account, and call history.

use std::time::SystemTime;

use rusqlite::{OptionalExtension, Row, params};

use super::error::{Constraint, Entity, Operation, OperationContext, StoreError, constraint};
use super::open::Store;
use super::types::{AccountId, CallRecord, CallRecordId, NewCall, UnixMs};

fn call_from_row(row: &Row<'_>) -> rusqlite::Result<CallRecord> {
    let started: UnixMs = row.get(4)?;
    let answered: Option<UnixMs> = row.get(5)?;
    let ended: Option<UnixMs> = row.get(6)?;
    Ok(CallRecord {
        id: row.get(0)?,
        account: row.get(1)?,
        direction: row.get(2)?,
        peer: row.get(3)?,
        started_at: started.0,
        answered_at: answered.map(|time| time.0),
        ended_at: ended.map(|time| time.0),
        end_reason: row.get(7)?,
    })
}

/// Maps a foreign-key failure on the account to "account not found".
fn account_missing(
    operation: Operation,
    account: AccountId,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| match constraint(&source) {
        Some(Constraint::ForeignKey) => StoreError::NotFound {
            operation,
            entity: Entity::Account,
            id: account.0,
        },
        _ => StoreError::Sqlite { operation, source },
    }
}

impl Store {
    /// Saves an account's AKA SQN state (the stored form of
    /// [`SqnState`](crate::auth::SqnState)), replacing the previous one.
    pub fn save_aka_sqn(
        &mut self,
        account: AccountId,
        state: &str,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let operation = Operation::SaveAkaSqn;
        self.connection
            .prepare_cached(
                "INSERT INTO aka_sqn (account_id, state, updated_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id) DO UPDATE
                     SET state = excluded.state, updated_ms = excluded.updated_ms",
            )
            .and_then(|mut statement| statement.execute(params![account, state, UnixMs(now)]))
            .map_err(account_missing(operation, account))?;
        Ok(())
    }

    /// An account's saved AKA SQN state, if any.
    pub fn load_aka_sqn(&self, account: AccountId) -> Result<Option<String>, StoreError> {
        self.connection
            .prepare_cached("SELECT state FROM aka_sqn WHERE account_id = ?1")
            .and_then(|mut statement| statement.query_row([account], |row| row.get(0)).optional())
            .during(Operation::LoadAkaSqn)
    }

    /// Stores a call history entry.
    pub fn insert_call(&mut self, call: &NewCall<'_>) -> Result<CallRecordId, StoreError> {
        let operation = Operation::InsertCall;
        self.connection
            .prepare_cached(
                "INSERT INTO calls (account_id, direction, peer_aor, started_ms, answered_ms,
                     ended_ms, end_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            )
            .and_then(|mut statement| {
                statement.query_row(
                    params![
                        call.account,
                        call.direction,
                        call.peer,
                        UnixMs(call.started_at),
                        call.answered_at.map(UnixMs),
                        call.ended_at.map(UnixMs),
                        call.end_reason,
                    ],
                    |row| row.get(0),
                )
            })
            .map_err(account_missing(operation, call.account))
    }

    /// An account's call history, newest first: `limit` entries older than `before` (all
    /// when `None`).
    pub fn calls(
        &self,
        account: AccountId,
        limit: usize,
        before: Option<CallRecordId>,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let before = before.map_or(i64::MAX, |id| id.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.connection
            .prepare_cached(
                "SELECT id, account_id, direction, peer_aor, started_ms, answered_ms, ended_ms,
                     end_reason
                 FROM calls WHERE account_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            )
            .and_then(|mut statement| {
                statement
                    .query_map(params![account, before, limit], call_from_row)?
                    .collect()
            })
            .during(Operation::ReadCalls)
    }
}
